"""The p-median's search (see :mod:`~planner.optimize.pmedian`): the greedy start, then
best-bound branch and bound with a cut loop at every node."""

from __future__ import annotations

import heapq
import logging
import time
from dataclasses import dataclass, field
from typing import Literal

import highspy
import numpy as np

from planner.optimize.arrays import HighsOptions
from planner.optimize.benders import Relaxation, Separator

logger = logging.getLogger(__name__)

#: Candidates examined by strong branching at each node.
_STRONG_CANDIDATES = 4
#: Simplex iterations allowed to each strong-branching probe.
_STRONG_ITERATIONS = 500


def plan_cost(d: np.ndarray, w: np.ndarray, open_idx: np.ndarray) -> tuple[float, np.ndarray]:
    """Cost of the plan opening ``open_idx``, and each client's nearest open facility."""
    sub = d[:, open_idx]
    k = sub.argmin(axis=1)
    return float((w * sub[np.arange(len(d)), k]).sum()), open_idx[k]


def greedy(d: np.ndarray, w: np.ndarray, p: int) -> np.ndarray:
    """Greedy add, then best-improvement swaps until none improves (Teitz & Bart)."""
    best = np.full(d.shape[0], np.inf)
    chosen: list[int] = []
    for _ in range(p):
        gain = (w[:, None] * np.minimum(best[:, None], d)).sum(axis=0)
        gain[chosen] = np.inf
        j = int(gain.argmin())
        chosen.append(j)
        best = np.minimum(best, d[:, j])
    current, _ = plan_cost(d, w, np.array(chosen))
    improved = True
    while improved:
        improved = False
        for pos in range(p):
            rest = np.array(chosen[:pos] + chosen[pos + 1 :], dtype=int)
            base = d[:, rest].min(axis=1) if len(rest) else np.full(d.shape[0], np.inf)
            totals = (w[:, None] * np.minimum(base[:, None], d)).sum(axis=0)
            totals[chosen] = np.inf
            j = int(totals.argmin())
            if totals[j] < current - 1e-9:
                chosen[pos] = j
                current = float(totals[j])
                improved = True
    return np.array(sorted(chosen))


@dataclass(order=True)
class _Node:
    """A subproblem: facilities with ``lo = 1`` are open, those with ``hi = 0`` shut."""

    bound: float
    seq: int
    lo: np.ndarray = field(compare=False)
    hi: np.ndarray = field(compare=False)
    depth: int = field(compare=False, default=0)
    basis: highspy.HighsBasis | None = field(compare=False, default=None)  # the parent's


