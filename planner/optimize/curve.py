"""Coverage against budget: the station model re-solved for a series of budgets.

The budgets are ``curve.budgets``, or ``curve.steps`` budgets evenly spaced from the cost
of the cheapest feasible plan's floor (the required and township-minimum stations) up to
``stations.budget`` (:func:`curve_budgets`). :func:`coverage_curve` solves them in
increasing order, each warm-started from the plan of the previous one (feasible for a
larger budget). With ``repair.mode: joint`` the budget covers repair points too.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from planner import columns as C
from planner.config import Config
from planner.costs import site_capex
from planner.datatypes import TravelTimes
from planner.errors import InfeasibleError
from planner.optimize.inputs import existing_sites, site_cover, station_rules, village_cover
from planner.optimize.mclp import mclp
from planner.optimize.rules import CoverageResult, StationRules
from planner.optimize.two_tier import two_tier
from planner.optimize.two_tier_repair import TwoTierResult
from planner.progress import solver_label

#: One solved point: the station plan, repair points and their capex.
Solved = tuple[CoverageResult, int, float]


def coverage_curve(
    demand: gpd.GeoDataFrame,
    sites: gpd.GeoDataFrame,
    townships: gpd.GeoDataFrame,
    times: TravelTimes,
    config: Config,
) -> list[dict[str, Any]]:
    """Coverage against budget: the station model re-solved for a series of budgets.

    Parameters
    ----------
    demand, sites, townships, times, config
        As for :func:`~planner.optimize.plan.plan_sites`.

    Returns
    -------
    list of dict
        One point per budget with ``budget``, ``stations``, ``chargers``, ``repair_points``,
        ``capex``, ``covered_share``, ``sessions_covered``, ``status``, ``gap``,
        ``seconds`` and ``pareto`` (False for a point that covers no more than a cheaper
        one, or could not be solved: ``status`` says why).
    """
    budgets = curve_budgets(sites, townships, config)
    if not budgets:
        return []
    sessions = demand[C.SESSIONS_DAY].to_numpy(dtype=float)
    total = float(sessions.sum())
    rules = station_rules(demand, sites, townships, config)
    fixed = sites[C.STATION_CAPEX].to_numpy()
    is_existing = existing_sites(sites)
    points: list[dict[str, Any]] = []
    best = -1.0
    for budget, solved in _solve_budgets(demand, times, config, rules, budgets):
        if solved is None:
            points.append({"budget": budget, "status": "infeasible", "pareto": False})
            continue
        res, repair, repair_capex = solved
        new = res.open & ~is_existing
        on = res.open
        st_capex = float(
            site_capex(
                fixed[on], res.chargers[on], config.costs.charger_capex, existing=is_existing[on]
            ).sum()
        )
        covered = float((sessions * res.covered).sum())
        points.append(
            {
                "budget": budget,
                "stations": int(new.sum()),
                "chargers": int(res.chargers[new].sum()),
                "repair_points": repair,
                "capex": round(st_capex + repair_capex),
                "covered_share": round(covered / total, 6) if total > 0 else 0.0,
                "sessions_covered": round(covered, 3),
                "status": res.info.status,
                "gap": res.info.gap,
                "seconds": round(res.info.seconds + res.info.build_seconds, 3),
                "pareto": covered > best + 1e-9,
            }
        )
        best = max(best, covered)
    return points


def _solve_budgets(
    demand: gpd.GeoDataFrame,
    times: TravelTimes,
    config: Config,
    rules: StationRules,
    budgets: list[float],
) -> Iterator[tuple[float, Solved | None]]:
    """Each budget with its plan (None: infeasible), each started from the one before."""
    sessions = demand[C.SESSIONS_DAY].to_numpy(dtype=float)
    reach = times.demand_to_candidate
    if config.repair.enabled and config.repair.mode == "joint":
        v_cover, _ = village_cover(times, config)
        s_cover = site_cover(times)

        def solve_at(budget: float, start: Any) -> tuple[Any, Solved]:
            both: TwoTierResult = two_tier(
                reach,
                sessions,
                v_cover,
                s_cover,
                rules,
                budget=budget,
                start=start,
                repair_cost=config.costs.repair_point_capex,
                repair_cost_at_station=config.costs.repair_at_station_capex,
                solver=config.solver,
            )
            return both, (both.stations, int(both.repair_open.sum()), float(both.repair_cost.sum()))

    else:

        def solve_at(budget: float, start: Any) -> tuple[Any, Solved]:
            res = mclp(reach, sessions, rules, budget=budget, start=start, solver=config.solver)
            return res, (res, 0, 0.0)

    start = None
    for k, budget in enumerate(budgets):
        try:
            with solver_label(f"curve {k + 1}/{len(budgets)}"):
                start, solved = solve_at(budget, start)
        except InfeasibleError:
            yield budget, None
            continue
        yield budget, solved


def curve_budgets(
    sites: gpd.GeoDataFrame, townships: gpd.GeoDataFrame, config: Config
) -> list[float]:
    """The budgets of the coverage curve (see :func:`coverage_curve`)."""
    cv, st = config.curve, config.stations
    if cv.budgets:
        return list(cv.budgets)
    if not cv.steps or st.budget is None:
        return []
    new = ~existing_sites(sites)
    # the cheapest station at each site: its fixed cost and the fewest chargers
    min_station = pd.Series(
        site_capex(sites[C.STATION_CAPEX], st.min_chargers, config.costs.charger_capex),
        index=sites.index,
    )
    floor = float(min_station[new].min()) if new.any() else 0.0
    if st.township_min:
        has_existing = set(sites.loc[~new, C.TOWNSHIP_ID])
        need = min_station[new].groupby(sites.loc[new, C.TOWNSHIP_ID]).min()
        floor = float(need[~need.index.isin(has_existing)].sum())
    floor = min(floor, st.budget)
    return [float(b) for b in np.linspace(floor, st.budget, cv.steps + 1)[1:]]
