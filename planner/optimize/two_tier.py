r"""Charging stations and repair points in one model, under one budget.

Sets: the station tier of :mod:`~planner.optimize.mclp` (``I`` demand, ``J`` sites,
``N_i``), ``V`` villages, ``V_v`` the sites within the repair response time of village
``v``, ``M_j`` those within it of site ``j`` (``j`` itself included). Data: the station
data of :mod:`~planner.optimize.station`, ``c_r`` the cost of a repair point, ``c_s`` (at
most ``c_r``) its cost at an open station (shared land, power and staff). Variables: the
station variables ``x_j``, ``n_j``, ``y_ij`` (or ``z_i``), ``r_k`` in {0,1} a repair point
at site ``k``, ``0 <= u_k <= 1`` a repair point at a station (only when ``c_s < c_r``)::

    u_k <= r_k,  u_k <= x_k
    sum_{k in V_v} r_k >= 1                          for every village v
    x_j <= sum_{k in M_j} r_k                        for every site j
    C = sum_j (f_j x_j + c n_j) + sum_k (c_r r_k - (c_r - c_s) u_k)
    the station rows and rules of mclp

``objective="coverage"``: maximise the covered demand ``sum_i w_i cover_i`` subject to
``C <= B`` (one joint budget) and the other station limits; the repair points are then
re-chosen at least cost for the chosen stations (the polish, never dearer than the joint
model's, so the budget holds). ``objective="cost"``: minimise ``C`` subject to the covered
demand reaching ``W_min`` (and ``C <= B`` when a budget is given). ``objective="time"``:
minimise the stations' session-weighted drive time (as in mclp) subject to ``W_min`` and
``C <= B``.

With the coverage objective and a budget, the model starts from a feasible plan of the
two stages (:func:`_staged_start`): stations from :func:`~planner.optimize.mclp.mclp` with
the budget left after the villages' repair points, then the cheapest repair points for
villages and stations (:func:`~planner.optimize.lscp.lscp`).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pulp

from planner.config import SolverSection
from planner.costs import site_capex
from planner.datatypes import SolveInfo, SparseTimes
from planner.errors import InfeasibleError
from planner.optimize import kernel
from planner.optimize.links import (
    LinkReport,
    feasible_value,
    separate_links,
    settle_on_relaxation,
)
from planner.optimize.lscp import lscp
from planner.optimize.mclp import better_plan, mclp, start_plan, start_value, station_problem
from planner.optimize.problem import add_budget, add_cover_rows, site_vars
from planner.optimize.rules import CoverageResult, StationRules, indices, resolve_rules
from planner.optimize.solve import report_settled, solve
from planner.optimize.station import (
    ON,
    StationBlock,
    Terms,
)
from planner.optimize.station_plan import set_start
from planner.progress import solver_label

logger = logging.getLogger(__name__)

#: Rounds of the staged start's budget split.
_STAGED_ROUNDS = 4


@dataclass
class TwoTierResult:
    """Result of :func:`two_tier`.

    Attributes
    ----------
    stations
        The station tier, as from :func:`~planner.optimize.mclp.mclp`.
    repair_open
        Boolean per site: a repair point there.
    repair_cost
        Cost of each chosen repair point (the reduced price at a station).
    info
        Solver report of the joint model.
    polish
        Report of the least-cost re-choice of repair points (coverage objective).
    """

    stations: CoverageResult
    repair_open: np.ndarray
    repair_cost: np.ndarray
    info: SolveInfo
    polish: SolveInfo | None = None


@dataclass(frozen=True)
class _Repair:
    """The repair tier's data: cover sets, prices, fixed choice."""

    village_cover: list[np.ndarray]
    site_cover: list[np.ndarray]
    cost: float
    cost_at_station: float
    fixed: np.ndarray | None = None

    def prices(self, stations_open: np.ndarray) -> np.ndarray:
        """The price of a repair point at each site (the lower one at open stations)."""
        return np.where(stations_open, self.cost_at_station, self.cost)

    def cover_sets(self, stations_open: np.ndarray) -> list[np.ndarray]:
        """``V_v`` of every village and ``M_j`` of every open station."""
        return list(self.village_cover) + [
            self.site_cover[j] for j in np.flatnonzero(stations_open)
        ]


