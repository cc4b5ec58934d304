"""Reaching the dask scheduler of ``planner batch``: fail at once when nothing listens.

``distributed.Client`` keeps trying a refused address until its timeout (10 s here), so a
mistyped ``--scheduler`` or a scheduler that is not running cost 10 s before the error.
:func:`probe_scheduler` opens a plain TCP connection first: a refused one is tried again
for :data:`REFUSED_GRACE_S` (a scheduler that is just starting) and then ends the batch
with the usual one-line error. A scheduler that accepts the connection but is slow to
answer still gets the Client's whole :data:`CLIENT_TIMEOUT_S`.
"""

from __future__ import annotations

import socket
import time

from planner.errors import ConfigError

#: Seconds the Client waits for the scheduler to answer.
CLIENT_TIMEOUT_S = 10.0
#: Seconds a refused TCP connection is tried again before the batch gives up.
REFUSED_GRACE_S = 1.0
_RETRY_S = 0.1


def probe_scheduler(
    address: str, *, grace_s: float = REFUSED_GRACE_S, timeout_s: float = CLIENT_TIMEOUT_S
) -> None:
    """Check that something listens at a ``tcp://`` or ``tls://`` scheduler address.

    Other schemes (``inproc://``, ``ucx://``) are left to the Client.

    Parameters
    ----------
    address
        The scheduler's address (``tcp://host:port``; ``host:port`` means tcp).
    grace_s
        Seconds a refused connection is tried again.
    timeout_s
        Seconds one connection attempt may take (an address that drops packets).

    Raises
    ------
    ConfigError
        When the address is malformed, its host unknown, or the connection refused or
        timed out.
    """
    from distributed.comm.addressing import parse_address, parse_host_port

    where = f"cannot reach the dask scheduler at {address}"
    try:
        scheme, location = parse_address(address)
        if scheme not in ("tcp", "tls"):
            return
        host, port = parse_host_port(location)
    except ValueError as err:
        msg = f"{where}: {err}; give it as tcp://HOST:PORT"
        raise ConfigError(msg) from None
    deadline = time.monotonic() + grace_s
    while True:
        try:
            with socket.create_connection((host, port), timeout=timeout_s):
                return
        except ConnectionRefusedError:
            if time.monotonic() >= deadline:
                msg = (
                    f"{where}: connection refused, nothing listens on {host}:{port}; "
                    "start the scheduler (`dask scheduler`) or correct --scheduler"
                )
                raise ConfigError(msg) from None
            time.sleep(_RETRY_S)
        except OSError as err:  # unknown host, no route, timed out
            msg = f"{where}: {err.strerror or err or type(err).__name__}"
            raise ConfigError(msg) from None
