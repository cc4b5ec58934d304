"""Progress: the solver's figures as it runs, the live line and the timestamped lines."""

from __future__ import annotations

import io
import os
import pty
import re
import select
import subprocess
import sys
from pathlib import Path

import numpy as np
import pulp
import pytest
from rich.console import Console

from planner import progress
from planner.cli.display import LiveLine, PlainLines
from planner.config import SolverSection
from planner.optimize.cbc import _LogReader
from planner.optimize.solve import solve
from planner.progress import Recorder, SolverEvent, SolverWatch, StepEvent, reporting
from tests.conftest import PLAN_ONLY_SETS, run_cli

STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d ")


def _knapsack(n: int = 70, rows: int = 8, seed: int = 3) -> tuple[pulp.LpProblem, list]:
    """A multi-dimensional knapsack (a maximisation with a constant): HiGHS needs a few
    hundred branch-and-bound nodes and about a second for it at a gap of 0."""
    rng = np.random.default_rng(seed)
    value = rng.integers(10, 100, n)
    prob = pulp.LpProblem("knapsack", pulp.LpMaximize)
    x = [prob.add_variable(f"x{i}", cat=pulp.LpBinary) for i in range(n)]
    for _ in range(rows):
        w = rng.integers(10, 100, n)
        prob += pulp.lpSum(int(w[i]) * x[i] for i in range(n)) <= int(w.sum() // 3)
    prob += pulp.lpSum(int(value[i]) * x[i] for i in range(n)) + 7
    return prob, x


_EXACT = SolverSection(mip_gap=0.0, threads=1)


def test_highs_reports_a_branch_and_bound_solve_as_it_goes(monkeypatch):
    from planner.optimize import highs

    monkeypatch.setattr(progress, "UPDATE_S", 0.0)  # an update at each look at the solve,
    monkeypatch.setattr(highs, "POLL_S", 0.01)  # every 10 ms: many, even on a fast machine
    prob, _ = _knapsack()
    rec = Recorder()
    with reporting(rec), progress.solver_label("pass 2/3 capex"):
        info = solve(prob, solver=_EXACT, model="knapsack")
    events = rec.solves
    assert [e.phase for e in (events[0], events[-1])] == ["start", "end"]
    assert {e.label for e in events} == {"pass 2/3 capex"}
    updates = [e for e in events if e.phase == "update" and e.incumbent is not None]
    assert len(updates) >= 3
    assert any((e.nodes or 0) > 0 for e in updates)  # seen during branch and bound
    elapsed = [e.elapsed for e in events]
    assert elapsed == sorted(elapsed)
    best = info.objective
    assert best is not None
    for e in updates:
        assert e.bound is not None and e.gap is not None and e.gap >= 0
        # a maximisation, in the model's own terms (constant 7 included): the bound is
        # above the incumbent, the incumbent a plan no better than the optimum
        assert e.incumbent is not None
        assert e.incumbent <= best + 1e-6 <= e.bound + 2e-6
    incumbents = [e.incumbent for e in updates]
    assert incumbents == sorted(incumbents)  # improving only
    end = events[-1]
    assert end.status == "optimal" == info.status
    assert (end.incumbent, end.bound, end.gap) == (info.objective, info.bound, info.gap)


@pytest.mark.slow
def test_a_solve_is_the_same_with_and_without_a_reporter(monkeypatch):
    monkeypatch.setattr(progress, "UPDATE_S", 0.0)  # an update at every poll
    results = []
    for reporter in (None, Recorder()):
        prob, x = _knapsack()
        with reporting(reporter):
            info = solve(prob, solver=_EXACT, model="knapsack")
        nodes = prob.solverModel.getInfo().mip_node_count
        results.append(([v.varValue for v in x], info.objective, info.bound, nodes))
    assert results[0] == results[1]
    assert results[0][3] > 10  # a search, not a solve at the root


@pytest.mark.slow
def test_a_plan_is_the_same_with_and_without_a_reporter(small, monkeypatch):
    from planner.config import load_config
    from planner.optimize.plan import plan_sites
    from planner.pipeline import prepare

    monkeypatch.setattr(progress, "UPDATE_S", 0.0)
    config = load_config(small)
    inp = prepare(config)
    plans, rec = [], Recorder()
    for reporter in (None, rec):
        with reporting(reporter):
            plans.append(plan_sites(inp.demand, inp.sites, inp.county.townships, inp.times, config))
    quiet, watched = plans
    assert quiet.stations.equals(watched.stations)
    assert quiet.assignments.equals(watched.assignments)
    assert quiet.repair_points[["candidate_id"]].equals(watched.repair_points[["candidate_id"]])
    assert [(p.objective, p.bound) for p in quiet.passes] == [
        (p.objective, p.bound) for p in watched.passes
    ]
    labels = [e.label for e in rec.solves if e.phase == "end"]
    assert {"pass 1/3 coverage", "pass 2/3 capex", "pass 3/3 drive_time"} <= set(labels)


def test_no_reporter_no_events():
    prob, _ = _knapsack(n=20)
    rec = Recorder()
    with reporting(rec), reporting(None):
        solve(prob, solver=_EXACT, model="knapsack")
    assert rec.solves == []


def test_cbc_reports_its_start_and_end():
    prob, _ = _knapsack(n=40)
    rec = Recorder()
    with reporting(rec):
        info = solve(prob, solver=SolverSection(name="cbc", mip_gap=0.0), model="knapsack")
    start, end = rec.solves[0], rec.solves[-1]
    assert (start.phase, start.label, end.phase) == ("start", "knapsack", "end")
    assert (end.status, end.incumbent, end.bound) == ("optimal", info.objective, info.bound)


def test_cbc_log_is_read_as_it_grows(tmp_path):
    log = tmp_path / "cbc.log"
    rec = Recorder()
    # a maximisation with constant 7: CBC's log has the negated figures without it
    watch = SolverWatch(rec, "pass 1/3 coverage", sense=-1.0, constant=7.0, interval=0.0)
    reader = _LogReader(log, watch)
    log.write_text(
        "Cbc0012I Integer solution of -4167 found by feasibility pump after 0 iterations\n"
        "Cbc0010I After 0 nodes, 1 on tree, -4167 best solution, best possible -4203.38 (0.05 s"
    )
    reader()
    first = rec.solves[-1]
    assert (first.incumbent, first.bound, first.nodes) == (4174.0, None, None)
    with log.open("a") as f:  # the rest of the line, then a line with 1000 nodes
        f.write("econds)\nCbc0010I After 1000 nodes, 410 on tree, -4172 best solution, ")
        f.write("best possible -4202.7678 (0.67 seconds)\n")
    reader()
    last = rec.solves[-1]
    assert (last.incumbent, last.nodes) == (4179.0, 1000)
    assert last.bound == pytest.approx(4209.7678)
    assert last.gap == pytest.approx((4209.7678 - 4179.0) / 4179.0)


def _solver(phase: str, elapsed: float, **kw: object) -> SolverEvent:
    return SolverEvent("pass 2/3 capex", phase, elapsed, **kw)  # type: ignore[arg-type]


def test_plain_lines_are_timestamped_and_throttled():
    out = io.StringIO()
    plain = PlainLines(Console(file=out, width=60), every_s=10.0)
    plain.stage("ingest")
    plain.stage("optimize")
    plain.solver(_solver("start", 0.0))
    for t in range(1, 36):
        plain.solver(_solver("update", float(t), incumbent=1234.0, bound=1250.0, gap=0.013))
    plain.solver(_solver("end", 35.25, incumbent=1234.0, bound=1240.0, gap=0.005, status="optimal"))
    plain.stage("report")
    plain.finish()
    lines = out.getvalue().splitlines()
    assert all(STAMP.match(line) for line in lines)
    text = [STAMP.sub("", line) for line in lines]
    assert text[0].startswith("[1/7] ingest done in ")
    assert text[1] == "optimize pass 2/3 capex: started"
    updates = [t for t in text if t.startswith("optimize pass 2/3 capex: ") and " s, " in t]
    assert [u.split(": ")[1].split(",")[0] for u in updates[:-1]] == ["10.0 s", "20.0 s", "30.0 s"]
    assert updates[0].endswith("10.0 s, incumbent 1,234, bound 1,250, gap 1.30%")  # one line
    assert text[-3] == (
        "optimize pass 2/3 capex: optimal in 35.2 s, incumbent 1,234, bound 1,240, gap 0.50%"
    )
    assert text[-2].startswith("[5/7] optimize done in ")
    assert text[-1].startswith("[7/7] report done in ")


class _Status:
    """What :class:`LiveLine` uses of a rich status: its text and its console."""

    def __init__(self) -> None:
        self.console = Console(file=io.StringIO(), width=100)
        self.shown: list[str] = []

    def update(self, text: object) -> None:
        self.shown.append(str(text))


def test_live_line_shows_the_stage_the_pass_and_its_figures():
    status = _Status()
    live = LiveLine(status)  # type: ignore[arg-type]
    live.stage("optimize")
    assert status.shown[-1] == "[5/7] optimize ..."
    live.solver(_solver("update", 12.34, incumbent=1234.0, bound=1250.0, gap=0.013))
    assert status.shown[-1] == (
        "[5/7] optimize · pass 2/3 capex · 12.3 s · incumbent 1,234 · bound 1,250 · gap 1.30%"
    )
    live.step(StepEvent("scenario", 3, 8, "budget=2e+06"))
    live.stage("ingest")
    assert status.shown[-1] == "scenario 3/8 budget=2e+06 · [1/7] ingest ..."
    live.step(StepEvent("scenario", 3, 8, "budget=2e+06", seconds=4.56, status="optimal"))
    printed = status.console.file.getvalue()  # type: ignore[attr-defined]
    assert printed == "scenario 3/8 budget=2e+06: done in 4.6 s (optimal)\n"


def _site_command(config: Path, out: Path) -> list[str]:
    """`planner site` in a new process (no tours or report document: these tests do not
    look at them)."""
    return [
        *(sys.executable, "-m", "planner", "site", "--config", str(config), "--out", str(out)),
        *PLAN_ONLY_SETS,
    ]


@pytest.mark.slow
def test_site_writes_timestamped_progress_lines_to_a_pipe(small, tmp_path):
    r = subprocess.run(
        _site_command(small, tmp_path / "o"),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr
    lines = r.stderr.splitlines()
    assert lines and all(STAMP.match(line) for line in lines), r.stderr
    stamps = [line[:19] for line in lines]
    assert stamps == sorted(stamps)
    text = [STAMP.sub("", line) for line in lines]
    assert text[0].startswith("[1/7] ingest done in ")
    for expected in (
        "optimize pass 1/3 coverage: started",
        "optimize pass 1/3 coverage: optimal in ",
        "optimize pass 2/3 capex: started",
        "optimize pass 3/3 drive_time: optimal in ",
        "[5/7] optimize done in ",
        "[7/7] report done in ",
    ):
        assert any(t.startswith(expected) for t in text), (expected, r.stderr)
    ends = [t for t in text if t.startswith("optimize pass ") and " in " in t]
    assert all(re.search(r" in \d+\.\d s, incumbent .*, gap \d+\.\d\d%$", t) for t in ends)


def _read_all(fd: int, proc: subprocess.Popen[bytes]) -> bytes:
    """Everything written to the terminal ``fd`` until ``proc`` ends."""
    chunks = []
    while True:
        ready, _, _ = select.select([fd], [], [], 0.5)
        if ready:
            try:
                data = os.read(fd, 65536)
            except OSError:  # the other end closed
                break
            if not data:
                break
            chunks.append(data)
        elif proc.poll() is not None:
            break
    return b"".join(chunks)


@pytest.mark.slow
def test_site_shows_one_live_line_in_a_terminal(small, tmp_path):
    main_fd, other_fd = pty.openpty()
    env = {**os.environ, "TERM": "xterm", "COLUMNS": "160"}
    proc = subprocess.Popen(
        _site_command(small, tmp_path / "o"),
        stdout=subprocess.DEVNULL,
        stderr=other_fd,
        env=env,
    )
    os.close(other_fd)
    try:
        raw = _read_all(main_fd, proc)
    finally:
        os.close(main_fd)
    assert proc.wait(timeout=300) == 0
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", raw.decode(errors="replace"))
    assert "[1/7] ingest ..." in text
    assert re.search(r"\[5/7\] optimize · pass \d/3 \w+ · \d+\.\d s", text), text
    assert not any(STAMP.match(line.strip()) for line in re.split(r"[\r\n]", text))


@pytest.mark.slow
def test_sweep_and_rollout_report_each_run(small, tmp_path):
    r = run_cli(
        "sweep",
        "--config",
        str(small),
        "--vary",
        "stations.budget=8e6,11e6",
        "--out",
        str(tmp_path / "sw"),
        *PLAN_ONLY_SETS,
    )
    assert r.returncode == 0, r.stderr
    text = [STAMP.sub("", line) for line in r.stderr.splitlines() if STAMP.match(line)]
    first, second = "scenario 1/2 budget=8000000", "scenario 2/2 budget=11000000"
    assert text[0] == f"{first}: started"
    assert f"{first}: optimize pass 1/3 coverage: started" in text
    assert any(t.startswith(f"{first}: [4/7] network done in ") for t in text)
    done = [t for t in text if re.fullmatch(r".*: done in \d+\.\d s \(optimal\)", t)]
    assert [d.split(":")[0] for d in done] == [first, second]
    # the second scenario shares the first's inputs: no stage before its optimize
    after = text[text.index(f"{second}: started") :]
    assert not any("ingest" in t for t in after)
    assert any(t.startswith(f"{second}: optimize pass 2/3 capex: optimal in ") for t in after)

    r = run_cli(
        "rollout",
        "--config",
        str(small),
        "--year",
        "2025:8e6:0.08",
        "--year",
        "2026:3e6:0.12",
        "--out",
        str(tmp_path / "ro"),
        *PLAN_ONLY_SETS,
    )
    assert r.returncode == 0, r.stderr
    text = [STAMP.sub("", line) for line in r.stderr.splitlines() if STAMP.match(line)]
    assert text[0] == "year 1/2 2025: started"
    assert "year 2/2 2026: started" in text
    assert re.fullmatch(r"year 2/2 2026: done in \d+\.\d s \(optimal\)", text[-1])


def test_steps_and_stages_reach_the_reporter():
    rec = Recorder()
    with reporting(rec):
        step = progress.Step("year", 1, 2, "2025")
        with progress.stage_reported("ingest"):
            pass
        step.done("optimal")
    assert rec.stages == ["ingest"]
    assert [(s.label, s.seconds is None, s.status) for s in rec.steps] == [
        ("2025", True, None),
        ("2025", False, "optimal"),
    ]


def test_log_tag_names_the_county_in_every_line_within_its_block(caplog):
    import logging

    from planner.progress import log_tag

    log = logging.getLogger("planner.test_tag")
    with caplog.at_level(logging.INFO):
        with log_tag("qingxi/far"):
            log.warning("2 substations have no row in the headroom table")
            with log_tag("shimen"):
                log.info("inner %d", 3)
            log.info("back")
        log.info("outside")
    assert [r.getMessage() for r in caplog.records] == [
        "qingxi/far: 2 substations have no row in the headroom table",
        "shimen: inner 3",
        "qingxi/far: back",
        "outside",
    ]
