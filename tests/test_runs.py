"""Run history (planner.runs): new folders per run, ``latest``, clean, never a lost run."""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from pathlib import Path

import pytest

from planner import runs
from planner.errors import ConfigError
from planner.runs import (
    check_home,
    clean,
    latest_run,
    list_runs,
    new_run,
    resolve_run,
    sweep_stale,
)

T0 = dt.datetime(2026, 11, 30, 1, 2, 3, tzinfo=dt.UTC)


def _run(home: Path, text: str, *, at: dt.datetime = T0, publish: bool = True) -> Path:
    """A run writing ``plan.csv`` with ``text``; returns its folder."""
    with new_run(home, started=at, key="abcd1234", kind="site") as run:
        (run.tmp / "plan.csv").write_text(text)
        (run.tmp / "sub").mkdir()
        (run.tmp / "sub" / "layer.csv").write_text("x")
        run.publish = publish
    return run.path


def test_each_run_gets_its_own_folder_and_latest_moves(tmp_path):
    home = check_home(tmp_path / "county")
    first = _run(home, "one")
    assert first == home / "runs" / "20261130T010203Z-abcd1234"
    assert latest_run(home) == first and (home / "latest").resolve() == first
    second = _run(home, "two")  # same second, same key: still a new folder
    assert second.name == "20261130T010203Z-abcd1234-2"
    assert latest_run(home) == second
    assert (home / "latest" / "plan.csv").read_text() == "two"
    assert (first / "plan.csv").read_text() == "one"
    manifest = json.loads((second / "run.json").read_text())
    assert manifest["run_id"] == second.name and manifest["kind"] == "site"
    assert manifest["files"] == ["plan.csv", "sub/layer.csv"]
    assert json.loads((home / "latest.json").read_text())["run_id"] == second.name


def test_a_failing_run_changes_nothing(tmp_path):
    home = check_home(tmp_path / "county")
    first = _run(home, "one")
    (first / "notes.txt").write_text("mine")
    with pytest.raises(RuntimeError), new_run(home, started=T0, key="k", kind="site") as run:
        (run.tmp / "plan.csv").write_text("half")
        raise RuntimeError("solver died")
    assert list_runs(home) == [first]
    assert not list((home / "runs").glob(".tmp-*"))
    assert latest_run(home) == first and (first / "notes.txt").read_text() == "mine"


def test_a_run_with_failures_is_kept_but_latest_stays(tmp_path):
    home = check_home(tmp_path / "sweep")
    good = _run(home, "good")
    partial = _run(home, "partial", publish=False)
    assert partial.is_dir() and latest_run(home) == good


def test_a_crash_while_moving_latest_leaves_both_runs(tmp_path, monkeypatch):
    home = check_home(tmp_path / "county")
    first = _run(home, "one")

    def crash(*args: object) -> None:
        raise OSError("power cut")

    monkeypatch.setattr(runs.os, "replace", crash)
    with pytest.raises(OSError, match="power cut"):
        _run(home, "two")
    monkeypatch.undo()
    assert [p.name for p in list_runs(home)] == [first.name, f"{first.name}-2"]
    assert latest_run(home) == first  # the previous run is still the one shown
    assert (list_runs(home)[1] / "plan.csv").read_text() == "two"


def test_latest_json_where_links_are_not_available(tmp_path, monkeypatch):
    def no_links(self: Path, *args: object, **kwargs: object) -> None:
        raise OSError("symlinks not supported")

    monkeypatch.setattr(Path, "symlink_to", no_links)
    home = check_home(tmp_path / "county")
    run = _run(home, "one")
    assert not (home / "latest").exists()
    assert resolve_run(home) == run == resolve_run(home, "latest")


