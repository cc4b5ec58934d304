"""Linking rows added where the relaxation needs them, and starts settled on its bound."""

import numpy as np
import pulp
import pytest

from planner.config import SolverSection
from planner.datatypes import SparseTimes
from planner.optimize import Sizing, mclp
from planner.optimize.links import separate_links, settle_on_relaxation
from planner.optimize.problem import add_min_cover
from planner.optimize.station import StationBlock
from planner.optimize.station_plan import set_start

EXACT = SolverSection(name="highs", mip_gap=0.0)


def _instance(seed: int, n_dem: int = 40, n_site: int = 10):
    """A random sized instance: pairs, sessions, site costs, sizing."""
    rng = np.random.default_rng(seed)
    k = 5 * n_dem
    pairs = zip(rng.integers(0, n_dem, k), rng.integers(0, n_site, k), strict=True)
    draws = {(int(i), int(j)) for i, j in pairs}
    rows, cols = np.array(sorted(draws)).T
    reach = SparseTimes(rows, cols, rng.uniform(1, 15, len(rows)), (n_dem, n_site))
    sessions = rng.integers(1, 6, n_dem).astype(float)
    sizing = Sizing(
        sessions=sessions, per_charger=10, min_chargers=1, max_chargers=6, charger_cost=1.0
    )
    cost = rng.uniform(10, 30, n_site).round(1)
    return reach, sessions, cost, sizing


def _cost_model(reach, sessions, cost, sizing, *, link, share=0.7):
    """Least capex covering ``share`` of the sessions; all linking rows or only the needed."""
    prob = pulp.LpProblem("capex", pulp.LpMinimize)
    block = StationBlock(
        prob, reach, sessions, cost, sizing, np.zeros(0, dtype=np.int64), link=link
    )
    add_min_cover(prob, block.cover, share * sessions.sum())
    prob += pulp.LpAffineExpression(block.cost_terms)
    return prob, block


def _relaxation(prob):
    prob.solve(pulp.HiGHS(mip=False, msg=False))
    assert pulp.LpStatus[prob.status] == "Optimal"
    return pulp.value(prob.objective)


@pytest.mark.parametrize("seed", range(6))
def test_separated_links_give_the_bound_of_all_links(seed):
    reach, sessions, cost, sizing = _instance(seed)
    full, _ = _cost_model(reach, sessions, cost, sizing, link=True)
    bound = _relaxation(full)
    lazy, block = _cost_model(reach, sessions, cost, sizing, link=False)
    weak = _relaxation(lazy)
    report = separate_links(lazy, block)
    assert report.converged
    assert 0 < report.added <= report.candidates
    assert report.bound == pytest.approx(bound, rel=1e-7)
    assert weak < bound - 1e-6  # the rows are needed: without them the bound is weaker
    # the MIP with the rows found has the optimum of the MIP with every row
    lazy.solve(pulp.HiGHS(msg=False, gapRel=0))
    full.solve(pulp.HiGHS(msg=False, gapRel=0))
    assert pulp.value(lazy.objective) == pytest.approx(pulp.value(full.objective), rel=1e-7)


def _least_capex(reach, sessions, cost, sizing, share):
    """The least-capex plan covering ``share`` of the sessions, solved exactly."""
    return mclp(
        reach,
        sessions,
        site_cost=cost,
        sizing=sizing,
        objective="cost",
        min_cover=share * sessions.sum(),
        solver=EXACT,
    )


@pytest.mark.parametrize("seed", range(4))
def test_the_capex_model_keeps_its_exact_optimum(seed):
    reach, sessions, cost, sizing = _instance(seed)
    full, _ = _cost_model(reach, sessions, cost, sizing, link=True)
    full.solve(pulp.HiGHS(msg=False, gapRel=0))
    res = _least_capex(reach, sessions, cost, sizing, 0.7)
    assert res.info.status == "optimal"
    assert res.info.objective == pytest.approx(pulp.value(full.objective), rel=1e-7)


