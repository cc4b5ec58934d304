"""Run history: every run gets its own folder; ``latest`` points at the newest good one.

An output folder (``data/processed/<slug>`` for a county, the ``--out`` of a sweep,
rollout or batch) is a *home*::

    <home>/
      runs/20261130T011751Z-3fa9c2e1/   one folder per run: run.json, tables, map, ...
      runs/20261130T020304Z-3fa9c2e1/
      latest -> runs/20261130T020304Z-3fa9c2e1   (a symlink, where links are available)
      latest.json                                (the same, as a file: always written)

A run is written into a hidden ``runs/.tmp-*`` folder and renamed into place in one
step when it is complete; then ``latest`` is moved to it (each pointer replaced in one
step). Nothing outside the new run folder is written or deleted, so a failing or killed
run leaves every earlier run as it was. Old runs are removed only by :func:`clean`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import shutil
import stat
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from planner.errors import ConfigError
from planner.paths import check_writable, replace_file
from planner.signals import signals_deferred

logger = logging.getLogger(__name__)

RUNS = "runs"
LATEST = "latest"
LATEST_JSON = "latest.json"
MANIFEST = "run.json"
#: Temporary run folders older than this (seconds) are left by killed runs: removed.
STALE_S = 24 * 3600
#: Files that mark a folder as one the planner wrote in the layout before run history.
_LEGACY = (MANIFEST, "sweep.csv", "rollout.csv", "batch_summary.csv")
#: Sub-folders of a run that later commands (``planner export``) add to it.
_ADDED_LATER = ("exports",)


def content_key(*parts: str) -> str:
    """A short hash of the texts (a config dump, input hashes) for a run id."""
    h = hashlib.sha256()
    for p in parts:
        h.update(p.encode("utf-8"))
        h.update(b"\0")
    return h.hexdigest()[:8]


def run_id(started: dt.datetime, key: str) -> str:
    """``<UTC start time>-<key>``, e.g. ``20261130T011751Z-3fa9c2e1`` (sorts by time)."""
    return f"{started.astimezone(dt.UTC):%Y%m%dT%H%M%SZ}-{key}"


def is_home(folder: Path) -> bool:
    """True when ``folder`` holds runs, an output of the layout before run history, or
    output folders of counties (a batch's results folder before its first batch run)."""
    return _holds_runs(folder) or any(
        child.is_dir() and _holds_runs(child) for child in folder.iterdir()
    )


def _holds_runs(folder: Path) -> bool:
    return (
        (folder / RUNS).is_dir()
        or (folder / LATEST_JSON).is_file()
        or any((folder / name).is_file() for name in _LEGACY)
    )


def check_home(folder: str | Path, *, kind: str | None = None) -> Path:
    """The resolved output folder, if runs can be added to it.

    It must be new, empty or a planner output folder (never a folder of other files),
    and writable: checked before anything is read or solved. With ``kind`` (``site``,
    ``sweep``, ``rollout``), its ``latest`` run must be of that kind too: a sweep into a
    county's output folder would take the ``latest`` its map and exports are read from.

    Raises
    ------
    ConfigError
        A file, a folder of other files, the root, or not writable (exit 2).
    """
    home = Path(folder).expanduser().resolve()
    if home.exists() and not home.is_dir():
        msg = f"output {home}: is a file, not a folder"
        raise ConfigError(msg)
    if home.parent == home:
        msg = f"output {home}: cannot write to the file system root"
        raise ConfigError(msg)
    if home.is_dir() and any(home.iterdir()) and not is_home(home):
        msg = (
            f"output {home}: the folder holds other files and no {RUNS}/ folder, so it is "
            "not a planner output; choose a new or empty folder"
        )
        raise ConfigError(msg)
    link = home / LATEST
    if (link.exists() or link.is_symlink()) and not link.is_symlink():
        msg = f"output {home}: {LATEST} is not the planner's link; move it away"
        raise ConfigError(msg)
    runs = home / RUNS
    check_writable(runs / "x" if runs.is_dir() else runs, shown=home)
    if runs.is_dir():  # the run goes in runs/, its `latest` link and record in home
        check_writable(home / "x", shown=home)
    if kind is not None and home.is_dir():
        _check_kind(home, kind)
    return home


def _check_kind(home: Path, kind: str) -> None:
    """Refuse a folder whose ``latest`` run is of another kind (a site run's folder for a
    sweep, say)."""
    run = latest_run(home)
    if run is None:
        return
    try:
        had = json.loads((run / "run.json").read_text(encoding="utf-8")).get("kind")
    except (OSError, ValueError, AttributeError):
        return
    if isinstance(had, str) and had != kind:
        msg = (
            f"output {home}: its runs are `planner {had}` runs (latest {run.name}); a {kind} "
            f"would take their {LATEST}: give the {kind} a folder of its own (--out)"
        )
        raise ConfigError(msg)


@dataclass
class RunFolder:
    """A run being written: write into ``tmp``; it becomes ``path`` when complete."""

    home: Path
    id: str
    kind: str
    tmp: Path
    #: Move ``latest`` to this run when it is complete (a run with failures may say no).
    publish: bool = True
    #: Extra fields for the run's manifest (``run.json``).
    manifest: dict[str, Any] = field(default_factory=dict)

    @property
    def path(self) -> Path:
        """The final folder of the run."""
        return self.home / RUNS / self.id


@contextmanager
def new_run(home: Path, *, started: dt.datetime, key: str, kind: str) -> Iterator[RunFolder]:
    """Write a new run of ``home``, then put it in place and point ``latest`` at it.

    Parameters
    ----------
    home
        A folder checked by :func:`check_home` (and locked by the caller).
    started
        When the run started (its id's time).
    key
        Short hash of its config and inputs (:func:`content_key`).
    kind
        ``site``, ``sweep``, ``rollout`` or ``batch`` (written to ``run.json``).

    Yields
    ------
    RunFolder
        Write the run's files into its ``tmp``. On any error (or signal) the temporary
        folder is removed and nothing else has changed.
    """
    runs = home / RUNS
    runs.mkdir(parents=True, exist_ok=True)
    sweep_stale(runs)
    rid, n = run_id(started, key), 1
    while (runs / rid).exists() or any(runs.glob(f".tmp-{rid}-*")):
        n += 1
        rid = f"{run_id(started, key)}-{n}"
    run = RunFolder(home, rid, kind, Path(tempfile.mkdtemp(prefix=f".tmp-{rid}-", dir=runs)))
    run.tmp.chmod(0o755)
    try:
        yield run
        _write_inventory(run)
    except BaseException:
        shutil.rmtree(run.tmp, ignore_errors=True)
        raise
    with signals_deferred():  # a complete run is put in place and shown, or not at all
        try:
            run.tmp.rename(run.path)
        except BaseException:
            shutil.rmtree(run.tmp, ignore_errors=True)
            raise
        if run.publish:
            point_latest(home, rid)
    if not run.publish:
        shown = latest_run(home)
        where = f"still points at {shown.name}" if shown else "is not set (no complete run yet)"
        logger.warning("run %s has failures: %s %s", rid, LATEST, where)


def _write_inventory(run: RunFolder) -> None:
    """Add the run id, kind and the list of files written to the run's ``run.json``."""
    files = sorted(
        p.relative_to(run.tmp).as_posix()
        for p in run.tmp.rglob("*")
        if p.is_file() and p != run.tmp / MANIFEST
    )
    path = run.tmp / MANIFEST
    manifest = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    manifest = {"run_id": run.id, "kind": run.kind, **manifest, **run.manifest, "files": files}
    manifest.setdefault("created_utc", dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))
    path.write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")


