"""The CFLP's plans (see :mod:`~planner.optimize.cflp`): an open set priced exactly by
its transportation LP, and a local search over opening, closing and swapping facilities
that tries moves in the order of their Lagrangian bounds."""

from __future__ import annotations

import logging
import math
import time

import highspy
import numpy as np
from scipy import sparse

from planner.optimize.arrays import new_highs, pass_model

logger = logging.getLogger(__name__)

#: Local search: moves priced per pass at most (the most promising first), and in all.
_PER_PASS = 40
_MAX_PRICED = 400


def transport(
    cost: np.ndarray,
    demand: np.ndarray,
    capacity: np.ndarray,
    open_idx: np.ndarray,
    *,
    threads: int | None = None,
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
    h = new_highs(np.inf, threads)
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
    """The best plan found so far; plans are open sets priced by the transportation LP.

    Prices are remembered, so a set is priced once however often it comes back.
    """

    def __init__(
        self,
        fixed: np.ndarray,
        capacity: np.ndarray,
        demand: np.ndarray,
        cost: np.ndarray,
        *,
        threads: int | None = None,
    ) -> None:
        self.fixed, self.capacity, self.demand, self.cost = fixed, capacity, demand, cost
        self.threads = threads
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
        res = transport(self.cost, self.demand, self.capacity, open_idx, threads=self.threads)
        value = np.inf
        if res is not None:
            value = float(self.fixed[open_idx].sum()) + res[0]
            if value < self.best:
                logger.debug(
                    "plan %.10g (%d open, %d priced)", value, len(open_idx), len(self.seen)
                )
                share = np.zeros_like(self.cost)
                share[:, open_idx] = res[1]
                self.best, self.best_plan = value, (is_open.copy(), share)
        self.seen[key] = value
        return value


def moves(
    current: np.ndarray, allowed: np.ndarray, capacity: np.ndarray, need: float, w: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The moves one close, one open or one swap away that keep enough capacity.

    Only facilities in ``allowed`` change state. A plan's bound is a constant plus the
    weights ``w`` of its open facilities, so a move changes it by the weights it adds
    and drops.

    Returns
    -------
    close, open, change
        Per move, the facility closed and the one opened (-1: none), and the change of
        the bound.
    """
    opened = np.flatnonzero(current & allowed)
    shut = np.flatnonzero(~current & allowed)
    spare = float(capacity @ current) - need
    drop = opened[capacity[opened] <= spare]
    jj = np.repeat(opened, len(shut))
    kk = np.tile(shut, len(opened))
    fits = capacity[kk] - capacity[jj] >= -spare
    jj, kk = jj[fits], kk[fits]
    close = np.concatenate([drop, np.full(len(shut), -1), jj])
    open_ = np.concatenate([np.full(len(drop), -1), shut, kk])
    change = np.concatenate([-w[drop], w[shut], w[kk] - w[jj]])
    return close, open_, change


def local_search(
    plans: Plans,
    allowed: np.ndarray,
    bound: tuple[float, np.ndarray],
    *,
    tol: float,
    deadline: float = math.inf,
) -> int:
    """First-improvement search over closing, opening and swapping one facility.

    ``bound = (const, w)``: ``const + w @ is_open`` bounds a plan's cost from below (a
    Lagrangian bound with the open set fixed). Moves are priced in the order of that
    bound, at most :data:`_PER_PASS` a pass, and none whose bound cannot beat the best
    plan by ``tol``. The search stops at a local optimum or after :data:`_MAX_PRICED`
    prices (or at the ``deadline``, a safety net).

    Returns
    -------
    int
        The number of plans priced.
    """
    const, w = bound
    priced = 0
    while plans.best_plan is not None and priced < _MAX_PRICED:
        current, before = plans.best_plan[0], plans.best
        close, open_, change = moves(current, allowed, plans.capacity, float(plans.demand.sum()), w)
        base = const + float(w[current].sum())
        for t in np.argsort(change, kind="stable")[:_PER_PASS]:
            if base + change[t] >= plans.best - tol or priced >= _MAX_PRICED:
                return priced
            if time.perf_counter() > deadline:
                return priced
            trial = current.copy()
            if close[t] >= 0:
                trial[close[t]] = False
            if open_[t] >= 0:
                trial[open_[t]] = True
            priced += 1
            plans.price(trial)
            if plans.best < before - tol:
                break
        else:
            return priced  # no move among the most promising improves
    return priced
