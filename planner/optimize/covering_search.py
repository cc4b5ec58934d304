"""Best-bound branch and bound over the sites of a reduced maximal covering instance.

Every node solves the dual-form relaxation of :mod:`~planner.optimize.covering_lp` from
its parent's basis, then:

* reduced-cost fixing: a free site whose opening (or closing) would lower the node's
  bound to the best plan (plus the gap target) is fixed for the node's subtree;
* a relaxation with every free site at 0 or 1 is a plan (and the node is closed);
* otherwise the node branches on a demand row ``i`` whose coverage
  ``c_i = sum_{j in N_i} x_j`` is fractional, the one of largest ``w_i c_i (1 - c_i)``:
  one child needs a site of ``N_i`` open (``sum_{j in D} x_j >= 1`` over its free sites
  ``D``), the other closes them all. Closing a whole neighbourhood moves the bound far
  more than closing one site, whose mass the relaxation simply shifts to its neighbours
  (measured on 1,000 sites x 10,000 points, p = 15: a gap of 0.18% after 150 s instead of
  0.34% when branching on the most fractional site). Without a fractional row, the most
  fractional site is the branch. Both children inherit the node's bound and basis.

At the root, after the relaxation and its rounding, the start plan's search (the
``heuristic`` given) and the same search over the sites the relaxation uses
(:func:`~planner.optimize.covering_heuristic.restricted`) run unless the bound is
already within 0.1% of the plan: on county instances, whose relaxation is nearly
integral, branching closes the rest faster.

Nodes leave the queue best bound first (deeper first on ties, so a node's children
follow it while the relaxation is still warm). The search stops when the queue is
empty or the bound is within the gap target of the best plan ("optimal"), or at the
node limit, the simplex-iteration limit or, as a safety net only, the time limit.
Every few nodes, and at the root, the relaxation is rounded (its open sites, then
greedy and local search) into a plan, and after the root the search over its sites
runs too.
"""

from __future__ import annotations

import heapq
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from planner.optimize.covering_heuristic import greedy, improve, restricted, round_work
from planner.optimize.covering_lp import CLOSED, FREE, OPEN, CoverLP, NodeLP
from planner.optimize.covering_reduce import CoverInstance

logger = logging.getLogger(__name__)

#: A relaxation value this close to 0 or 1 counts as integral.
_INT_TOL = 1e-6
#: Nodes between two roundings of the relaxation into a plan, and the rounds of
#: iterated local search (in typical rounds' work) each rounding gets.
_ROUND_EVERY = 10
_ROUND_WORK = 4.0
#: The start plan's search runs when the root leaves a larger relative gap than this
#: (on the demo county at --scale 50 the root is 0.005% from its greedy rounding, and
#: branching closes it faster than the search would).
_HEURISTIC_GAP = 1e-3
#: Effort of the search over the root relaxation's sites (see
#: :func:`~planner.optimize.covering_heuristic.restricted`), in typical rounds of the
#: smaller instance. On 1,000 sites x 100,000 points, p = 15, 1 s; seeds 1 and 3 gain
#: 0.12% and 0.11% over the whole search's plan.
_SUPPORT_ROUNDS = 60.0
#: The same at every rounding of a node's relaxation after the root (on 1,000 sites x
#: 10,000 points seed 5 it found the optimum after 70 nodes instead of 170).
_NODE_SUPPORT_ROUNDS = 30.0
#: After the root, rows whose coverage is this close to 1 join the relaxation's working
#: set (see :meth:`~planner.optimize.covering_lp.CoverLP.widen`). Measured on 1,000
#: sites x 46,881 rows, 12 nodes: 50k simplex iterations with 0.6 or all rows, 77k when
#: the nodes price their own way from the root's working set.
_WIDEN = 0.6


#: A branch: the fixing and the set rows ``sum_{j in D} x_j >= 1`` in force.
Branch = tuple[np.ndarray, frozenset[int]]
#: A branching: a demand row's free sites (cover them / close them), or a site (-1: none).
Split = tuple[np.ndarray | None, int]
#: A queued node: (-bound, -depth, counter, branch, parent basis).
QueueItem = tuple[float, int, int, Branch, tuple[np.ndarray, np.ndarray]]


