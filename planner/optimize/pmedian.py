r"""p-median by branch-and-Benders-cut, with HiGHS solving the linear programs.

The classic p-median model (ReVelle & Swain 1970) has one assignment variable per
client-facility pair: n^2 columns, which is what makes it slow to build and to solve for
n = 900. Projecting the assignments out gives the Benders reformulation (following
Duran-Mateluna, Ales & Elloumi, "An efficient Benders decomposition for the p-median
problem", EJOR 2023)::

    min  sum_i w_i theta_i
    s.t. sum_j y_j = p
         theta_i >= D - sum_{j: d_ij < D} (D - d_ij) y_j     for every client i and
                                                              every distance D of row i
         y_j in {0, 1}

For a given ``y`` the most violated cut of client ``i`` is found in closed form: ``D``
is the smallest distance at which the ``y`` of the facilities no farther than ``D``
sum to at least 1. With all its cuts, the linear relaxation of this model has the
classic model's bound.

The search is our own best-bound branch and bound over the facilities. Every node
solves its linear relaxation with cuts generated until none is violated, so each node's
bound is the classic model's bound under the node's fixings (an integer master problem
solved by a MIP solver only knows the cuts added so far, and its bounds are much
weaker). At each node:

* reduced-cost fixing: a facility at 0 whose reduced cost lifts the node's bound past
  the best plan's cost stays shut below the node (and one at 1 stays open);
* strong branching on the most fractional facilities, which also fixes a facility when
  one of its two branches cannot beat the best plan;
* rounding the relaxation to a plan.

The starting plan is greedy addition then interchange (Teitz & Bart 1968). When every
``w_i d_ij`` is an integer, so is every plan's cost, and a node is pruned as soon as its
bound exceeds the best cost minus 1.
"""

from __future__ import annotations

import heapq
import logging
import time
from dataclasses import dataclass, field
from typing import Literal

import highspy
import numpy as np

from planner.datatypes import SolveInfo
from planner.optimize.arrays import HighsOptions, new_highs
from planner.optimize.highs import silence_highs_banner

logger = logging.getLogger(__name__)

_TOL = 1e-7
#: Candidates examined by strong branching at each node.
_STRONG_CANDIDATES = 4
#: Simplex iterations allowed to each strong-branching probe.
_STRONG_ITERATIONS = 500

Cut = tuple[int, float, np.ndarray, np.ndarray]  # client, D, facility indices, coefficients


@dataclass
class PMedianResult:
    """Open facilities, assignment and the solver report."""

    open: np.ndarray  # bool per facility
    assign: np.ndarray  # facility index per client
    objective: float
    info: SolveInfo


def _cost(d: np.ndarray, w: np.ndarray, open_idx: np.ndarray) -> tuple[float, np.ndarray]:
    sub = d[:, open_idx]
    k = sub.argmin(axis=1)
    return float((w * sub[np.arange(len(d)), k]).sum()), open_idx[k]


def _greedy(d: np.ndarray, w: np.ndarray, p: int) -> np.ndarray:
    """Greedy add, then best-improvement swaps until none improves (Teitz & Bart)."""
    best = np.full(d.shape[0], np.inf)
    chosen: list[int] = []
    for _ in range(p):
        gain = (w[:, None] * np.minimum(best[:, None], d)).sum(axis=0)
        gain[chosen] = np.inf
        j = int(gain.argmin())
        chosen.append(j)
        best = np.minimum(best, d[:, j])
    current, _ = _cost(d, w, np.array(chosen))
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


