"""Stop promptly on SIGINT and SIGTERM, and leave nothing behind.

The CLI runs every command inside :func:`handle_signals`. The first SIGINT or SIGTERM
raises :class:`~planner.errors.Interrupted` in the main thread and sets a flag that code
waiting on a solver (a thread or a process) polls with :func:`check_stop`. On its way out
the exception cancels the solve or ends the solver's process, and every cleanup runs: the
temporary output folder of :func:`planner.paths.atomic_dir` and CBC's temporary folder
are removed. The CLI then prints one line and exits 130 (SIGINT) or 143 (SIGTERM).
Further signals while that cleanup runs are ignored, so it is not cut short.

:func:`remove_stale_temp` removes what a run killed outright (SIGKILL, power loss) left in
the system's temporary folder.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any

from planner.errors import Interrupted

logger = logging.getLogger(__name__)

#: The signals that stop a run.
SIGNALS = (signal.SIGINT, signal.SIGTERM)

#: Prefix of the temporary folders the CBC backend writes its model and solution in.
CBC_TMP_PREFIX = "planner-cbc-"

#: Temporary folders touched more recently than this may belong to a running planner.
STALE_AFTER_S = 24 * 3600.0

_stop = threading.Event()
_deferred = threading.Event()  # a signal came inside signals_deferred()
_defer_depth = 0
_signum = signal.SIGINT


def stop_requested() -> bool:
    """True once a signal asked the run to stop (inside :func:`handle_signals`)."""
    return _stop.is_set()


def request_stop(signum: int) -> None:
    """Ask the run to stop, as the signal ``signum`` does; :func:`check_stop` then raises.

    Parameters
    ----------
    signum
        The signal, e.g. ``signal.SIGTERM``: it gives the exit code.
    """
    global _signum
    _signum = signal.Signals(signum)
    _stop.set()


def check_stop() -> None:
    """Raise :class:`~planner.errors.Interrupted` when a stop was requested.

    Raises
    ------
    Interrupted
        After a signal (or :func:`request_stop`).
    """
    if _stop.is_set():
        raise Interrupted(_signum)


@contextmanager
def handle_signals() -> Iterator[None]:
    """Turn SIGINT and SIGTERM into :class:`~planner.errors.Interrupted` inside the block.

    The first signal sets the stop flag and raises in the main thread; later ones are
    ignored while the exception's cleanups run. A forked child (e.g. a travel-time
    worker process) that inherits the handler ends on the signal as it would without it.
    The previous handlers are restored, and the flag cleared, on leaving. Outside the
    main thread (where Python cannot take signals) the block runs unchanged.

    Yields
    ------
    None
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    owner = os.getpid()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        if os.getpid() != owner:
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
            return
        if _stop.is_set():
            return
        request_stop(signum)
        if _defer_depth:  # raised when the deferring block ends
            _deferred.set()
            return
        raise Interrupted(signum)

    _stop.clear()
    previous = {s: signal.signal(s, on_signal) for s in SIGNALS}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        _stop.clear()
        _deferred.clear()


@contextmanager
def signals_deferred() -> Iterator[None]:
    """A signal inside the block stops the run when the block ends, not inside it.

    For steps that must not be split (the renames that put a run in place). Under
    :func:`handle_signals` the handler only records the signal while a block is open;
    :class:`~planner.errors.Interrupted` is raised when the outermost block ends.

    Yields
    ------
    None
    """
    global _defer_depth
    _defer_depth += 1
    try:
        yield
    finally:
        _defer_depth -= 1
    if _defer_depth == 0 and _deferred.is_set():
        _deferred.clear()
        raise Interrupted(_signum)


def remove_stale_temp(
    *,
    prefix: str = CBC_TMP_PREFIX,
    max_age_s: float = STALE_AFTER_S,
    folder: str | Path | None = None,
) -> int:
    """Remove this user's ``<prefix>*`` folders left in the temporary folder by killed runs.

    A folder goes only when neither it nor anything directly in it changed for
    ``max_age_s``: a younger one may belong to a run still going. Folders that cannot be
    read or removed are left alone.

    Parameters
    ----------
    prefix
        Name prefix of the folders (default: CBC's).
    max_age_s
        Minimum age (s) since the last change (default: one day).
    folder
        Where to look (default: the system's temporary folder, e.g. ``$TMPDIR``).

    Returns
    -------
    int
        The number of folders removed (logged at INFO when not 0).
    """
    base = Path(folder) if folder is not None else Path(tempfile.gettempdir())
    try:
        entries = [e for e in os.scandir(base) if e.name.startswith(prefix)]
    except OSError:
        return 0
    now = time.time()
    removed = 0
    for entry in entries:
        if not _own_folder(entry) or now - _last_change(entry.path) < max_age_s:
            continue
        shutil.rmtree(entry.path, ignore_errors=True)
        removed += not os.path.lexists(entry.path)
    if removed:
        logger.info(
            "removed %d stale %s* folder(s) (unchanged for %.0f h) from %s",
            removed,
            prefix,
            max_age_s / 3600,
            base,
        )
    return removed


def _own_folder(entry: os.DirEntry) -> bool:
    """True for a real folder (not a link) owned by this user."""
    try:
        return entry.is_dir(follow_symlinks=False) and (
            not hasattr(os, "getuid") or entry.stat(follow_symlinks=False).st_uid == os.getuid()
        )
    except OSError:
        return False


def _last_change(path: str) -> float:
    """The latest modification time of a folder and its entries (now when unreadable)."""
    try:
        times = [os.stat(path, follow_symlinks=False).st_mtime]
        with os.scandir(path) as it:
            times += [e.stat(follow_symlinks=False).st_mtime for e in it]
    except OSError:
        return time.time()
    return max(times)


#: Seconds a batch worker lives on after a SIGTERM, for ``planner`` to close it cleanly.
WORKER_GRACE_S = 1.0


def dask_setup(worker: Any) -> None:
    """Dask worker preload of ``planner batch``: the planner process handles the signals.

    A Ctrl-C in the terminal reaches every process of the group: the workers ignore it,
    and ``planner`` closes them, which stops their solves cleanly (:func:`dask_teardown`).
    A SIGTERM ends the worker :data:`WORKER_GRACE_S` later, as SIGTERM did before (its
    nanny starts another and the task runs again); when ``planner`` got it too, it
    closes the worker cleanly within that time.

    Parameters
    ----------
    worker
        The ``distributed.Worker``, set up in its process's main thread.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(
        signal.SIGTERM, loop.call_later, WORKER_GRACE_S, _end_by, signal.SIGTERM
    )


def _end_by(signum: int) -> None:
    """End this process by ``signum``'s default action."""
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


def dask_teardown(worker: Any) -> None:
    """Dask worker preload: a closing worker's solve stops and cleans up (its folders, CBC).

    Parameters
    ----------
    worker
        The ``distributed.Worker``.
    """
    request_stop(signal.SIGTERM)
