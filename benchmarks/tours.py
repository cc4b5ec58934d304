"""The repair vans' week on the demo county: time and km/week for several search budgets.

Prepares the demo county at ``--scale`` once (``--set`` overrides its config, e.g. a
looser ``solver.mip_gap`` for a quicker siting at large scales), plans its sites, then
plans the tours for each stopping criterion given (``--iterations 10000`` and/or
``--time-limit 600``), printing CSV
``scale,stops,visits_asked,visits_served,vans,problems,criterion,km_week,drive_h_week,
seconds,cpu_seconds`` (the whole tours stage: travel times, search and map layers) and,
when several ran, each one's km/week against the first.

By default the tours visit the ``--villages`` with the most EVs with a fleet of
``--fleet`` vans; ``--demo-tours`` keeps the demo config's own ``tours`` section (two vans
per repair point, villages with 3 EVs or more and the stations, its iterations) as
``planner site`` runs it. ``--decompose-above`` sets ``tours.decompose_above`` (``none``:
one problem for all stops).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from planner.config import Config, load_config
from planner.demo import build_demo
from planner.optimize.plan import plan_sites
from planner.pipeline import prepare
from planner.tours.stage import plan_weekly_tours

COLUMNS = (
    "scale,stops,visits_asked,visits_served,vans,problems,criterion,km_week,drive_h_week,"
    "seconds,cpu_seconds"
)


def _config(
    base: Config,
    *,
    fleet: int | None,
    min_evs: float | None,
    budget: tuple[str, float] | None,
    decompose_above: int | str | None,
) -> Config:
    update: dict[str, Any] = {"enabled": True}
    if fleet is not None:
        update |= {"fleet_size": fleet, "stops": ["villages"]}
    if min_evs is not None:
        update["villages"] = base.tours.villages.model_copy(update={"min_evs": min_evs})
    if budget is not None:
        kind, value = budget
        update["iterations"] = int(value) if kind == "iterations" else 10**9
        update["time_limit_s"] = value if kind == "time_limit" else None
    if decompose_above != "config":
        update["decompose_above"] = decompose_above
    return base.model_copy(update={"tours": base.tours.model_copy(update=update)})


def run_tours(
    *,
    scale: float,
    fleet: int | None,
    min_evs: float | None,
    villages: int | None,
    budgets: list[tuple[str, float]],
    overrides: list[str] | None = None,
    decompose_above: int | str | None = "config",
) -> None:
    """Print one CSV row per search budget (see the module docstring).

    ``villages`` (instead of ``min_evs``) visits that many villages, those with the most EVs;
    ``fleet``, ``min_evs`` and ``villages`` all None keep the demo config's tours section
    (and with no budget, its iterations).
    """
    with tempfile.TemporaryDirectory(prefix="planner-tours-bench-") as tmp:
        config_path = build_demo(Path(tmp) / "demo", scale=scale)
        base = load_config(config_path, overrides=overrides or [])
        inputs = prepare(base)
        plan = plan_sites(inputs.demand, inputs.sites, inputs.county.townships, inputs.times, base)
        if villages is not None:
            evs = inputs.demand["evs"].sort_values(ascending=False).to_numpy()
            min_evs = float(evs[min(villages, len(evs)) - 1])
        print(COLUMNS)
        first_km = None
        runs: list[tuple[str, float] | None] = list(budgets) if budgets else [None]
        for budget in runs:
            config = _config(
                base, fleet=fleet, min_evs=min_evs, budget=budget, decompose_above=decompose_above
            )
            t0, c0 = time.perf_counter(), time.process_time()
            out = plan_weekly_tours(
                inputs.graph, plan, inputs.demand, config, crs=inputs.county.crs
            )
            seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
            week = out.plan
            criterion = (
                f"{budget[0]}={budget[1]:g}"
                if budget is not None
                else f"iterations={config.tours.iterations}"
            )
            print(
                f"{scale:g},{len(out.stops)},{week.visits_asked},{week.visits_served},"
                f"{sum(week.vans.values())},{week.extra.get('problems', 1)},{criterion},"
                f"{week.objective_km:.1f},{week.drive_h:.1f},{seconds:.1f},{cpu:.1f}",
                flush=True,
            )
            if first_km is None:
                first_km = week.objective_km
            elif first_km > 0:
                saved = 100 * (first_km - week.objective_km) / first_km
                print(f"# {criterion}: {saved:.2f}% fewer km than the first", file=sys.stdout)