@dataclass
class Limits:
    """When the search stops short of its gap target (None: no limit)."""

    mip_gap: float = 0.0
    node_limit: int | None = None
    iteration_limit: int | None = None
    time_limit_s: float | None = None
    #: CPU seconds of this process at which the plan and bound are noted (reports
    #: only; on one thread, the wall seconds of an idle machine)
    checkpoints: tuple[float, ...] = ()


@dataclass
class SearchOutcome:
    """The search's best plan, bound and counts."""

    plan: np.ndarray | None  # free-site indices
    value: float  # covered weight of the plan (reduced instance, no base weight)
    bound: float
    status: str
    nodes: int
    iterations: int
    cuts: int  # demand-row cuts in the relaxation's working set at the end
    root_bound: float
    root_fixed: int  # sites fixed by reduced costs at the root
    #: (checkpoint seconds, nodes, plan value, bound) at each checkpoint passed
    trace: list[tuple[float, int, float, float]] = field(default_factory=list)


class Search:
    """The branch and bound (see the module docstring)."""

    def __init__(
        self,
        inst: CoverInstance,
        plan: np.ndarray | None,
        value: float,
        limits: Limits,
        *,
        threads: int | None = 1,
        heuristic: Callable[[], tuple[np.ndarray | None, float]] | None = None,
    ) -> None:
        self.inst = inst
        self.heuristic = heuristic
        self.limits = limits
        self.plan = plan
        self.value = value if plan is not None else -np.inf
        self.lp = CoverLP(inst, threads=threads)
        self.integral = bool(np.all(inst.weight == np.round(inst.weight)))
        self.nodes = 0
        self.t0 = time.perf_counter()
        self.c0 = time.process_time()
        self.trace: list[tuple[float, int, float, float]] = []
        self._marks = sorted(limits.checkpoints)
        #: (nodes, plan value, bound) as last noted: what was proven by then
        self._last = (0, self.value, float(inst.weight.sum()))
        self.queue: list[QueueItem] = []
        self.counter = 0
        #: the best plan's value before branching (after the root and the heuristic)
        self.start_value = self.value

    def enough(self, bound: float) -> bool:
        """``bound`` cannot beat the best plan by more than the gap target."""
        if self.plan is None:
            return False
        if self.integral:
            bound = np.floor(bound + 1e-6)
        return bound <= self.value + self.limits.mip_gap * abs(self.value) + 1e-9 * max(
            1.0, abs(self.value)
        )

    def _close(self, bound: float, gap: float) -> bool:
        """The best plan is within ``gap`` (and the gap target) of ``bound``."""
        if self.plan is None:
            return False
        return self.enough(bound) or bound <= self.value + gap * abs(self.value)

    def offer(self, plan: np.ndarray) -> None:
        """Keep ``plan`` if it is feasible and better."""
        plan = np.unique(plan)
        if not self.inst.feasible(plan):
            return
        v = self.inst.covered_weight(plan)
        if v > self.value + 1e-9 * max(1.0, abs(v)):
            self.plan, self.value = plan, v
            logger.debug("better plan: %.6g at node %d", v, self.nodes)

    def round(self, node: NodeLP, fix: np.ndarray) -> None:
        """A plan from the relaxation: its (nearly) open sites, greedy without the
        closed ones, then local search (with :data:`_ROUND_WORK` rounds of iterated
        local search while the node's gap is above :data:`_HEURISTIC_GAP`)."""
        start = np.flatnonzero((fix == OPEN) | ((fix == FREE) & (node.x > 0.5)))
        if self.inst.max_sites is not None and len(start) > self.inst.max_sites:
            start = start[np.argsort(-node.x[start], kind="stable")[: self.inst.max_sites]]
        plan = greedy(self.inst, start, avoid=np.flatnonzero(fix == CLOSED))
        if not self.inst.feasible(plan):
            return
        work = 0.0
        if not self._close(node.bound, _HEURISTIC_GAP):
            work = _ROUND_WORK * round_work(self.inst, len(plan))
        plan, _ = improve(self.inst, plan, work=work, seed=self.nodes)
        self.offer(plan)
        if work > 0 and self.nodes > 1:
            x = np.where(fix == CLOSED, 0.0, np.where(fix == OPEN, 1.0, node.x))
            self.support_search(x, _NODE_SUPPORT_ROUNDS, seed=self.nodes)

    def support_search(self, x: np.ndarray, rounds: float, *, seed: int) -> None:
        """Offer the plan of :func:`~planner.optimize.covering_heuristic.restricted` over
        the sites the relaxation ``x`` uses and those of the best plan."""
        cand = np.flatnonzero(x > _INT_TOL)
        if self.plan is not None:
            cand = np.union1d(cand, self.plan)
        plan, _ = restricted(self.inst, cand, rounds=rounds, seed=seed)
        if plan is not None:
            self.offer(plan)

    def stop_reason(self) -> str | None:
        lim = self.limits
        if lim.node_limit is not None and self.nodes >= lim.node_limit:
            return "node_limit"
        if lim.iteration_limit is not None and self.lp.iterations >= lim.iteration_limit:
            return "work_limit"
        if lim.time_limit_s is not None and time.perf_counter() - self.t0 >= lim.time_limit_s:
            return "time_limit"
        return None

    def _solve(self, branch: Branch, basis: tuple[np.ndarray, np.ndarray] | None) -> NodeLP:
        lim = self.limits
        seconds = np.inf
        if lim.time_limit_s is not None:
            seconds = lim.time_limit_s - (time.perf_counter() - self.t0)
        iterations = None
        if lim.iteration_limit is not None:
            iterations = lim.iteration_limit - self.lp.iterations
        fix, active = branch
        return self.lp.solve(fix, basis, active=active, seconds=seconds, iterations=iterations)

    def run(self) -> SearchOutcome:
        """Search until the gap target is proven or a limit strikes."""
        fix0 = np.full(self.inst.n_sites, FREE, dtype=np.int8)
        root = self._solve((fix0, frozenset()), None)
        if root.status == "infeasible":
            return self._outcome("infeasible", -np.inf, root.bound, 0)
        if root.status != "optimal":  # a limit struck in the root's relaxation
            trivial = float(self.inst.weight.sum())
            return self._outcome(root.status, trivial, trivial, 0)
        self.nodes = 1
        self.lp.widen(root.x, _WIDEN)
        self.round(root, fix0)
        if self.heuristic is not None and not self._close(root.bound, _HEURISTIC_GAP):
            plan, _ = self.heuristic()  # the start plan's search, when the root leaves a gap
            if plan is not None:
                self.offer(plan)
            self.support_search(root.x, _SUPPORT_ROUNDS, seed=0)
        self.start_value = self.value
        fix0, root_fixed = self._fix(root, fix0)
        self._children(root, (fix0, frozenset()), 0)
        self._mark()
        status = "optimal"
        while self.queue:
            if self.enough(-self.queue[0][0]):
                break
            reason = self.stop_reason()
            if reason is not None:
                status = reason
                break
            item = heapq.heappop(self.queue)
            node = self._solve(item[3], item[4])
            self.nodes += 1
            if node.status in ("time_limit", "work_limit"):
                status = node.status
                heapq.heappush(self.queue, item)
                break
            self._process(node, item[3], -item[1])
            if self.nodes % 100 == 0:
                self._note()
            self._mark()
        self._mark()
        bound = max((-q[0] for q in self.queue), default=-np.inf)
        if self.plan is not None:
            bound = max(bound, self.value)
        if self.integral and np.isfinite(bound):
            bound = max(float(np.floor(bound + 1e-6)), self.value)
        if self.plan is None and not self.queue and status == "optimal":
            status = "infeasible"
        return self._outcome(status, bound, root.bound, root_fixed)

    def _process(self, node: NodeLP, branch: Branch, depth: int) -> None:
        """Prune, round, fix and branch one solved node."""
        if node.status == "infeasible" or self.enough(node.bound):
            return
        fix, active = branch
        if self.nodes % _ROUND_EVERY == 0:
            self.round(node, fix)
            if self.enough(node.bound):
                return
        fix, _ = self._fix(node, fix)
        self._children(node, (fix, active), depth)

    def _children(self, node: NodeLP, branch: Branch, depth: int) -> None:
        """Queue the node's children with its bound and basis (none if its relaxation
        is a plan)."""
        split = self._branch(node, branch)
        if split is None:
            return
        basis = self.lp.basis()
        for kid in self._pair(branch, split):
            heapq.heappush(self.queue, (-node.bound, -(depth + 1), self.counter, kid, basis))
            self.counter += 1

    def _pair(self, branch: Branch, split: Split) -> tuple[Branch, Branch]:
        """The two children of ``split`` (a demand row's split adds its set column)."""
        fix, active = branch
        sites, j = split
        if sites is None:
            one, zero = fix.copy(), fix.copy()
            one[j], zero[j] = OPEN, CLOSED
            return (one, active), (zero, active)
        closed = fix.copy()
        closed[sites] = CLOSED
        return (fix, active | {self.lp.add_set(sites)}), (closed, active)

    def _fix(self, node: NodeLP, fix: np.ndarray) -> tuple[np.ndarray, int]:
        """Reduced-cost fixing under the best plan; ``(new fixing, sites fixed)``."""
        if self.plan is None:
            return fix, 0
        free = fix == FREE
        close = free & (node.x < _INT_TOL) & self._enough_vec(node.bound - node.slack)
        opened = free & (node.x > 1 - _INT_TOL) & self._enough_vec(node.bound - node.upper)
        if not (close.any() or opened.any()):
            return fix, 0
        fix = fix.copy()
        fix[close] = CLOSED
        fix[opened] = OPEN
        return fix, int(close.sum() + opened.sum())

    def _enough_vec(self, bounds: np.ndarray) -> np.ndarray:
        if self.integral:
            bounds = np.floor(bounds + 1e-6)
        tol = self.limits.mip_gap * abs(self.value) + 1e-9 * max(1.0, abs(self.value))
        return bounds <= self.value + tol

    def _branch(self, node: NodeLP, branch: Branch) -> Split | None:
        """The split of a node, or None when its relaxation is a plan."""
        fix, _ = branch
        free = fix == FREE
        x = np.where(fix == OPEN, 1.0, np.where(free, node.x, 0.0))
        frac = free & (x > _INT_TOL) & (x < 1 - _INT_TOL)
        if not frac.any():
            self.offer(np.flatnonzero(x > 0.5))
            return None
        a = self.inst.a
        c = a @ x
        rows = (c > _INT_TOL) & (c < 1 - _INT_TOL)
        if not rows.any():
            return None, int(np.argmax(np.where(frac, np.minimum(x, 1 - x) + 1e-3 * x, -1.0)))
        i = int(np.argmax(np.where(rows, self.inst.weight * c * (1 - c), -1.0)))
        sites = a.indices[a.indptr[i] : a.indptr[i + 1]]
        sites = sites[free[sites]]
        return (None, int(sites[0])) if len(sites) == 1 else (sites, -1)

    def _mark(self) -> None:
        """Note plan and bound at the checkpoints passed (reports only).

        A checkpoint passed during the last step gets the state noted before that step,
        so it never shows a plan or bound found after its time.
        """
        elapsed = time.process_time() - self.c0
        while self._marks and elapsed >= self._marks[0]:
            self.trace.append((self._marks.pop(0), *self._last))
        bound = max(-self.queue[0][0], self.value) if self.queue else self.value
        self._last = (self.nodes, self.value, bound)

    def _note(self) -> None:
        best_open = -self.queue[0][0] if self.queue else -np.inf
        logger.info(
            "node %d: plan %.6g, bound %.6g, %d open, %d simplex iterations, %.1f s",
            self.nodes,
            self.value,
            best_open,
            len(self.queue),
            self.lp.iterations,
            time.perf_counter() - self.t0,
        )

    def _outcome(self, status: str, bound: float, root_bound: float, fixed: int) -> SearchOutcome:
        return SearchOutcome(
            plan=self.plan,
            value=self.value if self.plan is not None else -np.inf,
            bound=bound,
            status=status,
            nodes=self.nodes,
            iterations=self.lp.iterations,
            cuts=int((self.lp.lam_col >= 0).sum()),
            root_bound=root_bound,
            root_fixed=fixed,
            trace=self.trace,
        )