def two_tier(  # noqa: PLR0913 - mirrors the formulation: its data, costs and rules
    reach: SparseTimes,
    weight: np.ndarray,
    village_cover: list[np.ndarray],
    site_cover: list[np.ndarray],
    rules: StationRules | None = None,
    *,
    repair_cost: float,
    repair_cost_at_station: float,
    solver: SolverSection,
    start: TwoTierResult | None = None,
    polish: bool = True,
    fixed_repair: np.ndarray | None = None,
    relax_only: bool = False,
    kernel_first: bool = False,
    **overrides: Any,
) -> TwoTierResult:
    """Charging stations and repair points in one model.

    The model is in the module docstring.

    Parameters
    ----------
    reach, weight
        As in :func:`~planner.optimize.mclp.mclp`.
    village_cover
        ``V_v``: sites within the response time of each village (non-empty).
    site_cover
        ``M_j``: sites within the response time of each site ``j`` (``j`` itself
        included).
    rules
        The station side, as in :func:`~planner.optimize.mclp.mclp`; its ``budget``
        covers stations and repair points together.
    repair_cost, repair_cost_at_station
        ``c_r`` and ``c_s``.
    solver
        Backend settings.
    start
        A plan feasible for this model (e.g. from a smaller budget) to warm-start from.
    polish
        With the coverage objective, re-choose the repair points at least cost afterwards.
    fixed_repair
        Boolean per site: the repair points are fixed to these (None: chosen).
    relax_only
        As in :func:`~planner.optimize.mclp.mclp`: with the cost or time objective and a
        start, the start stands with its gap to the relaxation.
    kernel_first
        As in :func:`~planner.optimize.mclp.mclp`: with the cost objective and a start, the
        model is first solved on a kernel of its sites.
    **overrides
        Fields of :class:`~planner.optimize.rules.StationRules` that replace those of
        ``rules`` (without ``rules`` they are the rules).

    Returns
    -------
    TwoTierResult
        Stations, repair points and the solver report.
    """
    t0 = time.perf_counter()
    rules = resolve_rules("two_tier", rules, overrides)
    if len(site_cover) != reach.shape[1]:
        msg = "two_tier: site_cover needs one entry per site"
        raise ValueError(msg)
    repair = _Repair(village_cover, site_cover, repair_cost, repair_cost_at_station, fixed_repair)
    clocked, staged = False, False
    if start is None and rules.objective == "coverage" and rules.budget is not None:
        staged = True
        with solver_label("start plan"):
            start = _staged_start(reach, weight, rules, repair, solver=solver)
        # a start from a solve the time limit stopped depends on the clock: the plan too
        clocked = start is not None and start.stations.info.status == "time_limit"
        t0 = time.perf_counter()  # the start's own solves are reported on their own
    prob, block, r, u = _build(reach, weight, rules, repair)
    if (
        staged
        and start is not None
        and rules.sizing is not None
        and kernel.wants_kernel(reach, solver)
    ):
        sites = kernel.relaxed_sites(prob, block.x, threads=solver.threads)
        start, fired = _kernel(reach, weight, rules, repair, start, sites, solver)
        clocked = clocked or fired
    cost_kernel = kernel.wants_cost_kernel(kernel_first, rules, start, relax_only)
    links = None
    if rules.sizing is not None and rules.objective != "coverage":
        links = separate_links(prob, block, threads=solver.threads)
    if start is not None:
        _set_joint_start(block, r, u, start)
    build = time.perf_counter() - t0
    model = f"two_tier_{rules.objective}"
    at_start = None
    if start is not None:
        at_start = (
            start_value(start.stations, weight, rules.objective)
            if links is None
            else feasible_value(prob)
        )
    if links is not None and start is not None:
        # the whole model not searched (relax_only): a small kernel's plan is settled
        asked = kernel_first and relax_only
        start, fired = _relaxed_kernel(asked, links, reach, weight, rules, repair, start, solver)
        clocked = clocked or fired
        _set_joint_start(block, r, u, start)
        build = time.perf_counter() - t0
        settled = settle_on_relaxation(
            prob, links, model=model, gap=solver.mip_gap, relax_only=relax_only, build_seconds=build
        )
        if settled is not None:
            report_settled(prob, settled)
            settled = _stamped(settled, clocked)
            return replace(start, stations=replace(start.stations, info=settled), info=settled)
    if cost_kernel:  # the start is not proven by the relaxation: a kernel's plan first
        assert start is not None
        # its sites from the relaxation before the linking rows: a wider kernel (on the
        # demo at --scale 5 the narrower one, 103 sites, held no cheaper plan; 148 did)
        sites = None if links is None else links.first_sites
        start, fired = _kernel(reach, weight, rules, repair, start, sites, solver)
        clocked = clocked or fired
        _set_joint_start(block, r, u, start)
        at_start = feasible_value(prob)
        build = time.perf_counter() - t0  # the kernel is part of the model's build
    info = solve(
        prob,
        solver=solver,
        model=model,
        build_seconds=build,
        warm_start=start is not None,
        start_objective=at_start,
    )
    stations = block.result(info)
    repair_open = np.array([(v.value() or 0) > ON for v in r])
    if start is not None:
        kept = better_plan(stations, start.stations, weight, rules.objective, start_cost=at_start)
        if kept is not stations:  # the solver stopped short of its start: the start stands
            stations, repair_open, info = kept, start.repair_open.copy(), kept.info
    report = None
    if polish and rules.objective == "coverage":
        with solver_label("repair polish"):
            repair_open, report = _polish(stations.open, repair_open, repair, solver)
    paid = repair.prices(stations.open) * repair_open
    info = _stamped(info, clocked)
    stations = replace(stations, info=info)
    return TwoTierResult(
        stations=stations, repair_open=repair_open, repair_cost=paid, info=info, polish=report
    )


