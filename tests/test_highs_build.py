"""The bulk HiGHS builder (`highs.pulp_model`) hands HiGHS exactly PuLP's own model."""

import highspy
import numpy as np
import pulp
import pytest

from planner.config import SolverSection
from planner.optimize.highs import pulp_model
from planner.optimize.solve import solve
from tests.test_links import _cost_model, _instance


def _pulp_built(prob: pulp.LpProblem, *, mip: bool) -> highspy.HighsLp:
    """The model PuLP's own HiGHS interface builds (one column and row at a time)."""
    backend = pulp.HiGHS(mip=mip, msg=False)
    backend.createAndConfigureSolver(prob)
    backend.buildSolverModel(prob)
    return prob.solverModel.getLp()


def _bulk_built(prob: pulp.LpProblem, *, mip: bool) -> highspy.HighsLp:
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    pulp_model(prob, h, mip=mip)
    return h.getLp()


def _assert_same(a: highspy.HighsLp, b: highspy.HighsLp) -> None:
    assert (a.num_col_, a.num_row_) == (b.num_col_, b.num_row_)
    for name in ("col_cost_", "col_lower_", "col_upper_", "row_lower_", "row_upper_"):
        assert np.array_equal(np.asarray(getattr(a, name)), np.asarray(getattr(b, name))), name
    for name in ("start_", "index_", "value_"):
        got = np.asarray(getattr(a.a_matrix_, name))
        want = np.asarray(getattr(b.a_matrix_, name))
        assert np.array_equal(got, want), name
    assert a.a_matrix_.format_ == b.a_matrix_.format_
    assert list(a.integrality_) == list(b.integrality_)
    assert a.offset_ == b.offset_


def _odd_model() -> pulp.LpProblem:
    """Every kind of row and bound PuLP writes: =, <=, >= with constants on both sides, a
    zero coefficient, free, one-sided, bounded and fixed variables, integers, a maximisation."""
    prob = pulp.LpProblem("odd", pulp.LpMaximize)
    a = prob.add_variable("a", lowBound=0, upBound=4, cat=pulp.LpInteger)
    b = prob.add_variable("b")  # free (held by the equality row)
    c = prob.add_variable("c", lowBound=-2, upBound=3)
    d = prob.add_variable("d", lowBound=2, upBound=2)
    e = prob.add_variable("e", lowBound=0, cat=pulp.LpBinary)
    f = prob.add_variable("f", lowBound=1)  # one-sided
    prob += 3 * a - b + 0.5 * c + d + 7 * e - f + 11
    prob += a + b + 0 * c <= 5 + e, "le"
    prob += 2 * a - c + 4 >= d, "ge"
    prob += b - c == 1, "eq"
    prob += a + e - f >= -1, "cover"
    return prob


@pytest.mark.parametrize("mip", [True, False])
def test_bulk_build_is_pulps_model_on_every_row_kind(mip):
    prob = _odd_model()
    _assert_same(_bulk_built(prob, mip=mip), _pulp_built(prob, mip=mip))


@pytest.mark.parametrize("seed", range(3))
def test_bulk_build_is_pulps_model_on_the_sized_station_model(seed):
    reach, sessions, cost, sizing = _instance(seed, n_dem=60, n_site=14)
    prob, _ = _cost_model(reach, sessions, cost, sizing, link=True)
    _assert_same(_bulk_built(prob, mip=True), _pulp_built(prob, mip=True))


@pytest.mark.parametrize("seed", [None, 0, 1])
def test_solves_through_the_bulk_build_read_back_every_value(seed):
    """The planner's HiGHS path (bulk build) and PuLP's own find the same optimum and
    plan (the values are read back by the indices the build sets)."""

    def model() -> pulp.LpProblem:
        if seed is None:
            return _odd_model()
        reach, sessions, cost, sizing = _instance(seed, n_dem=50, n_site=12)
        return _cost_model(reach, sessions, cost, sizing, link=True)[0]

    theirs = model()
    theirs.solve(pulp.HiGHS(msg=False, gapRel=0.0))
    ours = model()
    info = solve(ours, solver=SolverSection(mip_gap=0.0), model="bulk")
    assert info.status == "optimal"
    assert info.objective == pytest.approx(pulp.value(theirs.objective), rel=1e-9)
    want = {v.name: v.value() for v in theirs.variables()}
    assert {v.name: v.value() for v in ours.variables()} == pytest.approx(want, abs=1e-6)


def test_bulk_build_of_a_model_without_objective():
    """A model with no objective yet (PuLP's own builder fails on it) gets zero costs."""
    prob = pulp.LpProblem("none", pulp.LpMinimize)
    a = prob.add_variable("a", lowBound=0, upBound=1)
    prob += a >= 0.5, "half"
    lp = _bulk_built(prob, mip=True)
    assert np.asarray(lp.col_cost_).tolist() == [0.0]
    assert np.asarray(lp.row_lower_).tolist() == [0.5]
