r"""A feasible station plan built greedily: the start of the covering models' first pass.

At county scale the covering models are solved to a proven gap by HiGHS; on the largest
counties (hundreds of thousands of road nodes, tens of thousands of demand points) the
solver can reach its limits before it finds a good plan of its own, and a plan that
covers a few percent of the sessions must never be what a county gets. So the coverage
pass starts from this plan, and the model returns it whenever the solver finds nothing
better (:func:`~planner.optimize.mclp.mclp`).

The plan obeys every rule of :class:`~planner.optimize.rules.StationRules`: existing and
required sites open first, then one site for each township that has none, then sites one
at a time by covered demand (or covered demand per yuan when a budget binds; both are
tried and the better plan kept), within ``max_sites``, the budget and the substations'
headroom. An open site serves the demand in its reach that is not yet served, nearest
first, up to the capacity of ``max_chargers`` chargers (or of what the budget and headroom
leave), and gets the fewest chargers that carry that load (at least ``min_chargers``).
Without sizing a site serves all of its reach. Gains only fall as demand is served, so
the gains are evaluated lazily (Minoux's accelerated greedy): the plan is the same as with
full re-evaluation, at a fraction of the work.

A township's site opens with the fewest chargers (the greedy adds more later where they
pay), but is chosen by what it would be worth at its full size, by the same measure as
the later sites (value, or value per yuan). Choosing it by what it covers at the fewest
chargers ignores the site's cost: at ``min_chargers`` many sites of a township cover the
same sessions, and on the demo county at ``--scale 20`` (300 townships, 320 M budget)
that took sites costing 186 M where the cheapest cost 148 M, and the plan covered 15,976
sessions against an optimum of 18,653 (now 18,040; with 100 m demand 13,957, now
17,817, against a bound of 18,458).

:mod:`~planner.optimize.greedy_moves` grows a given plan the same way and chooses its
township sites again (the start of the coverage pass,
:func:`~planner.optimize.mclp.start_plan`). Both are built from the steps of
:class:`~planner.optimize.greedy_steps.Greedy`.
"""

from __future__ import annotations

import time

import numpy as np

from planner.datatypes import SparseTimes
from planner.optimize.greedy_steps import EPS, Greedy
from planner.optimize.rules import CoverageResult, StationRules


def greedy_stations(
    reach: SparseTimes,
    weight: np.ndarray,
    rules: StationRules,
    *,
    chargers: np.ndarray | None = None,
    data: Greedy | None = None,
) -> CoverageResult | None:
    """A feasible plan of the covering model, built greedily (see the module docstring).

    Parameters
    ----------
    reach
        Demand x site pairs within the cutoff.
    weight
        ``w_i``, the value of serving demand ``i``.
    rules
        The station rules (sizing, budget, limits, fixed and existing sites, townships).
    chargers
        Chargers per site: the required sites open with at most these (e.g. those of a
        plan of a smaller budget, so that the plan fits and the greedy adds to it); the
        greedy may add chargers to them later.
    data
        :class:`Greedy` of the same reach, weights and rules (None: built here).

    Returns
    -------
    CoverageResult or None
        The better of the two greedy plans (by value, and by value per yuan when a
        budget is set); None when the rules leave no plan the greedy can build (e.g. a
        township it cannot afford) or the plan misses ``min_cover``.
    """
    t0 = time.perf_counter()
    g = Greedy(reach, weight, rules) if data is None else data
    best: CoverageResult | None = None
    for per_yuan in (False, True) if rules.budget is not None else (False,):
        state = g.start()
        if not g.fixed(state, chargers, per_yuan=per_yuan):
            return None
        g.grow(state, per_yuan=per_yuan)
        res = g.result(state, time.perf_counter() - t0)
        if best is None or (res.info.objective or 0.0) > (best.info.objective or 0.0) + EPS:
            best = res
    assert best is not None
    if rules.min_cover is not None and (best.info.objective or 0.0) < rules.min_cover:
        return None
    return best
