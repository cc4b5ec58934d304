"""County-scale benchmark: the station models on a whole county, to a MIP gap.

``python scripts/benchmark.py county --demo-scale 20 --gap 0.001 --time-limit 60`` builds
the demo county at that scale (about 100,000 road nodes at 20) in a temporary folder,
prepares the model inputs once, then solves each model and prints CSV:
``instance,method,objective,bound,status,seconds,gap,build_seconds`` where ``seconds``
is the model's build and solve time, and the methods are

- ``classic``: maximal covering without sizing (a station costs its fixed cost plus
  ``min_chargers`` chargers; ``stations.budget``);
- ``start``: the start of the sized station model's coverage pass (the greedy plan and
  its rounds, :func:`~planner.optimize.mclp.start_plan`): its covered sessions, no bound
  (status ``heuristic``);
- ``stations``: the sized station model (integer chargers, capacity, headroom);
- ``joint``: stations and repair points in one model under one budget;
- ``plan``: what ``planner site`` solves: the lexicographic passes (coverage, capex, drive
  time) of the configured model; its status and gap are the worst of the passes, and a
  line ``pass: NAME status gap seconds`` follows for each.

A line ``target_met: METHOD yes|no`` follows for each method but ``start``: solved to the
gap asked for, within the time.
"""

from __future__ import annotations

import csv
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from planner import columns as C
from planner.config import Config, load_config
from planner.costs import site_capex
from planner.datatypes import SolveInfo, worst_status
from planner.demo import build_demo
from planner.optimize import mclp, two_tier
from planner.optimize.mclp import start_plan
from planner.optimize.plan import plan_sites, site_cover, station_rules, village_cover
from planner.pipeline import ModelInputs, prepare

HEADER = ("instance", "method", "objective", "bound", "status", "seconds", "gap", "build_seconds")
METHODS = ("classic", "start", "stations", "joint", "plan")


def solve_county(
    inputs: ModelInputs, config: Config, method: str, *, out: TextIO = sys.stdout
) -> SolveInfo:
    """Solve one model on prepared inputs.

    Parameters
    ----------
    inputs
        The model inputs of :func:`planner.pipeline.prepare`.
    config
        The county config (its solver section sets the gap and time limit).
    method
        One of :data:`METHODS` (see the module docstring).
    out
        Where ``plan`` prints its ``pass:`` lines.

    Returns
    -------
    SolveInfo
        The solver's report of the model.
    """
    demand, sites, times = inputs.demand, inputs.sites, inputs.times
    sessions = demand[C.SESSIONS_DAY].to_numpy(dtype=float)
    rules = station_rules(demand, sites, inputs.county.townships, config)
    budget = config.stations.budget
    if method == "classic":
        sizing = rules.sizing
        assert sizing is not None  # station_rules always sizes the stations
        cost = site_capex(rules.site_cost, sizing.min_chargers, sizing.charger_cost)
        res = mclp(
            times.demand_to_candidate,
            sessions,
            rules,
            site_cost=cost,
            sizing=None,
            budget=budget,
            solver=config.solver,
        )
        return res.info
    if method == "start":
        start = start_plan(
            times.demand_to_candidate, sessions, replace(rules, budget=budget), solver=config.solver
        )
        if start is None:
            return SolveInfo("start", "greedy", "infeasible", np.nan, None, None, 0.0, 0.0, 0, 0)
        covered = float(np.dot(sessions, start.covered))
        return replace(
            start.info, model="start", objective=covered, bound=None, gap=None, status="heuristic"
        )
    if method == "stations":
        return mclp(
            times.demand_to_candidate, sessions, rules, budget=budget, solver=config.solver
        ).info
    if method == "plan":
        return _plan(inputs, config, out=out)
    v_cover, _ = village_cover(times, config)
    joint = two_tier(
        times.demand_to_candidate,
        sessions,
        v_cover,
        site_cover(times),
        budget=budget,
        repair_cost=config.costs.repair_point_capex,
        repair_cost_at_station=config.costs.repair_at_station_capex,
        rules=rules,
        solver=config.solver,
    )
    return joint.info


def _plan(inputs: ModelInputs, config: Config, *, out: TextIO) -> SolveInfo:
    """The passes of :func:`plan_sites`, summed up in one report (the worst status, gap)."""
    plan = plan_sites(inputs.demand, inputs.sites, inputs.county.townships, inputs.times, config)
    for p in plan.passes:
        gap_text = "" if p.gap is None else f"{p.gap:.6f}"
        print(f"pass: {p.stage} {p.status} {gap_text} {p.seconds + p.build_seconds:.3f}", file=out)
    status, gap = worst_status(plan.passes)
    first = plan.passes[0]
    return replace(
        first,
        model="plan",
        status=status,
        gap=gap,
        seconds=sum(p.seconds for p in plan.passes),
        build_seconds=sum(p.build_seconds for p in plan.passes),
    )


def run_county(
    *,
    config_path: Path | None,
    demo_scale: int | None,
    methods: list[str],
    gap: float,
    time_limit_s: float,
    overrides: list[str] | None = None,
    out: TextIO = sys.stdout,
) -> list[dict]:
    """Run the county benchmark and print its CSV (see the module docstring).

    Parameters
    ----------
    config_path
        A county config; ``None`` builds the demo county at ``demo_scale``.
    demo_scale
        Scale of the demo county (``None``: 1).
    methods
        Models to solve, from :data:`METHODS`.
    gap
        Relative MIP gap to stop at.
    time_limit_s
        Seconds per model.
    overrides
        ``KEY=VALUE`` settings of the config (e.g. ``demand.resolution_m=100``).
    out
        Where the CSV and the ``target_met`` lines go.

    Returns
    -------
    list of dict
        One row per method, the CSV's columns as keys.
    """
    with tempfile.TemporaryDirectory(prefix="planner-bench-") as tmp:
        if config_path is None:
            folder = Path(tmp) / "demo"
            config_path = build_demo(folder, scale=demo_scale or 1)
        config = load_config(config_path, overrides=overrides)
        config = config.model_copy(
            update={
                "solver": config.solver.model_copy(
                    update={"mip_gap": gap, "time_limit_s": time_limit_s}
                ),
                "repair": config.repair.model_copy(update={"unreachable": "warn"}),
            }
        )
        inputs = prepare(config)
    name = f"{config.slug}-{inputs.times.graph_nodes}n"
    writer = csv.writer(out)
    writer.writerow(HEADER)
    rows: list[dict[str, Any]] = []
    for method in methods:
        t0 = time.perf_counter()
        info = solve_county(inputs, config, method, out=out)
        seconds = time.perf_counter() - t0
        row: dict[str, Any] = {
            "instance": name,
            "method": method,
            "objective": info.objective,
            "bound": info.bound,
            "status": info.status,
            "seconds": seconds,
            "gap": info.gap,
            "build_seconds": info.build_seconds,
        }
        rows.append(row)
        writer.writerow(
            [
                name,
                method,
                f"{info.objective:.6f}",
                "" if info.bound is None else f"{info.bound:.6f}",
                info.status,
                f"{seconds:.3f}",
                "" if info.gap is None else f"{info.gap:.6f}",
                f"{info.build_seconds:.3f}",
            ]
        )
        out.flush()
    for row in rows:
        if row["method"] == "start":
            continue
        met = (
            row["gap"] is not None and row["gap"] <= gap + 1e-12 and row["seconds"] <= time_limit_s
        )
        print(f"target_met: {row['method']} {'yes' if met else 'no'}", file=out)
    return rows
