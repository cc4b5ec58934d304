"""Capacitated facility location: the Lagrangian pieces by hand, and plans by enumeration."""

import itertools
import time

import numpy as np
import pytest

from planner.optimize.cflp import (
    _cover,
    _knapsacks,
    _lagrangian,
    _Plans,
    _transport,
    capacitated_fl,
)


def test_transport_fills_the_cheap_facility_first():
    # three clients of demand 4; facility 0 (capacity 6) is cheap, facility 1 (capacity 20)
    # dear: the cheapest split sends 6 units to 0, taken where 0 saves most (client 2)
    demand = np.array([4.0, 4.0, 4.0])
    capacity = np.array([6.0, 20.0])
    cost = np.array([[1.0, 3.0], [1.0, 4.0], [1.0, 9.0]])  # cost of a client's whole demand
    value, share = _transport(cost, demand, capacity, np.array([0, 1]))
    # client 2 all at 0 (saves 8), client 1 half at 0 (saves 3 per whole), client 0 at 1
    assert value == pytest.approx(1 + 0.5 * 1 + 0.5 * 4 + 3)
    assert np.allclose(share, [[0, 1], [0.5, 0.5], [1, 0]])
    assert _transport(cost, demand, capacity, np.array([0])) is None  # 6 < 12


def test_knapsack_takes_best_ratio_first():
    # one facility of capacity 5 and fixed cost 10; with u = 6 the reduced costs of
    # serving clients (demands 2, 4, 3) are -5, -4, +1: client 0 (ratio -2.5) fully,
    # then 3/4 of client 1 (ratio -1); client 2 not at all
    cost = np.array([[1.0], [2.0], [7.0]])
    g, x = _knapsacks(
        np.array([10.0]), np.array([5.0]), np.array([2.0, 4.0, 3.0]), cost, np.full(3, 6.0)
    )
    assert np.allclose(x[:, 0], [1.0, 0.75, 0.0])
    assert g[0] == pytest.approx(10 - 5 - 0.75 * 4)


def test_cover_opens_negative_then_cheapest_per_capacity():
    g = np.array([-1.0, 4.0, 1.0, 3.0])
    capacity = np.array([2.0, 10.0, 2.0, 4.0])
    # facility 0 (negative) opens; 8 more units: by g per capacity 1 (0.4), 3 (0.75), 2 (0.5)
    y = _cover(g, capacity, 10.0)
    assert np.allclose(y, [1.0, 0.8, 0.0, 0.0])


def _enumerate(fixed, capacity, demand, cost):
    best = np.inf
    for k in range(1, len(fixed) + 1):
        for s in itertools.combinations(range(len(fixed)), k):
            res = _transport(cost, demand, capacity, np.array(s))
            if res is not None:
                best = min(best, fixed[list(s)].sum() + res[0])
    return best


@pytest.mark.parametrize("seed", range(4))
def test_matches_enumeration_of_open_sets(seed):
    rng = np.random.default_rng(seed)
    m, n = 6, 15
    fixed = rng.integers(20, 80, m).astype(float)
    capacity = rng.integers(15, 40, m).astype(float)
    demand = rng.integers(1, 8, n).astype(float)
    cost = rng.integers(1, 30, (n, m)) * demand[:, None]
    best = _enumerate(fixed, capacity, demand, cost)
    for heuristic in (True, False):  # with the Lagrangian phase and fixing, and without
        r = capacitated_fl(fixed, capacity, demand, cost, heuristic=heuristic)
        assert r.info.status == "optimal"
        assert r.info.objective == pytest.approx(best)
        assert r.info.bound == pytest.approx(best)
        load = (r.share * demand[:, None]).sum(axis=0)
        assert (load <= capacity * r.open + 1e-6).all() and np.allclose(r.share.sum(axis=1), 1)
        plan = fixed[r.open].sum() + (r.share * cost).sum()
        assert plan == pytest.approx(r.info.objective)


def test_lagrangian_bound_below_and_plans_above_the_optimum():
    rng = np.random.default_rng(11)
    m, n = 5, 12
    fixed = rng.integers(20, 80, m).astype(float)
    capacity = rng.integers(15, 40, m).astype(float)
    demand = rng.integers(1, 8, n).astype(float)
    cost = rng.integers(1, 30, (n, m)) * demand[:, None]
    best = _enumerate(fixed, capacity, demand, cost)
    plans = _Plans(fixed, capacity, demand, cost)
    bound, _ = _lagrangian(fixed, capacity, demand, cost, plans, time.perf_counter() + 5)
    assert bound <= best + 1e-6 <= plans.best + 2e-6
