"""Township sites chosen again, each given all the others: a local search on a plan.

The greedy (:mod:`~planner.optimize.greedy`) opens one site per township before any
other, each chosen when little else is open. This pass takes a feasible plan and, for each
township with exactly one open site (new, not required), closes that site and opens the
township's site that is worth most now (by value per yuan at its full size, as the greedy
chooses; the same site when it is as good), given every other station of the plan. The
townships are visited in a fixed order and the pass is one unit of work: the result does
not depend on the clock. The plan it returns obeys every rule; it may cover less than the
plan it was given (the caller compares, see :func:`~planner.optimize.mclp.start_plan`).

On the demo county at ``--scale 20`` a pass re-chose 54 of 300 townships' sites; with the
budget it freed spent again and the sizing re-solved, the start rose from 18,357 to
18,391 sessions, and two more passes took it to 18,410 (the optimum is 18,653).
"""

from __future__ import annotations

import time

import numpy as np

from planner.datatypes import SparseTimes
from planner.optimize.greedy import _EPS, Greedy, _Offer
from planner.optimize.rules import CoverageResult, StationRules, indices


def rechoose_townships(
    reach: SparseTimes,
    weight: np.ndarray,
    rules: StationRules,
    plan: CoverageResult,
    *,
    data: Greedy | None = None,
) -> tuple[CoverageResult, int]:
    """One pass over the townships (see the module docstring).

    Parameters
    ----------
    reach, weight, rules
        As in :func:`~planner.optimize.greedy.greedy_stations`.
    plan
        A feasible plan of these rules.
    data
        As in :func:`~planner.optimize.greedy.greedy_stations`.

    Returns
    -------
    tuple
        The plan after the pass, and how many townships changed their site (``plan``
        itself and 0 when a township's site could not be put back).
    """
    t0 = time.perf_counter()
    g = Greedy(reach, weight, rules) if data is None else data
    state = g.resume(plan)
    fixed = set(indices(rules.required).tolist())
    per_yuan = rules.budget is not None
    changed = 0
    for sites in (np.asarray(s, dtype=np.int64) for s in (rules.groups or {}).values()):
        on = sites[state.is_open[sites]]
        if len(on) != 1 or g.existing[on[0]] or int(on[0]) in fixed:
            continue
        j = int(on[0])
        g.drop(state, j)
        best: tuple[float, int, _Offer] | None = None
        for k in sites.tolist():
            if not g.can_add(state, k):
                continue
            offer = g.offer(state, k)
            if offer[0] == -np.inf:
                continue
            score = g._score(offer, per_yuan=per_yuan)
            if best is None or score > best[0] + _EPS or (k == j and score >= best[0] - _EPS):
                best = (score, k, offer)
        if best is None:  # not even j fits again (rounding in the budget): no pass
            return plan, 0
        changed += best[1] != j
        g.take(state, best[1], best[2])
    return g.result(state, time.perf_counter() - t0), changed
