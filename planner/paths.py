"""Disk helpers for runs: file hashes and atomic output folders."""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from planner.datatypes import InputFile


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


@contextmanager
def atomic_dir(target: str | Path) -> Iterator[Path]:
    """Write into a temporary sibling folder, then move it into place.

    The previous folder, if any, is replaced only when the block finishes without an
    error; on an error the temporary folder is removed and ``target`` is untouched.

    Parameters
    ----------
    target
        The final folder.

    Yields
    ------
    Path
        The temporary folder to write into.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    tmp.chmod(0o755)
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = None
    if target.exists():
        old = target.with_name(f".{target.name}.old-{tmp.name.rsplit('-', 1)[-1]}")
        target.rename(old)
    tmp.rename(target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
