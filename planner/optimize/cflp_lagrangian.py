r"""The CFLP's Lagrangian relaxation (see :mod:`~planner.optimize.cflp`).

Relaxing the assignment rows ``sum_j x_ij = 1`` with multipliers ``u_i`` splits the
problem by facility: facility ``j``'s best use is the continuous knapsack

    g_j(u) = f_j + min { sum_i (c_ij - u_i) x_ij : sum_i d_i x_ij <= s_j, 0 <= x <= 1 }

filled greedily by ``(c_ij - u_i) / d_i``, and the facilities open to minimise
``sum_j g_j y_j`` subject to the capacity cover ``sum_j s_j y_j >= sum_i d_i``. That cover
is solved exactly when the facilities it chooses among have one capacity (the OR-Library
case: the cheapest ``k``), and in its linear relaxation otherwise, which still bounds.
``L(u) = sum_i u_i + sum_j g_j y_j`` bounds every plan whose facilities obey the fixings
``lo`` (kept open) and ``free`` (the others are shut), and subgradient steps (Held, Wolfe
& Crowder 1974) raise it. For the same ``u``, ``L`` with one facility forced open or
shut is the cover's value with that facility forced: a bound on every plan that flips it.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Protocol

import numpy as np

#: The step halves after this many steps without a better bound; ascent stops below
#: the smallest step.
_STALL = 8
_MIN_STEP = 1e-3


class Incumbent(Protocol):
    """What the ascent needs of the plans found so far: the best cost, and pricing."""

    best: float

    def price(self, is_open: np.ndarray) -> float:
        """Cost of the plan opening ``is_open`` (inf when it lacks capacity)."""


@dataclass(frozen=True)
class Instance:
    """A CFLP's data: per facility, per client, and the (clients, facilities) costs."""

    fixed: np.ndarray
    capacity: np.ndarray
    demand: np.ndarray
    cost: np.ndarray

    @property
    def total(self) -> float:
        """The clients' total demand."""
        return float(self.demand.sum())


@dataclass
class Relaxed:
    """The Lagrangian subproblem solved at one ``u``: bound, facility values, choices."""

    value: float
    u: np.ndarray
    g: np.ndarray  # per facility; inf where shut by the fixings
    y: np.ndarray  # the cover's choice, in [0, 1]
    rows: np.ndarray  # the knapsacks' shares x_ij > 0, as triplets (i, j, x_ij)
    cols: np.ndarray
    frac: np.ndarray

    def served(self) -> np.ndarray:
        """``sum_j x_ij y_j`` per client: 1 where the relaxation serves it exactly."""
        n = len(self.u)
        return np.bincount(self.rows, weights=self.frac * self.y[self.cols], minlength=n)


