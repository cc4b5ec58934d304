"""The greedy start of the covering models: feasible under every rule, and never lost."""

from dataclasses import replace

import numpy as np
import pytest

from planner.config import SolverSection
from planner.datatypes import SparseTimes
from planner.optimize import Sizing, StationRules, mclp
from planner.optimize.greedy import greedy_stations
from planner.optimize.mclp import better_plan, start_plan

HIGHS = SolverSection(name="highs", mip_gap=0.0)


def _instance(seed, n_dem=60, n_site=15, k=200):
    rng = np.random.default_rng(seed)
    pairs = sorted(
        {
            (int(i), int(j))
            for i, j in zip(rng.integers(0, n_dem, k), rng.integers(0, n_site, k), strict=True)
        }
    )
    r, c = np.array(pairs).T
    reach = SparseTimes(r, c, rng.uniform(1, 30, len(r)), (n_dem, n_site))
    sessions = rng.integers(0, 6, n_dem).astype(float)
    return rng, reach, sessions


def _naive_greedy(reach, w, p):
    """Full re-evaluation greedy of the classic model (every gain recomputed each step)."""
    covered = np.zeros(reach.shape[0], dtype=bool)
    chosen = []
    for _ in range(p):
        gains = np.bincount(reach.cols, weights=w[reach.rows] * ~covered[reach.rows])
        gains = np.pad(gains, (0, reach.shape[1] - len(gains)))
        gains[chosen] = -1
        if gains.max() <= 1e-9:
            break
        j = int(np.argmax(gains))  # lowest index among ties, as the heap
        chosen.append(j)
        covered[reach.rows[reach.cols == j]] = True
    return sorted(chosen), float(w @ covered)


@pytest.mark.parametrize("seed", range(8))
def test_lazy_greedy_equals_the_full_greedy(seed):
    _, reach, _ = _instance(seed)
    w = np.random.default_rng(seed + 100).integers(1, 9, reach.shape[0]).astype(float)
    res = greedy_stations(reach, w, StationRules(site_cost=np.ones(reach.shape[1]), max_sites=4))
    sites, value = _naive_greedy(reach, w, 4)
    assert res is not None
    assert res.info.objective == pytest.approx(value)
    assert float(w @ res.covered) == pytest.approx(value)
    assert len(np.flatnonzero(res.open)) == len(sites)


def _check_rules(res, reach, w, rules):
    """Every rule of the sized model holds for the plan ``res``."""
    s = rules.sizing
    new = res.open.copy()
    new[rules.existing] = False
    assert new.sum() <= rules.max_sites
    capex = (rules.site_cost * new).sum() + s.charger_cost * res.chargers[new].sum()
    assert capex <= rules.budget + 1e-6
    for sites, kw in s.headroom:
        assert s.charger_kw * res.chargers[sites][new[sites]].sum() <= kw + 1e-9
    for sites in rules.groups.values():
        assert res.open[sites].any()
    assert res.open[rules.required].all() and not res.open[rules.excluded].any()
    assert (res.chargers[new] >= s.min_chargers).all() and (res.chargers <= s.max_chargers).all()
    assert (res.chargers[rules.existing] == s.installed[rules.existing]).all()
    # flows only on pairs in reach, to open sites, within capacity; no one served twice
    pairs = set(zip(reach.rows.tolist(), reach.cols.tolist(), strict=True))
    assert all(p in pairs for p in zip(res.flow_rows.tolist(), res.flow_cols.tolist(), strict=True))
    assert res.open[res.flow_cols].all()
    load = np.bincount(
        res.flow_cols, weights=s.sessions[res.flow_rows] * res.flow_share, minlength=len(res.open)
    )
    assert (load <= s.per_charger * res.chargers + 1e-9).all()
    served = np.bincount(res.flow_rows, weights=res.flow_share, minlength=len(w))
    assert (served <= 1 + 1e-9).all()


def all_rules(
    rng: np.random.Generator,
    sessions: np.ndarray,
    n_site: int,
    *,
    budget: float,
    max_sites: int,
    low_cost: float = 1.0,
) -> StationRules:
    """Every kind of rule of the sized model on a random instance: an existing site with
    chargers, headroom, township groups, a required and two excluded sites."""
    installed = np.zeros(n_site, dtype=int)
    installed[0] = 2
    sizing = Sizing(
        sessions=sessions,
        per_charger=6.0,
        min_chargers=1,
        max_chargers=3,
        charger_cost=2.0,
        charger_kw=60.0,
        headroom=((np.array([1, 2, 3, 4]), 240.0),),
        installed=installed,
    )
    return StationRules(
        site_cost=rng.uniform(low_cost, 8, n_site),
        sizing=sizing,
        budget=budget,
        max_sites=max_sites,
        groups={"a": np.array([5, 6]), "b": np.array([7, 8, 9])},
        required=np.array([10]),
        excluded=np.array([11, 12]),
        existing=np.array([0]),
    )


@pytest.mark.parametrize("seed", range(6))
def test_the_sized_greedy_plan_keeps_every_rule_and_the_solver_takes_it(seed):
    rng, reach, sessions = _instance(seed)
    rules = all_rules(rng, sessions, reach.shape[1], budget=40.0, max_sites=5, low_cost=3.0)
    w = sessions.copy()
    start = greedy_stations(reach, w, rules)
    assert start is not None
    _check_rules(start, reach, w, rules)
    assert start.info.objective == pytest.approx(float(w @ start.covered))
    res = mclp(reach, w, rules, solver=HIGHS.model_copy(update={"node_limit": 1}))
    _check_rules(res, reach, w, rules)
    assert float(w @ res.covered) >= start.info.objective - 1e-6
    best = mclp(reach, w, rules, solver=HIGHS)
    assert best.info.status == "optimal"
    assert float(w @ best.covered) >= start.info.objective - 1e-6


