"""Small facility-location cases with hand-computed optima."""

import itertools

import numpy as np
import pytest

from planner.config import SolverSection
from planner.datatypes import SparseTimes
from planner.errors import InfeasibleError
from planner.optimize import Sizing, lscp, mclp

HIGHS = SolverSection(name="highs", mip_gap=0.0)
CBC = SolverSection(name="cbc", mip_gap=0.0)

# demand A..E with weights; site 0 covers A,B; 1 covers B,C; 2 covers D,E; 3 covers C,D
W = np.array([10.0, 5.0, 8.0, 3.0, 4.0])
PAIRS = [(0, 0), (1, 0), (1, 1), (2, 1), (3, 2), (4, 2), (2, 3), (3, 3)]


def reach(pairs=PAIRS, shape=(5, 4)) -> SparseTimes:
    r, c = np.array(pairs).T
    return SparseTimes(r, c, np.ones(len(pairs)), shape)


@pytest.mark.parametrize("solver", [HIGHS, CBC], ids=["highs", "cbc"])
@pytest.mark.parametrize(
    ("kwargs", "best", "sites"),
    [
        ({"max_sites": 1}, 15.0, [0]),
        ({"max_sites": 2}, 26.0, [0, 3]),
        ({"budget": 7.0}, 22.0, [0, 2]),  # costs 5,3,2,4: {0,3} costs 9, too much
        ({"max_sites": 2, "groups": {"T": np.array([1, 2])}}, 23.0, [0, 1]),
    ],
)
def test_mclp_hand_computed(solver, kwargs, best, sites):
    res = mclp(reach(), W, site_cost=np.array([5.0, 3.0, 2.0, 4.0]), solver=solver, **kwargs)
    assert res.info.objective == pytest.approx(best)
    assert res.info.status == "optimal"
    assert res.info.gap == pytest.approx(0.0, abs=1e-9)
    assert sorted(np.flatnonzero(res.open)) == sites
    assert (W * res.covered).sum() == pytest.approx(best)


def test_mclp_matches_brute_force():
    rng = np.random.default_rng(3)
    n_dem, n_site, p = 40, 10, 3
    pairs = sorted(
        {
            (int(i), int(j))
            for i, j in zip(rng.integers(0, n_dem, 90), rng.integers(0, n_site, 90), strict=True)
        }
    )
    w = rng.uniform(1, 10, n_dem)
    r = reach(pairs, (n_dem, n_site))
    cover = [set() for _ in range(n_site)]
    for i, j in pairs:
        cover[j].add(i)
    brute = max(
        sum(w[i] for i in set().union(*(cover[j] for j in combo)))
        for combo in itertools.combinations(range(n_site), p)
    )
    res = mclp(r, w, site_cost=np.ones(n_site), max_sites=p, solver=HIGHS)
    assert res.info.objective == pytest.approx(brute)


@pytest.mark.parametrize("solver", [HIGHS, CBC], ids=["highs", "cbc"])
def test_sized_capacity_binds(solver):
    # A (30 sessions) reaches site 0; B (10) reaches 0 and 1. 10 sessions per charger,
    # 1-2 chargers: site 0 takes 20 of A, site 1 takes B.
    r = SparseTimes(np.array([0, 1, 1]), np.array([0, 0, 1]), np.ones(3), (2, 2))
    s = np.array([30.0, 10.0])
    sizing = Sizing(sessions=s, per_charger=10, min_chargers=1, max_chargers=2, charger_cost=1)
    res = mclp(r, s, site_cost=np.zeros(2), max_sites=2, sizing=sizing, solver=solver)
    assert res.info.objective == pytest.approx(30.0)
    assert res.covered == pytest.approx([2 / 3, 1.0])
    assert list(res.chargers) == [2, 1]


@pytest.mark.parametrize(("budget", "best", "sites"), [(30.0, 20.0, [0]), (35.0, 30.0, [0, 1])])
def test_sized_budget_binds(budget, best, sites):
    # stations cost 10 and chargers 5: a budget of 30 buys one station with 2 chargers
    r = SparseTimes(np.array([0, 1, 1]), np.array([0, 0, 1]), np.ones(3), (2, 2))
    s = np.array([30.0, 10.0])
    sizing = Sizing(sessions=s, per_charger=10, min_chargers=1, max_chargers=2, charger_cost=5)
    res = mclp(r, s, site_cost=np.full(2, 10.0), budget=budget, sizing=sizing, solver=HIGHS)
    assert res.info.objective == pytest.approx(best)
    assert sorted(np.flatnonzero(res.open)) == sites
    spent = 10 * res.open.sum() + 5 * res.chargers.sum()
    assert spent <= budget


