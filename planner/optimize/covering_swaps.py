"""Best-improvement local search for a maximal covering plan: additions and swaps.

A swap closes the open site ``j`` and opens ``k``; its gain is::

    gain_k + regain_jk - loss_j

with ``gain_k`` the weight of the rows ``k`` reaches that no open site reaches,
``loss_j`` the weight of the rows only ``j`` reaches, and ``regain_jk`` the part of the
latter that ``k`` reaches too. The three are kept up to date move by move: a move
changes the open-site counts only on the rows the two sites reach, so only those rows'
contributions are taken out and put back (two small sparse products), instead of a pass
over the whole matrix (about 10x faster on 1,000 sites x 47,000 rows). The search
applies the best move (an addition while the count and budget allow one) until none
gains; every move keeps the count, the budget and the groups.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse

from planner.optimize.covering_reduce import CoverInstance

_EPS = 1e-9
#: Work units charged per numpy call on top of the entries it touches.
CALL = 500_000


@dataclass
class Work:
    """Deterministic effort of the heuristics: matrix entries and candidate moves
    examined (plus :data:`CALL` per step), so a budget of it never depends on the clock."""

    spent: float = 0.0

    def add(self, units: float) -> None:
        """Charge ``units`` (and the per-call charge)."""
        self.spent += units + CALL


class SwapSearch:
    """The incremental state of the local search from one plan."""

    def __init__(self, inst: CoverInstance, plan: np.ndarray, work: Work | None = None) -> None:
        self.inst = inst
        self.work = Work() if work is None else work
        self.plan = [int(j) for j in plan]
        n, m = inst.n_sites, inst.a.shape[0]
        y = np.zeros(n)
        y[self.plan] = 1.0
        self.c = np.asarray(np.rint(inst.a @ y), dtype=np.int64)
        self.is_open = y > 0.5
        self.slot = np.full(n, -1, dtype=np.int64)
        self.slot[self.plan] = np.arange(len(self.plan))
        self.gain = np.zeros(n)
        self.regain = np.zeros((len(self.plan), n))
        self.loss = np.zeros(len(self.plan))
        self._contribute(np.arange(m), 1.0)
        self.work.add(inst.a.nnz + len(self.plan) * n)
        self.tol = _EPS * max(1.0, float(inst.weight.sum()))

    def _contribute(self, rows: np.ndarray, sign: float) -> None:
        """Add (``sign`` 1) or take out (-1) the terms of ``rows`` under the state."""
        inst = self.inst
        sub = inst.a[rows]
        w = inst.weight[rows]
        c = self.c[rows]
        self.gain += sign * (sub.T @ (w * (c == 0)))
        lens = np.diff(sub.indptr)
        entry = np.repeat(c == 1, lens) & self.is_open[sub.indices]
        once = np.flatnonzero(c == 1)
        if len(once) == 0:
            return
        slot = self.slot[sub.indices[entry]]  # one open site per row reached once
        p_mat = sparse.csr_matrix((w[once], (slot, once)), shape=(len(self.plan), len(rows)))
        self.regain += sign * (p_mat @ sub).toarray()
        self.loss += sign * np.bincount(slot, weights=w[once], minlength=len(self.plan))

    def _reach(self, j: int) -> np.ndarray:
        at = self.inst.at
        return at.indices[at.indptr[j] : at.indptr[j + 1]]

    def apply(self, out: int, k: int) -> None:
        """Open ``k`` in place of ``plan[out]`` (``out`` -1: add ``k``)."""
        j = self.plan[out] if out >= 0 else -1
        rows = self._reach(k) if j < 0 else np.union1d(self._reach(j), self._reach(k))
        self.work.add(2 * len(rows) * self.inst.a.nnz / max(self.inst.a.shape[0], 1))
        self._contribute(rows, -1.0)
        if j >= 0:
            self.c[self._reach(j)] -= 1
            self.is_open[j] = False
            self.slot[j] = -1
            self.plan[out] = k
            self.slot[k] = out
        else:
            self.plan.append(k)
            self.slot[k] = len(self.plan) - 1
            self.regain = np.vstack([self.regain, np.zeros((1, self.inst.n_sites))])
            self.loss = np.append(self.loss, 0.0)
        self.c[self._reach(k)] += 1
        self.is_open[k] = True
        self._contribute(rows, 1.0)

    def best_move(self) -> tuple[int, int, float] | None:
        """``(position in the plan or -1 for an addition, site in, gain)``, or None."""
        inst, plan = self.inst, self.plan
        self.work.add(len(plan) * inst.n_sites)
        spent = float(inst.cost[plan].sum()) if plan else 0.0
        left = np.inf if inst.budget is None else inst.budget - spent
        best: tuple[int, int, float] | None = None
        if inst.max_sites is None or len(plan) < inst.max_sites:
            add = np.where(~self.is_open & (inst.cost <= left * (1 + 1e-12)), self.gain, -np.inf)
            k = int(np.argmax(add))
            if add[k] > self.tol:
                best = (-1, k, float(add[k]))
        if not plan:
            return best
        delta = self.gain[None, :] + self.regain - self.loss[:, None]
        delta[:, self.is_open] = -np.inf
        if inst.budget is not None:
            slack = left + inst.cost[plan]
            delta[inst.cost[None, :] > slack[:, None] * (1 + 1e-12)] = -np.inf
        if inst.groups:
            delta[~swap_keeps_groups(inst, plan)] = -np.inf
        a, k = divmod(int(np.argmax(delta)), delta.shape[1])
        if delta[a, k] > self.tol and (best is None or delta[a, k] > best[2] + self.tol):
            best = (a, k, float(delta[a, k]))
        return best


def swap_keeps_groups(inst: CoverInstance, plan: list[int]) -> np.ndarray:
    """``ok[a, k]``: closing ``plan[a]`` and opening ``k`` leaves every group met."""
    g = inst.group_of
    members = g[plan]  # |plan| x groups
    met = np.asarray(members.sum(axis=0)).ravel()
    sole = sparse.csr_matrix(members.multiply(sparse.csr_matrix((met == 1).astype(float)[None, :])))
    need = np.asarray(sole.sum(axis=1)).ravel()  # groups only plan[a] meets
    has = (g @ sole.T).toarray().T  # |plan| x n: of those, how many k meets
    return np.asarray(has >= need[:, None] - 0.5)


def local_search(
    inst: CoverInstance, chosen: np.ndarray, work: Work | None = None
) -> tuple[np.ndarray, float, int]:
    """Best addition or swap until none gains; ``(plan, covered weight, moves)``.

    The effort is charged to ``work`` (it does not stop the search)."""
    state = SwapSearch(inst, chosen, work)
    moves = 0
    while (move := state.best_move()) is not None:
        state.apply(move[0], move[1])
        moves += 1
    plan = np.array(state.plan, dtype=np.int64)
    return plan, float(inst.weight @ (state.c > 0)), moves
