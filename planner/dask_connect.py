"""Reaching and leaving dask in ``planner batch``: fail at once when nothing listens,
close quietly when the batch is stopped.

``distributed.Client`` keeps trying a refused address until its timeout (10 s here), so a
mistyped ``--scheduler`` or a scheduler that is not running cost 10 s before the error.
:func:`probe_scheduler` opens a plain TCP connection first: a refused one is tried again
for :data:`REFUSED_GRACE_S` (a scheduler that is just starting) and then ends the batch
with the usual one-line error. A scheduler that accepts the connection but is slow to
answer still gets the Client's whole :data:`CLIENT_TIMEOUT_S`.

A batch stopped by Ctrl-C closes its client and cluster while connections and tasks are
in flight; dask, tornado and asyncio then log the lost connections, sometimes with a
traceback. :func:`quiet_while_closing` turns their loggers off for that close, so the
user sees the CLI's one line.
"""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager

from planner.errors import ConfigError

#: Seconds the Client waits for the scheduler to answer.
CLIENT_TIMEOUT_S = 10.0
#: Seconds a refused TCP connection is tried again before the batch gives up.
REFUSED_GRACE_S = 1.0
_RETRY_S = 0.1
#: The loggers that report a closing cluster's lost connections and tasks.
CLOSING_LOGGERS = ("distributed", "tornado", "asyncio")


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


@contextmanager
def quiet_while_closing(*, stopping: bool) -> Iterator[None]:
    """Turn off dask's, tornado's and asyncio's loggers while a stopped batch closes.

    Parameters
    ----------
    stopping
        The batch is being stopped (a signal): the loggers go off inside the block and
        stay off after it, since the process is ending and its event loops' leftovers log
        at exit. False: a normal close logs as ever, but for the nanny's warning that it
        killed a worker process still alive after a few seconds: the batch is done, its
        results are in, and a user read "WARNING ... killing" after "100/100 runs done" as
        a failure.

    Yields
    ------
    None
    """
    if not stopping:
        nanny = logging.getLogger("distributed.nanny")
        level = nanny.level
        nanny.setLevel(logging.ERROR)
        try:
            yield
        finally:
            nanny.setLevel(level)
        return
    names = [n for n in list(logging.root.manager.loggerDict) if n.split(".")[0] in CLOSING_LOGGERS]
    for name in {*CLOSING_LOGGERS, *names}:
        logging.getLogger(name).setLevel(logging.CRITICAL + 1)
    yield
