"""Plans for a reduced maximal covering instance: greedy, swaps, and kicks.

Works on a :class:`~planner.optimize.covering_reduce.CoverInstance`; a plan is the array
of its free sites that open. Every move keeps the count, the budget and the groups.

* :func:`greedy` adds the site of largest gain (gain per cost under a budget) until no
  site adds weight, first making room for the groups still unmet;
* :func:`local_search` applies the best of all additions and all swaps (one open site
  for one closed) until none gains: the gains of all swaps come from two sparse products
  per step (the weight only each open site covers, and how much of it each closed
  site covers too);
* :func:`improve` is iterated local search: close a few open sites drawn by a seeded
  generator, refill greedily, search again, keep the result when it is no worse.
  The number of rounds is the work limit, so the plan never depends on the clock.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

from planner.optimize.covering_reduce import CoverInstance

_EPS = 1e-9


def counts(inst: CoverInstance, chosen: np.ndarray) -> np.ndarray:
    """Open sites reaching each row."""
    y = np.zeros(inst.n_sites)
    y[np.asarray(chosen, dtype=np.int64)] = 1.0
    return np.asarray(np.rint(inst.a @ y), dtype=np.int64)


def _reach(inst: CoverInstance, j: int) -> np.ndarray:
    return inst.at.indices[inst.at.indptr[j] : inst.at.indptr[j + 1]]


def greedy(inst: CoverInstance, start: np.ndarray | None = None) -> np.ndarray:
    """Add sites to ``start`` (default: none) while one adds weight or a group needs one.

    Returns
    -------
    numpy.ndarray
        The plan (free-site indices, in the order added); it may miss a group when the
        count or budget leaves no room (the caller checks :meth:`CoverInstance.feasible`).
    """
    chosen = [int(j) for j in (start if start is not None else [])]
    c = counts(inst, np.array(chosen, dtype=np.int64))
    is_chosen = np.zeros(inst.n_sites, dtype=bool)
    is_chosen[chosen] = True
    spent = float(inst.cost[chosen].sum()) if chosen else 0.0
    ratio = inst.budget is not None and bool((inst.cost > 0).any())
    while True:
        slots = np.inf if inst.max_sites is None else inst.max_sites - len(chosen)
        if slots <= 0:
            break
        unmet = _unmet(inst, is_chosen)
        left = np.inf if inst.budget is None else inst.budget - spent
        ok = ~is_chosen & (inst.cost <= left * (1 + 1e-12))
        if len(unmet):
            ok &= _keeps_room(inst, unmet, slots, left)
        gain = inst.at @ (inst.weight * (c == 0))
        if len(unmet) and not (ok & (gain > _EPS)).any():
            ok &= np.asarray(inst.group_of[:, unmet].sum(axis=1)).ravel() > 0.5
        elif not len(unmet):
            ok &= gain > _EPS
        if not ok.any():
            break
        score = gain / np.maximum(inst.cost, _EPS) if ratio else gain
        j = int(np.argmax(np.where(ok, score, -np.inf)))
        chosen.append(j)
        is_chosen[j] = True
        spent += float(inst.cost[j])
        c[_reach(inst, j)] += 1
    return np.array(chosen, dtype=np.int64)


def _unmet(inst: CoverInstance, is_chosen: np.ndarray) -> np.ndarray:
    if not inst.groups:
        return np.zeros(0, dtype=np.int64)
    met = inst.group_of.T @ is_chosen.astype(float)
    return np.flatnonzero(met < 0.5)


def _keeps_room(inst: CoverInstance, unmet: np.ndarray, slots: float, left: float) -> np.ndarray:
    """Per site: after adding it, the unmet groups can still each get a site.

    Conservative: each group still unmet after the site needs a site of its own, at
    the group's cheapest cost.
    """
    g = inst.group_of[:, unmet]
    meets = np.asarray(g.sum(axis=1)).ravel()
    ok = np.ones(inst.n_sites, dtype=bool)
    if np.isfinite(slots):
        ok &= slots - 1 >= len(unmet) - meets - 0.5
    if np.isfinite(left):
        cheapest = np.array([inst.cost[inst.groups[k]].min() for k in unmet])
        still = cheapest.sum() - g @ cheapest
        ok &= inst.cost + still <= left + 1e-9 * max(1.0, abs(left))
    return ok


def local_search(inst: CoverInstance, chosen: np.ndarray) -> tuple[np.ndarray, float, int]:
    """Best addition or swap until none gains; ``(plan, covered weight, moves)``."""
    plan = [int(j) for j in chosen]
    c = counts(inst, np.array(plan, dtype=np.int64))
    is_chosen = np.zeros(inst.n_sites, dtype=bool)
    is_chosen[plan] = True
    value = float(inst.weight @ (c > 0))
    tol = _EPS * max(1.0, float(inst.weight.sum()))
    moves = 0
    while True:
        move = _best_move(inst, plan, c, is_chosen, tol)
        if move is None:
            break
        out, k, delta = move
        if out >= 0:
            j = plan[out]
            plan[out] = k
            is_chosen[j] = False
            c[_reach(inst, j)] -= 1
        else:
            plan.append(k)
        is_chosen[k] = True
        c[_reach(inst, k)] += 1
        value += delta
        moves += 1
    value = float(inst.weight @ (c > 0))
    return np.array(plan, dtype=np.int64), value, moves


def _best_move(
    inst: CoverInstance, plan: list[int], c: np.ndarray, is_chosen: np.ndarray, tol: float
) -> tuple[int, int, float] | None:
    """``(position in plan or -1 for an addition, site in, gain)`` of the best move."""
    w = inst.weight
    gain = inst.at @ (w * (c == 0))
    spent = float(inst.cost[plan].sum()) if plan else 0.0
    left = np.inf if inst.budget is None else inst.budget - spent
    best: tuple[int, int, float] | None = None
    room = inst.max_sites is None or len(plan) < inst.max_sites
    if room:
        add = np.where(~is_chosen & (inst.cost <= left * (1 + 1e-12)), gain, -np.inf)
        k = int(np.argmax(add))
        if add[k] > tol:
            best = (-1, k, float(add[k]))
    if not plan:
        return best
    one = np.flatnonzero(c == 1)
    sub = inst.a[one]
    # the open site of each row reached once, as its position in plan
    pos = np.full(inst.n_sites, -1)
    pos[plan] = np.arange(len(plan))
    entry = (c[inst.nnz_row] == 1) & is_chosen[inst.a.indices]
    owner = pos[inst.a.indices[entry]]
    p_mat = sparse.csr_matrix((w[one], (owner, np.arange(len(one)))), shape=(len(plan), len(one)))
    regain = (p_mat @ sub).toarray()
    loss = np.asarray(p_mat.sum(axis=1)).ravel()
    delta = gain[None, :] + regain - loss[:, None]
    delta[:, is_chosen] = -np.inf
    if inst.budget is not None:
        slack = left + inst.cost[plan]
        delta[inst.cost[None, :] > slack[:, None] * (1 + 1e-12)] = -np.inf
    if inst.groups:
        delta[~_swap_keeps_groups(inst, plan)] = -np.inf
    flat = int(np.argmax(delta))
    a, k = divmod(flat, delta.shape[1])
    if delta[a, k] > tol and (best is None or delta[a, k] > best[2] + tol):
        best = (a, k, float(delta[a, k]))
    return best


def _swap_keeps_groups(inst: CoverInstance, plan: list[int]) -> np.ndarray:
    """``ok[a, k]``: closing ``plan[a]`` and opening ``k`` leaves every group met."""
    g = inst.group_of
    members = g[plan]  # |plan| x groups
    met = np.asarray(members.sum(axis=0)).ravel()
    sole = members.multiply(sparse.csr_matrix((met == 1).astype(float)[None, :]))
    sole = sparse.csr_matrix(sole)
    need = np.asarray(sole.sum(axis=1)).ravel()  # groups only plan[a] meets
    has = (g @ sole.T).toarray().T  # |plan| x n: of those, how many k meets
    return np.asarray(has >= need[:, None] - 0.5)


def improve(
    inst: CoverInstance,
    chosen: np.ndarray,
    *,
    rounds: int,
    kick: int = 3,
    seed: int = 0,
) -> tuple[np.ndarray, float, int]:
    """Iterated local search from ``chosen``; ``(best plan, its weight, moves)``.

    Each round closes ``kick`` open sites drawn by a generator seeded with ``seed``,
    refills greedily and searches again; the round's plan replaces the current one when
    it covers at least as much (so the search drifts across plateaus).
    """
    rng = np.random.default_rng(seed)
    cur, cur_val, moves = local_search(inst, chosen)
    best, best_val = cur.copy(), cur_val
    for _ in range(rounds):
        if len(cur) == 0:
            break
        k = min(kick, len(cur))
        out = rng.choice(len(cur), size=k, replace=False)
        keep = np.delete(cur, out)
        refill = greedy(inst, keep)
        if not inst.feasible(refill):
            continue
        plan, val, m = local_search(inst, refill)
        moves += m
        if val >= cur_val - _EPS * max(1.0, abs(cur_val)):
            cur, cur_val = plan, val
        if val > best_val + _EPS * max(1.0, abs(best_val)):
            best, best_val = plan.copy(), val
    return best, best_val, moves
