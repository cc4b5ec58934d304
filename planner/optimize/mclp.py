r"""Maximal covering location (MCLP), optionally with stations sized by chargers.

Without sizing (classic MCLP, Church & ReVelle 1974)::

    max  sum_i w_i z_i
    s.t. z_i <= sum_{j in N_i} x_j          for every demand i
         sum_{j new} x_j <= p               (max_sites)
         sum_j f_j x_j <= B                 (budget)
         sum_{j in T} x_j >= 1              for every group T (township minimum)
         sum_i w_i z_i >= W_min             (min_cover)
         x_j in {0,1},  0 <= z_i <= 1

With sizing, demand is served by stations with integer chargers ``n_j``, each serving
``q`` sessions/day (``s_i``: sessions of demand i)::

    max  sum_i w_i sum_{j in N_i} y_ij
    s.t. sum_{j in N_i} y_ij <= 1           for every demand i
         y_ij <= x_j                        for every pair with s_i = 0
         sum_i s_i y_ij <= q n_j            for every site j
         n_min x_j <= n_j <= n_max x_j
         sum_j (f_j x_j + c n_j) <= B       (budget)
         sum_{j in S} k n_j <= H_S          for every substation S with known
                                            headroom H_S (k: kW per charger)
         the count, group and coverage constraints above
         x_j in {0,1}, n_j integer, y_ij >= 0

With ``objective="cost"`` the same constraints hold and the model minimises
``sum_j (f_j x_j + c n_j)`` instead (the least capex that covers ``W_min``). With
``objective="time"`` (sizing only) it minimises the session-weighted drive time of the
flows, ``sum_ij s_i t_ij y_ij`` (the third pass of a lexicographic plan: the coverage held
by ``W_min``, the capex by ``B``, the sites by ``required`` and ``excluded``); demand rows
are then merged only when their times agree too, so the objective is exact.

``N_i`` is the set of sites within the cutoff of demand ``i`` (the pairs in ``reach``). With
the coverage objective the linking rows ``y_ij <= x_j`` of demand with sessions are left
out: a closed site has no chargers, so its capacity row already keeps ``y_ij`` at 0. They
would tighten the linear relaxation, but at county scale (tens of thousands of pairs) they
slow every LP more than they help: measured on the demo county at ``--scale 20`` (56,000
pairs), HiGHS proves a 0.09% gap in 27 s without them and is at 0.24% after 150 s with them.
The cost and time objectives need them: with the coverage held by ``W_min`` their
relaxations are otherwise too weak (on the demo county the least-capex pass proves its gap
in 0.4 s with them, 7 s without); they get the rows their relaxation violates
(:mod:`~planner.optimize.links`: at ``--scale 50`` 6,914 of 135,046), and a start within the
gap of that relaxation is proven without branching. Existing sites (public chargers in
place) are open with their installed chargers fixed (``n_j = k_j``, outside
``n_min..n_max``), cost nothing, do not count against ``p`` and are not in the headroom rows
(the substation's load figure already holds them). Demand points with the same ``N_i`` (and,
with sizing, the same value per session ``w_i / s_i``) are merged into one before the model
is built: an exact reduction, undone in the result. After solving, each open station gets
the fewest chargers that carry its assigned load (at least ``n_min``): never more than the
model's ``n_j``, so the budget still holds. The station variables and rows are those of
:mod:`~planner.optimize.station`.
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from typing import Any

import numpy as np
import pulp

from planner.config import SolverSection
from planner.datatypes import SparseTimes
from planner.optimize.greedy import greedy_stations
from planner.optimize.greedy_moves import extend_plan, rechoose_townships
from planner.optimize.greedy_steps import Greedy
from planner.optimize.kernel import (
    kernel_plan,
    marked_fired,
    relaxed_sites,
    wants_cost_kernel,
    wants_kernel,
    wants_relaxed_kernel,
)
from planner.optimize.links import feasible_value, separate_links, settle_on_relaxation
from planner.optimize.problem import add_budget
from planner.optimize.rules import CoverageResult, StationRules, resolve_rules
from planner.optimize.solve import report_settled, solve
from planner.optimize.station import StationBlock, add_station_rules, station_block
from planner.optimize.station_plan import set_start
from planner.progress import solver_label

logger = logging.getLogger(__name__)

#: The gap the start's sizing is re-solved to: near exact, so that the start it gives
#: the model is not merely proven within the model's own gap of the greedy plan.
_POLISH_GAP = 1e-4

#: The most rounds of the start's sizing re-solved and the plan grown again.
_ROUNDS = 3

#: A round of the start that adds less than this share of the plan's value is the last.
_ROUND_GAIN = 1e-3


def mclp(
    reach: SparseTimes,
    weight: np.ndarray,
    rules: StationRules | None = None,
    *,
    solver: SolverSection,
    start: CoverageResult | None = None,
    relax_only: bool = False,
    kernel_first: bool = False,
    **overrides: Any,
) -> CoverageResult:
    """Maximal covering location, optionally with stations sized by chargers.

    The model is in the module docstring.

    Parameters
    ----------
    reach
        Demand x site pairs within the cutoff.
    weight
        ``w_i``, the value of covering demand ``i``.
    rules
        The station side (:class:`~planner.optimize.rules.StationRules`: site costs,
        sizing, budget, limits, fixed and existing sites, ``W_min``, objective).
    solver
        Backend settings.
    start
        A plan feasible for this model (e.g. from a smaller budget) to warm-start from.
        With the cost or time objective and sizing, a start within the MIP gap of the
        linear relaxation is proven without branching (:mod:`~planner.optimize.links`).
        None with the coverage objective: :func:`start_plan`, with sizing and from
        ``solver.kernel_min_pairs`` pairs improved on the sites the linear relaxation
        uses (:mod:`~planner.optimize.kernel`).
    relax_only
        With the cost or time objective, sizing and a start: do not branch; the start
        stands, with its gap to the relaxation (``node_limit`` unless proven).
    kernel_first
        With the cost objective, sizing and a start: first solve the model on the sites
        its relaxation uses and the start's, from the start (a kernel,
        :func:`~planner.optimize.kernel.kernel_plan`); the full model then starts from
        that plan (the capex pass's search for a cheaper plan).
    **overrides
        Fields of :class:`~planner.optimize.rules.StationRules` that replace those of
        ``rules`` (e.g. ``budget=`` for one point of a curve); without ``rules`` they are
        the rules (``site_cost`` at least).

    Returns
    -------
    CoverageResult
        The plan and the solver report.
    """
    t0 = time.perf_counter()
    rules = resolve_rules("mclp", rules, overrides)
    objective = rules.objective
    prob, block = station_problem("mclp", reach, weight, rules)
    add_budget(prob, block.cost_terms, rules.budget)
    prob += block.objective(objective, block.cost_terms)
    cost_kernel = wants_cost_kernel(kernel_first, rules, start, relax_only)
    links = None
    if rules.sizing is not None and objective != "coverage":
        links = separate_links(prob, block, threads=solver.threads)
    fired = False
    if start is None and objective == "coverage":
        start = start_plan(reach, weight, rules, solver=solver)
        if start is not None and rules.sizing is not None and wants_kernel(reach, solver):
            sites = relaxed_sites(prob, block.x, threads=solver.threads)
            start, fired = kernel_plan(reach, weight, rules, start, sites, solver=solver)
    if start is not None:
        set_start(block, start)
    build = time.perf_counter() - t0
    model = f"stations_{objective}"
    if (
        relax_only
        and links is not None
        and start is not None
        and wants_relaxed_kernel(kernel_first, rules, links.first_sites, start.open)
    ):  # the whole model is not searched: the kernel's plan is the one settled
        start, fired = kernel_plan(reach, weight, rules, start, links.first_sites, solver=solver)
        set_start(block, start)
        build = time.perf_counter() - t0
    if links is not None and start is not None:
        settled = settle_on_relaxation(
            prob, links, model=model, gap=solver.mip_gap, relax_only=relax_only, build_seconds=build
        )
        if settled is not None:
            report_settled(prob, settled)
            plan = replace(start, info=settled)
            return marked_fired(plan) if fired else plan
    if cost_kernel:  # the start is not proven by the relaxation: a kernel's plan first
        assert start is not None
        # its sites from the relaxation before the linking rows (see two_tier)
        sites = None if links is None else links.first_sites
        start, fired = kernel_plan(reach, weight, rules, start, sites, solver=solver)
        set_start(block, start)
        build = time.perf_counter() - t0  # the kernel is part of the model's build
    at_start = start_value(start, weight, objective) if links is None else feasible_value(prob)
    info = solve(
        prob,
        solver=solver,
        model=model,
        build_seconds=build,
        warm_start=start is not None,
        start_objective=at_start,
    )
    plan = better_plan(block.result(info), start, weight, objective, start_cost=at_start)
    return marked_fired(plan) if fired else plan


def start_plan(
    reach: SparseTimes,
    weight: np.ndarray,
    rules: StationRules,
    *,
    solver: SolverSection,
    chargers: np.ndarray | None = None,
) -> CoverageResult | None:
    """The coverage pass's start: the greedy plan (:mod:`~planner.optimize.greedy`),
    improved by moves that each keep every rule.

    A round re-solves the chargers and flows exactly on the plan's sites (the model of
    their pairs only, the other sites closed; a site may close too), then grows the plan
    greedily with the budget this frees (the exact sizing needs fewer chargers than the
    greedy's nearest-first service; :func:`~planner.optimize.greedy_moves.extend_plan`).
    Rounds repeat while the greedy adds at least :data:`_ROUND_GAIN` of the plan's value,
    at most :data:`_ROUNDS` times. Then passes that choose each township's site again
    given the rest of the plan
    (:func:`~planner.optimize.greedy_moves.rechoose_townships`), each followed by the
    rounds, repeat while they gain as much (at most :data:`_ROUNDS`; a pass that loses
    is dropped). All of it is counted in rounds and passes, never timed. ``chargers``: as
    in :func:`~planner.optimize.greedy.greedy_stations`.

    On the demo county at ``--scale 20`` (the model's optimum covers 18,653 sessions) the
    greedy plan covers 18,040 in 0.6 CPU s and the start 18,407 in 4.1 s (1.3% less;
    16,438 before the greedy chose township sites by value per yuan and these moves were
    added). With 100 m demand: 17,817 in 2.2 s and 18,262 in 11 s (bound 18,458, 1.1%
    more; 14,566 before). At ``--scale 50``: 41,753 in 9 s (bound 41,890; 41,466 in 11 s
    before); at ``--scale 100``: 79,133 in 31 s (bound 79,278; 78,564 in 29 s before).
    """
    data = Greedy(reach, weight, rules)
    plan = greedy_stations(reach, weight, rules, chargers=chargers, data=data)
    if plan is None or rules.sizing is None:
        return plan
    polish = solver.model_copy(update={"mip_gap": min(solver.mip_gap, _POLISH_GAP)})
    with solver_label("start plan"):
        plan = _rounds(reach, weight, rules, plan, solver=polish, data=data)
        for _ in range(_ROUNDS):
            moved, changed = rechoose_townships(reach, weight, rules, plan, data=data)
            if not changed:
                break
            moved = extend_plan(reach, weight, rules, moved, data=data)
            moved = _rounds(reach, weight, rules, moved, solver=polish, data=data)
            value = float(np.dot(weight, plan.covered))
            gain = float(np.dot(weight, moved.covered)) - value
            if gain > 0:
                plan = moved
            if gain < value * _ROUND_GAIN:
                break
    return plan


def _rounds(
    reach: SparseTimes,
    weight: np.ndarray,
    rules: StationRules,
    plan: CoverageResult,
    *,
    solver: SolverSection,
    data: Greedy,
) -> CoverageResult:
    """Rounds of the plan's sizing re-solved and the plan grown again (see
    :func:`start_plan`)."""
    for _ in range(_ROUNDS):
        plan = _resized(reach, weight, rules, plan, solver=solver)
        value = float(np.dot(weight, plan.covered))
        grown = extend_plan(reach, weight, rules, plan, data=data)
        if float(np.dot(weight, grown.covered)) < value * (1 + _ROUND_GAIN):
            return grown
        plan = grown
    return plan


def _resized(
    reach: SparseTimes,
    weight: np.ndarray,
    rules: StationRules,
    plan: CoverageResult,
    *,
    solver: SolverSection,
) -> CoverageResult:
    """``plan`` with its chargers and flows re-solved exactly on its sites (the model of
    the pairs of its open sites only, the other sites closed; a site may close too)."""
    on = plan.open[reach.cols]
    own = SparseTimes(reach.rows[on], reach.cols[on], reach.minutes[on], reach.shape)
    return mclp(own, weight, rules, excluded=np.flatnonzero(~plan.open), start=plan, solver=solver)


def start_value(start: CoverageResult | None, weight: np.ndarray, objective: str) -> float | None:
    """The covered weight of a coverage pass's start (None otherwise)."""
    if start is None or objective != "coverage":
        return None
    return float(np.dot(weight, start.covered))


def better_plan(
    result: CoverageResult,
    start: CoverageResult | None,
    weight: np.ndarray,
    objective: str,
    *,
    start_cost: float | None = None,
) -> CoverageResult:
    """The solver's plan, or its start when that is better (a solve stopped by a limit
    before it found a plan as good as its start, or one that rejected the start).

    With the coverage objective the plans' covered weights are compared; with cost or
    time, the model's objective against ``start_cost`` (the start's, when it was
    feasible; None: the solver's plan stands). The start keeps the solver's bound, so the
    gap it reports is the start's own.
    """
    if start is None:
        return result
    if objective == "coverage":
        got = float(np.dot(weight, result.covered))
        had = float(np.dot(weight, start.covered))
        better = had > got + 1e-9 * max(1.0, abs(got))
    else:
        got = float(result.info.objective or 0.0)
        had = float("inf") if start_cost is None else start_cost
        better = had < got - 1e-9 * max(1.0, abs(got))
    if not better:
        return result
    info = result.info
    bound = info.bound
    gap = None if bound is None else abs(bound - had) / max(abs(had), 1e-9)
    logger.warning(
        "%s: the solver's plan scores %.6g, worse than its start's %.6g; the start stands",
        info.model,
        got,
        had,
    )
    return replace(start, info=replace(info, objective=had, gap=gap))


def station_problem(
    name: str, reach: SparseTimes, weight: np.ndarray, rules: StationRules
) -> tuple[pulp.LpProblem, StationBlock]:
    """A model of the stations under their rules, in the sense of ``rules.objective``.

    Parameters
    ----------
    name
        The model's name.
    reach, weight
        Demand-to-site times within the cutoff, and the demand's weights.
    rules
        The station rules, resolved.

    Returns
    -------
    tuple
        The problem, without budget or objective yet, and its station block.
    """
    sense = pulp.LpMaximize if rules.objective == "coverage" else pulp.LpMinimize
    prob = pulp.LpProblem(name, sense)
    block = station_block(
        prob, reach, weight, rules.site_cost, rules.sizing, rules.existing, rules.objective
    )
    add_station_rules(prob, block, rules)
    return prob, block