def test_resolve_run(tmp_path):
    home = check_home(tmp_path / "county")
    first, second = _run(home, "one"), _run(home, "two")
    assert resolve_run(home) == second
    assert resolve_run(home, first.name) == first
    assert resolve_run(first) == first
    assert resolve_run(home / "latest").resolve() == second.resolve()
    with pytest.raises(ConfigError, match=r"no run 'nope' \(latest runs: .*-2\)"):
        resolve_run(home, "nope")
    with pytest.raises(ConfigError, match="no such run folder"):
        resolve_run(tmp_path / "missing")


def test_check_home_refuses_other_folders(tmp_path):
    other = tmp_path / "documents"
    other.mkdir()
    (other / "thesis.docx").write_text("x")
    with pytest.raises(ConfigError, match="not a planner output"):
        check_home(other)
    legacy = tmp_path / "old"  # a folder of the layout before run history
    legacy.mkdir()
    (legacy / "run.json").write_text("{}")
    assert check_home(legacy) == legacy.resolve()
    odd = tmp_path / "odd"
    (odd / "runs").mkdir(parents=True)
    (odd / "latest").write_text("not a link")
    with pytest.raises(ConfigError, match="latest is not the planner's link"):
        check_home(odd)


def test_clean_keeps_the_newest_latest_and_the_users_files(tmp_path):
    home = check_home(tmp_path / "county")
    made = [_run(home, str(k), at=T0 + dt.timedelta(minutes=k)) for k in range(6)]
    (made[1] / "notes.txt").write_text("mine")
    (made[2] / "exports" / "csv_EPSG4326").mkdir(parents=True)  # a later `planner export`
    (made[2] / "exports" / "csv_EPSG4326" / "stations.csv").write_text("x")
    made[3].chmod(0o555)
    runs.point_latest(home, made[0].name)  # latest need not be the newest
    try:
        dry = clean(home, keep=2, dry_run=True)
        assert dry.removed == [made[2]] and all(p.is_dir() for p in made)
        res = clean(home, keep=2)
    finally:
        made[3].chmod(0o755)
    assert res.removed == [made[2]]
    assert [(p, why.split(" (")[0]) for p, why in res.kept] == [
        (made[1], "it holds files the planner did not write"),
        (made[3], "the folder is read-only"),
    ]
    assert list_runs(home) == [made[0], made[1], made[3], made[4], made[5]]
    assert (made[1] / "notes.txt").read_text() == "mine"
    with pytest.raises(ConfigError, match="keep at least 1"):
        clean(home, keep=0)
    with pytest.raises(ConfigError, match="not a planner output folder"):
        clean(tmp_path, keep=1)


def test_stale_temporary_folders_are_swept(tmp_path):
    folder = tmp_path / "runs"
    old, young = folder / ".tmp-old-x", folder / ".tmp-young-y"
    for p in (old, young):
        p.mkdir(parents=True)
        (p / "half.csv").write_text("x")
    day_ago = time.time() - runs.STALE_S - 60
    os.utime(old, (day_ago, day_ago))
    assert sweep_stale(folder) == 1
    assert not old.exists() and young.is_dir()


def test_a_signal_during_the_final_renames_waits_for_them(tmp_path):
    """SIGTERM while the run is put in place is delivered after, not between, the renames."""
    import signal

    from planner.errors import Interrupted
    from planner.signals import handle_signals

    home = check_home(tmp_path / "county")
    real = Path.rename

    def rename_then_signal(self: Path, target: Path) -> Path:
        out = real(self, target)
        os.kill(os.getpid(), signal.SIGTERM)  # arrives between the rename and latest
        return out

    with pytest.raises(Interrupted), handle_signals():
        Path.rename = rename_then_signal  # type: ignore[method-assign]
        try:
            _run(home, "one")
        finally:
            Path.rename = real  # type: ignore[method-assign]
    run = list_runs(home)
    assert len(run) == 1 and latest_run(home) == run[0]  # placed and shown: whole


def test_a_folder_of_county_outputs_takes_a_batch_run(tmp_path):
    """A batch's results folder whose counties ran before any batch run finished."""
    root = tmp_path / "results"
    _run(check_home(root / "qingxi"), "one")
    assert check_home(root) == root.resolve()
