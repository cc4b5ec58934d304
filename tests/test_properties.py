"""Properties of lexicographic plans on random small counties, checked by brute force.

Each county has a handful of candidate sites and demand points with random drive times.
The brute force tries every plan (each site closed or open with 1..max chargers), serves the
demand by the assignment LP and keeps the lexicographic best: most sessions covered, then
least capex, then least drive time for the sites of that plan. The models run with a MIP gap
of 0.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planner.config import SolverSection
from planner.datatypes import SparseTimes
from planner.errors import InfeasibleError
from planner.optimize import Sizing, mclp
from planner.optimize.assign import assign_demand, reassign
from planner.optimize.passes import held_sites, pass_order, solve_lexicographic

EXACT = SolverSection(name="highs", mip_gap=0.0, threads=1)
PER_CHARGER = 5.0
MAX_CHARGERS = 2
CHARGER_COST = 3.0
PROPERTY = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@dataclass
class County:
    minutes: np.ndarray  # (demand, sites) drive times
    sessions: np.ndarray
    site_cost: np.ndarray

    def reach(self, cutoff: float) -> SparseTimes:
        r, c = np.nonzero(self.minutes <= cutoff)
        return SparseTimes(r, c, self.minutes[r, c], self.minutes.shape)


@st.composite
def counties(draw: st.DrawFn) -> County:
    n_dem = draw(st.integers(3, 6))
    n_site = draw(st.integers(2, 4))
    times = draw(st.lists(st.integers(1, 20), min_size=n_dem * n_site, max_size=n_dem * n_site))
    sessions = draw(st.lists(st.integers(1, 8), min_size=n_dem, max_size=n_dem))
    cost = draw(st.lists(st.integers(5, 20), min_size=n_site, max_size=n_site))
    return County(
        np.array(times, dtype=float).reshape(n_dem, n_site),
        np.array(sessions, dtype=float),
        np.array(cost, dtype=float),
    )


def _sizing(county: County, *, charger_cost: float = CHARGER_COST) -> Sizing:
    return Sizing(
        sessions=county.sessions,
        per_charger=PER_CHARGER,
        min_chargers=1,
        max_chargers=MAX_CHARGERS,
        charger_cost=charger_cost,
    )


def _plans(county: County, reach: SparseTimes, *, charger_cost: float = CHARGER_COST):
    """Every plan: (chargers per site, capex, sessions served, session-minutes, stations)."""
    n_site = county.minutes.shape[1]
    out = []
    for n in itertools.product(range(MAX_CHARGERS + 1), repeat=n_site):
        n = np.array(n)
        a = assign_demand(reach, county.sessions, n * PER_CHARGER)
        w = county.sessions[a.rows] * a.share
        capex = float(county.site_cost[n > 0].sum() + charger_cost * n.sum())
        out.append((n, capex, float(w.sum()), float((w * a.minutes).sum()), int((n > 0).sum())))
    return out


def _solve(county: County, reach: SparseTimes, order, **limits):
    sizing = limits.pop("sizing", _sizing(county))
    site_cost = limits.pop("site_cost", county.site_cost)

    def one_pass(**kw):
        held = held_sites(kw["start"].open, None) if kw["objective"] == "time" else {}
        return mclp(
            reach,
            county.sessions,
            site_cost=site_cost,
            sizing=sizing,
            solver=EXACT,
            **kw,
            **held,
        )

    lex = solve_lexicographic(one_pass, lambda r: r.info, order, **limits)
    return lex, reassign(lex.result, reach, sizing)


@PROPERTY
@given(counties(), st.floats(0.3, 1.0), st.integers(8, 16))
def test_plans_are_the_lexicographic_optimum(county, share, cutoff):
    reach = county.reach(cutoff)
    plans = _plans(county, reach)
    budget = share * max(p[1] for p in plans)
    fits = [p for p in plans if p[1] <= budget + 1e-9]
    lex, res = _solve(county, reach, pass_order("coverage"), min_cover=None, budget=budget)
    assert all(p.status == "optimal" for p in lex.passes)
    best_cover = max(p[2] for p in fits)
    best_capex = min(p[1] for p in fits if p[2] >= best_cover - 1e-6)
    served = float((county.sessions * res.covered).sum())
    capex = float(county.site_cost[res.open].sum() + CHARGER_COST * res.chargers.sum())
    a_w = county.sessions[res.flow_rows] * res.flow_share
    assert served == pytest.approx(best_cover, abs=1e-5)
    # the least-cost plan costs no more than any other plan of the same coverage
    assert capex == pytest.approx(best_capex, abs=1e-6)
    # the least drive time for those sites at that coverage and capex
    best_time = min(
        p[3]
        for p in fits
        if p[2] >= best_cover - 1e-6
        and p[1] <= best_capex + 1e-6
        and np.array_equal(p[0] > 0, res.open)
    )
    assert float((a_w * res.flow_minutes).sum()) == pytest.approx(best_time, abs=1e-4)


@PROPERTY
@given(counties(), st.floats(0.2, 0.9), st.integers(8, 16))
def test_more_budget_never_covers_less(county, share, cutoff):
    reach = county.reach(cutoff)
    top = max(p[1] for p in _plans(county, reach))
    covered = []
    for budget in (share * top, min(1.0, share + 0.2) * top):
        try:
            _, res = _solve(county, reach, ("coverage",), min_cover=None, budget=budget)
        except InfeasibleError:
            covered.append(0.0)
            continue
        covered.append(float((county.sessions * res.covered).sum()))
    assert covered[1] >= covered[0] - 1e-6


@PROPERTY
@given(counties(), st.floats(0.2, 0.8), st.integers(5, 12), st.integers(1, 8))
def test_a_longer_cutoff_never_needs_more_stations(county, target, cutoff, longer):
    """The fewest stations that cover a share of the sessions, at two cutoffs."""
    total = float(county.sessions.sum())
    counts = []
    for c in (cutoff, cutoff + longer):
        reach = county.reach(c)
        plans = _plans(county, reach, charger_cost=0)
        need = [p[4] for p in plans if p[2] >= target * total - 1e-6]
        try:
            lex, _ = _solve(
                county,
                reach,
                ("capex",),
                min_cover=target * total,
                budget=None,
                sizing=_sizing(county, charger_cost=0),
                site_cost=np.ones_like(county.site_cost),
            )
        except InfeasibleError:
            assert not need
            counts.append(np.inf)
            continue
        assert lex.passes[0].objective == pytest.approx(min(need))
        counts.append(round(lex.passes[0].objective))
    assert counts[1] <= counts[0]
