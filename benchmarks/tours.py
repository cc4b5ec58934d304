"""The repair vans' week on the demo county: time and km/week for several search budgets.

Prepares the demo county at ``--scale`` once, plans its sites, then plans the tours with a
fleet of ``--fleet`` vans over the working days for each stopping criterion given
(``--iterations 10000`` and/or ``--time-limit 600``), printing CSV
``scale,stops,visits_asked,visits_served,vans,criterion,km_week,drive_h_week,seconds``
and, when several ran, each one's km/week against the first.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from planner.config import Config
from planner.demo import build_demo
from planner.optimize.plan import plan_sites
from planner.pipeline import prepare
from planner.tours.stage import plan_weekly_tours

COLUMNS = "scale,stops,visits_asked,visits_served,vans,criterion,km_week,drive_h_week,seconds"


def _config(base: Config, *, fleet: int, min_evs: float, budget: tuple[str, float]) -> Config:
    kind, value = budget
    tours = base.tours.model_copy(
        update={
            "enabled": True,
            "fleet_size": fleet,
            "stops": ["villages"],
            "villages": base.tours.villages.model_copy(update={"min_evs": min_evs}),
            "iterations": int(value) if kind == "iterations" else 10**9,
            "time_limit_s": value if kind == "time_limit" else None,
        }
    )
    return base.model_copy(update={"tours": tours})


def run_tours(
    *,
    scale: float,
    fleet: int,
    min_evs: float | None,
    villages: int | None,
    budgets: list[tuple[str, float]],
) -> None:
    """Print one CSV row per search budget (see the module docstring).

    ``villages`` (instead of ``min_evs``) visits that many villages, those with the most EVs.
    """
    with tempfile.TemporaryDirectory(prefix="planner-tours-bench-") as tmp:
        config_path = build_demo(Path(tmp) / "demo", scale=scale)
        from planner.config import load_config

        base = load_config(config_path)
        inputs = prepare(base)
        plan = plan_sites(inputs.demand, inputs.sites, inputs.county.townships, inputs.times, base)
        if villages is not None:
            evs = inputs.demand["evs"].sort_values(ascending=False).to_numpy()
            min_evs = float(evs[min(villages, len(evs)) - 1])
        assert min_evs is not None
        print(COLUMNS)
        first_km = None
        for budget in budgets:
            config = _config(base, fleet=fleet, min_evs=min_evs, budget=budget)
            t0 = time.perf_counter()
            out = plan_weekly_tours(
                inputs.graph, plan, inputs.demand, config, crs=inputs.county.crs
            )
            seconds = time.perf_counter() - t0
            week = out.plan
            criterion = f"{budget[0]}={budget[1]:g}"
            print(
                f"{scale:g},{len(out.stops)},{week.visits_asked},{week.visits_served},"
                f"{sum(week.vans.values())},{criterion},{week.objective_km:.1f},"
                f"{week.drive_h:.1f},{seconds:.1f}",
                flush=True,
            )
            if first_km is None:
                first_km = week.objective_km
            elif first_km > 0:
                saved = 100 * (first_km - week.objective_km) / first_km
                print(f"# {criterion}: {saved:.2f}% fewer km than the first", file=sys.stdout)
