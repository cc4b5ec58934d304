r"""Capacitated facility location, built as sparse arrays for HiGHS.

Fixed costs ``f_j``, capacities ``s_j``, client demands ``d_i`` and the cost ``c_ij`` of
serving all of client ``i`` from ``j`` (Cornuejols, Sridharan & Thizy 1991)::

    min  sum_j f_j y_j + sum_ij c_ij x_ij
    s.t. sum_j x_ij = 1                 for every client i
         sum_i d_i x_ij <= s_j y_j      for every facility j
         x_ij <= y_j                    (strengthens the relaxation)
         sum_j s_j y_j >= sum_i d_i     (a valid cut: enough capacity opens)
         y_j in {0, 1};  0 <= x_ij <= 1 (splittable), or x_ij in {0, 1} (single source)

With splittable demand, the model goes to HiGHS after a Lagrangian phase that relaxes the
assignment rows with multipliers ``u_i``. For fixed ``u`` the problem splits by
facility: facility ``j``'s best use is the continuous knapsack

    g_j(u) = f_j + min { sum_i (c_ij - u_i) x_ij : sum_i d_i x_ij <= s_j, 0 <= x <= 1 }

(filled greedily by ``(c_ij - u_i) / d_i``), and the facilities open to minimise
``sum_j g_j y_j`` subject to the capacity cut, taken in its linear relaxation. This gives
the lower bound ``L(u) = sum_i u_i + min_y sum_j g_j y_j``, improved by subgradient steps
(Held, Wolfe & Crowder 1974). It serves three ends:

* plans: each subproblem's open facilities, with their optimal splittable assignment (a
  transportation LP), then local search by closing, opening and swapping facilities;
* fixing: ``L0(u) = sum_i u_i + sum_j min(0, g_j)`` bounds every plan, and ``L0 + |g_j|``
  every plan that flips facility ``j``'s state, so a facility whose flip costs more than
  the best plan keeps its state, and a shut facility's columns leave the model;
* the best plan starts HiGHS, which proves optimality or reports its gap.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import highspy
import numpy as np
from scipy import sparse

from planner.datatypes import SolveInfo
from planner.errors import InfeasibleError, SolverError
from planner.optimize.arrays import new_highs, pass_model
from planner.optimize.cflp_lagrangian import (
    Plans,
    cover,
    knapsacks,
    lagrangian,
    local_search,
    transport,
)
from planner.optimize.highs import silence_highs_banner

logger = logging.getLogger(__name__)

#: The names the Lagrangian phase's pieces had here before they had a module of their own.
_transport, _Plans, _knapsacks, _cover, _lagrangian = transport, Plans, knapsacks, cover, lagrangian

#: Share of the time limit that the Lagrangian phase and the local search may use.
_HEURISTIC_SHARE = 0.3
#: Below this many assignment columns HiGHS alone is fast: no Lagrangian phase by default.
_SMALL = 20_000


@dataclass
class CflpResult:
    """Open facilities, the share of each client served by each, and the report."""

    open: np.ndarray
    share: np.ndarray  # (clients, facilities)
    info: SolveInfo


def capacitated_fl(  # noqa: PLR0913 - the CFLP's data arrays, then keyword-only options
    fixed: np.ndarray,
    capacity: np.ndarray,
    demand: np.ndarray,
    cost: np.ndarray,
    *,
    single_source: bool = False,
    time_limit_s: float = 60.0,
    mip_gap: float = 0.0,
    threads: int | None = None,
    heuristic: bool | None = None,
) -> CflpResult:
    """Solve the capacitated facility location problem.

    Parameters
    ----------
    fixed, capacity
        Per facility.
    demand
        Per client (positive).
    cost
        ``(clients, facilities)``: cost of serving the whole of a client from a facility.
    single_source
        Each client served by one facility (binary assignment); the Lagrangian phase is
        for splittable demand and is skipped.
    time_limit_s, mip_gap, threads
        Solver settings.
    heuristic
        Run the Lagrangian phase before HiGHS (splittable demand only). By default only
        for models of at least 20,000 assignment columns: HiGHS alone solves smaller ones
        in well under a second.

    Returns
    -------
    CflpResult
        The plan and the solver report (status, objective, bound, gap).
    """
    t0 = time.perf_counter()
    silence_highs_banner()
    fixed = np.asarray(fixed, dtype=float)
    capacity = np.asarray(capacity, dtype=float)
    demand = np.asarray(demand, dtype=float)
    cost = np.asarray(cost, dtype=float)
    if heuristic is None:
        heuristic = cost.size >= _SMALL
    if single_source or not heuristic:
        return _solve_model(
            fixed, capacity, demand, cost, single_source, time_limit_s, mip_gap, threads
        )
    if capacity.sum() < demand.sum():
        msg = "cflp: total capacity is below total demand"
        raise InfeasibleError(msg)
    deadline = t0 + _HEURISTIC_SHARE * time_limit_s
    plans = Plans(fixed, capacity, demand, cost)
    lbound, u = lagrangian(fixed, capacity, demand, cost, plans, deadline)
    g, _ = knapsacks(fixed, capacity, demand, cost, u)
    plans.price(cover(g, capacity, float(demand.sum())) > 0)  # the best multipliers' plan
    local_search(plans, g, deadline)
    if plans.best_plan is None:  # no plan priced in time: HiGHS starts from scratch
        remaining = time_limit_s - (time.perf_counter() - t0)
        return _solve_model(fixed, capacity, demand, cost, False, remaining, mip_gap, threads)
    best_open, best_share = plans.best_plan
    ub = plans.best
    # fixing: flipping facility j costs at least L0 + |g_j|
    l0 = float(u.sum() + np.minimum(g, 0.0).sum())
    margin = 1e-7 * max(1.0, abs(ub))
    flip = l0 + np.abs(g) > ub + margin
    keep_shut = flip & (g >= 0) & ~best_open
    keep_open = flip & (g < 0) & best_open
    logger.debug(
        "heuristic %.10g, Lagrangian bound %.10g, %d facilities kept shut, %d kept open, %.1f s",
        ub,
        lbound,
        keep_shut.sum(),
        keep_open.sum(),
        time.perf_counter() - t0,
    )
    remaining = time_limit_s - (time.perf_counter() - t0)
    return _solve_model(
        fixed,
        capacity,
        demand,
        cost,
        False,
        remaining,
        mip_gap,
        threads,
        shut=keep_shut,
        keep=keep_open,
        start=(best_open, best_share),
        lagrangian_bound=lbound,
        t0=t0,
    )


def _solve_model(  # noqa: PLR0913 - the MIP's data and settings, then the heuristic's fixings
    fixed: np.ndarray,
    capacity: np.ndarray,
    demand: np.ndarray,
    cost: np.ndarray,
    single_source: bool,
    time_limit_s: float,
    mip_gap: float,
    threads: int | None,
    *,
    shut: np.ndarray | None = None,
    keep: np.ndarray | None = None,
    start: tuple[np.ndarray, np.ndarray] | None = None,
    lagrangian_bound: float = -np.inf,
    t0: float | None = None,
) -> CflpResult:
    """The MIP over the facilities not kept shut, in HiGHS, from a starting plan."""
    t0 = time.perf_counter() if t0 is None else t0
    m_all = len(fixed)
    alive = np.ones(m_all, dtype=bool) if shut is None else ~shut
    cols = np.flatnonzero(alive)
    m, n = len(cols), len(demand)
    a, row_lower, row_upper = _constraints(demand, capacity[cols])
    # columns: y (m), then x row-major (client i, facility j) -> m + i*m + j
    n_col = m + n * m
    integer = np.zeros(n_col, dtype=bool)
    integer[:m] = True
    if single_source:
        integer[m:] = True
    col_lower = np.zeros(n_col)
    if keep is not None:
        col_lower[:m] = keep[cols]
    build = time.perf_counter() - t0
    h = new_highs(time_limit_s, threads)
    h.setOptionValue("mip_rel_gap", float(mip_gap))
    costs = np.concatenate([fixed[cols], cost[:, cols].ravel()])
    pass_model(h, costs, a, row_lower, row_upper, col_lower, np.ones(n_col), integer)
    if start is not None:
        _set_start(h, start, cols)
    h.run()
    status = _status(h)
    info = h.getInfo()
    x = np.asarray(h.getSolution().col_value)
    objective = float(info.objective_function_value)
    # a plan better than the start obeys the fixings, so the reduced model's bound holds
    bound = min(objective, max(float(info.mip_dual_bound), lagrangian_bound))
    gap = abs(objective - bound) / max(abs(objective), 1e-9)
    is_open = np.zeros(m_all, dtype=bool)
    is_open[cols] = x[:m] > 0.5
    share = np.zeros((n, m_all))
    share[:, cols] = x[m:].reshape(n, m)
    return CflpResult(
        open=is_open,
        share=share,
        info=SolveInfo(
            model="cflp_single" if single_source else "cflp",
            solver="highs",
            status=status,
            objective=objective,
            bound=bound,
            gap=0.0 if gap < 1e-12 else gap,
            seconds=time.perf_counter() - t0,
            build_seconds=build,
            n_variables=n_col,
            n_constraints=a.shape[0],
        ),
    )


def _constraints(
    demand: np.ndarray, capacity: np.ndarray
) -> tuple[sparse.coo_matrix, np.ndarray, np.ndarray]:
    """The MIP's rows: assignment, capacity, linking ``x_ij <= y_j``, the capacity cut.

    Columns are ``y`` (m), then ``x`` row-major: client i, facility j at ``m + i*m + j``.
    """
    m, n = len(capacity), len(demand)
    n_col = m + n * m
    xi = np.repeat(np.arange(n), m)
    xj = np.tile(np.arange(m), n)
    xcol = m + np.arange(n * m)
    link = n + m + np.arange(n * m)
    total = n + m + n * m
    rows = [xi, n + xj, n + np.arange(m), link, link, np.full(m, total)]
    cols_ = [xcol, xcol, np.arange(m), xcol, xj, np.arange(m)]
    vals = [np.ones(n * m), demand[xi], -capacity, np.ones(n * m), -np.ones(n * m), capacity]
    a = sparse.coo_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols_))),
        shape=(total + 1, n_col),
    )
    row_lower = np.concatenate([np.ones(n), np.full(m + n * m, -np.inf), [demand.sum()]])
    row_upper = np.concatenate([np.ones(n), np.zeros(m + n * m), [np.inf]])
    return a, row_lower, row_upper


def _set_start(h: highspy.Highs, start: tuple[np.ndarray, np.ndarray], cols: np.ndarray) -> None:
    """Hand HiGHS the starting plan (open facilities, shares) on the model's columns."""
    guess = highspy.HighsSolution()
    guess.col_value = np.concatenate([start[0][cols], start[1][:, cols].ravel()]).tolist()
    guess.value_valid = True
    h.setSolution(guess)


def _status(h: highspy.Highs) -> str:
    """The solved MIP's status; raises unless HiGHS holds a plan.

    Raises
    ------
    InfeasibleError
        When HiGHS proved the model infeasible.
    SolverError
        When it ended without a plan.
    """
    status_code = h.getModelStatus()
    status = {
        highspy.HighsModelStatus.kOptimal: "optimal",
        highspy.HighsModelStatus.kTimeLimit: "time_limit",
        highspy.HighsModelStatus.kInfeasible: "infeasible",
    }.get(status_code, h.modelStatusToString(status_code).lower())
    if status == "infeasible":
        msg = "cflp: HiGHS proved the model infeasible"
        raise InfeasibleError(msg)
    if h.getInfo().primal_solution_status != 2:
        msg = f"cflp: HiGHS ended with status {status} and no solution"
        raise SolverError(msg)
    return status