def knapsacks(
    inst: Instance, u: np.ndarray, alive: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Every live facility's continuous knapsack at multipliers ``u``.

    Returns ``g`` (inf for facilities not alive) and the shares as triplets
    ``(rows, cols, frac)``: client, facility, share of the client's demand.
    """
    m = len(inst.fixed)
    live = np.arange(m) if alive is None else np.flatnonzero(alive)
    red = inst.cost[:, live] - u[:, None]
    i, jj = np.nonzero(red < 0)
    r = red[i, jj]
    d = inst.demand[i]
    ratio = np.divide(r, d, out=np.full(len(r), -np.inf), where=d > 0)
    order = np.lexsort((ratio, jj))
    i, jj, r, d = i[order], jj[order], r[order], d[order]
    used = np.cumsum(d)
    first = np.searchsorted(jj, np.arange(len(live)))
    before = used - d - np.concatenate([[0.0], used])[first][jj]
    room = inst.capacity[live][jj] - before
    frac = np.clip(np.divide(room, d, out=(room >= 0) * 1.0, where=d > 0), 0.0, 1.0)
    g = np.full(m, np.inf)
    g[live] = inst.fixed[live] + np.bincount(jj, weights=r * frac, minlength=len(live))
    keep = frac > 0
    return g, i[keep], live[jj[keep]], frac[keep]


def cover(
    g: np.ndarray, capacity: np.ndarray, need: float, lo: np.ndarray, free: np.ndarray
) -> np.ndarray | None:
    """``y`` minimising ``g y`` with ``capacity y >= need``, ``lo`` open, others in ``free``.

    Exact (0/1) when the free facilities still to choose from share one capacity;
    otherwise the linear relaxation (greedy by ``g / capacity``). None when even every
    allowed facility lacks the capacity.
    """
    y = lo.astype(float)
    y[free & (g < 0)] = 1.0
    short = need - float(capacity @ y)
    if short <= 1e-9 * need:
        return y
    cand = np.flatnonzero(free & (y == 0) & (capacity > 0))
    q = capacity[cand]
    if q.sum() < short * (1 - 1e-12):
        return None
    if np.all(q == q[0]):
        count = math.ceil(short / q[0] - 1e-9)
        y[cand[np.argsort(g[cand], kind="stable")[:count]]] = 1.0
        return y
    order = cand[np.argsort(g[cand] / q, kind="stable")]
    before = np.cumsum(capacity[order]) - capacity[order]
    y[order] = np.clip((short - before) / capacity[order], 0.0, 1.0)
    return y


def relax(inst: Instance, u: np.ndarray, lo: np.ndarray, free: np.ndarray) -> Relaxed | None:
    """The Lagrangian subproblem at ``u`` under the fixings (None: capacity falls short)."""
    g, rows, cols, frac = knapsacks(inst, u, lo | free)
    y = cover(g, inst.capacity, inst.total, lo, free)
    if y is None:
        return None
    on = y > 0
    value = float(u.sum() + g[on] @ y[on])
    return Relaxed(value, u, g, y, rows, cols, frac)


def penalties(
    inst: Instance, rel: Relaxed, lo: np.ndarray, free: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """How much ``L`` rises when each free facility is forced open, or forced shut.

    Returns ``(to_open, to_shut)``; 0 where the relaxation already has it so, inf where
    forcing it leaves too little capacity or the facility is not free.
    """
    m = len(inst.fixed)
    to_open, to_shut = np.full(m, np.inf), np.full(m, np.inf)
    on = rel.y > 0
    base = float(rel.g[on] @ rel.y[on])
    for j in np.flatnonzero(free):
        for forced_open, out in ((True, to_open), (False, to_shut)):
            if rel.y[j] == (1.0 if forced_open else 0.0):
                out[j] = 0.0
                continue
            lo_j, free_j = lo.copy(), free.copy()
            free_j[j] = False
            lo_j[j] = forced_open
            y = cover(rel.g, inst.capacity, inst.total, lo_j, free_j)
            if y is not None:
                on_j = y > 0
                out[j] = float(rel.g[on_j] @ y[on_j]) - base
    return to_open, to_shut


@dataclass
class Ascent:
    """Subgradient settings: steps at most, the first step size, pricing every k steps."""

    steps: int
    step: float = 1.0
    price_every: int = 0


def ascend(
    inst: Instance,
    u: np.ndarray,
    lo: np.ndarray,
    free: np.ndarray,
    plans: Incumbent,
    how: Ascent,
    *,
    tol: float,
    deadline: float = math.inf,
) -> tuple[Relaxed, np.ndarray] | None:
    """Raise ``L`` by subgradient steps aimed at the best plan's cost (Polyak's rule).

    Stops once ``L`` comes within ``tol`` of the best plan, or after ``how.steps`` steps,
    or when the step has shrunk away, or at the ``deadline`` (``time.perf_counter()``, a
    safety net). ``how.price_every`` > 0 prices every that many
    steps the subproblem's open facilities as a plan (the Lagrangian heuristic).

    Returns
    -------
    (Relaxed, ndarray) or None
        The best relaxation and a running average of the cover's ``y`` (which facilities
        the relaxation keeps wanting), or None when the fixings leave too little capacity.
    """
    rel = relax(inst, u, lo, free)
    if rel is None:
        return None
    best, ybar = rel, rel.y
    step, stall = how.step, 0
    for it in range(max(how.steps, 1)):
        if it > 0:
            rel = relax(inst, u, lo, free)
            if rel is None:
                return None
            ybar = 0.9 * ybar + 0.1 * rel.y
            if rel.value > best.value:
                best, stall = rel, 0
            else:
                stall += 1
                if stall >= _STALL:
                    step, stall = step / 2, 0
        if how.price_every and it % how.price_every == 0:
            plans.price(rel.y > 0)
        if best.value >= plans.best - tol or step < _MIN_STEP:
            break
        if time.perf_counter() > deadline:
            break
        sub = 1.0 - rel.served()
        norm = float(sub @ sub)
        if norm < 1e-12:  # the knapsacks serve every client exactly: L is a plan's cost
            break
        target = plans.best if math.isfinite(plans.best) else rel.value + 0.05 * abs(rel.value)
        u = u + step * (target - rel.value) / norm * sub
    return best, ybar


def start_multipliers(inst: Instance) -> np.ndarray:
    """Each client's cheapest cost with the facility's fixed cost spread over its capacity."""
    spread = inst.fixed[None, :] * inst.demand[:, None] / np.maximum(inst.capacity, 1e-12)
    out: np.ndarray = (inst.cost + spread).min(axis=1)
    return out
