"""The large-scale classic MCLP engine: brute force, bounds, reductions, determinism."""

import itertools

import numpy as np
import pytest
from scipy import sparse
from scipy.spatial import cKDTree

from planner.config import SolverSection
from planner.datatypes import SparseTimes
from planner.errors import ConfigError, InfeasibleError
from planner.optimize import mclp
from planner.optimize.covering_heuristic import greedy, improve, restricted
from planner.optimize.covering_reduce import merge_rows, reduce_cover
from planner.optimize.covering_swaps import local_search
from planner.optimize.mclp_large import solve_classic, solve_mclp
from planner.optimize.rules import Sizing, StationRules


def _random(rng, n_dem, n_site, density=0.25):
    a = sparse.csr_matrix((rng.random((n_dem, n_site)) < density).astype(float))
    return a, rng.integers(0, 10, n_dem).astype(float)


def _geometric(seed, n_site=30, n_dem=400, side=10.0, r=2.2):
    rng = np.random.default_rng(seed)
    s = rng.uniform(0, side, (n_site, 2))
    d = rng.uniform(0, side, (n_dem, 2))
    w = rng.integers(1, 10, n_dem).astype(float)
    a = cKDTree(d).sparse_distance_matrix(cKDTree(s), r, output_type="coo_matrix")
    return sparse.csr_matrix((np.ones(a.nnz), (a.row, a.col)), shape=(n_dem, n_site)), w


def _brute(a, w, p, ok=lambda s: True, fixed=()):
    best = -1.0
    n = a.shape[1]
    free = [j for j in range(n) if j not in fixed]
    for k in range(p + 1):
        for s in itertools.combinations(free, k):
            chosen = list(s) + list(fixed)
            if not ok(chosen):
                continue
            y = np.zeros(n)
            y[chosen] = 1
            best = max(best, float(w @ ((a @ y) > 0)))
    return best


def test_matches_brute_force():
    rng = np.random.default_rng(3)
    for _ in range(25):
        a, w = _random(rng, int(rng.integers(5, 40)), int(rng.integers(3, 12)))
        p = int(rng.integers(1, 4))
        best = _brute(a, w, p)
        r = solve_mclp(a, w, max_sites=p)
        assert r.covered_weight == pytest.approx(best)
        assert r.status == "optimal" and r.gap == 0.0
        assert r.bound >= best - 1e-9
        assert r.open.sum() <= p


def test_rules_match_brute_force():
    rng = np.random.default_rng(8)
    infeasible = 0
    for trial in range(20):
        n = 9
        a, w = _random(rng, 30, n)
        cost = rng.integers(1, 5, n).astype(float)
        budget = float(rng.integers(4, 10))
        groups = [np.array([0, 1, 2]), np.array([5, 6])]
        required = np.array([3]) if trial % 2 else None
        excluded = np.array([6])
        existing = np.array([8])
        fixed = (8,) + ((3,) if required is not None else ())

        def ok(chosen, cost=cost, budget=budget, groups=groups):
            new = [j for j in chosen if j != 8]
            return (
                len(new) <= 3
                and 6 not in chosen
                and cost[new].sum() <= budget
                and all(set(g) & set(chosen) for g in groups)
            )

        best = _brute(a, w, 3, ok, fixed)
        rules = {
            "max_sites": 3,
            "budget": budget,
            "site_cost": cost,
            "groups": groups,
            "required": required,
            "excluded": excluded,
            "existing": existing,
        }
        if best < 0:  # no plan meets the rules
            with pytest.raises(InfeasibleError):
                solve_mclp(a, w, **rules)
            infeasible += 1
            continue
        r = solve_mclp(a, w, **rules)
        assert r.covered_weight == pytest.approx(best)
        assert r.status == "optimal"
        chosen = list(np.flatnonzero(r.open))
        assert ok(chosen) and 8 in chosen
    assert 0 < infeasible < 10


