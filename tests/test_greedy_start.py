"""The start of the sized coverage pass: township sites chosen by what they are worth,
the plan grown again after its sizing is re-solved, every rule kept."""

from dataclasses import replace

import numpy as np
import pytest

from planner.config import SolverSection
from planner.datatypes import SparseTimes
from planner.optimize import Sizing, StationRules, mclp
from planner.optimize.greedy import greedy_stations
from planner.optimize.greedy_moves import extend_plan, rechoose_townships
from planner.optimize.mclp import start_plan
from tests.test_greedy import _check_rules, _instance, all_rules

HIGHS = SolverSection(name="highs", mip_gap=0.0)
NONE = np.array([], dtype=np.int64)


def _two_site_township(budget):
    """Township "a" has sites 0 (cost 10) and 1 (cost 1), both reaching demand 0 and 1;
    site 2 (cost 1, no township) reaches demand 2. 10 sessions each, 10 per charger."""
    reach = SparseTimes(np.array([0, 1, 0, 1, 2]), np.array([0, 0, 1, 1, 2]), np.ones(5), (3, 3))
    sessions = np.full(3, 10.0)
    sizing = Sizing(
        sessions=sessions, per_charger=10.0, min_chargers=1, max_chargers=2, charger_cost=1.0
    )
    rules = StationRules(
        site_cost=np.array([10.0, 1.0, 1.0]),
        sizing=sizing,
        budget=budget,
        groups={"a": np.array([0, 1])},
        required=NONE,
        excluded=NONE,
        existing=NONE,
    )
    return reach, sessions, rules


def test_a_township_takes_its_site_by_value_per_yuan_at_full_size():
    """At one charger sites 0 and 1 cover the same; the dear one leaves no money for site 2
    (20 covered), the cheap one does (30, the optimum)."""
    reach, sessions, rules = _two_site_township(13.0)
    res = greedy_stations(reach, sessions, rules)
    assert res is not None
    assert res.open.tolist() == [False, True, True]
    assert res.chargers.tolist() == [0, 2, 1]
    assert float(sessions @ res.covered) == pytest.approx(30.0)
    best = mclp(reach, sessions, rules, solver=HIGHS)
    assert float(sessions @ best.covered) == pytest.approx(30.0)


def _rules(rng, sessions, n_site, budget):
    """Every kind of rule of the sized model, on a random instance."""
    return all_rules(rng, sessions, n_site, budget=budget, max_sites=6)


@pytest.mark.parametrize("seed", range(10))
def test_a_grown_plan_keeps_every_rule_and_what_it_had(seed):
    rng, reach, sessions = _instance(seed, n_dem=50, n_site=16, k=220)
    rules = _rules(rng, sessions, reach.shape[1], budget=float(rng.uniform(40, 70)))
    w = sessions + rng.integers(0, 2, len(sessions))
    plans = (greedy_stations(reach, w, replace(rules, budget=rules.budget * f)) for f in (0.5, 0.7))
    small = next((p for p in plans if p is not None), None)
    assert small is not None
    _check_rules(small, reach, w, rules)
    grown = extend_plan(reach, w, rules, small)
    _check_rules(grown, reach, w, rules)
    assert grown.open[small.open].all()
    assert (grown.chargers >= small.chargers).all()
    assert float(w @ grown.covered) >= float(w @ small.covered) - 1e-9
    assert grown.info.objective == pytest.approx(float(w @ grown.covered))


def test_a_plan_grows_with_the_money_it_leaves():
    """A plan of site 1 with one charger (budget 13 leaves 11): the greedy adds the second
    charger and site 2, as from scratch."""
    reach, sessions, rules = _two_site_township(13.0)
    one = greedy_stations(reach, sessions, replace(rules, budget=2.0))
    assert one is not None and one.open.tolist() == [False, True, False]
    grown = extend_plan(reach, sessions, rules, one)
    assert grown.open.tolist() == [False, True, True]
    assert grown.chargers.tolist() == [0, 2, 1]
    assert float(sessions @ grown.covered) == pytest.approx(30.0)
    assert extend_plan(reach, sessions, replace(rules, budget=2.0), one) is one


