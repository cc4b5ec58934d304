"""Small facility-location cases with hand-computed optima."""

import importlib
import itertools
import time

import numpy as np
import pulp
import pytest

from planner.config import SolverSection
from planner.costs import site_capex
from planner.datatypes import SparseTimes
from planner.errors import InfeasibleError, SolverError
from planner.optimize import Sizing, StationRules, lscp, mclp, pcenter, two_tier
from planner.optimize.solve import _solve_cbc

HIGHS = SolverSection(name="highs", mip_gap=0.0)
CBC = SolverSection(name="cbc", mip_gap=0.0)

# demand A..E with weights; site 0 covers A,B; 1 covers B,C; 2 covers D,E; 3 covers C,D
W = np.array([10.0, 5.0, 8.0, 3.0, 4.0])
PAIRS = [(0, 0), (1, 0), (1, 1), (2, 1), (3, 2), (4, 2), (2, 3), (3, 3)]


def _random_pairs(rng, n_dem, n_site, k):
    """Up to ``k`` distinct random (demand, site) pairs, sorted."""
    draws = zip(rng.integers(0, n_dem, k), rng.integers(0, n_site, k), strict=True)
    return sorted({(int(i), int(j)) for i, j in draws})


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
    pairs = _random_pairs(rng, n_dem, n_site, 90)
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
    pairs = _random_pairs(rng, n_dem, n_site, 200)
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


@pytest.mark.parametrize("solver", [HIGHS, CBC], ids=["highs", "cbc"])
def test_min_cost_cover_share(solver):
    # cheapest sites covering at least 26 of the 30: {0, 3} at 9 ({0, 1, 2} costs 10)
    cost = np.array([5.0, 3.0, 2.0, 4.0])
    res = mclp(reach(), W, site_cost=cost, min_cover=26, objective="cost", solver=solver)
    assert sorted(np.flatnonzero(res.open)) == [0, 3]
    assert res.info.objective == pytest.approx(9)
    assert (W * res.covered).sum() >= 26 - 1e-6


def test_min_cover_is_a_constraint_in_coverage_mode():
    with pytest.raises(InfeasibleError):
        mclp(reach(), W, site_cost=np.ones(4), max_sites=1, min_cover=16, solver=HIGHS)
    res = mclp(reach(), W, site_cost=np.ones(4), max_sites=2, min_cover=26, solver=HIGHS)
    assert res.info.objective == pytest.approx(26)


def test_existing_sites_are_open_free_and_outside_the_count():
    # site 2 exists (covers D, E = 7); one new site: site 0 adds A, B = 15
    res = mclp(reach(), W, site_cost=np.ones(4), max_sites=1, existing=np.array([2]), solver=HIGHS)
    assert sorted(np.flatnonzero(res.open)) == [0, 2]
    assert res.info.objective == pytest.approx(22)


def test_existing_chargers_are_capacity():
    # A (30 sessions) reaches only the existing site 0 with 2 chargers (20 sessions);
    # B (10) reaches 0 and the candidate 1. The existing site serves 20 of A; B needs
    # a new station; nothing is paid for site 0.
    r = SparseTimes(np.array([0, 1, 1]), np.array([0, 0, 1]), np.ones(3), (2, 2))
    s = np.array([30.0, 10.0])
    sizing = Sizing(
        sessions=s,
        per_charger=10,
        min_chargers=1,
        max_chargers=4,
        charger_cost=5,
        installed=np.array([2, 0]),
    )
    res = mclp(
        r,
        s,
        site_cost=np.full(2, 10.0),
        budget=15,
        existing=np.array([0]),
        sizing=sizing,
        solver=HIGHS,
    )
    assert res.info.objective == pytest.approx(30)
    assert list(res.chargers) == [2, 1]
    assert res.covered == pytest.approx([2 / 3, 1.0])


# Two tiers: A (10) reaches site 0, B (6) site 1; the one village reaches site 2 only.
# Repair reach: 0 <-> 2, 1 alone. Stations cost 10, repair points 5, or 2 at a station.
TT_REACH = SparseTimes(np.array([0, 1]), np.array([0, 1]), np.ones(2), (2, 3))
TT_W = np.array([10.0, 6.0])
TT_VILLAGES = [np.array([2])]
TT_SITES = [np.array([0, 2]), np.array([1]), np.array([2, 0])]


