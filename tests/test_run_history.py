"""Nothing lost, ever: re-runs of site, sweep and rollout keep every earlier run."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from planner.runs import list_runs
from tests.conftest import PLAN_ONLY_SETS, latest, lock_held_elsewhere, run_cli, site_proc


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig") as fh:
        return list(csv.DictReader(fh))


@pytest.mark.slow
def test_site_reruns_keep_earlier_runs_and_the_users_files(small, tmp_path):
    home = tmp_path / "county"
    assert site_proc(small, home, *PLAN_ONLY_SETS).returncode == 0
    first = latest(home)
    (first / "notes.txt").write_text("call the grid office", encoding="utf-8")
    first.chmod(0o555)  # the user froze the signed plan
    before = {p.name: p.read_bytes() for p in first.iterdir()}
    try:
        r = site_proc(small, home, "--set", "stations.budget=12e6", *PLAN_ONLY_SETS)
        assert r.returncode == 0, r.stderr
        second = latest(home)
        assert second != first and list_runs(home) == [first, second]
        # the summary table shows the whole run folder (wrapped, never cut short)
        values = "".join(
            line.split("│")[2].strip() for line in r.stdout.splitlines() if line.count("│") == 3
        )
        assert str(second) in values and "…" not in r.stdout
        assert {p.name: p.read_bytes() for p in first.iterdir()} == before  # untouched
        assert not [p for p in home.rglob("*") if p.name.startswith(".") and "tmp" in p.name]
        # a failing re-run adds nothing and moves nothing
        r = site_proc(small, home, "--set", "stations.budget=2e6", *PLAN_ONLY_SETS)
        assert r.returncode == 3
        assert list_runs(home) == [first, second] and latest(home) == second
        # export takes the county folder (its latest run) or a run id
        r = run_cli("export", str(home), "--format", "csv")
        assert r.returncode == 0, r.stderr
        assert (second / "exports" / "csv_EPSG4326" / "stations.csv").is_file()
        r = run_cli("export", str(home), "--run", "20990101T000000Z-x", "--format", "csv")
        assert r.returncode == 2 and f"(latest runs: {first.name}, {second.name})" in r.stderr
        # clean keeps latest and the run the user froze or wrote notes into
        r = run_cli("clean", str(home), "--keep", "1")
        assert r.returncode == 0, r.stderr
        assert f"kept: {first}: the folder is read-only" in r.stderr
        first.chmod(0o755)
        r = run_cli("clean", str(home), "--keep", "1")
        assert f"kept: {first}: it holds files the planner did not write (notes.txt)" in r.stderr
        assert list_runs(home) == [first, second]
    finally:
        first.chmod(0o755)


@pytest.mark.slow
def test_a_failing_sweep_rerun_keeps_the_previous_tables(small, tmp_path):
    home = tmp_path / "sweep"
    r = run_cli(
        "sweep",
        *("--config", str(small), "--vary", "stations.budget=12e6", "--out", str(home)),
        *PLAN_ONLY_SETS,
    )
    assert r.returncode == 0, r.stderr
    good = latest(home)
    table = (good / "sweep.csv").read_bytes()
    r = run_cli(
        "sweep",
        *("--config", str(small), "--vary", "stations.budget=2e6", "--out", str(home)),
        *PLAN_ONLY_SETS,
    )
    assert r.returncode == 3 and "failed: budget-2000000" in r.stderr
    assert latest(home) == good and (good / "sweep.csv").read_bytes() == table
    failed = [p for p in list_runs(home) if p != good]
    assert len(failed) == 1  # kept for the record, not shown as latest
    manifest = json.loads((failed[0] / "run.json").read_text("utf-8"))
    assert manifest["kind"] == "sweep" and manifest["status"] == "some_failed"
    assert _rows(failed[0] / "sweep.csv")[0]["status"] == "failed"


def test_a_failing_rollout_rerun_keeps_the_previous_tables(small, tmp_path):
    home = tmp_path / "rollout"
    args = ["rollout", "--config", str(small), "--out", str(home), *PLAN_ONLY_SETS]
    r = run_cli(*args, "--year", "2025:12e6:0.08")
    assert r.returncode == 0, r.stderr
    good = latest(home)
    stations = _rows(good / "rollout.csv")
    assert stations
    r = run_cli(*args, "--year", "2025:2e6:0.08")
    assert r.returncode == 3
    assert latest(home) == good and _rows(good / "rollout.csv") == stations


@pytest.mark.slow
def test_rollout_refuses_a_year_given_twice(small, tmp_path):
    out = tmp_path / "rollout"
    r = run_cli(
        "rollout", "--config", str(small), "--out", str(out),
        "--year", "2025:8e6:0.08", "--year", "2025:4e6:0.1",
    )  # fmt: skip
    assert r.returncode == 2 and "--year 2025 is given twice" in r.stderr
    assert not out.exists()


def test_sweep_rollout_and_batch_lock_their_folder(small, tmp_path):
    """While another process writes the folder, each exits 2 before any work."""
    out = (tmp_path / "busy").resolve()
    batch = tmp_path / "batch.yaml"
    batch.write_text(f"counties:\n  - config: {small}\n", encoding="utf-8")
    with lock_held_elsewhere(out):
        for args in (
            ["sweep", "--config", str(small), "--vary", "stations.budget=8e6"],
            ["rollout", "--config", str(small), "--year", "2025:8e6:0.1"],
            ["batch", str(batch)],
        ):
            r = run_cli(*args, "--out", str(out))
            assert r.returncode == 2, (args, r.stderr)
            assert "another planner run is writing this folder" in r.stderr
        assert not out.exists()


@pytest.mark.slow
def test_an_interrupted_sweep_keeps_the_scenarios_done(small, tmp_path, monkeypatch):
    """SIGINT in the second scenario: the first stays, in a run that latest does not show."""
    import signal
    from types import SimpleNamespace

    from planner import sweep as sweep_module
    from planner.errors import Interrupted

    figures = dict.fromkeys(
        ("gap", "stations", "chargers", "repair_points", "capex_total", "evs_covered"), 1
    )
    figures.update(status="optimal", demand_covered_share=0.5)

    def fake_run(config, folder, *, inputs, on_stage=None, run_id=None):
        if config.stations.budget > 9e6:
            raise Interrupted(signal.SIGINT)
        folder.mkdir()
        (folder / "stations.csv").write_text("x")
        return SimpleNamespace(summary=figures)

    monkeypatch.setattr(sweep_module, "prepare", lambda config, **_: None)
    monkeypatch.setattr(sweep_module, "write_run", fake_run)
    home = tmp_path / "sweep"
    with pytest.raises(Interrupted):
        sweep_module.sweep(small, [("stations.budget", [8e6, 10e6])], home)
    (run,) = list_runs(home)
    assert (run / "budget-8000000" / "stations.csv").is_file()
    assert [r["scenario"] for r in _rows(run / "sweep.csv")] == ["budget-8000000"]
    assert json.loads((run / "run.json").read_text("utf-8"))["status"] == "interrupted"
    assert not (home / "latest").exists()
