"""Folders the planner generates files into, beside files of the user's.

``planner demo`` writes its files into a folder the user may also keep files in (notes, a
variant of the config, runs). Writing it again replaces only the files it wrote, each
atomically, and never a file the user edited since: every folder it writes holds a small
record (:data:`RECORD`) of its files and their SHA-256. A file of the record that no longer
has its hash, or a file of the same name that the record does not list, stops the write
before anything moves, with one line naming the file. Files it did not write are left alone.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from planner.errors import ConfigError
from planner.paths import check_out_dir, check_writable, replace_file, sha256_file
from planner.signals import signals_deferred

#: The record of the generated files in each folder.
RECORD = ".planner-generated.json"


def _record(folder: Path) -> dict[str, str] | None:
    """File name -> SHA-256 of what was generated into ``folder`` (None: no record)."""
    path = folder / RECORD
    if not path.is_file():
        return None
    try:
        raw = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError) as err:
        msg = f"{path}: cannot read ({err}); remove it to write the demo here again"
        raise ConfigError(msg) from None
    if not isinstance(raw, dict) or not all(isinstance(v, str) for v in raw.values()):
        msg = f"{path}: not a record of generated files; remove it to write the demo here again"
        raise ConfigError(msg)
    return {str(k): v for k, v in raw.items()}


def check_generated(folder: Path, names: Iterable[str], *, writer: str = "planner demo") -> None:
    """Fail before writing ``names`` into ``folder`` when one would replace a user's file.

    A file is safe to replace when it is absent, or listed in the folder's record with
    its current content. In a folder without a record (one written before the record
    existed, which :func:`generated_dir` takes only when it holds its marker file) the
    files of these names are taken as generated.

    Raises
    ------
    ConfigError
        A file was edited since it was generated, or was never generated.
    """
    record = _record(folder)
    for name in names:
        path = folder / name
        if not path.exists():
            continue
        if path.is_dir():
            msg = f"{path}: a folder where {writer} writes a file; move it or choose another --out"
            raise ConfigError(msg)
        if record is None:
            continue  # a folder of an earlier version: its files were the writer's
        if name not in record:
            msg = (
                f"{path}: not written by {writer}; move it away or choose another "
                f"--out to run {writer} here"
            )
            raise ConfigError(msg)
        if sha256_file(path) != record[name]:
            msg = (
                f"{path}: changed since {writer} wrote it; move it away (or choose "
                f"another --out) to run {writer} here again"
            )
            raise ConfigError(msg)


def record_generated(folder: Path, names: Iterable[str], *, removed: Iterable[str] = ()) -> None:
    """Note ``names`` (as they are now in ``folder``) as generated, ``removed`` as gone."""
    record = _record(folder) or {}
    for name in removed:
        record.pop(name, None)
    for name in names:
        record[name] = sha256_file(folder / name)
    text = json.dumps(dict(sorted(record.items())), indent=1)
    replace_file(folder / RECORD, lambda p: p.write_text(text, "utf-8"))


@contextmanager
def generated_dir(
    target: str | Path, *, marker: str, writer: str = "planner demo", prune: bool = False
) -> Iterator[Path]:
    """Write into a temporary sibling folder, then move its files into ``target``.

    Files of ``target`` the block did not write stay as they are; the block's files
    replace theirs only when :func:`check_generated` allows it, checked for every file
    before any moves. On an error in the block nothing in ``target`` changes. A folder
    of other files that holds neither the record nor ``marker`` (a file the block
    writes) is refused, as :func:`~planner.paths.check_out_dir` refuses it.

    Parameters
    ----------
    target
        The folder.
    marker
        A file the block always writes (it marks a folder of an earlier version).
    writer
        The command, for messages.
    prune
        Also remove the files an earlier write recorded that this one does not write
        again, when they are unchanged (an export in another format into the same
        folder leaves none of the earlier one's files behind; a user's file stays).

    Yields
    ------
    Path
        The temporary folder to write into (files only, no sub-folders).
    """
    target = Path(target).expanduser().resolve()
    if (target / RECORD).is_file():
        check_writable(target)
    else:
        target = check_out_dir(target, marker=marker)  # new, empty, or an earlier demo
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    try:
        yield tmp
        names = sorted(p.name for p in tmp.iterdir())
        target.mkdir(exist_ok=True)
        check_generated(target, names, writer=writer)
        stale = _stale(target, names) if prune else []
        with signals_deferred():  # all the files move and are recorded, or none yet
            for name in names:
                os.replace(tmp / name, target / name)
            for name in stale:
                (target / name).unlink(missing_ok=True)
            record_generated(target, names, removed=stale)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _stale(folder: Path, names: list[str]) -> list[str]:
    """Files the record lists, not in ``names``, still as they were written."""
    record = _record(folder) or {}
    keep = set(names)
    return [
        name
        for name, digest in sorted(record.items())
        if name not in keep and (folder / name).is_file() and sha256_file(folder / name) == digest
    ]
