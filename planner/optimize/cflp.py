r"""Capacitated facility location, exact: Lagrangian branch and bound, or HiGHS.

Fixed costs ``f_j``, capacities ``s_j``, client demands ``d_i`` and the cost ``c_ij`` of
serving all of client ``i`` from ``j`` (Cornuejols, Sridharan & Thizy 1991)::

    min  sum_j f_j y_j + sum_ij c_ij x_ij
    s.t. sum_j x_ij = 1                 for every client i
         sum_i d_i x_ij <= s_j y_j      for every facility j
         x_ij <= y_j                    (strengthens the relaxation)
         sum_j s_j y_j >= sum_i d_i     (a valid cut: enough capacity opens)
         y_j in {0, 1};  0 <= x_ij <= 1 (splittable), or x_ij in {0, 1} (single source)

Small models and single-source ones go to HiGHS as they stand. Larger splittable ones are
solved by a branch and bound over the facilities (:mod:`~planner.optimize.cflp_branch`),
whose bounds come from relaxing the assignment rows (:mod:`~planner.optimize.cflp_lagrangian`:
a continuous knapsack per facility and a cover of the demand by the open capacity, both
solved by sorting) and whose plans are open sets priced exactly by their transportation
LP, improved by a local search (:mod:`~planner.optimize.cflp_heuristic`). A facility whose
flip would lift the bound beyond the best plan keeps its state, so the tree stays small:
the OR-Library's capa, capb and capc (100 facilities, 1,000 clients) close in 1 to 125
nodes. Steps and moves are counted, not timed, so the same data give the same plan; the
time limit is a safety net, and when it fires the status says ``time_limit``.
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
from planner.optimize.cflp_branch import branch_and_bound
from planner.optimize.cflp_heuristic import Plans
from planner.optimize.cflp_lagrangian import Instance
from planner.optimize.highs import silence_highs_banner

logger = logging.getLogger(__name__)

#: Below this many assignment columns HiGHS alone is fast: no branch and bound by default.
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
        Each client served by one facility (binary assignment): HiGHS on the model.
    time_limit_s, mip_gap, threads
        Solver settings (``mip_gap`` relative; the time limit is a safety net).
    heuristic
        Solve by the Lagrangian branch and bound (splittable demand only). By default
        only for models of at least 20,000 assignment columns: HiGHS alone solves smaller
        ones in about a second.

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
    plans = Plans(fixed, capacity, demand, cost, threads=threads)
    inst = Instance(fixed, capacity, demand, cost)
    search = branch_and_bound(inst, plans, gap=mip_gap, deadline=t0 + time_limit_s)
    if plans.best_plan is None:
        msg = "cflp: the branch and bound ended without a plan"
        raise SolverError(msg)
    is_open, share = plans.best_plan
    objective = plans.best
    bound = min(objective, search.bound)
    gap = (objective - bound) / max(abs(objective), 1e-9)
    logger.debug(
        "cflp: %.10g, bound %.10g, %d nodes, %d plans priced, %.1f s",
        objective,
        bound,
        search.nodes,
        len(plans.seen),
        time.perf_counter() - t0,
    )
    return CflpResult(
        open=is_open,
        share=share,
        info=SolveInfo(
            model="cflp",
            solver="lagrangian_bb",
            status="optimal" if search.finished else "time_limit",
            objective=objective,
            bound=bound,
            gap=0.0 if gap < 1e-12 else gap,
            seconds=time.perf_counter() - t0,
            build_seconds=0.0,
            n_variables=len(fixed) * (1 + len(demand)),
            n_constraints=len(demand) + len(fixed) * (2 + len(demand)),
        ),
    )


def _solve_model(
    fixed: np.ndarray,
    capacity: np.ndarray,
    demand: np.ndarray,
    cost: np.ndarray,
    single_source: bool,
    time_limit_s: float,
    mip_gap: float,
    threads: int | None,
) -> CflpResult:
    """The whole MIP in HiGHS."""
    t0 = time.perf_counter()
    m, n = len(fixed), len(demand)
    a, row_lower, row_upper = _constraints(demand, capacity)
    # columns: y (m), then x row-major (client i, facility j) -> m + i*m + j
    n_col = m + n * m
    integer = np.zeros(n_col, dtype=bool)
    integer[:m] = True
    if single_source:
        integer[m:] = True
    build = time.perf_counter() - t0
    h = new_highs(time_limit_s, threads)
    h.setOptionValue("mip_rel_gap", float(mip_gap))
    costs = np.concatenate([fixed, cost.ravel()])
    pass_model(h, costs, a, row_lower, row_upper, np.zeros(n_col), np.ones(n_col), integer)
    h.run()
    status = _status(h)
    info = h.getInfo()
    x = np.asarray(h.getSolution().col_value)
    objective = float(info.objective_function_value)
    bound = min(objective, float(info.mip_dual_bound))
    gap = abs(objective - bound) / max(abs(objective), 1e-9)
    is_open = x[:m] > 0.5
    share = x[m:].reshape(n, m)
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
