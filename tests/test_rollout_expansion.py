"""A station a rollout opened in an earlier year may get more chargers in a later one.

The case: an opened station (site 0, 2 chargers) and a candidate a few hundred metres
away (site 1) both reach cluster A (5 points of 10 sessions); a far candidate (site 2)
alone reaches cluster B (2 points of 10). A station costs 300,000 CNY, a charger 80,000
and serves 10 sessions; the budget is 500,000 and the substation feeding all three has
headroom for 3 more chargers (the 2 installed are already off it). Growing site 0 by 3
chargers (240,000) covers all of A; a new station with chargers costs at least 380,000.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from planner.config import SolverSection
from planner.datatypes import SparseTimes
from planner.optimize import Sizing, StationRules, mclp
from planner.optimize.assign import reassign
from planner.optimize.greedy import greedy_stations
from planner.optimize.mclp import start_plan

HIGHS = SolverSection(name="highs", mip_gap=0.0)
CBC = SolverSection(name="cbc", mip_gap=0.0)
STATION, CHARGER, KW, Q = 300_000.0, 80_000.0, 60.0, 10.0
BUDGET, HEADROOM, INSTALLED, MOST = 500_000.0, 3 * KW, 2, 6
SESSIONS = np.full(7, 10.0)


def _reach() -> SparseTimes:
    pairs = [(i, j) for i in range(5) for j in (0, 1)] + [(5, 2), (6, 2)]
    rows, cols = (np.array(v) for v in zip(*pairs, strict=True))
    return SparseTimes(rows, cols, np.ones(len(pairs)), (7, 3))


def _rules(*, expandable: bool, **kw: object) -> StationRules:
    sizing = Sizing(
        sessions=SESSIONS,
        per_charger=Q,
        min_chargers=1,
        max_chargers=MOST,
        charger_cost=CHARGER,
        charger_kw=KW,
        headroom=((np.array([0, 1, 2]), HEADROOM),),
        installed=np.array([INSTALLED, 0, 0]),
        expandable=np.array([True, False, False]) if expandable else None,
    )
    base = StationRules(
        site_cost=np.full(3, STATION), sizing=sizing, budget=BUDGET, existing=np.array([0])
    )
    return StationRules(**{**base.__dict__, **kw})  # type: ignore[arg-type]


def _brute_force(*, expandable: bool) -> tuple[float, float]:
    """The most sessions covered within the budget and headroom, and the least capex of
    that coverage, over every plan (chargers added at 0, chargers at 1 and 2)."""
    best = (-1.0, 0.0)
    grow = range(MOST - INSTALLED + 1) if expandable else range(1)
    for a, n1, n2 in itertools.product(grow, range(MOST + 1), range(MOST + 1)):
        capex = CHARGER * (a + n1 + n2) + STATION * ((n1 > 0) + (n2 > 0))
        if capex > BUDGET or KW * (a + n1 + n2) > HEADROOM:
            continue
        covered = min(50.0, Q * (INSTALLED + a + n1)) + min(20.0, Q * n2)
        if covered > best[0] or (covered == best[0] and capex < best[1]):
            best = (covered, capex)
    return best


def _capex(res, rules: StationRules) -> float:
    """New stations in full, the chargers added at the grown site."""
    new = res.open.copy()
    new[0] = False
    added = res.chargers[0] - INSTALLED
    return float(STATION * new.sum() + CHARGER * (res.chargers[new].sum() + added))


@pytest.mark.parametrize("solver", [HIGHS, CBC], ids=["highs", "cbc"])
def test_growing_an_opened_station_beats_a_new_one_nearby(solver):
    covered, capex = _brute_force(expandable=True)
    assert (covered, capex) == (50.0, 3 * CHARGER)  # the hand-computed optimum too
    rules = _rules(expandable=True)
    res = mclp(_reach(), SESSIONS, rules, solver=solver)
    assert res.info.objective == pytest.approx(covered)
    assert not res.open[1] and res.chargers[0] == INSTALLED + 3
    cheapest = mclp(
        _reach(), SESSIONS, _rules(expandable=True, objective="cost", min_cover=covered),
        solver=solver,
    )  # fmt: skip
    assert cheapest.info.objective == pytest.approx(capex)
    assert _capex(cheapest, rules) == pytest.approx(capex)
    assert cheapest.chargers.tolist() == [INSTALLED + 3, 0, 0]


def test_an_operators_existing_site_keeps_its_chargers():
    covered, _ = _brute_force(expandable=False)
    assert covered == 40.0  # a new station (460,000) for 20 more sessions
    res = mclp(_reach(), SESSIONS, _rules(expandable=False), solver=HIGHS)
    assert res.info.objective == pytest.approx(covered)
    assert res.chargers[0] == INSTALLED


def test_the_headroom_counts_only_the_chargers_added():
    # headroom for 2 more: 2 added at site 0 (the 2 installed do not count)
    rules = _rules(expandable=True)
    assert rules.sizing is not None
    tight = Sizing(**{**rules.sizing.__dict__, "headroom": ((np.array([0, 1, 2]), 2 * KW),)})
    res = mclp(_reach(), SESSIONS, _rules(expandable=True, sizing=tight), solver=HIGHS)
    assert res.info.objective == pytest.approx(40.0)  # 20 if the installed ones counted
    cheapest = _rules(expandable=True, sizing=tight, objective="cost", min_cover=40.0)
    res = mclp(_reach(), SESSIONS, cheapest, solver=HIGHS)
    assert res.info.objective == pytest.approx(2 * CHARGER)
    assert res.chargers.tolist() == [INSTALLED + 2, 0, 0]


def test_the_greedy_start_grows_the_station_within_the_limits():
    rules = _rules(expandable=True)
    for plan in (
        greedy_stations(_reach(), SESSIONS, rules),
        start_plan(_reach(), SESSIONS, rules, solver=HIGHS),
    ):
        assert plan is not None
        assert INSTALLED <= plan.chargers[0] <= MOST
        added = plan.chargers.sum() - INSTALLED
        assert added * KW <= HEADROOM and _capex(plan, rules) <= BUDGET
        assert float(SESSIONS @ plan.covered) == pytest.approx(50.0)
        assert plan.chargers.tolist() == [INSTALLED + 3, 0, 0]


def test_reassign_keeps_the_added_chargers_the_load_needs():
    rules = _rules(expandable=True)
    res = mclp(_reach(), SESSIONS, rules, solver=HIGHS)
    more = res.chargers.copy()
    more[0] = MOST  # one charger too many for its load of 50 sessions
    out = reassign(type(res)(**{**res.__dict__, "chargers": more}), _reach(), rules.sizing)
    assert out.chargers[0] == INSTALLED + 3
    assert float(SESSIONS @ out.covered) == pytest.approx(50.0)