def test_node_limit_reports_an_honest_gap():
    a, w = _geometric(4)
    full = solve_mclp(a, w, max_sites=4)
    assert full.status == "optimal" and full.nodes > 1
    cut = solve_mclp(a, w, max_sites=4, node_limit=1)
    assert cut.status == "node_limit"
    assert cut.covered_weight <= full.covered_weight
    assert cut.bound >= full.covered_weight
    assert cut.gap == pytest.approx((cut.bound - cut.covered_weight) / cut.covered_weight)
    assert cut.gap > 0


def test_bound_never_below_the_optimum():
    for seed in range(6):
        a, w = _geometric(seed, n_site=12, n_dem=200)
        best = _brute(a, w, 3)
        for limit in (1, 2, None):
            r = solve_mclp(a, w, max_sites=3, node_limit=limit, heuristic_rounds=0)
            assert r.bound >= best - 1e-9
            assert r.covered_weight <= best + 1e-9


def test_dominance_keeps_the_optimum():
    rng = np.random.default_rng(2)
    pts = rng.normal(0, 3, size=(40, 2))  # every point demand and site, as in SJC
    w = rng.integers(1, 20, 40).astype(float)
    a = cKDTree(pts).sparse_distance_matrix(cKDTree(pts), 2.0, output_type="coo_matrix")
    a = sparse.csr_matrix((np.ones(a.nnz), (a.row, a.col)), shape=(40, 40)) + sparse.eye(40)
    a.data[:] = 1.0
    inst = reduce_cover(a, w, max_sites=3)
    assert inst.dominated > 0
    best = _brute(a, w, 3)
    reduced = _brute(inst.a, inst.weight, 3) + inst.base_weight
    assert reduced == pytest.approx(best)
    assert solve_mclp(a, w, max_sites=3).covered_weight == pytest.approx(best)


def test_merge_rows_is_exact():
    rng = np.random.default_rng(5)
    base = (rng.random((12, 8)) < 0.4).astype(float)
    rows = base[rng.integers(0, 12, 300)]
    w = rng.random(300)
    merged, mw = merge_rows(sparse.csr_matrix(rows), w)
    ref: dict[bytes, float] = {}
    for row, wi in zip(rows, w, strict=True):
        if row.any():
            ref[row.tobytes()] = ref.get(row.tobytes(), 0.0) + wi
    got = {r.tobytes(): wi for r, wi in zip(merged.toarray(), mw, strict=True)}
    assert got.keys() == ref.keys()
    for key, value in ref.items():
        assert got[key] == pytest.approx(value)


def test_same_result_twice():
    a, w = _geometric(4)
    one = solve_mclp(a, w, max_sites=4, node_limit=2)
    two = solve_mclp(a, w, max_sites=4, node_limit=2)
    assert (one.open == two.open).all()
    assert (one.bound, one.nodes, one.lp_iterations, one.cuts) == (
        two.bound,
        two.nodes,
        two.lp_iterations,
        two.cuts,
    )


def test_local_search_improves_greedy_within_the_rules():
    a, w = _geometric(1, n_site=25, n_dem=300)
    inst = reduce_cover(a, w, max_sites=4, groups=[np.arange(20, 25)])
    start = greedy(inst)
    assert inst.feasible(start)
    plan, value, _ = local_search(inst, start)
    assert inst.feasible(plan) and value >= inst.covered_weight(start)
    best, best_value = improve(inst, plan, work=2e7)
    assert inst.feasible(best) and best_value >= value