def point_latest(home: Path, rid: str) -> None:
    """Point ``latest`` (link and ``latest.json``) at run ``rid``; each replaced in one step."""
    target = Path(RUNS) / rid
    info = {"run_id": rid, "path": target.as_posix()}
    replace_file(
        home / LATEST_JSON,
        lambda p: p.write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8"),
    )
    tmp_link = home / f".{LATEST}.{os.getpid()}.tmp"
    try:
        tmp_link.unlink(missing_ok=True)
        tmp_link.symlink_to(target, target_is_directory=True)
        os.replace(tmp_link, home / LATEST)
    except (OSError, NotImplementedError) as err:  # no links here: latest.json still tells
        tmp_link.unlink(missing_ok=True)
        logger.info("no %s link in %s (%s); see %s", LATEST, home, err, LATEST_JSON)


def latest_run(home: Path) -> Path | None:
    """The run ``latest`` points at, or None."""
    info = home / LATEST_JSON
    if info.is_file():
        try:
            rid = json.loads(info.read_text(encoding="utf-8"))["run_id"]
        except (OSError, ValueError, KeyError, TypeError):
            rid = None
        if isinstance(rid, str) and (home / RUNS / rid).is_dir():
            return home / RUNS / rid
    link = home / LATEST
    return link.resolve() if link.is_symlink() and link.resolve().is_dir() else None