class Search:
    """Best-bound branch and bound with a cut loop at every node."""

    def __init__(
        self,
        d: np.ndarray,
        w: np.ndarray,
        p: int,
        deadline: float,
        mip_gap: float,
        threads: int | None,
        highs_options: HighsOptions | None,
    ) -> None:
        self.d, self.w, self.p = d, w, p
        self.n = d.shape[1]
        self.deadline = deadline
        self.mip_gap = mip_gap
        # plans' costs are integers: a bound above (best - 1) prunes
        self.integral = bool(
            np.all(np.isfinite(d)) and np.all(w == np.round(w)) and np.all(d == np.round(d))
        )
        self.sep = Separator(d)
        self.lp = Relaxation(w, p, self.n, threads, highs_options)
        self.incumbent = greedy(d, w, p)
        self.ub, _ = plan_cost(d, w, self.incumbent)
        self.n_nodes = 0
        self.strong_iter = 0
        self.pruned_bound = np.inf  # least bound of the nodes pruned so far

    def cutoff(self) -> float:
        """A node whose bound exceeds this holds no plan worth finding."""
        ub = self.ub
        eps = 1e-9 * max(1.0, abs(ub))
        if self.integral and self.mip_gap == 0.0:
            return ub - 1.0 + 1e3 * eps  # margin for the LP's tolerances
        return ub - max(self.mip_gap * abs(ub), eps)

    def proven(self, bound: float) -> float:
        """What a pruned node's bound proves about the plans below it."""
        if self.integral and self.mip_gap == 0.0:
            return float(np.ceil(bound - 1e-6 * max(1.0, abs(bound))))
        return bound

    def prune(self, bound: float) -> None:
        """Record what pruning a node of this bound proves about its plans."""
        # integer costs: bound > cutoff = best - 1 (+ tolerance) leaves nothing below best
        proven = self.ub if self.integral and self.mip_gap == 0.0 else bound
        self.pruned_bound = min(self.pruned_bound, proven)

    def try_plan(self, open_idx: np.ndarray) -> None:
        cost, _ = plan_cost(self.d, self.w, open_idx)
        if cost < self.ub - 1e-9 * max(1.0, abs(self.ub)):
            self.ub, self.incumbent = cost, np.sort(open_idx)
            logger.debug("better plan: %.6g", cost)

    def solve_node(
        self, lo: np.ndarray, hi: np.ndarray, basis: highspy.HighsBasis | None
    ) -> tuple[float, np.ndarray, np.ndarray] | Literal["time"] | None:
        """Cut loop; ``(bound, y, reduced costs)``, None when pruned, "time" at the limit."""
        self.lp.set_bounds(lo, hi)
        if basis is not None:
            self.lp.restore(basis)
        while True:
            if time.perf_counter() > self.deadline:
                return "time"
            optimal, z = self.lp.run(self.cutoff())
            if z > self.cutoff():
                self.prune(z)
                return None
            if not optimal:
                return "time"  # HiGHS stopped early: treat as out of time, keep the node
            y, theta, rc = self.lp.solution()
            cuts = self.sep.cuts(y, theta)
            if not cuts:
                return z, y.copy(), rc.copy()
            self.lp.add(cuts)

    def strong_branch(
        self,
        z: float,
        y: np.ndarray,
        lo: np.ndarray,
        hi: np.ndarray,
        frac: np.ndarray,
        basis: highspy.HighsBasis,
    ) -> tuple[int, float, float] | None:
        """Pick the facility to branch on; fix those with a branch that cannot win.

        Each probe solves the relaxation with the current cuts and the facility shut or
        open: a valid lower bound of that branch. Returns ``(facility, bound if shut,
        bound if open)``, or None when both branches of a facility are pruned.
        """
        h = self.lp.h
        cut = self.cutoff()
        h.setOptionValue("simplex_iteration_limit", _STRONG_ITERATIONS)
        iter0 = self.lp.n_iter
        best, best_score = (-1, z, z), -1.0
        try:
            cand = frac[np.argsort(-np.minimum(y[frac], 1 - y[frac]))[:_STRONG_CANDIDATES]]
            for j in cand.tolist():
                bounds = []
                for v in (0.0, 1.0):
                    h.changeColBounds(j, v, v)
                    optimal, zj = self.lp.run(cut)
                    bounds.append(zj if optimal or zj >= cut else z)
                    h.changeColBounds(j, lo[j], hi[j])
                    h.setBasis(basis)
                down, up = bounds
                if down > cut and up > cut:
                    self.prune(min(down, up))
                    return None
                if down > cut:  # shutting j cannot beat the best plan: keep it open
                    self.prune(down)
                    lo[j] = 1.0
                elif up > cut:
                    self.prune(up)
                    hi[j] = 0.0
                score = max(down - z, 1e-6) * max(up - z, 1e-6)
                if score > best_score and lo[j] != hi[j]:
                    best, best_score = (j, down, up), score
        finally:
            h.setOptionValue("simplex_iteration_limit", 2**31 - 1)
            self.strong_iter += self.lp.n_iter - iter0
        if best[0] < 0:  # every candidate was fixed: branch on the most fractional
            free = frac[lo[frac] != hi[frac]]
            if not len(free):
                return -1, z, z
            best = (int(free[np.argmin(np.abs(y[free] - 0.5))]), z, z)
        return best

    def run(self) -> tuple[str, float]:
        """Search to the end or to the deadline; ``(status, lower bound)``."""
        n, p = self.n, self.p
        y0 = np.zeros(n)
        y0[self.incumbent] = 1.0
        self.lp.add(self.sep.cuts(y0, None))
        every_nearest = float(self.w @ self.d.min(axis=1))  # a bound before any LP
        heap = [_Node(every_nearest, 0, np.zeros(n), np.ones(n))]
        seq = 0
        while heap:
            node = heapq.heappop(heap)
            if node.bound > self.cutoff():
                self.prune(node.bound)
                continue
            lo, hi = node.lo.copy(), node.hi.copy()
            res = self.solve_node(lo, hi, node.basis)
            if res == "time":
                heapq.heappush(heap, node)
                break
            self.n_nodes += 1
            if res is None:
                continue
            z, y, rc = res
            basis = self.lp.basis()
            cut = self.cutoff()
            free = (lo < 0.5) & (hi > 0.5)
            shut = free & (y < 1e-9) & (z + rc > cut)
            hi[shut] = 0.0
            keep = free & (y > 1 - 1e-9) & (z - rc > cut)
            lo[keep] = 1.0
            if node.depth == 0:
                logger.debug(
                    "root: bound %.6g, best plan %.6g, %d cuts; %d shut, %d kept open, %d free",
                    z,
                    self.ub,
                    self.lp.n_cuts,
                    shut.sum(),
                    keep.sum(),
                    ((lo < 0.5) & (hi > 0.5)).sum(),
                )
            self.try_plan(np.argsort(-(y + 2 * lo - 3 * (1 - hi)))[:p])
            frac = np.flatnonzero((y > 1e-6) & (y < 1 - 1e-6))
            if not len(frac):  # integer and no violated cut: exact at this node
                self.try_plan(np.flatnonzero(y > 0.5))
                self.prune(z)
                continue
            choice = self.strong_branch(z, y, lo, hi, frac, basis)
            if choice is None:
                continue
            j, down, up = choice
            if j < 0:  # all fractional facilities got fixed: solve the node again
                seq += 1
                heapq.heappush(heap, _Node(z, seq, lo, hi, node.depth, basis))
                continue
            for v, child_bound in ((1.0, up), (0.0, down)):
                clo, chi = lo.copy(), hi.copy()
                clo[j] = chi[j] = v
                n_open, n_allowed = clo.sum(), chi.sum()
                if n_open > p or n_allowed < p:
                    continue
                if n_open == p or n_allowed == p:  # a single plan left
                    self.try_plan(np.flatnonzero((clo if n_open == p else chi) > 0.5))
                    continue
                seq += 1
                child = _Node(max(z, child_bound), seq, clo, chi, node.depth + 1, basis)
                heapq.heappush(heap, child)
        if not heap:
            return "optimal", min(self.ub, self.pruned_bound)
        open_bound = min(nd.bound for nd in heap)
        return "time_limit", min(self.pruned_bound, self.proven(open_bound))