@pytest.mark.parametrize("solver", [HIGHS, CBC], ids=["highs", "cbc"])
@pytest.mark.parametrize(
    ("budget", "at_station", "covered", "stations", "repair"),
    [
        (20.0, 2.0, 10.0, [0], [2]),  # {0} + r2 = 15; {1} + r2 + r1 = 17 covers less
        (27.0, 2.0, 16.0, [0, 1], [1, 2]),  # 20 + 5 + 2 (the shared repair point) = 27
        (27.0, 5.0, 10.0, [0], [2]),  # without the discount both cost 30
    ],
)
def test_two_tier_joint_budget(solver, budget, at_station, covered, stations, repair):
    res = two_tier(
        TT_REACH,
        TT_W,
        TT_VILLAGES,
        TT_SITES,
        site_cost=np.full(3, 10.0),
        repair_cost=5.0,
        repair_cost_at_station=at_station,
        budget=budget,
        solver=solver,
    )
    assert res.info.objective == pytest.approx(covered)
    assert sorted(np.flatnonzero(res.stations.open)) == stations
    assert sorted(np.flatnonzero(res.repair_open)) == repair
    assert 10 * res.stations.open.sum() + res.repair_cost.sum() <= budget + 1e-9


@pytest.mark.parametrize(("min_cover", "cost"), [(10.0, 15.0), (16.0, 27.0)])
def test_two_tier_least_cost(min_cover, cost):
    res = two_tier(
        TT_REACH,
        TT_W,
        TT_VILLAGES,
        TT_SITES,
        site_cost=np.full(3, 10.0),
        repair_cost=5.0,
        repair_cost_at_station=2.0,
        objective="cost",
        min_cover=min_cover,
        solver=HIGHS,
    )
    assert res.info.objective == pytest.approx(cost)
    assert 10 * res.stations.open.sum() + res.repair_cost.sum() == pytest.approx(cost)


def _random_times(seed, n_dem=25, n_site=8):
    rng = np.random.default_rng(seed)
    d = np.round(rng.uniform(1, 60, (n_dem, n_site)))
    r, c = np.nonzero(d < 45)
    return d, SparseTimes(r, c, d[r, c], (n_dem, n_site))


@pytest.mark.parametrize("solver", [HIGHS, CBC], ids=["highs", "cbc"])
@pytest.mark.parametrize("seed", [1, 2])
def test_pcenter_matches_brute_force(solver, seed):
    d, times = _random_times(seed)
    masked = np.where(d < 45, d, np.inf)
    p = 3
    brute = min(
        masked[:, list(combo)].min(axis=1).max()
        for combo in itertools.combinations(range(d.shape[1]), p)
    )
    res = pcenter(times, p, solver=solver)
    assert res.radius == pytest.approx(brute)
    assert res.open.sum() <= p
    assert masked[np.arange(len(d)), res.assign].max() == pytest.approx(brute)
    assert res.info.status == "optimal" and res.info.gap == 0.0


def test_pcenter_on_a_line_and_its_options():
    # demand at 0, 4, 10 on a line; sites at the same places; times = distances
    pos = np.array([0.0, 4.0, 10.0])
    d = np.abs(pos[:, None] - pos[None, :])
    r, c = np.nonzero(np.ones_like(d))
    times = SparseTimes(r, c, d[r, c], d.shape)
    assert pcenter(times, 1, solver=HIGHS).radius == pytest.approx(6)  # site at 4
    assert pcenter(times, 2, solver=HIGHS).radius == pytest.approx(4)
    assert pcenter(times, 1, excluded=np.array([1]), solver=HIGHS).radius == pytest.approx(10)
    assert pcenter(times, 1, required=np.array([2]), solver=HIGHS).radius == pytest.approx(10)
    with pytest.raises(InfeasibleError):
        far = SparseTimes(np.array([0, 1]), np.array([0, 0]), np.ones(2), (3, 3))
        pcenter(far, 1, solver=HIGHS)


@pytest.mark.parametrize("solver", [HIGHS, CBC], ids=["highs", "cbc"])
def test_warm_start_from_a_smaller_budget(solver):
    rng = np.random.default_rng(5)
    n_dem, n_site = 80, 20
    pairs = _random_pairs(rng, n_dem, n_site, 300)
    w = rng.uniform(1, 5, n_dem)
    r = reach(pairs, (n_dem, n_site))
    sizing = Sizing(sessions=w, per_charger=4, min_chargers=1, max_chargers=3, charger_cost=1)
    cost = np.full(n_site, 2.0)
    small = mclp(r, w, site_cost=cost, budget=12, sizing=sizing, solver=solver)
    cold = mclp(r, w, site_cost=cost, budget=20, sizing=sizing, solver=solver)
    warm = mclp(r, w, site_cost=cost, budget=20, sizing=sizing, solver=solver, start=small)
    assert warm.info.objective == pytest.approx(cold.info.objective, rel=1e-6)
    assert warm.info.objective >= small.info.objective