def test_sized_identical_points_are_merged_exactly():
    # A split into two points with the same reach gives the same plan as one point
    r = SparseTimes(np.array([0, 1, 2, 2]), np.array([0, 0, 0, 1]), np.ones(4), (3, 2))
    s = np.array([15.0, 15.0, 10.0])
    sizing = Sizing(sessions=s, per_charger=10, min_chargers=1, max_chargers=2, charger_cost=1)
    res = mclp(r, s, site_cost=np.zeros(2), max_sites=2, sizing=sizing, solver=HIGHS)
    assert res.info.objective == pytest.approx(30.0)
    assert res.covered[0] == pytest.approx(res.covered[1])
    assert (s * res.covered).sum() == pytest.approx(30.0)


def test_mclp_infeasible_groups():
    groups = {"T1": np.array([0]), "T2": np.array([2])}
    with pytest.raises(InfeasibleError):
        mclp(reach(), W, site_cost=np.ones(4), max_sites=1, groups=groups, solver=HIGHS)


@pytest.mark.parametrize("solver", [HIGHS, CBC], ids=["highs", "cbc"])
def test_lscp_hand_computed(solver):
    sets = [np.array([0, 1]), np.array([1, 2]), np.array([2, 3]), np.array([3])]
    res = lscp(sets, 4, solver=solver)
    assert sorted(np.flatnonzero(res.open)) == [1, 3]
    assert res.info.objective == pytest.approx(2)
    cheap = lscp(sets, 4, site_cost=np.array([1.0, 5.0, 1.0, 1.0]), solver=solver)
    assert sorted(np.flatnonzero(cheap.open)) == [0, 2, 3]


def test_highs_and_cbc_agree_on_a_random_instance():
    rng = np.random.default_rng(11)
    n_dem, n_site = 60, 15
    pairs = sorted(
        {
            (int(i), int(j))
            for i, j in zip(rng.integers(0, n_dem, 200), rng.integers(0, n_site, 200), strict=True)
        }
    )
    w = rng.uniform(1, 5, n_dem)
    r = reach(pairs, (n_dem, n_site))
    s = w.copy()
    sizing = Sizing(sessions=s, per_charger=4, min_chargers=1, max_chargers=3, charger_cost=1)
    a = mclp(r, w, site_cost=np.full(n_site, 2.0), budget=20, sizing=sizing, solver=HIGHS)
    b = mclp(r, w, site_cost=np.full(n_site, 2.0), budget=20, sizing=sizing, solver=CBC)
    assert a.info.objective == pytest.approx(b.info.objective, rel=1e-6)
    assert b.info.bound == pytest.approx(b.info.objective, rel=1e-6)


def test_sized_headroom_binds():
    # both sites are fed by one substation with headroom for 3 chargers of 50 kW
    r = SparseTimes(np.array([0, 1]), np.array([0, 1]), np.ones(2), (2, 2))
    s = np.array([30.0, 30.0])
    free = Sizing(
        sessions=s, per_charger=10, min_chargers=1, max_chargers=3, charger_cost=0, charger_kw=50
    )
    res = mclp(r, s, site_cost=np.zeros(2), max_sites=2, sizing=free, solver=HIGHS)
    assert res.info.objective == pytest.approx(60) and res.chargers.sum() == 6
    limited = Sizing(
        sessions=s,
        per_charger=10,
        min_chargers=1,
        max_chargers=3,
        charger_cost=0,
        charger_kw=50,
        headroom=((np.array([0, 1]), 150.0),),
    )
    res = mclp(r, s, site_cost=np.zeros(2), max_sites=2, sizing=limited, solver=HIGHS)
    assert res.info.objective == pytest.approx(30)
    assert res.chargers.sum() * 50 <= 150


def test_required_and_excluded_sites():
    # p=1 would pick site 0 (15); requiring site 2 gives 7; excluding 0 gives 13 (site 1)
    cost = np.ones(4)
    res = mclp(reach(), W, site_cost=cost, max_sites=1, required=np.array([2]), solver=HIGHS)
    assert sorted(np.flatnonzero(res.open)) == [2] and res.info.objective == pytest.approx(7)
    res = mclp(reach(), W, site_cost=cost, max_sites=1, excluded=np.array([0]), solver=HIGHS)
    assert sorted(np.flatnonzero(res.open)) == [1] and res.info.objective == pytest.approx(13)