def list_runs(home: Path) -> list[Path]:
    """The run folders of ``home``, oldest first."""
    runs = home / RUNS
    if not runs.is_dir():
        return []
    return sorted(p for p in runs.iterdir() if p.is_dir() and not p.name.startswith("."))


def resolve_run(path: str | Path, run: str | None = None) -> Path:
    """A run folder from a run folder, or from a home and a run id or ``latest``.

    Parameters
    ----------
    path
        A run folder (it holds ``run.json``), a home, or a home's ``latest``.
    run
        A run id of that home, or ``latest`` (the default for a home).

    Raises
    ------
    ConfigError
        The run cannot be found (exit 2).
    """
    folder = Path(path).expanduser()
    if not folder.is_dir():
        msg = f"{folder}: no such run folder"
        raise ConfigError(msg)
    if run is None and (folder / MANIFEST).is_file() and not (folder / RUNS).is_dir():
        return folder
    if run in (None, LATEST):
        found = latest_run(folder)
        if found is None:
            msg = (
                f"{folder}: not a planner run (no {MANIFEST}) and no {LATEST} run in it; give "
                "a run folder or a county's output folder"
            )
            raise ConfigError(msg)
        return found
    assert run is not None
    if (folder / RUNS / run).is_dir():
        return folder / RUNS / run
    known = ", ".join(p.name for p in list_runs(folder)[-5:]) or "none"
    msg = f"{folder}: no run {run!r} (latest runs: {known})"
    raise ConfigError(msg)


def sweep_stale(runs: Path, *, max_age_s: float = STALE_S) -> int:
    """Remove temporary run folders older than ``max_age_s`` (left by killed runs)."""
    now = time.time()
    removed = 0
    for p in runs.glob(".tmp-*"):
        try:
            old = now - p.stat().st_mtime > max_age_s
        except OSError:
            continue
        if old and p.is_dir():
            shutil.rmtree(p, ignore_errors=True)
            removed += 1
    if removed:
        logger.info("removed %d unfinished run folder(s) older than a day in %s", removed, runs)
    return removed


@dataclass
class CleanResult:
    """What :func:`clean` removed, and the old runs it kept with the reason."""

    removed: list[Path]
    kept: list[tuple[Path, str]]


def clean(home: str | Path, *, keep: int, dry_run: bool = False) -> CleanResult:
    """Remove all but the ``keep`` newest runs of ``home`` (``latest`` is always kept).

    A run folder is removed only when it holds nothing but what the planner wrote (the
    files its ``run.json`` lists, and later exports): a run holding a file of the
    user's, or made read-only, is kept and reported.

    Raises
    ------
    ConfigError
        ``home`` has no runs, or ``keep`` is below 1 (exit 2).
    """
    home = Path(home).expanduser().resolve()
    if not (home / RUNS).is_dir():
        msg = f"{home}: no {RUNS}/ folder, so not a planner output folder"
        raise ConfigError(msg)
    if keep < 1:
        msg = f"--keep {keep}: keep at least 1 run"
        raise ConfigError(msg)
    runs = list_runs(home)
    latest = latest_run(home)
    result = CleanResult([], [])
    for run in runs[: max(0, len(runs) - keep)]:
        if latest is not None and run.resolve() == latest.resolve():
            continue
        why = _why_keep(run)
        if why:
            result.kept.append((run, why))
            continue
        if not dry_run:
            shutil.rmtree(run)
        result.removed.append(run)
    if not dry_run:
        sweep_stale(home / RUNS)
    return result


def _why_keep(run: Path) -> str | None:
    """Why an old run folder must not be removed, or None."""
    if not run.stat().st_mode & stat.S_IWUSR:
        return "the folder is read-only"
    try:
        listed = set(json.loads((run / MANIFEST).read_text(encoding="utf-8"))["files"])
    except (OSError, ValueError, KeyError, TypeError):
        return f"no readable {MANIFEST} with its list of files"
    extra = [
        rel
        for p in run.rglob("*")
        if p.is_file()
        and (rel := p.relative_to(run).as_posix()) not in listed
        and rel != MANIFEST
        and rel.split("/")[0] not in _ADDED_LATER
    ]
    if extra:
        shown = ", ".join(sorted(extra)[:3]) + (" ..." if len(extra) > 3 else "")
        return f"it holds files the planner did not write ({shown})"
    return None
