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
from planner.optimize.highs import silence_highs_banner

logger = logging.getLogger(__name__)

#: Share of the time limit that the Lagrangian phase and the local search may use.
_HEURISTIC_SHARE = 0.3
#: Subgradient steps at most; the step halves after this many without a better bound.
_MAX_STEPS = 400
_STALL = 20
#: Price the subproblem's open facilities as a plan every this many steps.
_PRICE_EVERY = 10
#: Below this many assignment columns HiGHS alone is fast: no Lagrangian phase by default.
_SMALL = 20_000


@dataclass
class CflpResult:
    """Open facilities, the share of each client served by each, and the report."""

    open: np.ndarray
    share: np.ndarray  # (clients, facilities)
    info: SolveInfo


def _transport(
    cost: np.ndarray, demand: np.ndarray, capacity: np.ndarray, open_idx: np.ndarray
) -> tuple[float, np.ndarray] | None:
    """The cheapest splittable assignment to the open facilities (a transportation LP).

    Returns ``(cost, share)`` with ``share`` of shape (clients, open facilities), or None
    when their capacity falls short.
    """
    n, k = len(demand), len(open_idx)
    if capacity[open_idx].sum() < demand.sum() * (1 - 1e-12):
        return None
    col = np.arange(n * k)  # x_ij at i * k + j
    rows = np.concatenate([col // k, n + col % k])
    vals = np.concatenate([np.ones(n * k), np.repeat(demand, k)])
    a = sparse.coo_matrix((vals, (rows, np.tile(col, 2))), shape=(n + k, n * k))
    h = new_highs(np.inf)
    pass_model(
        h,
        cost[:, open_idx].ravel(),
        a,
        np.concatenate([np.ones(n), np.full(k, -np.inf)]),
        np.concatenate([np.ones(n), capacity[open_idx]]),
        np.zeros(n * k),
        np.ones(n * k),
    )
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return None
    share = np.asarray(h.getSolution().col_value).reshape(n, k)
    return float(h.getInfo().objective_function_value), share


class _Plans:
    """The best plan found so far; plans are open sets priced by the transportation LP."""

    def __init__(
        self, fixed: np.ndarray, capacity: np.ndarray, demand: np.ndarray, cost: np.ndarray
    ) -> None:
        self.fixed, self.capacity, self.demand, self.cost = fixed, capacity, demand, cost
        self.seen: dict[bytes, float] = {}
        self.best = np.inf
        #: The best plan: which facilities are open, and the clients' shares of each
        self.best_plan: tuple[np.ndarray, np.ndarray] | None = None

    def price(self, is_open: np.ndarray) -> float:
        """Cost of the plan opening ``is_open`` (inf when it lacks capacity)."""
        key = np.packbits(is_open).tobytes()
        if key in self.seen:
            return self.seen[key]
        open_idx = np.flatnonzero(is_open)
        res = _transport(self.cost, self.demand, self.capacity, open_idx)
        value = np.inf
        if res is not None:
            value = float(self.fixed[open_idx].sum()) + res[0]
            if value < self.best - 1e-9 * max(1.0, abs(value)):
                logger.debug(
                    "plan %.10g (%d open, %d priced)", value, len(open_idx), len(self.seen)
                )
                share = np.zeros_like(self.cost)
                share[:, open_idx] = res[1]
                self.best, self.best_plan = value, (is_open.copy(), share)
        self.seen[key] = value
        return value


def _knapsacks(
    fixed: np.ndarray, capacity: np.ndarray, demand: np.ndarray, cost: np.ndarray, u: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Every facility's continuous knapsack: ``g_j(u)`` and its shares ``x`` (clients x j)."""
    red = cost - u[:, None]
    order = np.argsort(red / demand[:, None], axis=0, kind="stable")
    cols = np.arange(cost.shape[1])
    rs = red[order, cols]
    ds = demand[order]
    take = rs < 0
    before = np.cumsum(ds * take, axis=0) - ds * take
    frac = np.clip((capacity[None, :] - before) / ds, 0.0, 1.0) * take
    g = fixed + (rs * frac).sum(axis=0)
    x = np.zeros_like(cost)
    x[order, cols] = frac
    return g, x


def _cover(g: np.ndarray, capacity: np.ndarray, total: float) -> np.ndarray:
    """``y`` minimising ``g y`` with ``capacity y >= total``, ``0 <= y <= 1`` (greedy)."""
    y = (g < 0).astype(float)
    short = total - capacity @ y
    if short > 0:
        for j in np.argsort(np.where(y > 0, np.inf, g / capacity)):
            if y[j] > 0 or short <= 0:
                break
            y[j] = min(1.0, short / capacity[j])
            short -= capacity[j] * y[j]
    return y


def _lagrangian(
    fixed: np.ndarray,
    capacity: np.ndarray,
    demand: np.ndarray,
    cost: np.ndarray,
    plans: _Plans,
    deadline: float,
) -> tuple[float, np.ndarray]:
    """Subgradient ascent on ``L(u)``, pricing the subproblems' open sets as plans.

    Returns the best bound and the multipliers ``u`` that gave it.
    """
    total = float(demand.sum())
    # start: each client at its cheapest facility, with that facility's fixed cost
    # spread over its capacity
    u = (cost + fixed[None, :] * demand[:, None] / capacity[None, :]).min(axis=1)
    best_l, best_u = -np.inf, u.copy()
    step, stall = 2.0, 0
    for it in range(_MAX_STEPS):
        if time.perf_counter() > deadline:
            break
        g, x = _knapsacks(fixed, capacity, demand, cost, u)
        y = _cover(g, capacity, total)
        value = float(u.sum() + g @ y)
        if value > best_l + 1e-9 * abs(value):
            best_l, best_u, stall = value, u.copy(), 0
        else:
            stall += 1
            if stall >= _STALL:
                step, stall = step / 2, 0
        if it % _PRICE_EVERY == 0:
            plans.price(y > 0)
        if step < 1e-4 or plans.best - best_l <= 1e-9 * abs(plans.best):
            break
        sub = 1.0 - x @ y
        norm = float(sub @ sub)
        if norm < 1e-12:
            break
        target = plans.best if np.isfinite(plans.best) else value + 0.05 * abs(value)
        u = u + step * (target - value) / norm * sub
    logger.debug("Lagrangian: bound %.10g after %d steps, best plan %.10g", best_l, it, plans.best)
    return best_l, best_u


def _local_search(plans: _Plans, g: np.ndarray, deadline: float) -> None:
    """First-improvement search over closing, opening and swapping one facility.

    Moves are tried in a promising order: the least-used open facilities first, the shut
    ones by their Lagrangian value ``g``, and swaps by the sum of the two ranks.
    """
    while plans.best_plan is not None and time.perf_counter() < deadline:
        best_open, best_share = plans.best_plan
        current = best_open.copy()
        before = plans.best
        load = best_share.T @ plans.demand
        opened = np.flatnonzero(current)
        opened = opened[np.argsort(load[opened] / plans.capacity[opened])]
        shut = np.flatnonzero(~current)
        shut = shut[np.argsort(g[shut])]
        open_ids: list[int] = opened.tolist()
        shut_ids: list[int] = shut.tolist()
        moves: list[tuple[int | None, int | None]] = [(j, None) for j in open_ids]
        moves += [(None, k) for k in shut_ids]
        pairs = sorted(
            ((a + b, j, k) for a, j in enumerate(open_ids) for b, k in enumerate(shut_ids)),
            key=lambda t: t[0],
        )
        moves += [(j, k) for _, j, k in pairs]
        for close, open_ in moves:
            if time.perf_counter() > deadline:
                return
            trial = current.copy()
            if close is not None:
                trial[close] = False
            if open_ is not None:
                trial[open_] = True
            plans.price(trial)
            if plans.best < before:
                break
        else:
            return  # no move improves: a local optimum


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
    plans = _Plans(fixed, capacity, demand, cost)
    lbound, u = _lagrangian(fixed, capacity, demand, cost, plans, deadline)
    g, _ = _knapsacks(fixed, capacity, demand, cost, u)
    plans.price(_cover(g, capacity, float(demand.sum())) > 0)  # the best multipliers' plan
    _local_search(plans, g, deadline)
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
    fixed_a, cap_a, cost_a = fixed[cols], capacity[cols], cost[:, cols]
    # columns: y (m), then x row-major (client i, facility j) -> m + i*m + j
    n_col = m + n * m
    xi = np.repeat(np.arange(n), m)
    xj = np.tile(np.arange(m), n)
    xcol = m + np.arange(n * m)
    link = n + m + np.arange(n * m)
    total = n + m + n * m
    rows = [xi, n + xj, n + np.arange(m), link, link, np.full(m, total)]
    cols_ = [xcol, xcol, np.arange(m), xcol, xj, np.arange(m)]
    vals = [np.ones(n * m), demand[xi], -cap_a, np.ones(n * m), -np.ones(n * m), cap_a]
    a = sparse.coo_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols_))),
        shape=(total + 1, n_col),
    )
    row_lower = np.concatenate([np.ones(n), np.full(m + n * m, -np.inf), [demand.sum()]])
    row_upper = np.concatenate([np.ones(n), np.zeros(m + n * m), [np.inf]])
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
    pass_model(
        h,
        np.concatenate([fixed_a, cost_a.ravel()]),
        a,
        row_lower,
        row_upper,
        col_lower,
        np.ones(n_col),
        integer,
    )
    if start is not None:
        guess = highspy.HighsSolution()
        guess.col_value = np.concatenate([start[0][cols], start[1][:, cols].ravel()]).tolist()
        guess.value_valid = True
        h.setSolution(guess)
    h.run()
    status_code = h.getModelStatus()
    info = h.getInfo()
    status = {
        highspy.HighsModelStatus.kOptimal: "optimal",
        highspy.HighsModelStatus.kTimeLimit: "time_limit",
        highspy.HighsModelStatus.kInfeasible: "infeasible",
    }.get(status_code, h.modelStatusToString(status_code).lower())
    if status == "infeasible":
        msg = "cflp: HiGHS proved the model infeasible"
        raise InfeasibleError(msg)
    if info.primal_solution_status != 2:
        msg = f"cflp: HiGHS ended with status {status} and no solution"
        raise SolverError(msg)
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
            n_constraints=total + 1,
        ),
    )