@pytest.mark.parametrize("seed", range(8))
def test_the_start_keeps_every_rule_and_lies_between_the_greedy_and_the_optimum(seed):
    rng, reach, sessions = _instance(seed, n_dem=50, n_site=16, k=220)
    rules = _rules(rng, sessions, reach.shape[1], budget=float(rng.uniform(25, 60)))
    w = sessions.copy()
    greedy = greedy_stations(reach, w, rules)
    start = start_plan(reach, w, rules, solver=HIGHS)
    assert greedy is not None and start is not None
    _check_rules(start, reach, w, rules)
    best = mclp(reach, w, rules, solver=HIGHS)
    assert best.info.status == "optimal"
    assert float(w @ greedy.covered) - 1e-6 <= float(w @ start.covered)
    assert float(w @ start.covered) <= float(w @ best.covered) + 1e-6


def test_a_township_takes_the_better_site_given_the_plan():
    """A plan with the dear site 0 (site 1 excluded when it was built) covers 20: the pass
    moves the township to site 1, at its full size, for 30."""
    reach, sessions, rules = _two_site_township(13.0)
    dear = greedy_stations(reach, sessions, replace(rules, excluded=np.array([1])))
    assert dear is not None and dear.open.tolist() == [True, False, True]
    assert float(sessions @ dear.covered) == pytest.approx(20.0)
    moved, changed = rechoose_townships(reach, sessions, rules, dear)
    assert changed == 1
    assert moved.open.tolist() == [False, True, True]
    assert moved.chargers.tolist() == [0, 2, 1]
    assert float(sessions @ moved.covered) == pytest.approx(30.0)
    _check_township_plan(moved, reach, sessions, rules)
    again, changed = rechoose_townships(reach, sessions, rules, moved)
    assert changed == 0 and again.open.tolist() == moved.open.tolist()


def _check_township_plan(res, reach, w, rules):
    """The rules the two-site instance has: budget, township, capacity."""
    s = rules.sizing
    capex = (rules.site_cost * res.open).sum() + s.charger_cost * res.chargers.sum()
    assert capex <= rules.budget + 1e-9
    assert res.open[rules.groups["a"]].any()
    load = np.bincount(
        res.flow_cols, weights=s.sessions[res.flow_rows] * res.flow_share, minlength=3
    )
    assert (load <= s.per_charger * res.chargers + 1e-9).all()


@pytest.mark.parametrize("seed", range(10))
def test_the_township_pass_keeps_every_rule(seed):
    rng, reach, sessions = _instance(seed, n_dem=50, n_site=16, k=220)
    rules = _rules(rng, sessions, reach.shape[1], budget=float(rng.uniform(40, 70)))
    w = sessions + 1
    plan = greedy_stations(reach, w, rules)
    assert plan is not None
    moved, changed = rechoose_townships(reach, w, rules, plan)
    _check_rules(moved, reach, w, rules)
    assert moved.info.objective == pytest.approx(float(w @ moved.covered))
    kept = moved.open == plan.open
    assert changed == (len(plan.open) - kept.sum()) // 2


def test_the_start_is_the_same_every_time():
    rng, reach, sessions = _instance(3, n_dem=50, n_site=16, k=220)
    rules = _rules(rng, sessions, reach.shape[1], budget=50.0)
    one = start_plan(reach, sessions, rules, solver=HIGHS)
    two = start_plan(reach, sessions, rules, solver=HIGHS)
    assert one is not None and two is not None
    assert one.open.tolist() == two.open.tolist()
    assert one.chargers.tolist() == two.chargers.tolist()
    assert np.array_equal(one.covered, two.covered)
