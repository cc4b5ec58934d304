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
two stages (:func:`~planner.optimize.two_tier_start.staged_start`): stations from
:func:`~planner.optimize.mclp.mclp` with the budget left after the villages' repair points,
then the cheapest repair points for villages and stations (:func:`~planner.optimize.lscp.lscp`).
The repair tier's rows are built in :mod:`~planner.optimize.two_tier_repair`.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

import numpy as np
import pulp

from planner.config import SolverSection
from planner.datatypes import SolveInfo, SparseTimes
from planner.optimize import kernel
from planner.optimize.links import (
    LinkReport,
    feasible_value,
    separate_links,
    settle_on_relaxation,
)
from planner.optimize.mclp import better_plan, start_value, station_problem
from planner.optimize.problem import add_budget
from planner.optimize.rules import StationRules, resolve_rules
from planner.optimize.solve import report_settled, solve
from planner.optimize.station import ON, StationBlock
from planner.optimize.two_tier_repair import (
    Repair,
    TwoTierResult,
    add_repair_tier,
    covered,
    polish_repair,
    set_joint_start,
)
from planner.optimize.two_tier_start import staged_start
from planner.progress import solver_label


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
    repair = Repair(village_cover, site_cover, repair_cost, repair_cost_at_station, fixed_repair)
    clocked, staged = False, False
    if start is None and rules.objective == "coverage" and rules.budget is not None:
        staged = True
        with solver_label("start plan"):
            start = staged_start(reach, weight, rules, repair, solver=solver)
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
        set_joint_start(block, r, u, start)
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
        set_joint_start(block, r, u, start)
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
        set_joint_start(block, r, u, start)
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
            repair_open, report = polish_repair(stations.open, repair_open, repair, solver)
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
    repair: Repair,
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
    repair: Repair,
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
        kernel.report_kernel(keep, covered(plan, weight), covered(start, weight))
    return plan, plan.info.status == "time_limit"


def _build(
    reach: SparseTimes, weight: np.ndarray, rules: StationRules, repair: Repair
) -> tuple[pulp.LpProblem, StationBlock, list[pulp.LpVariable], list[pulp.LpVariable]]:
    """The joint model: the station block and rules, the repair tier, budget, objective."""
    objective = rules.objective
    prob, block = station_problem("two_tier", reach, weight, rules)
    r, u, repair_terms = add_repair_tier(prob, block.x, repair)
    cost_terms = block.cost_terms + repair_terms
    add_budget(prob, cost_terms, rules.budget)
    prob += block.objective(objective, cost_terms)
    return prob, block, r, u
