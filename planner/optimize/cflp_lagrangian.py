"""The CFLP's Lagrangian phase (see :mod:`~planner.optimize.cflp`): knapsack subproblems,
subgradient steps, plans priced by a transportation LP and improved by local search."""

from __future__ import annotations

import logging
import time

import highspy
import numpy as np
from scipy import sparse

from planner.optimize.arrays import new_highs, pass_model

logger = logging.getLogger(__name__)

#: Subgradient steps at most; the step halves after this many without a better bound.
_MAX_STEPS = 400
_STALL = 20
#: Price the subproblem's open facilities as a plan every this many steps.
_PRICE_EVERY = 10


def transport(
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


class Plans:
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
        res = transport(self.cost, self.demand, self.capacity, open_idx)
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


def knapsacks(
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


def cover(g: np.ndarray, capacity: np.ndarray, total: float) -> np.ndarray:
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


def lagrangian(
    fixed: np.ndarray,
    capacity: np.ndarray,
    demand: np.ndarray,
    cost: np.ndarray,
    plans: Plans,
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
        g, x = knapsacks(fixed, capacity, demand, cost, u)
        y = cover(g, capacity, total)
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


def local_search(plans: Plans, g: np.ndarray, deadline: float) -> None:
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
