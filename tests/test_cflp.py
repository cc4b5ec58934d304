"""Capacitated facility location: the Lagrangian pieces by hand, the branch and bound
against enumeration of open sets, and the fixings and local search against brute force."""

import itertools
from pathlib import Path

import numpy as np
import pytest

from planner.optimize.cflp import capacitated_fl
from planner.optimize.cflp_heuristic import Plans, local_search, transport
from planner.optimize.cflp_lagrangian import (
    Ascent,
    Instance,
    ascend,
    cover,
    knapsacks,
    penalties,
    relax,
    start_multipliers,
)


def test_transport_fills_the_cheap_facility_first():
    # three clients of demand 4; facility 0 (capacity 6) is cheap, facility 1 (capacity 20)
    # dear: the cheapest split sends 6 units to 0, taken where 0 saves most (client 2)
    demand = np.array([4.0, 4.0, 4.0])
    capacity = np.array([6.0, 20.0])
    cost = np.array([[1.0, 3.0], [1.0, 4.0], [1.0, 9.0]])  # cost of a client's whole demand
    value, share = transport(cost, demand, capacity, np.array([0, 1]))
    # client 2 all at 0 (saves 8), client 1 half at 0 (saves 3 per whole), client 0 at 1
    assert value == pytest.approx(1 + 0.5 * 1 + 0.5 * 4 + 3)
    assert np.allclose(share, [[0, 1], [0.5, 0.5], [1, 0]])
    assert transport(cost, demand, capacity, np.array([0])) is None  # 6 < 12


def test_knapsack_takes_best_ratio_first():
    # one facility of capacity 5 and fixed cost 10; with u = 6 the reduced costs of
    # serving clients (demands 2, 4, 3) are -5, -4, +1: client 0 (ratio -2.5) fully,
    # then 3/4 of client 1 (ratio -1); client 2 not at all
    inst = Instance(
        np.array([10.0]),
        np.array([5.0]),
        np.array([2.0, 4.0, 3.0]),
        np.array([[1.0], [2.0], [7.0]]),
    )
    g, rows, cols, frac = knapsacks(inst, np.full(3, 6.0))
    x = np.zeros((3, 1))
    x[rows, cols] = frac
    assert np.allclose(x[:, 0], [1.0, 0.75, 0.0])
    assert g[0] == pytest.approx(10 - 5 - 0.75 * 4)


def test_knapsacks_of_shut_facilities_are_left_out():
    inst = Instance(np.array([1.0, 2.0]), np.array([9.0, 9.0]), np.ones(2), np.zeros((2, 2)))
    g, _, cols, _ = knapsacks(inst, np.ones(2), np.array([False, True]))
    assert np.isinf(g[0]) and g[1] == pytest.approx(2 - 2)
    assert set(cols) == {1}


def test_cover_one_capacity_is_exact():
    # need 25 of capacity 10 each: the 3 cheapest of the positive ones, plus the negative
    g = np.array([-1.0, 4.0, 1.0, 3.0, 2.0])
    capacity = np.full(5, 10.0)
    free = np.ones(5, dtype=bool)
    y = cover(g, capacity, 35.0, np.zeros(5, dtype=bool), free)
    assert np.array_equal(y, [1, 0, 1, 1, 1])
    # facility 1 kept open counts towards the need; facility 2 shut
    lo = np.array([False, True, False, False, False])
    free = np.array([True, False, False, True, True])
    y = cover(g, capacity, 35.0, lo, free)
    assert np.array_equal(y, [1, 1, 0, 1, 1])
    assert cover(g, capacity, 45.0, lo, free) is None  # 40 is all there is


def test_cover_mixed_capacities_is_the_linear_relaxation():
    g = np.array([-1.0, 4.0, 1.0, 3.0])
    capacity = np.array([2.0, 10.0, 2.0, 4.0])
    # facility 0 (negative) opens; 8 more units by g per capacity: 1 (0.4), 2 (0.5), 3 (0.75)
    y = cover(g, capacity, 10.0, np.zeros(4, dtype=bool), np.ones(4, dtype=bool))
    assert np.allclose(y, [1.0, 0.8, 0.0, 0.0])


def _random(seed, m=6, n=15, *, equal=False):
    rng = np.random.default_rng(seed)
    fixed = rng.integers(20, 80, m).astype(float)
    capacity = np.full(m, 25.0) if equal else rng.integers(15, 40, m).astype(float)
    demand = rng.integers(1, 8, n).astype(float)
    cost = rng.integers(1, 30, (n, m)) * demand[:, None]
    return fixed, capacity, demand, cost


def _enumerate(fixed, capacity, demand, cost, must=None):
    """The cheapest plan over every open set (with ``must(set)`` true, if given)."""
    best = np.inf
    for k in range(1, len(fixed) + 1):
        for s in itertools.combinations(range(len(fixed)), k):
            if must is not None and not must(set(s)):
                continue
            res = transport(cost, demand, capacity, np.array(s))
            if res is not None:
                best = min(best, fixed[list(s)].sum() + res[0])
    return best


