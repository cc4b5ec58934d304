"""The staged start of the joint model: stations first, then their repair points.

With the coverage objective and a budget, :func:`~planner.optimize.two_tier.two_tier`
starts from a feasible plan of the two stages (:func:`staged_start`): stations from
:func:`~planner.optimize.mclp.mclp` with the budget left after the villages' repair
points, then the cheapest repair points for villages and stations
(:func:`~planner.optimize.lscp.lscp`), the budget split again for a few rounds.
"""

from __future__ import annotations

import logging
from dataclasses import replace

import numpy as np

from planner.config import SolverSection
from planner.costs import site_capex
from planner.datatypes import SparseTimes
from planner.errors import InfeasibleError
from planner.optimize.lscp import lscp
from planner.optimize.mclp import mclp, start_plan
from planner.optimize.rules import CoverageResult, StationRules, indices
from planner.optimize.two_tier_repair import Repair, TwoTierResult, covered

logger = logging.getLogger(__name__)

#: Rounds of the staged start's budget split.
_STAGED_ROUNDS = 4


def staged_start(
    reach: SparseTimes,
    weight: np.ndarray,
    rules: StationRules,
    repair: Repair,
    *,
    solver: SolverSection,
) -> TwoTierResult | None:
    """A feasible joint plan from the two stages, to warm-start the joint model.

    The repair points the villages alone need (at full price) are set aside from the
    budget (``rules.budget``, which must be set); stations are chosen with the rest
    (:func:`~planner.optimize.mclp.mclp`, the coverage objective), then the cheapest repair
    points for villages and stations (:func:`~planner.optimize.lscp.lscp`, the lower
    price at stations). When the total overruns the budget, the station budget shrinks by
    the overrun and the stages run again; when it leaves money unspent (repair points at
    stations are cheaper, and serve villages too), the station budget grows by what is
    left and the stages run again from the plan so far. A few rounds at most; the plan
    that covers most and fits stays. Returns None when no round fits.

    On the demo county at ``--scale 50`` the first round left 22.6 M of the 800 M budget
    unspent (repair 26.0 M instead of the 48.6 M set aside).
    """
    assert rules.budget is not None
    budget = rules.budget
    n_site = reach.shape[1]
    full = np.full(n_site, float(repair.cost))
    try:
        villages_only = lscp(
            repair.village_cover, n_site, site_cost=full, solver=solver, model="start"
        )
    except InfeasibleError:
        return None
    station_budget = budget - float(full[villages_only.open].sum())
    best: TwoTierResult | None = None
    clocked = False
    for _ in range(_STAGED_ROUNDS):
        if station_budget <= 0:
            break
        plan, total = _stage_round(reach, weight, rules, repair, station_budget, best, solver)
        if plan is None:
            break
        clocked = clocked or plan.stations.info.status == "time_limit"  # rounds build on it
        logger.info(
            "two_tier: staged start, stations for %.6g: %.6g covered, %.6g in all",
            station_budget,
            covered(plan, weight),
            total,
        )
        if total <= budget * (1 + 1e-9):
            if best is None or covered(plan, weight) > covered(best, weight):
                best = plan
            left = budget - total
            if left < _least_purchase(rules):
                break
            station_budget += left
        else:
            station_budget -= (total - budget) * 1.01
    if best is not None:
        logger.info("two_tier: start from the staged plan, %.6g covered", covered(best, weight))
    if best is not None and clocked:
        info = replace(best.stations.info, status="time_limit")
        best = replace(best, stations=replace(best.stations, info=info), info=info)
    return best


def _least_purchase(rules: StationRules) -> float:
    """The least money that buys coverage: a charger, or a station without sizing."""
    sizing = rules.sizing
    if sizing is not None and sizing.charger_cost > 0:
        return float(sizing.charger_cost)
    new = np.ones(len(rules.site_cost), dtype=bool)
    new[indices(rules.existing)] = False
    cost = np.asarray(rules.site_cost, dtype=float)[new]
    return float(cost.min()) if len(cost) else np.inf


def _stage_round(
    reach: SparseTimes,
    weight: np.ndarray,
    rules: StationRules,
    repair: Repair,
    station_budget: float,
    before: TwoTierResult | None,
    solver: SolverSection,
) -> tuple[TwoTierResult | None, float]:
    """Stations for ``station_budget``, then their repair points; the plan and its cost.

    The first round solves the stations model (its greedy start, then the solver within
    ``solver.start_node_limit`` nodes), up to ``solver.staged_mip_max_pairs`` demand-site
    pairs; above that, the greedy plan with its
    sizing re-solved, and the joint model closes the gap. ``before``, the plan of a smaller
    station budget: then the stations are its sites and the greedy's additions, their
    chargers re-solved (:func:`~planner.optimize.mclp.start_plan`), without the model: this
    is only a start, and the model's solve at the first round's budget is the dear part.
    """
    n_site = reach.shape[1]
    is_existing = np.zeros(n_site, dtype=bool)
    is_existing[indices(rules.existing)] = True
    charger_cost = rules.sizing.charger_cost if rules.sizing is not None else 0.0
    site_cost = np.asarray(rules.site_cost, dtype=float)
    rules = replace(rules, budget=station_budget, objective="coverage")
    try:
        limit = solver.staged_mip_max_pairs
        if before is None and limit is not None and len(reach.rows) > limit:
            st: CoverageResult | None = start_plan(reach, weight, rules, solver=solver)
        elif before is None:
            st = mclp(reach, weight, rules, solver=start_solver(solver))
        else:
            kept = np.flatnonzero(before.stations.open & ~is_existing)
            required = np.union1d(indices(rules.required), kept)
            st = start_plan(
                reach,
                weight,
                replace(rules, required=required),
                solver=solver,
                chargers=before.stations.chargers,
            )
    except InfeasibleError:
        return None, np.inf
    if st is None:
        return None, np.inf
    on = st.open
    capex = float(
        site_capex(site_cost[on], st.chargers[on], charger_cost, existing=is_existing[on]).sum()
    )
    sizing = rules.sizing
    if sizing is not None and sizing.expandable is not None and sizing.installed is not None:
        grown = on & np.asarray(sizing.expandable, dtype=bool)  # a rollout's earlier stations
        added = np.maximum(st.chargers - np.asarray(sizing.installed), 0)
        capex += charger_cost * float(added[grown].sum())
    cost = repair.prices(st.open)
    rp = lscp(repair.cover_sets(st.open), n_site, site_cost=cost, solver=solver, model="start")
    total = capex + float(cost[rp.open].sum())
    paid = cost * rp.open
    plan = TwoTierResult(stations=st, repair_open=rp.open, repair_cost=paid, info=st.info)
    return plan, total


def start_solver(solver: SolverSection) -> SolverSection:
    """The solver settings of a start's own solve: ``solver.start_node_limit`` nodes at most.

    A start needs no proof (the model solved from it proves the gap), so its solve stops on
    a deterministic node count rather than running into the time limit.
    """
    limit = solver.start_node_limit
    if limit is None or (solver.node_limit is not None and solver.node_limit <= limit):
        return solver
    return solver.model_copy(update={"node_limit": limit})