class _Separator:
    """Closed-form Benders cuts for all clients at once."""

    def __init__(self, d: np.ndarray) -> None:
        self.order = np.argsort(d, axis=1, kind="stable")
        self.dsorted = np.take_along_axis(d, self.order, axis=1)

    def cuts(self, y: np.ndarray, theta: np.ndarray | None) -> list[Cut]:
        """The most violated cut of every client whose ``theta`` is below it at ``y``.

        With ``theta`` None, every client's cut at ``y``.
        """
        ys = y[self.order]
        t = np.argmax(np.cumsum(ys, axis=1) >= 1.0 - 1e-9, axis=1)
        dstar = self.dsorted[np.arange(len(t)), t]
        coef = np.maximum(dstar[:, None] - self.dsorted, 0.0)
        value = dstar - (coef * ys).sum(axis=1)
        if theta is None:
            rows = np.arange(len(t))
        else:
            rows = np.flatnonzero(theta < value - _TOL * np.maximum(1.0, np.abs(value)))
        out = []
        for i in rows:
            k = int(np.searchsorted(self.dsorted[i], dstar[i], side="left"))  # strictly nearer
            out.append((int(i), float(dstar[i]), self.order[i, :k], coef[i, :k]))
        return out


@dataclass(order=True)
class _Node:
    """A subproblem: facilities with ``lo = 1`` are open, those with ``hi = 0`` shut."""

    bound: float
    seq: int
    lo: np.ndarray = field(compare=False)
    hi: np.ndarray = field(compare=False)
    depth: int = field(compare=False, default=0)
    basis: highspy.HighsBasis | None = field(compare=False, default=None)  # the parent's