def test_no_start_when_a_township_cannot_be_afforded():
    _, reach, sessions = _instance(1)
    rules = StationRules(
        site_cost=np.full(reach.shape[1], 10.0),
        budget=15.0,
        groups={"a": np.array([0]), "b": np.array([1])},
    )
    assert greedy_stations(reach, sessions, rules) is None


def test_the_start_stands_when_the_solver_returns_less():
    _, reach, sessions = _instance(2)
    w = sessions + 1
    rules = StationRules(site_cost=np.ones(reach.shape[1]), max_sites=3)
    start = greedy_stations(reach, w, rules)
    solved = mclp(reach, w, rules, solver=HIGHS)
    worse = replace(solved, covered=np.zeros_like(solved.covered))
    kept = better_plan(worse, start, w, "coverage")
    assert kept.open.tolist() == start.open.tolist()
    assert kept.info.objective == pytest.approx(float(w @ start.covered))
    assert kept.info.bound == solved.info.bound
    assert kept.info.gap == pytest.approx(
        (solved.info.bound - kept.info.objective) / kept.info.objective
    )
    assert better_plan(solved, start, w, "coverage") is solved


@pytest.mark.parametrize("seed", range(3))
def test_the_sized_start_serves_at_least_as_much_as_the_greedy(seed):
    rng, reach, sessions = _instance(seed)
    n_site = reach.shape[1]
    sizing = Sizing(
        sessions=sessions, per_charger=6.0, min_chargers=1, max_chargers=3, charger_cost=2.0
    )
    rules = StationRules(site_cost=rng.uniform(3, 8, n_site), sizing=sizing, budget=30.0)
    greedy = greedy_stations(reach, sessions, rules)
    polished = start_plan(reach, sessions, rules, solver=HIGHS)
    # its sizing re-solved may close a site, the greedy grow it again, townships move
    capex = rules.site_cost @ polished.open + sizing.charger_cost * polished.chargers.sum()
    assert capex <= rules.budget + 1e-9
    assert float(sessions @ polished.covered) >= float(sessions @ greedy.covered) - 1e-9
    best = mclp(reach, sessions, rules, solver=HIGHS)
    assert float(sessions @ best.covered) >= float(sessions @ polished.covered) - 1e-6


def test_the_start_proof_stops_only_when_the_bound_is_within_the_gap():
    from types import SimpleNamespace

    from planner.optimize.highs import StartProof

    proof = StartProof(-100.0, 0.01)  # a start covering 100, in HiGHS' minimisation
    for bound, stop in ((-102.0, False), (-101.01, False), (-100.9, True), (float("-inf"), False)):
        event = SimpleNamespace(
            data_out=SimpleNamespace(mip_dual_bound=bound),
            data_in=SimpleNamespace(user_interrupt=False),
        )
        proof.proven = False
        proof.check(event)
        assert event.data_in.user_interrupt is stop and proof.proven is stop


def test_a_start_within_the_gap_is_proven_and_kept():
    _, reach, sessions = _instance(4)
    w = sessions + 1
    rules = StationRules(site_cost=np.ones(reach.shape[1]), max_sites=3)
    best = mclp(reach, w, rules, solver=HIGHS)
    res = mclp(reach, w, rules, solver=HIGHS.model_copy(update={"mip_gap": 0.05}), start=best)
    assert res.info.status == "optimal"
    assert float(w @ res.covered) == pytest.approx(float(w @ best.covered))
    assert res.info.gap <= 0.05


def test_a_township_fed_by_one_substation_keeps_its_headroom():
    """Township "a" may use substation A (its best site) or B; township "b" only A, which
    has room for one station. Taking "a"'s best site first would leave "b" none (the
    demo county at --scale 20 had no greedy start for this reason): the greedy leaves A to
    "b" and still obeys every rule."""
    rows = np.array([0, 0, 1, 2, 3, 3])
    cols = np.array([0, 2, 1, 2, 3, 0])
    reach = SparseTimes(rows, cols, np.ones(len(rows)), (4, 4))
    sessions = np.array([10.0, 1.0, 3.0, 3.0])
    sizing = Sizing(
        sessions=sessions,
        per_charger=10.0,
        min_chargers=1,
        max_chargers=2,
        charger_cost=1.0,
        charger_kw=60.0,
        headroom=((np.array([0, 2, 3]), 60.0), (np.array([1]), 600.0)),
        installed=np.zeros(4, dtype=int),
    )
    none = np.array([], dtype=np.int64)
    rules = StationRules(
        site_cost=np.ones(4),
        sizing=sizing,
        budget=100.0,
        max_sites=4,
        groups={"a": np.array([0, 1]), "b": np.array([2, 3])},
        required=none,
        excluded=none,
        existing=none,
    )
    res = greedy_stations(reach, sessions, rules)
    assert res is not None
    _check_rules(res, reach, sessions, rules)
    assert res.open[1] and res.open[[2, 3]].sum() == 1 and not res.open[0]