def test_solve_classic_matches_the_compact_model():
    a, w = _geometric(2, n_site=20, n_dem=150)
    coo = a.tocoo()
    reach = SparseTimes(coo.row, coo.col, np.arange(coo.nnz, dtype=float) % 7, a.shape)
    cost = np.arange(1, 21, dtype=float)
    rules = StationRules(
        site_cost=cost, max_sites=4, budget=30.0, groups={"t": np.array([0, 1, 2])}
    )
    solver = SolverSection(mip_gap=0.0)
    ours = solve_classic(reach, w, rules, solver=solver)
    ref = mclp(reach, w, rules, solver=solver)
    assert ours.info.objective == pytest.approx(ref.info.objective)
    assert ours.info.status == "optimal"
    assert float(w @ ours.covered) == pytest.approx(ours.info.objective)
    assert ours.open[[0, 1, 2]].any() and cost[ours.open].sum() <= 30.0
    # every flow goes to an open site, the nearest one in reach
    assert ours.open[ours.flow_cols].all()


def test_rules_it_cannot_take_or_meet():
    a, w = _geometric(0, n_site=10, n_dem=50)
    coo = a.tocoo()
    reach = SparseTimes(coo.row, coo.col, np.zeros(coo.nnz), a.shape)
    sizing = Sizing(np.ones(50), 10.0, 1, 4, 1.0)
    with pytest.raises(ConfigError):
        solve_classic(reach, w, StationRules(np.ones(10), sizing=sizing), solver=SolverSection())
    with pytest.raises(InfeasibleError):
        solve_mclp(a, w, max_sites=2, required=[1], excluded=[1])
    with pytest.raises(InfeasibleError):
        solve_mclp(a, w, max_sites=2, groups=[np.array([3])], excluded=[3])
    with pytest.raises(InfeasibleError):
        solve_mclp(a, w, max_sites=1, groups=[np.array([1]), np.array([2])])


def test_benchmark_sites_form_keeps_the_single_csv_result(tmp_path):
    import io

    from benchmarks import locate
    from benchmarks.instances import random_points, uniform_sites_and_demand

    pts = random_points(150, seed=2)
    pts.to_csv(tmp_path / "pts.csv", index=False)
    pts[["x", "y"]].to_csv(tmp_path / "sites.csv", index=False)
    one = locate.run_mclp(
        tmp_path / "pts.csv",
        p=5,
        radius=5,
        methods=["planner", "highs"],
        time_limit_s=60,
        out=io.StringIO(),
    )
    out = io.StringIO()
    two = locate.run_mclp(
        None,
        sites=(tmp_path / "sites.csv", tmp_path / "pts.csv"),
        p=5,
        radius=5,
        methods=["planner", "highs"],
        time_limit_s=60,
        out=out,
    )
    assert [r.objective for r in one] == [r.objective for r in two]
    assert one[0].objective == one[1].objective and one[0].status == "optimal"
    assert "gap_planner: 0.000%" in out.getvalue()
    sites, demand = uniform_sites_and_demand(20, 300, square=10, weights=(1, 100), seed=3)
    assert list(sites.columns) == ["x", "y"] and list(demand.columns) == ["x", "y", "weight"]
    assert demand["weight"].between(1, 100).all() and sites["x"].between(0, 10).all()


def test_sifting_gives_the_full_relaxation(monkeypatch):
    from planner.optimize import covering_lp

    rng = np.random.default_rng(11)
    a, w = _random(rng, 600, 12, density=0.4)
    inst = reduce_cover(a, w, max_sites=3, dominance=False)
    assert inst.a.shape[0] > covering_lp.SIFT_RATIO * inst.n_sites  # sifting is on
    fix = np.full(inst.n_sites, covering_lp.FREE, dtype=np.int8)
    sifted = covering_lp.CoverLP(inst)
    assert (sifted.lam_col < 0).any()
    one = sifted.solve(fix, None)
    # with the switch to every column off, sifting alone must reach the same bound
    monkeypatch.setattr(covering_lp, "SIFT_ALL", 2.0)
    monkeypatch.setattr(covering_lp, "SIFT_ITERATIONS", 10**9)
    pure = covering_lp.CoverLP(inst)
    alone = pure.solve(fix, None)
    assert (pure.lam_col < 0).any()  # some columns stayed out
    # and a switch at the first wrong column brings every one in
    monkeypatch.setattr(covering_lp, "SIFT_ALL", 0.0)
    switched = covering_lp.CoverLP(inst)
    at_once = switched.solve(fix, None)
    assert (switched.lam_col >= 0).all()
    monkeypatch.setattr(covering_lp, "SIFT_RATIO", 10**9)
    full = covering_lp.CoverLP(inst).solve(fix, None)
    for bound in (one.bound, alone.bound, at_once.bound):
        assert bound == pytest.approx(full.bound, rel=1e-9)
    assert solve_mclp(a, w, max_sites=3).covered_weight == pytest.approx(_brute(a, w, 3))