def _stamped(info: SolveInfo, clocked: bool) -> SolveInfo:
    """``info`` marked ``time_limit`` when a solve its plan came from was stopped by the
    clock (every output then says so), else as it is."""
    return replace(info, status="time_limit") if clocked else info


def _relaxed_kernel(
    asked: bool,
    links: LinkReport,
    reach: SparseTimes,
    weight: np.ndarray,
    rules: StationRules,
    repair: _Repair,
    start: TwoTierResult,
    solver: SolverSection,
) -> tuple[TwoTierResult, bool]:
    """The kernel's plan when a model only settled on its relaxation asks for it and the
    kernel is small (:func:`~planner.optimize.kernel.wants_relaxed_kernel`), else the
    start; and whether the kernel's time limit fired."""
    sites = links.first_sites
    if not kernel.wants_relaxed_kernel(asked, rules, sites, start.stations.open):
        return start, False
    return _kernel(reach, weight, rules, repair, start, sites, solver)


def _kernel(
    reach: SparseTimes,
    weight: np.ndarray,
    rules: StationRules,
    repair: _Repair,
    start: TwoTierResult,
    sites: np.ndarray | None,
    solver: SolverSection,
) -> tuple[TwoTierResult, bool]:
    """The joint model on the station sites its relaxation uses and the start's, solved
    from ``start`` (:mod:`~planner.optimize.kernel`); the plan and whether the kernel's
    time limit fired."""
    keep = kernel.kernel_sites(sites, start.stations.open, rules)
    if keep is None:
        return start, False
    with solver_label("start kernel"):
        plan = two_tier(
            kernel.kernel_reach(reach, keep),
            weight,
            repair.village_cover,
            repair.site_cover,
            rules,
            repair_cost=repair.cost,
            repair_cost_at_station=repair.cost_at_station,
            fixed_repair=repair.fixed,
            excluded=np.flatnonzero(~keep),
            start=start,
            polish=False,
            solver=kernel.kernel_solver(solver),
        )
    if rules.objective == "cost":
        kernel.report_kernel(keep, plan.info.objective, start.info.objective, what="capex")
    else:
        kernel.report_kernel(keep, _covered(plan, weight), _covered(start, weight))
    return plan, plan.info.status == "time_limit"


