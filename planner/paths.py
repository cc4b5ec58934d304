"""Disk helpers for runs: file hashes and atomic output folders."""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from planner.datatypes import InputFile
from planner.errors import ConfigError
from planner.signals import signals_deferred

logger = logging.getLogger(__name__)


def sha256_file(path: str | Path, *, chunk: int = 1 << 20) -> str:
    """SHA-256 hex digest of a file."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def input_file(role: str, path: str | Path) -> InputFile:
    """Describe an input file for the manifest."""
    p = Path(path)
    return InputFile(role=role, path=p, sha256=sha256_file(p), size_bytes=p.stat().st_size)


def check_out_dir(target: str | Path, *, marker: str | None) -> Path:
    """The resolved output folder, if it is safe to replace.

    A folder is replaced only when it is new, empty, or holds ``marker`` (the file
    every output of this kind has, e.g. ``run.json``): never a folder of other files.

    Parameters
    ----------
    target
        The output folder.
    marker
        File name that marks a folder as one the planner wrote; None skips the check.

    Returns
    -------
    Path
        The absolute folder path.
    """
    target = Path(target).expanduser().resolve()
    if target.exists() and not target.is_dir():
        msg = f"output {target}: is a file, not a folder"
        raise ConfigError(msg)
    if (
        marker is not None
        and target.is_dir()
        and any(target.iterdir())
        and not (target / marker).exists()
    ):
        msg = (
            f"output {target}: the folder holds other files and no {marker}, so it is not a "
            "planner output; choose a new or empty folder"
        )
        raise ConfigError(msg)
    if target.parent == target:
        msg = f"output {target}: cannot write to the file system root"
        raise ConfigError(msg)
    check_writable(target)
    return target


@contextmanager
def out_lock(target: Path) -> Iterator[None]:
    """One run at a time per output folder: hold a lock on it, or fail at once.

    The lock file lives in the system's temporary folder (named by a hash of the folder's
    path), so nothing is left beside the user's folders. The operating system releases it
    when the process ends, however it ends.

    Raises
    ------
    ConfigError
        When another run holds the lock (exit 2).
    """
    folder = Path(tempfile.gettempdir()) / "planner-locks"
    folder.mkdir(exist_ok=True)
    key = hashlib.sha256(str(target).encode("utf-8")).hexdigest()[:24]
    lock = FileLock(str(folder / f"{key}.lock"))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        msg = (
            f"output {target}: another planner run is writing this folder; wait for it to "
            "finish or choose another output folder"
        )
        raise ConfigError(msg) from None
    try:
        yield
    finally:
        lock.release()


def check_writable(target: Path, *, shown: Path | None = None) -> None:
    """Fail early, with one line, when the folder ``target`` could not be written.

    The output is written in a sibling of ``target``, so the nearest existing folder
    above it must take a new entry: this is tried for real (permissions alone do not
    tell, e.g. for root or on a read-only mount).

    Parameters
    ----------
    target
        The absolute output folder.
    shown
        The folder named in messages (default ``target``).

    Raises
    ------
    ConfigError
        A parent is a file, or the nearest existing folder refuses a new entry.
    """
    base = target.parent
    target = shown or target
    while not base.exists() and base.parent != base:
        base = base.parent
    if not base.is_dir():
        msg = f"output {target}: {base} is a file, not a folder; choose another --out"
        raise ConfigError(msg)
    try:
        Path(tempfile.mkdtemp(prefix=".planner-write-test-", dir=base)).rmdir()
    except OSError as err:
        msg = (
            f"output {target}: cannot write in {base} ({err.strerror or err}); choose a "
            "folder you can write to"
        )
        raise ConfigError(msg) from None


@contextmanager
def atomic_dir(target: str | Path, *, marker: str | None = None) -> Iterator[Path]:
    """Write into a temporary sibling folder, then move it into place.

    The previous folder, if any, is replaced only when the block finishes without an
    error; on an error the temporary folder is removed and ``target`` is untouched.

    Parameters
    ----------
    target
        The final folder.
    marker
        See :func:`check_out_dir`.

    Yields
    ------
    Path
        The temporary folder to write into.
    """
    target = check_out_dir(target, marker=marker)
    target.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_siblings(target)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    tmp.chmod(0o755)
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = None
    with signals_deferred():  # a signal never falls between the two renames
        if target.exists():
            old = target.with_name(f".{target.name}.old-{tmp.name.rsplit('-', 1)[-1]}")
            target.rename(old)
        tmp.rename(target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


#: Hidden siblings older than this (seconds) were left by a killed run: removed.
STALE_SIBLING_S = 24 * 3600


def _remove_stale_siblings(target: Path) -> None:
    """Remove ``.<name>.tmp-*`` / ``.<name>.old-*`` folders a killed run left a day ago."""
    now = time.time()
    for pattern in (f".{target.name}.tmp-*", f".{target.name}.old-*"):
        for p in target.parent.glob(pattern):
            try:
                stale = p.is_dir() and now - p.stat().st_mtime > STALE_SIBLING_S
            except OSError:
                continue
            if stale:
                logger.info("removing %s, left by a run that was killed", p)
                shutil.rmtree(p, ignore_errors=True)


def replace_file(target: Path, write: Callable[[Path], object]) -> None:
    """Write a file through a temporary sibling, then move it into place.

    ``write`` is called with the temporary path; ``target`` is replaced only when it
    returns, so a reader never sees a half-written file.
    """
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        write(tmp)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