@pytest.mark.parametrize(("seed", "equal"), [(0, False), (1, False), (2, True), (3, True)])
def test_matches_enumeration_of_open_sets(seed, equal):
    fixed, capacity, demand, cost = _random(seed, equal=equal)
    best = _enumerate(fixed, capacity, demand, cost)
    for heuristic in (True, False):  # the Lagrangian branch and bound, and HiGHS alone
        r = capacitated_fl(fixed, capacity, demand, cost, heuristic=heuristic)
        assert r.info.status == "optimal"
        assert r.info.objective == pytest.approx(best)
        assert r.info.bound == pytest.approx(best)
        load = (r.share * demand[:, None]).sum(axis=0)
        assert (load <= capacity * r.open + 1e-6).all() and np.allclose(r.share.sum(axis=1), 1)
        plan = fixed[r.open].sum() + (r.share * cost).sum()
        assert plan == pytest.approx(r.info.objective)


def _root(fixed, capacity, demand, cost, steps=200):
    inst = Instance(fixed, capacity, demand, cost)
    plans = Plans(fixed, capacity, demand, cost)
    m = len(fixed)
    lo, free = np.zeros(m, dtype=bool), np.ones(m, dtype=bool)
    rel, _ = ascend(inst, start_multipliers(inst), lo, free, plans, Ascent(steps, 2.0, 5), tol=0.0)
    return inst, plans, rel, lo, free


@pytest.mark.parametrize("equal", [False, True])
def test_lagrangian_bound_below_and_plans_above_the_optimum(equal):
    fixed, capacity, demand, cost = _random(11, 5, 12, equal=equal)
    best = _enumerate(fixed, capacity, demand, cost)
    _, plans, rel, _, _ = _root(fixed, capacity, demand, cost)
    assert rel.value <= best + 1e-6 <= plans.best + 2e-6
    assert rel.value > 0.9 * best  # and the bound is of some use


@pytest.mark.parametrize("equal", [False, True])
def test_penalties_bound_every_plan_that_flips_a_facility(equal):
    fixed, capacity, demand, cost = _random(5, 5, 12, equal=equal)
    inst, _, rel, lo, free = _root(fixed, capacity, demand, cost, steps=30)
    to_open, to_shut = penalties(inst, rel, lo, free)
    for j in range(len(fixed)):
        with_j = _enumerate(fixed, capacity, demand, cost, must=lambda s, j=j: j in s)
        without = _enumerate(fixed, capacity, demand, cost, must=lambda s, j=j: j not in s)
        assert rel.value + to_open[j] <= with_j + 1e-6
        assert rel.value + to_shut[j] <= without + 1e-6
        # the penalty is the bound of the relaxation with j forced
        lo_j, free_j = lo.copy(), free.copy()
        lo_j[j], free_j[j] = True, False
        assert relax(inst, rel.u, lo_j, free_j).value == pytest.approx(rel.value + to_open[j])


def test_local_search_reaches_a_plan_no_single_move_improves():
    fixed, capacity, demand, cost = _random(7, 6, 15)
    plans = Plans(fixed, capacity, demand, cost)
    plans.price(np.ones(6, dtype=bool))  # start from everything open
    # no bound (all weights 0, constant -inf): every move is worth pricing
    local_search(plans, np.ones(6, dtype=bool), (-np.inf, np.zeros(6)), tol=0.0)
    current = plans.best_plan[0]
    for j, k in itertools.product(range(-1, 6), range(-1, 6)):
        trial = current.copy()
        if j >= 0:
            trial[j] = False
        if k >= 0:
            trial[k] = True
        assert plans.price(trial) >= plans.best - 1e-9


def test_same_data_same_answer_and_a_time_limit_says_so():
    fixed, capacity, demand, cost = _random(4, 8, 30, equal=True)
    a = capacitated_fl(fixed, capacity, demand, cost, heuristic=True)
    b = capacitated_fl(fixed, capacity, demand, cost, heuristic=True)
    assert np.array_equal(a.open, b.open) and np.array_equal(a.share, b.share)
    assert (a.info.objective, a.info.bound) == (b.info.objective, b.info.bound)
    stopped = capacitated_fl(fixed, capacity, demand, cost, heuristic=True, time_limit_s=0.0)
    assert stopped.info.status == "time_limit"
    assert stopped.info.bound <= a.info.objective + 1e-6 <= stopped.info.objective + 2e-6
    assert np.allclose(stopped.share.sum(axis=1), 1)


def test_capacity_short_of_demand_is_infeasible():
    from planner.errors import InfeasibleError

    with pytest.raises(InfeasibleError):
        capacitated_fl(np.ones(2), np.ones(2), np.full(3, 1.0), np.ones((3, 2)), heuristic=True)


CFLP = Path(__file__).resolve().parents[2] / "shared" / "bench" / "cflp"


@pytest.mark.skipif(not CFLP.is_dir(), reason=f"benchmark instances not found at {CFLP}")
@pytest.mark.parametrize(
    ("name", "optimum"),
    [("cap63", 1014062.05), ("cap84", 1069369.525), ("cap113", 970567.75), ("cap131", 793439.562)],
)
def test_branch_and_bound_on_published_optima(name, optimum):
    from benchmarks.instances import read_cap

    r = capacitated_fl(*read_cap(CFLP / f"{name}.txt"), heuristic=True)
    assert r.info.status == "optimal" and r.info.gap < 1e-9
    assert r.info.objective == pytest.approx(optimum, abs=1e-3)
