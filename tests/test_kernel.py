"""The coverage pass's start kernel: the sized model on the sites its relaxation uses,
and HiGHS stopped by its node limit."""

import importlib

import numpy as np
import pulp
import pytest

from planner.config import SolverSection
from planner.optimize import mclp
from planner.optimize.kernel import kernel_plan
from planner.optimize.mclp import start_plan
from planner.optimize.solve import solve
from tests.test_greedy import _check_rules, _instance, all_rules

# the module, not the function planner.optimize exports under its name
mclp_module = importlib.import_module("planner.optimize.mclp")
kernel_module = importlib.import_module("planner.optimize.kernel")

HIGHS = SolverSection(name="highs", mip_gap=0.0, kernel_min_pairs=0)  # the kernel forced on


def _case(seed):
    rng, reach, sessions = _instance(seed, n_dem=50, n_site=16, k=220)
    rules = all_rules(rng, sessions, reach.shape[1], budget=float(rng.uniform(40, 70)), max_sites=6)
    w = sessions + rng.integers(0, 2, len(sessions))
    start = start_plan(reach, w, rules, solver=HIGHS)
    return rng, reach, w, rules, start


@pytest.mark.parametrize("seed", range(8))
def test_the_kernel_keeps_every_rule_its_sites_and_the_start(seed):
    rng, reach, w, rules, start = _case(seed)
    if start is None:
        pytest.skip("no plan keeps every rule on this instance")
    sites = np.where(rng.random(reach.shape[1]) < 0.4, rng.random(reach.shape[1]), 0.0)
    plan, fired = kernel_plan(reach, w, rules, start, sites, solver=HIGHS)
    _check_rules(plan, reach, w, rules)
    assert not fired
    assert not (plan.open & ~((sites > kernel_module.KERNEL_MIN) | start.open)).any()
    assert not plan.open[rules.excluded].any()  # even when the relaxation had them
    assert float(w @ plan.covered) >= float(w @ start.covered) - 1e-9


@pytest.mark.parametrize("seed", range(4))
def test_a_kernel_holding_the_optimum_finds_it(seed):
    _, reach, w, rules, start = _case(seed)
    if start is None:
        pytest.skip("no plan keeps every rule on this instance")
    best = mclp(reach, w, rules, solver=HIGHS)
    assert best.info.status == "optimal"
    plan, _ = kernel_plan(reach, w, rules, start, best.open.astype(float), solver=HIGHS)
    assert float(w @ plan.covered) == pytest.approx(float(w @ best.covered), abs=1e-6)


def test_no_kernel_without_a_relaxation_or_with_every_site():
    _, reach, w, rules, start = _case(0)
    assert start is not None
    for sites in (None, np.ones(reach.shape[1])):  # the kernel would be the whole model
        plan, fired = kernel_plan(reach, w, rules, start, sites, solver=HIGHS)
        assert plan is start and not fired


def test_the_pass_is_optimal_with_its_kernel_as_without(monkeypatch):
    """The kernel only changes the start: the proven optimum is the same."""
    for seed in range(4):
        _, reach, w, rules, start = _case(seed)
        if start is None:
            continue
        with_kernel = mclp(reach, w, rules, solver=HIGHS)
        with monkeypatch.context() as m:
            m.setattr(mclp_module, "kernel_plan", lambda *a, **k: (a[3], False))
            without = mclp(reach, w, rules, solver=HIGHS)
        assert with_kernel.info.status == without.info.status == "optimal"
        assert float(w @ with_kernel.covered) == pytest.approx(float(w @ without.covered))


def test_a_kernel_stopped_by_the_time_limit_marks_the_pass(monkeypatch):
    _, reach, w, rules, _ = _case(1)
    monkeypatch.setattr(mclp_module, "kernel_plan", lambda *a, **k: (a[3], True))
    res = mclp(reach, w, rules, solver=HIGHS)
    assert res.info.status == "time_limit"  # the plan depends on the clock: the pass says so
    loose = mclp(reach, w, rules, solver=HIGHS.model_copy(update={"mip_gap": 1.0}))
    assert loose.info.status == "time_limit"


def _knapsacks() -> pulp.LpProblem:
    """Five random knapsack rows over 40 items: HiGHS needs more than its root."""
    rng = np.random.default_rng(3)
    a, c = rng.integers(10, 100, (5, 40)), rng.integers(10, 100, 40)
    prob = pulp.LpProblem("knapsacks", pulp.LpMaximize)
    x = [prob.add_variable(f"x{j}", cat=pulp.LpBinary) for j in range(40)]
    prob += pulp.lpSum(int(c[j]) * x[j] for j in range(40))
    for row in a:
        prob += pulp.lpSum(int(v) * xj for v, xj in zip(row, x, strict=True)) <= int(row.sum() // 2)
    return prob


def test_highs_stopped_by_its_node_limit_reports_its_plan_and_gap():
    """PuLP has no status for HiGHS's node limit; the solve still ends with the plan."""
    cut = solve(_knapsacks(), solver=HIGHS.model_copy(update={"node_limit": 1}), model="knapsacks")
    full = solve(_knapsacks(), solver=HIGHS, model="knapsacks")
    assert cut.status == "node_limit" and full.status == "optimal"
    assert cut.objective is not None and full.objective is not None
    assert cut.objective <= full.objective <= cut.bound
    assert cut.gap is not None and cut.gap > 0


def test_the_kernel_runs_from_its_size_on():
    _, reach, _, _, _ = _case(0)
    n = len(reach.rows)
    for least, runs in ((0, True), (n, True), (n + 1, False), (None, False)):
        solver = HIGHS.model_copy(update={"kernel_min_pairs": least})
        assert kernel_module.wants_kernel(reach, solver) is runs
    assert not kernel_module.wants_kernel(reach, SolverSection())  # default: large models
