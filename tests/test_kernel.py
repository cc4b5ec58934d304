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
    # the same when the capex pass settles the kernel's plan on its relaxation
    _, _, _, best, floor = _capex_case(1)
    kw = {"objective": "cost", "min_cover": floor, "start": best, "relax_only": True}
    for gap in (0.0, 1.0):  # whether or not the relaxation proves it
        solver = HIGHS.model_copy(update={"kernel_min_pairs": None, "mip_gap": gap})
        settled = mclp(reach, w, rules, kernel_first=True, solver=solver, **kw)
        assert settled.info.status == "time_limit"


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


def test_the_kernel_runs_on_many_pairs_per_site(monkeypatch):
    _, reach, _, _, _ = _case(0)
    n, sites = len(reach.rows), reach.shape[1]
    per_site = n // sites  # the pairs reach this many per site, not one more
    monkeypatch.setattr(kernel_module, "DENSE_MIN_PAIRS", 0)  # the floor forced down
    for dense, runs in ((per_site, True), (per_site + 1, False), (None, False)):
        update = {"kernel_min_pairs": None, "kernel_min_pairs_per_site": dense}
        assert kernel_module.wants_kernel(reach, HIGHS.model_copy(update=update)) is runs
    monkeypatch.setattr(kernel_module, "DENSE_MIN_PAIRS", n + 1)  # under the floor: never
    update = {"kernel_min_pairs": None, "kernel_min_pairs_per_site": 1}
    assert not kernel_module.wants_kernel(reach, HIGHS.model_copy(update=update))


def _capex_case(seed: int) -> tuple:
    """A random case, its coverage optimum and the coverage the capex pass must keep."""
    _, reach, w, rules, start = _case(seed)
    if start is None:
        pytest.skip("no plan keeps every rule on this instance")
    best = mclp(reach, w, rules, solver=HIGHS)
    return reach, w, rules, best, float(w @ best.covered) * (1 - 1e-7)


@pytest.mark.parametrize("seed", range(6))
def test_the_capex_kernel_changes_the_start_not_the_least_capex(seed, monkeypatch):
    # the capex pass: least capex at the coverage of the first pass, from that plan; with
    # kernel_first the model is solved on its kernel first (the cost objective), and the
    # full model proves the same optimum from the kernel's plan
    reach, w, rules, best, floor = _capex_case(seed)
    seen = []
    real = kernel_module.kernel_plan

    def spy(reach, weight, rules, start, sites, *, solver):
        seen.append((rules.objective, sites is not None))
        return real(reach, weight, rules, start, sites, solver=solver)

    monkeypatch.setattr(mclp_module, "kernel_plan", spy)
    costs = {}
    for first in (False, True):
        plan = mclp(
            reach,
            w,
            rules,
            objective="cost",
            min_cover=floor,
            start=best,
            kernel_first=first,
            solver=HIGHS.model_copy(update={"kernel_min_pairs": None}),
        )
        assert plan.info.status == "optimal"
        assert float(w @ plan.covered) >= floor - 1e-9
        _check_rules(plan, reach, w, rules)
        costs[first] = plan.info.objective
    assert seen == [("cost", True)]  # only with kernel_first, on the cost model's relaxation
    assert costs[True] == pytest.approx(costs[False], rel=1e-9, abs=1e-6)


@pytest.mark.parametrize("seed", range(6))
def test_above_the_pair_limit_a_small_kernel_gives_the_settled_plan(seed, monkeypatch):
    # relax_only (above solver.capex_max_pairs): the whole model is not searched; the
    # kernel's plan, when the kernel is small, is settled on the relaxation instead of
    # the start: no dearer, the same bound, and never below the least capex
    reach, w, rules, best, floor = _capex_case(seed)
    solver = HIGHS.model_copy(update={"kernel_min_pairs": None, "mip_gap": 0.005})
    kw = {"objective": "cost", "min_cover": floor, "start": best, "solver": solver}
    exact = mclp(reach, w, rules, **kw)
    calls = []
    real = kernel_module.kernel_plan

    def spy(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(mclp_module, "kernel_plan", spy)
    held = mclp(reach, w, rules, relax_only=True, kernel_first=True, **kw)
    assert calls == [1]
    monkeypatch.setattr(kernel_module, "RELAXED_KERNEL_MAX_SITES", 0)  # no kernel
    alone = mclp(reach, w, rules, relax_only=True, kernel_first=True, **kw)
    assert calls == [1]
    assert held.info.objective <= alone.info.objective + 1e-6
    assert held.info.bound == pytest.approx(alone.info.bound, rel=1e-9)
    assert exact.info.objective <= held.info.objective * (1 + 0.005) + 1e-6
    assert held.info.bound <= exact.info.objective + 1e-6
    assert float(w @ held.covered) >= floor - 1e-9
    _check_rules(held, reach, w, rules)
    proven = held.info.gap is not None and held.info.gap <= 0.005 + 1e-12
    assert (held.info.status == "optimal") is proven


@pytest.mark.slow
def test_a_plans_capex_pass_alone_asks_for_its_kernel(small, monkeypatch):
    from planner.config import load_config
    from planner.optimize import plan as plan_module
    from planner.pipeline import prepare

    asked = []
    real = plan_module.two_tier

    def spy(*args, **kwargs):
        asked.append((kwargs["objective"], kwargs.get("kernel_first", False), "required" in kwargs))
        return real(*args, **kwargs)

    monkeypatch.setattr(plan_module, "two_tier", spy)
    config = load_config(small, overrides=["tours.enabled=false"])
    inp = prepare(config)
    plan = plan_module.plan_sites(inp.demand, inp.sites, inp.county.townships, inp.times, config)
    # coverage; capex on the coverage plan's sites (held); capex from it, kernel first;
    # drive time on the capex plan's sites
    assert asked == [
        ("coverage", False, False),
        ("cost", False, True),
        ("cost", True, False),
        ("time", False, True),
    ]
    assert [s.status for s in [plan.station_solve, *plan.extra_solves]] == ["optimal"] * 3
