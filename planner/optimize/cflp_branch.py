"""Branch and bound over the CFLP's facilities with Lagrangian bounds (see
:mod:`~planner.optimize.cflp` and :mod:`~planner.optimize.cflp_lagrangian`).

A node fixes some facilities open (``lo``) and leaves others free (the rest are shut).
Its bound is the best ``L(u)`` that subgradient steps reach from its parent's ``u``; its
subproblem's open set is priced as a plan. A free facility whose flip raises ``L``
beyond the best plan keeps its state (fixing by Lagrangian penalties). A node whose
bound reaches the best plan is closed; a node with no free facility is one plan, priced
exactly. Otherwise it branches on the free facility the subproblem is most undecided
about, depth first. Every step is counted, none timed: the same data give the same
plan and bound; the time limit only stops the search, and then says so.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field

import numpy as np

from planner.optimize.cflp_heuristic import Plans, local_search
from planner.optimize.cflp_lagrangian import (
    Ascent,
    Instance,
    Relaxed,
    ascend,
    penalties,
    start_multipliers,
)

logger = logging.getLogger(__name__)

#: Subgradient steps: at the root before the local search, at the root after it, and at
#: every other node (warm started from its parent's multipliers).
ROOT = Ascent(steps=300, step=2.0, price_every=10)
ROOT_AGAIN = Ascent(steps=300, step=1.0)
NODE = Ascent(steps=60, step=1.0)


@dataclass
class Node:
    """Facilities fixed open, facilities still free, and the parent's bound and ``u``."""

    lo: np.ndarray
    free: np.ndarray
    u: np.ndarray
    bound: float


@dataclass
class Search:
    """The tree search's settings, state and outcome."""

    gap: float  # relative gap at which a node closes
    deadline: float  # time.perf_counter() value at which the search stops
    bound: float = math.inf  # the least bound of the parts of the tree closed so far
    nodes: int = 0
    priced_local: int = 0
    stack: list[Node] = field(default_factory=list)
    finished: bool = False

    def close(self, bound: float) -> None:
        """A part of the tree is closed with this bound."""
        self.bound = min(self.bound, bound)

    def open_bound(self) -> float:
        """The least bound of the parts not yet explored."""
        return min((n.bound for n in self.stack), default=math.inf)


def branch_and_bound(inst: Instance, plans: Plans, *, gap: float, deadline: float) -> Search:
    """Solve the splittable CFLP to the relative ``gap``; the best plan ends in ``plans``.

    Parameters
    ----------
    inst
        The data.
    plans
        Prices plans and keeps the best.
    gap
        Relative gap at which a node closes (0: prove optimality, up to 1e-10).
    deadline
        ``time.perf_counter()`` value at which the search stops (a safety net).

    Returns
    -------
    Search
        ``bound`` is a proven lower bound on every plan (with the unexplored nodes'
        bounds when the deadline stopped the search, ``finished`` False).
    """
    search = Search(gap, deadline)
    m = len(inst.fixed)
    root = Node(np.zeros(m, dtype=bool), np.ones(m, dtype=bool), start_multipliers(inst), -np.inf)
    root.u, root.bound = _root(inst, plans, root, search)
    search.stack.append(root)
    while search.stack:
        if time.perf_counter() > deadline:
            search.close(search.open_bound())
            return search
        node = search.stack.pop()
        search.nodes += 1
        _expand(inst, plans, node, search)
    search.finished = True
    return search


def _tol(plans: Plans, search: Search) -> float:
    """How close a bound must come to the best plan to close a node."""
    return max(search.gap, 1e-10) * max(abs(plans.best), 1.0) if math.isfinite(plans.best) else 0.0


def _root(inst: Instance, plans: Plans, root: Node, search: Search) -> tuple[np.ndarray, float]:
    """The root's ascent, pricing plans on the way, then the local search from the best."""
    res = ascend(
        inst,
        root.u,
        root.lo,
        root.free,
        plans,
        ROOT,
        tol=_tol(plans, search),
        deadline=search.deadline,
    )
    if res is None:  # the caller checked the total capacity; kept for safety
        return root.u, math.inf
    rel, _ = res
    plans.price(rel.y > 0)
    search.priced_local = local_search(
        plans,
        root.free,
        (float(rel.u.sum()), rel.g),
        tol=_tol(plans, search),
        deadline=search.deadline,
    )
    logger.debug(
        "root: bound %.10g, plan %.10g after %d local moves",
        rel.value,
        plans.best,
        search.priced_local,
    )
    return rel.u, rel.value


def _expand(inst: Instance, plans: Plans, node: Node, search: Search) -> None:
    """Bound a node, fix what its penalties allow, and close it or push its children."""
    how = ROOT_AGAIN if search.nodes == 1 else NODE
    while True:
        if not node.free.any():  # one plan left: its transportation LP is exact
            search.close(plans.price(node.lo))
            return
        res = ascend(
            inst,
            node.u,
            node.lo,
            node.free,
            plans,
            how,
            tol=_tol(plans, search),
            deadline=search.deadline,
        )
        if res is None:  # not enough capacity left
            return
        rel, ybar = res
        node.u, node.bound = rel.u, max(node.bound, rel.value)
        plans.price(rel.y > 0)
        tol = _tol(plans, search)
        if node.bound >= plans.best - tol:
            search.close(node.bound)
            return
        fixed = _fix(inst, rel, node, search, plans.best - tol)
        if fixed is None:
            return
        if not fixed:
            break
        how = NODE
    _branch(node, ybar, search)


def _fix(inst: Instance, rel: Relaxed, node: Node, search: Search, cutoff: float) -> bool | None:
    """Fix the free facilities whose flip would lift the bound to ``cutoff``.

    Returns whether any was fixed, or None when one facility can neither open nor shut
    below the cutoff (the node holds no better plan and is closed).
    """
    to_open, to_shut = penalties(inst, rel, node.lo, node.free)
    flip_open = rel.value + to_open
    flip_shut = rel.value + to_shut
    keep_shut = node.free & (flip_open >= cutoff)
    keep_open = node.free & (flip_shut >= cutoff)
    both = keep_shut & keep_open
    if both.any():
        search.close(float(np.minimum(flip_open, flip_shut)[both].min()))
        return None
    if not (keep_shut | keep_open).any():
        return False
    search.close(float(np.concatenate([flip_open[keep_shut], flip_shut[keep_open]]).min()))
    node.lo = node.lo | keep_open
    node.free = node.free & ~(keep_shut | keep_open)
    return True


def _branch(node: Node, ybar: np.ndarray, search: Search) -> None:
    """Two children on the free facility whose average choice is nearest one half."""
    cand = np.flatnonzero(node.free)
    j = cand[np.argmin(np.abs(ybar[cand] - 0.5))]
    free = node.free.copy()
    free[j] = False
    opened = node.lo.copy()
    opened[j] = True
    shut = Node(node.lo, free, node.u, node.bound)
    open_ = Node(opened, free.copy(), node.u, node.bound)
    # depth first, the child the relaxation leans to explored first (pushed last)
    search.stack += [shut, open_] if ybar[j] >= 0.5 else [open_, shut]