def _dear_start(reach, sessions, cost, sizing):
    """A feasible plan that opens every site with its most chargers: far from the optimum."""
    return mclp(
        reach,
        sessions,
        site_cost=cost,
        sizing=sizing,
        required=np.arange(reach.shape[1]),
        objective="coverage",
        solver=EXACT,
    )


@pytest.mark.parametrize("seed", range(4))
def test_relax_only_keeps_the_start_with_its_honest_gap(seed):
    reach, sessions, cost, sizing = _instance(seed)
    start = _dear_start(reach, sessions, cost, sizing)
    kw = {
        "site_cost": cost,
        "sizing": sizing,
        "objective": "cost",
        "min_cover": 0.7 * sessions.sum(),
    }
    best = mclp(reach, sessions, solver=EXACT, **kw)
    kept = mclp(reach, sessions, solver=EXACT, start=start, relax_only=True, **kw)
    assert np.array_equal(kept.open, start.open)
    info = kept.info
    assert info.status == "node_limit"  # not proven: reported as stopped by the work limit
    assert info.bound <= best.info.objective + 1e-6  # a true lower bound on the least capex
    assert info.objective > best.info.objective  # the dear start is the start's own value
    assert info.gap == pytest.approx((info.objective - info.bound) / info.objective)
    # the same start with room to branch: the solver beats it and proves its gap
    solved = mclp(reach, sessions, solver=EXACT, start=start, **kw)
    assert solved.info.status == "optimal"
    assert solved.info.objective == pytest.approx(best.info.objective, rel=1e-7)


def test_a_start_within_the_gap_is_settled_without_branching():
    reach, sessions, cost, sizing = _instance(3)
    prob, block = _cost_model(reach, sessions, cost, sizing, link=False)
    report = separate_links(prob, block)
    best = _least_capex(reach, sessions, cost, sizing, 0.7)
    set_start(block, best)
    rel = (best.info.objective - report.bound) / best.info.objective
    assert rel > 0  # the instance has an integrality gap
    settled = settle_on_relaxation(
        prob, report, model="m", gap=rel + 1e-9, relax_only=False, build_seconds=0.0
    )
    assert settled is not None and settled.status == "optimal"
    assert settled.objective == pytest.approx(best.info.objective)
    # a tighter gap than the start's: the MIP must be solved (None), or with relax_only the
    # start stands unproven
    assert (
        settle_on_relaxation(
            prob, report, model="m", gap=rel / 2, relax_only=False, build_seconds=0.0
        )
        is None
    )
    kept = settle_on_relaxation(
        prob, report, model="m", gap=rel / 2, relax_only=True, build_seconds=0.0
    )
    assert kept is not None and kept.status == "node_limit"


def test_an_infeasible_start_is_never_settled():
    reach, sessions, cost, sizing = _instance(5)
    prob, block = _cost_model(reach, sessions, cost, sizing, link=False, share=0.9)
    report = separate_links(prob, block)
    cheap = _least_capex(reach, sessions, cost, sizing, 0.3)
    set_start(block, cheap)  # covers 30%: below the model's 90%
    for relax_only in (False, True):
        assert (
            settle_on_relaxation(
                prob, report, model="m", gap=0.5, relax_only=relax_only, build_seconds=0.0
            )
            is None
        )


@pytest.mark.parametrize("seed", range(4))
def test_the_first_relaxations_sites_are_those_before_any_row_was_added(seed):
    # the capex pass's kernel takes its sites from the relaxation before separation
    reach, sessions, cost, sizing = _instance(seed)
    lazy, block = _cost_model(reach, sessions, cost, sizing, link=False)
    before = _relaxation(lazy)
    x_before = np.array([v.varValue or 0.0 for v in block.x])
    report = separate_links(lazy, block)
    assert report.added > 0 and report.first_sites is not None
    assert report.first_sites.shape == (len(block.x),)
    assert ((report.first_sites >= -1e-9) & (report.first_sites <= 1 + 1e-9)).all()
    assert np.allclose(report.first_sites, x_before, atol=1e-6)  # the same relaxation
    assert report.bound is not None and report.bound >= before - 1e-6  # rows only tighten