class _Relaxation:
    """The Benders master's linear relaxation in HiGHS, with its growing cut pool."""

    def __init__(
        self,
        w: np.ndarray,
        p: int,
        n: int,
        threads: int | None,
        highs_options: HighsOptions | None,
    ) -> None:
        self.n = n
        self.n_cuts = 0
        self.n_lp = 0
        self.n_iter = 0
        h = new_highs(np.inf, threads)
        for key, value in (highs_options or {}).items():
            h.setOptionValue(key, value)
        none_i = np.array([], dtype=np.int32)
        none_f = np.array([], dtype=float)
        m = len(w)
        # columns: y_0..y_{n-1}, theta_0..theta_{m-1}
        h.addCols(n, np.zeros(n), np.zeros(n), np.ones(n), 0, none_i, none_i, none_f)
        h.addCols(m, w, np.zeros(m), np.full(m, highspy.kHighsInf), 0, none_i, none_i, none_f)
        h.addRow(p, p, n, np.arange(n, dtype=np.int32), np.ones(n))
        self.h = h
        self.all_y = np.arange(n, dtype=np.int32)

    def add(self, cuts: list[Cut]) -> None:
        """Add cuts ``theta_i + sum_j (D - d_ij) y_j >= D`` as rows."""
        if not cuts:
            return
        n = self.n
        starts = np.cumsum([0] + [len(fac) + 1 for _, _, fac, _ in cuts[:-1]])
        idx = np.concatenate([np.append(fac, n + i) for i, _, fac, _ in cuts])
        val = np.concatenate([np.append(coef, 1.0) for _, _, _, coef in cuts])
        self.h.addRows(
            len(cuts),
            np.array([ds for _, ds, _, _ in cuts]),
            np.full(len(cuts), highspy.kHighsInf),
            len(idx),
            starts.astype(np.int32),
            idx.astype(np.int32),
            val,
        )
        self.n_cuts += len(cuts)

    def set_bounds(self, lo: np.ndarray, hi: np.ndarray) -> None:
        """Bounds of every ``y``."""
        self.h.changeColsBounds(self.n, self.all_y, lo, hi)

    def run(self, cutoff: float) -> tuple[bool, float]:
        """Solve; ``(solved to optimality, objective)``.

        The objective is ``inf`` when the bounds leave no solution, and above ``cutoff``
        when the dual simplex proves the optimum exceeds ``cutoff`` and stops there
        (HiGHS checks that bound with the exact, unperturbed costs).
        """
        self.h.setOptionValue("objective_bound", cutoff)
        self.h.run()
        self.n_lp += 1
        self.n_iter += self.h.getInfo().simplex_iteration_count
        status = self.h.getModelStatus()
        if status == highspy.HighsModelStatus.kInfeasible:
            return False, np.inf
        z = self.h.getInfo().objective_function_value
        if status == highspy.HighsModelStatus.kObjectiveBound:
            return False, max(np.nextafter(cutoff, np.inf), z)
        return status == highspy.HighsModelStatus.kOptimal, z

    def basis(self) -> highspy.HighsBasis:
        """The current basis."""
        return self.h.getBasis()

    def restore(self, basis: highspy.HighsBasis) -> None:
        """Start from ``basis``; cuts added since it was taken start basic."""
        extra = self.h.getNumRow() - len(basis.row_status)
        if extra > 0:
            start = highspy.HighsBasis()
            start.col_status = basis.col_status
            start.row_status = list(basis.row_status) + [highspy.HighsBasisStatus.kBasic] * extra
            start.valid = True
            basis = start
        self.h.setBasis(basis)

    def solution(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``y``, ``theta`` and the reduced costs of ``y``."""
        sol = self.h.getSolution()
        x = np.asarray(sol.col_value)
        return x[: self.n], x[self.n :], np.asarray(sol.col_dual)[: self.n]


def p_median(
    d: np.ndarray,
    weights: np.ndarray,
    p: int,
    *,
    time_limit_s: float = 60.0,
    mip_gap: float = 0.0,
    threads: int | None = None,
    highs_options: HighsOptions | None = None,
) -> PMedianResult:
    """Solve the p-median problem exactly by branch-and-Benders-cut.

    Parameters
    ----------
    d
        Dense client x facility cost matrix (travel times or distances).
    weights
        Client weights.
    p
        Number of facilities to open.
    time_limit_s
        Wall-clock limit for the whole solve; the best plan found is returned, with
        status ``time_limit`` and its gap.
    mip_gap
        Relative gap at which to stop (0: proven optimal).
    threads
        HiGHS threads.
    highs_options
        Further HiGHS options for the linear programs.

    Returns
    -------
    PMedianResult
        Open facilities, assignment, objective, and status/bound/gap/timings. The status
        is ``optimal`` when the search has closed the gap to ``mip_gap``; with
        ``mip_gap`` 0 the gap is then exactly 0 when every ``w_i d_ij`` is an integer
        (plans' costs are integers), and below 1e-9 relative otherwise (reported as 0).
    """
    t0 = time.perf_counter()
    silence_highs_banner()
    d = np.asarray(d, dtype=float)
    w = np.asarray(weights, dtype=float)
    m, n = d.shape
    if not 1 <= p <= n:
        msg = f"p must be between 1 and the number of facilities ({n}), got {p}"
        raise ValueError(msg)
    search = _Search(d, w, p, t0 + time_limit_s, mip_gap, threads, highs_options)
    status, lb = search.run()
    is_open = np.zeros(n, dtype=bool)
    is_open[search.incumbent] = True
    objective, assign = _cost(d, w, np.flatnonzero(is_open))
    lb = min(lb, objective)
    gap = max(0.0, (objective - lb) / max(abs(objective), 1e-9))
    if status == "optimal" and gap <= 1e-9:
        lb, gap = objective, 0.0  # closed to the search's tolerance
    elif status == "optimal" and gap > mip_gap:
        status = "not_optimal"  # not expected: the search ended with the gap open
    seconds = time.perf_counter() - t0
    logger.info(
        "p-median n=%d p=%d: %s, objective %.6g, bound %.6g, %d cuts, %d nodes, %d LPs "
        "(%d simplex iterations, %d in strong branching), %.2f s",
        n,
        p,
        status,
        objective,
        lb,
        search.lp.n_cuts,
        search.n_nodes,
        search.lp.n_lp,
        search.lp.n_iter,
        search.strong_iter,
        seconds,
    )
    info = SolveInfo(
        model="p_median",
        solver="highs",
        status=status,
        objective=objective,
        bound=lb,
        gap=gap,
        seconds=seconds,
        build_seconds=0.0,
        n_variables=n + m,
        n_constraints=1 + search.lp.n_cuts,
    )
    return PMedianResult(open=is_open, assign=assign, objective=objective, info=info)


class _Search:
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
        self.sep = _Separator(d)
        self.lp = _Relaxation(w, p, self.n, threads, highs_options)
        self.incumbent = _greedy(d, w, p)
        self.ub, _ = _cost(d, w, self.incumbent)
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
        cost, _ = _cost(self.d, self.w, open_idx)
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
