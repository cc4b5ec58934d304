"""A solver under watch: the stop flag polled while it runs, CBC's process under a watchdog.

A signal (see :mod:`planner.signals`) stops a running solve at once: HiGHS is cancelled
(:mod:`~planner.optimize.highs`), a solver process is ended with its process group. A
solver process that overruns its time limit is interrupted, then killed.
"""

from __future__ import annotations

import ctypes
import functools
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypedDict

from planner.errors import SolverError
from planner.signals import check_stop

logger = logging.getLogger(__name__)

#: Seconds between two looks at the stop flag while a solver runs.
POLL_S = 0.1

#: Seconds a cancelled solver gets to stop before it is left (HiGHS) or killed (CBC).
STOP_WAIT_S = 1.0

#: Seconds the watchdog allows CBC beyond its time limit before interrupting it, and
#: after an interrupt before killing it: ``max(_GRACE_MIN_S, _GRACE_SHARE * limit)``.
_GRACE_MIN_S = 10.0
_GRACE_SHARE = 0.1


def grace(limit_s: float) -> float:
    """Seconds CBC may overrun a limit of ``limit_s`` before the watchdog steps in."""
    return max(_GRACE_MIN_S, _GRACE_SHARE * limit_s)


def run_watched(
    args: list[str],
    log: Path,
    watchdog_s: float,
    *,
    echo: bool,
    on_poll: Callable[[], None] | None = None,
) -> bool:
    """Run a solver process; interrupt it at ``watchdog_s``, kill it a grace later.

    The planner ends the process (and its group) on any exception, e.g. a signal's
    :class:`~planner.errors.Interrupted`: nothing keeps running after the planner (see
    :func:`_child_options` for a planner killed outright).

    Parameters
    ----------
    args
        The command line.
    log
        File that gets the process's output.
    watchdog_s
        Seconds after the start at which the watchdog interrupts the process.
    echo
        Log the output when the process fails.
    on_poll
        Called between two looks at the process (every :data:`POLL_S`), e.g. to read
        its log for progress.

    Returns
    -------
    bool
        True when the watchdog had to step in.

    Raises
    ------
    SolverError
        When the process fails (a non-zero exit code not caused by the watchdog).
    """
    with log.open("w") as out:
        proc = subprocess.Popen(
            args,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            **_child_options(),
        )
        logger.debug("CBC started, pid %d", proc.pid)
        try:
            code = _wait(proc, watchdog_s, on_poll=on_poll)
            watched = code is None
            if watched:
                code = _interrupt(proc, watchdog_s)
        except BaseException:
            _end(proc)
            raise
    if watched:
        return True
    if code != 0:
        msg = f"CBC failed with exit code {code} (set solver.msg: true to see its log)"
        if echo:
            logger.error(log.read_text(errors="replace"))
        raise SolverError(msg)
    return False


class _ChildOptions(TypedDict, total=False):
    """The options of :func:`_child_options`, typed for ``subprocess.Popen``."""

    process_group: int
    preexec_fn: Callable[[], None]


def _child_options() -> _ChildOptions:
    """Popen options that tie the solver's process to the planner's.

    On POSIX the process gets its own process group, so a Ctrl-C in the terminal reaches
    only the planner, which then ends it. On Linux it also gets SIGKILL when the planner
    thread that started it ends, however it ends (even by SIGKILL, which runs no cleanup).
    """
    if os.name != "posix":
        return {}
    options: _ChildOptions = {"process_group": 0}
    if sys.platform.startswith("linux"):
        options["preexec_fn"] = _die_with(os.getpid())
    return options


#: ``prctl`` option: the signal a process gets when its parent thread ends (Linux).
_PR_SET_PDEATHSIG = 1


def _die_with(parent: int) -> Callable[[], None]:
    """What the child runs before ``exec``: SIGKILL when the planner ends (Linux)."""
    prctl = _libc().prctl

    def in_child() -> None:
        prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL))
        if os.getppid() != parent:  # the planner ended before the call
            os._exit(1)

    return in_child


@functools.cache
def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def _interrupt(proc: subprocess.Popen[bytes], watchdog_s: float) -> int:
    """The watchdog: interrupt CBC (it then writes its best plan), kill it a grace later."""
    logger.warning(
        "CBC is still running %.1f s after its start, past its time limit: interrupting it",
        watchdog_s,
    )
    if os.name == "posix":
        proc.send_signal(signal.SIGINT)
    else:
        proc.terminate()
    code = _wait(proc, grace(watchdog_s))
    if code is None:
        logger.warning("CBC ignored the interrupt: killing it")
        proc.kill()
        code = proc.wait()
    return code


def _wait(
    proc: subprocess.Popen[bytes], timeout_s: float, *, on_poll: Callable[[], None] | None = None
) -> int | None:
    """``proc``'s exit code, or None after ``timeout_s``; looks at the stop flag (and calls
    ``on_poll``) meanwhile.

    Raises
    ------
    Interrupted
        When a stop was requested.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        check_stop()
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        try:
            return proc.wait(timeout=min(POLL_S, left))
        except subprocess.TimeoutExpired:
            if on_poll is not None:
                on_poll()


def _end(proc: subprocess.Popen[bytes]) -> None:
    """Terminate ``proc`` and its process group, kill them if they linger, reap ``proc``."""
    if proc.poll() is not None:
        return
    _signal_group(proc, signal.SIGTERM)
    try:
        proc.wait(timeout=STOP_WAIT_S)
    except subprocess.TimeoutExpired:
        _signal_group(proc, signal.SIGKILL if os.name == "posix" else signal.SIGTERM)
        proc.wait()


def _signal_group(proc: subprocess.Popen[bytes], sig: int) -> None:
    """Send ``sig`` to ``proc``'s process group (POSIX; the process alone elsewhere)."""
    try:
        if os.name == "posix":
            os.killpg(proc.pid, sig)
        else:
            proc.send_signal(sig)
    except ProcessLookupError:
        pass
