"""A plan a county can sign: the same at any machine load, and honestly labelled."""

from __future__ import annotations

import importlib
import json
import os
import signal
import subprocess
import sys
from html import escape as html_escape

import openpyxl
import pytest
from click.testing import CliRunner

from planner.cli import main
from planner.paths import out_lock
from planner.sweep import sweep
from tests.conftest import (
    NO_TOURS,
    PLAN_ONLY,
    PLAN_ONLY_SETS,
    latest,
    lock_held_elsewhere,
    site_proc,
)

#: Files that must be byte-identical between two runs of the same config.
PLAN_FILES = ("stations.csv", "repair_points.csv", "assignments.csv")


def _untimed(summary: dict) -> dict:
    """summary.json without its timings (the only figures allowed to differ)."""
    out = {k: v for k, v in summary.items() if k != "timings_s"}
    out["solves"] = [
        {k: v for k, v in s.items() if k not in ("solve_s", "build_s")} for s in out["solves"]
    ]
    if "tours" in out:  # the vans' week stops on iterations: only its seconds may differ
        out["tours"] = {k: v for k, v in out["tours"].items() if k not in ("runtime_s", "build_s")}
    return out


def _busy(n: int) -> list[subprocess.Popen]:
    """``n`` processes that keep a core each busy until killed."""
    code = "while True:\n    pass\n"
    return [
        subprocess.Popen([sys.executable, "-c", code], start_new_session=True) for _ in range(n)
    ]


@pytest.mark.slow
def test_the_same_plan_at_any_machine_load(demo_config, demo_run, tmp_path):
    """A run while both cores are busy gives the plan of a run on an idle machine."""
    hogs = _busy(os.cpu_count() or 2)
    try:
        r = site_proc(demo_config, tmp_path / "loaded")
    finally:
        for p in hogs:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
    assert r.returncode == 0, r.stderr
    run = latest(tmp_path / "loaded")
    for name in PLAN_FILES:
        assert (run / name).read_bytes() == (demo_run / name).read_bytes(), name
    loaded, idle = (json.loads((d / "summary.json").read_text("utf-8")) for d in (run, demo_run))
    assert _untimed(loaded) == _untimed(idle)
    assert idle["status"] == "optimal"


@pytest.mark.slow
def test_a_pass_stopped_by_the_clock_is_a_warning_everywhere(small, tmp_path, monkeypatch):
    """The safety net fires in the drive-time pass: summary, CLI and report all say so."""
    # the joint model looks `solve` up in its own module (the package exports a function
    # named two_tier too, hence import_module)
    models = importlib.import_module("planner.optimize.two_tier")
    solve = models.solve

    def hurried(prob, *, solver, model, **kw):
        if model.endswith("_time"):
            solver = solver.model_copy(update={"time_limit_s": 1e-3})
        return solve(prob, solver=solver, model=model, **kw)

    monkeypatch.setattr(models, "solve", hurried)
    # a start within the gap of the relaxation is settled without the MIP solver: make the
    # drive-time pass branch, so that its clock can fire
    monkeypatch.setattr(models, "settle_on_relaxation", lambda *a, **k: None)
    out = tmp_path / "run"
    args = ["site", "--config", str(small), "--out", str(out), "--set", "report.language=en"]
    args += NO_TOURS
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 0, r.output
    out = latest(out)
    s = json.loads((out / "summary.json").read_text("utf-8"))
    assert s["status"] == "time_limit"
    assert s["safety_net"] == ["drive_time"]
    assert [x["status"] for x in s["solves"]][:2] == ["optimal", "optimal"]
    assert "WARNING" in r.output and "pass 'shortest drive times' was stopped" in r.output
    html = (out / "report.html").read_text("utf-8")
    stopped = "The pass &#x27;shortest drive times&#x27; was stopped by the time limit"
    assert f'<p class="warning">{stopped}' in html
    assert "**Warning:** The pass 'shortest drive times'" in (out / "report.md").read_text("utf-8")
    assert json.loads((out / "run.json").read_text("utf-8"))["status"] == "time_limit"
    note = "Stopped by the time limit, not proven: shortest drive times"
    assert note in (out / "map.html").read_text("utf-8")  # under the map's title
    book = openpyxl.load_workbook(out / "plan.xlsx", read_only=True)
    first = next(book["Summary"].iter_rows(min_row=2, max_row=2, values_only=True))
    assert first[0] == "WARNING" and "was stopped by the time limit" in first[1]