def test_cbc_watchdog_stops_an_overrunning_solve(caplog):
    # a dense p-median CBC cannot finish in 0.5 s; the watchdog interrupts it long
    # before its 100 s limit, and the best plan so far (or a clear error) comes back
    n = 180
    rng = np.random.default_rng(0)
    xy = rng.uniform(0, 100, (n, 2))
    d = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1)).round()
    prob = pulp.LpProblem("pmedian", pulp.LpMinimize)
    y = [prob.add_variable(f"y{j}", cat=pulp.LpBinary) for j in range(n)]
    a = [[prob.add_variable(f"a{i}_{j}", lowBound=0) for j in range(n)] for i in range(n)]
    prob += pulp.LpAffineExpression([(a[i][j], d[i, j]) for i in range(n) for j in range(n)])
    prob += pulp.lpSum(y) == 5
    for i in range(n):
        prob += pulp.lpSum(a[i]) == 1
        for j in range(n):
            prob += a[i][j] - y[j] <= 0
    t0 = time.perf_counter()
    cfg = SolverSection(name="cbc", mip_gap=0.0, time_limit_s=100)
    try:
        status, objective, _ = _solve_cbc(prob, cfg, watchdog_s=0.5)
    except SolverError as err:
        assert "watchdog" in str(err)
    else:
        assert status == "time_limit" and objective is not None
    assert time.perf_counter() - t0 < 15
    assert "interrupting it" in caplog.text


def _random_two_tier(seed, n_dem, n_site, n_vil, n_pairs):
    """A random joint instance: reach, weights, village and site covers, model keywords."""
    rng = np.random.default_rng(seed)
    r = reach(_random_pairs(rng, n_dem, n_site, n_pairs), (n_dem, n_site))
    w = rng.uniform(1, 5, n_dem)
    sizing = Sizing(sessions=w, per_charger=4, min_chargers=1, max_chargers=3, charger_cost=1)
    villages = [rng.choice(n_site, size=3, replace=False) for _ in range(n_vil)]
    sites = [np.union1d(rng.choice(n_site, size=2, replace=False), [j]) for j in range(n_site)]
    kw = {
        "site_cost": np.full(n_site, 2.0),
        "repair_cost": 3.0,
        "repair_cost_at_station": 1.0,
        "sizing": sizing,
    }
    return r, w, villages, sites, kw


@pytest.mark.parametrize("objective", ["coverage", "cost"])
def test_highs_and_cbc_agree_on_random_two_tier(objective):
    r, w, villages, sites, kw = _random_two_tier(21, 50, 12, 15, 160)
    kw["objective"] = objective
    if objective == "coverage":
        kw["budget"] = 30.0
    else:
        kw["min_cover"] = 0.6 * w.sum()
    a = two_tier(r, w, villages, sites, solver=HIGHS, **kw)
    b = two_tier(r, w, villages, sites, solver=CBC, **kw)
    assert a.info.objective == pytest.approx(b.info.objective, rel=1e-6)
    assert a.info.status == b.info.status == "optimal"
    for res in (a, b):  # every village and open station has a repair point in reach
        assert all(res.repair_open[v].any() for v in villages)
        assert all(res.repair_open[sites[j]].any() for j in np.flatnonzero(res.stations.open))


def test_station_rules_and_their_keywords_give_the_same_model():
    # one StationRules argument, keywords overriding its fields, or keywords alone
    cost = np.array([5.0, 3.0, 2.0, 4.0])
    rules = StationRules(site_cost=cost, max_sites=2, groups={"T": np.array([1, 2])})
    by_rules = mclp(reach(), W, rules, solver=HIGHS)
    by_keywords = mclp(reach(), W, site_cost=cost, max_sites=2, groups=rules.groups, solver=HIGHS)
    assert by_rules.info.objective == by_keywords.info.objective == pytest.approx(23.0)
    assert list(by_rules.open) == list(by_keywords.open)
    assert mclp(reach(), W, rules, groups=None, solver=HIGHS).info.objective == pytest.approx(26)
    assert rules.max_sites == 2 and rules.groups is not None  # overrides leave it unchanged
    joint = StationRules(site_cost=np.full(3, 10.0), budget=27.0)
    res = two_tier(
        TT_REACH,
        TT_W,
        TT_VILLAGES,
        TT_SITES,
        joint,
        repair_cost=5.0,
        repair_cost_at_station=2.0,
        solver=HIGHS,
    )
    assert res.info.objective == pytest.approx(16.0)