def _build(
    reach: SparseTimes, weight: np.ndarray, rules: StationRules, repair: _Repair
) -> tuple[pulp.LpProblem, StationBlock, list[pulp.LpVariable], list[pulp.LpVariable]]:
    """The joint model: the station block and rules, the repair tier, budget, objective."""
    objective = rules.objective
    prob, block = station_problem("two_tier", reach, weight, rules)
    r, u, repair_terms = _add_repair_tier(prob, block.x, repair)
    cost_terms = block.cost_terms + repair_terms
    add_budget(prob, cost_terms, rules.budget)
    prob += block.objective(objective, cost_terms)
    return prob, block, r, u


def _add_repair_tier(
    prob: pulp.LpProblem, x: list[pulp.LpVariable], repair: _Repair
) -> tuple[list[pulp.LpVariable], list[pulp.LpVariable], Terms]:
    """``r_k``, ``u_k``, the village and station cover rows; the repair cost terms."""
    n_site = len(x)
    r = site_vars(prob, n_site, prefix="r")
    if repair.fixed is not None:
        for v, on in zip(r, repair.fixed, strict=True):
            v.lowBound = v.upBound = 1 if on else 0
    add_cover_rows(prob, r, repair.village_cover, prefix="village")
    for j, members in enumerate(repair.site_cover):
        if len(members) == 0:
            msg = f"two_tier: site {j} has no repair site in reach (not even itself)"
            raise ValueError(msg)
        prob += pulp.lpSum(r[k] for k in np.unique(members)) - x[j] >= 0, f"repair_station_{j}"
    saving = repair.cost - repair.cost_at_station
    u = []
    if saving > 0:
        u = [prob.add_variable(f"u_{j}", lowBound=0, upBound=1) for j in range(n_site)]
        for j in range(n_site):
            prob += u[j] - r[j] <= 0, f"shared_r_{j}"
            prob += u[j] - x[j] <= 0, f"shared_x_{j}"
    terms: Terms = [(v, repair.cost) for v in r] + [(v, -saving) for v in u]
    return r, u, terms


def _set_joint_start(
    block: StationBlock,
    r: list[pulp.LpVariable],
    u: list[pulp.LpVariable],
    start: TwoTierResult,
) -> None:
    """Put a previous joint plan into the variables (a MIP start)."""
    set_start(block, start.stations)
    both = start.stations.open & start.repair_open
    for j in range(len(r)):
        r[j].setInitialValue(1.0 if start.repair_open[j] else 0.0)
        if u:
            u[j].setInitialValue(1.0 if both[j] else 0.0)


def _polish(
    stations_open: np.ndarray, repair_open: np.ndarray, repair: _Repair, solver: SolverSection
) -> tuple[np.ndarray, SolveInfo]:
    """Re-choose the repair points at least cost for the stations; the cheaper set stays.

    The coverage objective is indifferent to repair cost.
    """
    cost = repair.prices(stations_open)
    again = lscp(
        repair.cover_sets(stations_open),
        len(stations_open),
        site_cost=cost,
        solver=solver,
        model="repair_polish",
    )
    if cost[again.open].sum() <= cost[repair_open].sum() + 1e-6:
        repair_open = again.open
    return repair_open, again.info


def _staged_start(
    reach: SparseTimes,
    weight: np.ndarray,
    rules: StationRules,
    repair: _Repair,
    *,
    solver: SolverSection,
) -> TwoTierResult | None:
    """A feasible joint plan from the two stages, to warm-start :func:`two_tier`.

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
            _covered(plan, weight),
            total,
        )
        if total <= budget * (1 + 1e-9):
            if best is None or _covered(plan, weight) > _covered(best, weight):
                best = plan
            left = budget - total
            if left < _least_purchase(rules):
                break
            station_budget += left
        else:
            station_budget -= (total - budget) * 1.01
    if best is not None:
        logger.info("two_tier: start from the staged plan, %.6g covered", _covered(best, weight))
    if best is not None and clocked:
        info = replace(best.stations.info, status="time_limit")
        best = replace(best, stations=replace(best.stations, info=info), info=info)
    return best


def _covered(plan: TwoTierResult, weight: np.ndarray) -> float:
    """The weight a plan's stations cover."""
    return float(np.dot(weight, plan.stations.covered))


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
    repair: _Repair,
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