@pytest.mark.slow
def test_tours_stopped_by_their_time_limit_are_a_warning_everywhere(small, tmp_path):
    """The vans' search runs out of time (iterations it cannot reach): the plan's passes
    stay proven, and every output says the tours are not."""
    out = tmp_path / "run"
    args = ["site", "--config", str(small), "--out", str(out), "--set", "report.language=en"]
    args += ["--set", "tours.iterations=1000000000", "--set", "tours.time_limit_s=0.5"]
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 0, r.output
    out = latest(out)
    s = json.loads((out / "summary.json").read_text("utf-8"))
    assert s["safety_net"] == ["tours"] and s["tours"]["stopped_by"] == "time_limit"
    assert s["status"] == "optimal"  # the solver's passes proved their gaps
    said = "The repair vans' route search was stopped by its time limit (tours.time_limit_s)"
    assert "WARNING" in r.output and said in " ".join(r.output.split())
    html = (out / "report.html").read_text("utf-8")
    escaped = html_escape(said)
    assert f'<p class="warning">{escaped}' in html
    assert "Stopped by the time limit, not proven: repair tours" in (out / "map.html").read_text(
        "utf-8"
    )
    book = openpyxl.load_workbook(out / "plan.xlsx", read_only=True)
    first = next(book["Summary"].iter_rows(min_row=2, max_row=2, values_only=True))
    assert first[0] == "WARNING" and said in first[1]


@pytest.mark.slow
def test_site_and_sweep_give_the_same_plan(small, tmp_path):
    res = sweep(small, [("stations.budget", [8e6, 10e6])], tmp_path / "sw", overrides=[*PLAN_ONLY])
    assert [r["status"] for r in res.rows] == ["optimal", "optimal"]
    r = site_proc(small, tmp_path / "site", "--set", "stations.budget=10e6", *PLAN_ONLY_SETS)
    assert r.returncode == 0, r.stderr
    label = res.rows[1]["scenario"]
    for name in PLAN_FILES:
        swept = (res.out_dir / label / name).read_bytes()
        assert swept == (latest(tmp_path / "site") / name).read_bytes(), name


@pytest.mark.slow
def test_a_second_run_into_the_same_folder_is_refused(small, tmp_path):
    """While one process holds an output folder, `planner site` into it is exit 2."""
    out = (tmp_path / "run").resolve()
    with lock_held_elsewhere(out):
        r = CliRunner().invoke(main, ["site", "--config", str(small), "--out", str(out)])
        assert r.exit_code == 2
        assert "another planner run is writing this folder" in r.output
        assert len(r.output.strip().splitlines()) == 1
        assert not out.exists()  # nothing was written
    with out_lock(out):  # released when its holder died
        pass


@pytest.mark.slow
def test_a_pass_without_a_bound_says_so_in_strict_json(small, tmp_path, monkeypatch):
    """A solve stopped before it had a bound (HiGHS reports an infinite one): summary.json
    stays strict JSON (null, not Infinity) and every reader is told there is no bound,
    not shown "inf" or a "none" that reads as no gap."""
    from dataclasses import replace

    models = importlib.import_module("planner.optimize.two_tier")
    solve = models.solve

    def unbounded(prob, *, solver, model, **kw):
        info = solve(prob, solver=solver, model=model, **kw)
        if model.endswith("_time"):
            return replace(info, status="time_limit", bound=float("-inf"), gap=float("inf"))
        return info

    monkeypatch.setattr(models, "solve", unbounded)
    monkeypatch.setattr(models, "settle_on_relaxation", lambda *a, **k: None)
    out = tmp_path / "run"
    args = ["site", "--config", str(small), "--out", str(out), "--set", "report.language=en"]
    r = CliRunner().invoke(main, [*args, *NO_TOURS])
    assert r.exit_code == 0, r.output
    out = latest(out)

    def refuse(name):
        raise AssertionError(f"summary.json holds {name}")

    s = json.loads((out / "summary.json").read_text("utf-8"), parse_constant=refuse)
    assert s["status"] == "time_limit" and s["gap"] is None
    drive = next(x for x in s["solves"] if x["pass"] == "drive_time")
    assert drive["bound"] is None and drive["gap"] is None
    assert "no bound (stopped first)" in r.output and "inf%" not in r.output
    for name in ("report.md", "report.html"):
        text = (out / name).read_text("utf-8")
        assert text.count("no bound") >= 2, name  # the key figures and the passes' table
        assert "inf%" not in text and "| inf" not in text, name