def test_station_rules_reject_unknown_fields_and_missing_costs():
    with pytest.raises(TypeError):
        mclp(reach(), W, site_cost=np.ones(4), max_site=1, solver=HIGHS)
    with pytest.raises(TypeError):
        mclp(reach(), W, max_sites=1, solver=HIGHS)
    with pytest.raises(ValueError, match="needs min_cover"):
        mclp(reach(), W, StationRules(site_cost=np.ones(4), objective="cost"), solver=HIGHS)


def test_site_capex_is_fixed_cost_plus_chargers_and_nothing_at_existing_sites():
    fixed = np.array([300_000.0, 350_000.0, 0.0])
    capex = site_capex(fixed, np.array([2, 3, 4]), 80_000.0, existing=np.array([0, 0, 1]))
    assert list(capex) == [460_000.0, 590_000.0, 0.0]
    assert list(site_capex(fixed[:2], 1, 80_000.0)) == [380_000.0, 430_000.0]


@pytest.mark.parametrize("seed", range(3))
def test_two_tier_has_the_same_optimum_from_either_staged_start(seed):
    # above solver.staged_mip_max_pairs the staged start skips its stations model (forced
    # on here with 0); the joint model is exact from either start
    r, w, villages, sites, kw = _random_two_tier(40 + seed, 40, 10, 12, 140)
    kw["budget"] = 28.0
    staged = two_tier(r, w, villages, sites, solver=HIGHS, **kw)
    greedy = HIGHS.model_copy(update={"staged_mip_max_pairs": 0})
    quick = two_tier(r, w, villages, sites, solver=greedy, **kw)
    assert staged.info.status == quick.info.status == "optimal"
    assert quick.info.objective == pytest.approx(staged.info.objective, rel=1e-9)
    # the greedy stations improved on the relaxation's sites (solver.kernel_min_pairs)
    kernel = greedy.model_copy(update={"kernel_min_pairs": 0})
    kerneled = two_tier(r, w, villages, sites, solver=kernel, **kw)
    assert kerneled.info.status == "optimal"
    assert kerneled.info.objective == pytest.approx(staged.info.objective, rel=1e-9)


@pytest.mark.parametrize("seed", range(3))
def test_the_start_node_limit_changes_the_start_not_the_optimum(seed, monkeypatch):
    # the staged start's stations model stops at solver.start_node_limit nodes; the joint
    # model is exact whatever start it gets
    start_module = importlib.import_module("planner.optimize.two_tier_start")
    limits = []
    real_mclp = start_module.mclp

    def spy(*args, solver, **kwargs):
        limits.append(solver.node_limit)
        return real_mclp(*args, solver=solver, **kwargs)

    monkeypatch.setattr(start_module, "mclp", spy)
    r, w, villages, sites, kw = _random_two_tier(40 + seed, 40, 10, 12, 140)
    kw["budget"] = 28.0
    free = two_tier(
        r, w, villages, sites, solver=HIGHS.model_copy(update={"start_node_limit": None}), **kw
    )
    assert limits == [None]
    one = two_tier(
        r, w, villages, sites, solver=HIGHS.model_copy(update={"start_node_limit": 1}), **kw
    )
    assert limits == [None, 1]
    assert free.info.status == one.info.status == "optimal"
    assert one.info.objective == pytest.approx(free.info.objective, rel=1e-9)


def test_a_start_solve_keeps_a_lower_node_limit_and_nothing_else_changes():
    start_solver = importlib.import_module("planner.optimize.two_tier_start").start_solver
    assert start_solver(HIGHS).node_limit == HIGHS.start_node_limit == 200
    tight = HIGHS.model_copy(update={"node_limit": 7})
    assert start_solver(tight) is tight
    loose = HIGHS.model_copy(update={"node_limit": 5000, "mip_gap": 0.01})
    assert start_solver(loose) == loose.model_copy(update={"node_limit": 200})
    off = HIGHS.model_copy(update={"start_node_limit": None})
    assert start_solver(off) is off


def test_a_start_kernel_stopped_by_the_time_limit_marks_the_joint_plan(monkeypatch):
    two_tier_module = importlib.import_module("planner.optimize.two_tier")
    monkeypatch.setattr(two_tier_module, "_kernel", lambda r, w, ru, rp, st, *a: (st, True))
    r, w, villages, sites, kw = _random_two_tier(40, 40, 10, 12, 140)
    solver = HIGHS.model_copy(update={"staged_mip_max_pairs": 0, "kernel_min_pairs": 0})
    res = two_tier(r, w, villages, sites, solver=solver, budget=28.0, **kw)
    assert res.info.status == res.stations.info.status == "time_limit"
    calm = HIGHS.model_copy(update={"staged_mip_max_pairs": 0})  # no kernel: no clock
    assert two_tier(r, w, villages, sites, solver=calm, budget=28.0, **kw).info.status == (
        "optimal"
    )