def test_checkpoints_never_show_what_came_later():
    """A checkpoint at 0 CPU seconds is passed during the first step: it shows the
    state before the search (the start plan; as bound, every reachable row covered)."""
    a, w = _geometric(5, n_site=40, n_dem=600)
    r = solve_mclp(a, w, max_sites=4, checkpoints=(0.0, 1e9))
    assert len(r.trace) == 1  # 1e9 CPU seconds never pass
    t, nodes, value, bound = r.trace[0]
    assert t == 0.0 and nodes == 0
    reachable = float(w[np.asarray(a.sum(axis=1)).ravel() > 0].sum())
    assert bound == pytest.approx(reachable)  # every reachable row: nothing proven yet
    assert value <= r.covered_weight + 1e-9
    assert r.cpu_seconds > 0.0
    assert r.bound >= r.covered_weight


def test_a_solve_with_another_thread_count_before_does_not_break_it():
    """HiGHS's thread pool is per process: an earlier solve with 2 threads must not turn
    the next 1-thread relaxations into failed solves (seen as ``work_limit``)."""
    import highspy

    from planner.optimize.arrays import new_highs

    h = new_highs(np.inf, 2)
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = 1, 0
    lp.col_cost_, lp.col_lower_, lp.col_upper_ = np.ones(1), np.zeros(1), np.ones(1)
    lp.integrality_ = [highspy.HighsVarType.kInteger]
    h.passModel(lp)
    h.run()
    assert h.getModelStatus() == highspy.HighsModelStatus.kOptimal
    a, w = _geometric(2)
    r = solve_mclp(a, w, max_sites=3, threads=1)
    assert r.status == "optimal"
    assert r.covered_weight == pytest.approx(_brute(a, w, 3))


def test_restricted_search_keeps_to_its_candidates_and_the_rules():
    rng = np.random.default_rng(11)
    for _ in range(10):
        a, w = _random(rng, 60, 12, density=0.2)
        cost = rng.integers(1, 4, 12).astype(float)
        inst = reduce_cover(
            a,
            w,
            site_cost=cost,
            max_sites=3,
            budget=6.0,
            groups=[np.array([0, 1, 2])],
            dominance=False,
        )
        pos = {int(s): k for k, s in enumerate(inst.sites)}
        cand = np.array(sorted({pos[s] for s in range(7) if s in pos}))
        plan, val = restricted(inst, cand, rounds=20)
        chosen = [int(inst.sites[j]) for j in plan]

        def ok(chosen, cost=cost):
            return len(chosen) <= 3 and cost[chosen].sum() <= 6 and any(j < 3 for j in chosen)

        best = _brute(a[:, :7], w, 3, ok=lambda s: ok(list(s)))
        assert set(plan) <= set(cand.tolist())
        assert ok(chosen)
        assert val == pytest.approx(inst.covered_weight(plan))
        assert val == pytest.approx(best)  # the small instance is searched to its optimum
    # no candidate in a group: no plan
    inst = reduce_cover(a, w, max_sites=3, groups=[np.array([0])], dominance=False)
    assert restricted(inst, np.arange(1, inst.n_sites), rounds=5) == (None, -np.inf)
