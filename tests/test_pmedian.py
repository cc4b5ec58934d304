"""p-median by Benders decomposition: published optima and a brute-force check."""

import io
import itertools
from pathlib import Path

import numpy as np
import pytest

from benchmarks.instances import read_pmed
from benchmarks.locate import Row, print_ratios
from planner.optimize.pmedian import p_median

PMED = Path(__file__).resolve().parents[2] / "shared" / "bench" / "pmed"


def test_matches_brute_force():
    rng = np.random.default_rng(4)
    pts = rng.uniform(0, 100, size=(25, 2))
    d = np.hypot(*(pts[:, None, :] - pts[None, :, :]).transpose(2, 0, 1))
    w = rng.integers(1, 10, 25).astype(float)
    for p in (1, 2, 3):
        best = min(
            (w * d[:, list(c)].min(axis=1)).sum() for c in itertools.combinations(range(25), p)
        )
        r = p_median(d, w, p)
        assert r.objective == pytest.approx(best)
        assert r.info.status == "optimal" and r.info.gap == 0.0
        assert r.open.sum() == p


@pytest.mark.skipif(not PMED.is_dir(), reason=f"benchmark instances not found at {PMED}")
@pytest.mark.parametrize(
    ("name", "optimum"),
    [("pmed1", 5819), ("pmed2", 4093), ("pmed5", 1355), ("pmed6", 7824), ("pmed10", 1255)],
)
def test_published_optima(name, optimum):
    # pmed1's 5819 also checks the repeated-edge rule: keeping the minimum gives 5718
    d, p = read_pmed(PMED / f"{name}.txt")
    r = p_median(d, np.ones(len(d)), p)
    assert r.objective == optimum and r.info.bound == pytest.approx(optimum)


def test_ratio_lines():
    rows = [
        Row("a", "planner", 1, 1, "optimal", 1.0),
        Row("a", "dense", 1, 1, "optimal", 5.0),
        Row("b", "planner", 1, 1, "optimal", 1.0),
        Row("b", "dense", 2, 1, "time_limit", 9),
    ]
    out = io.StringIO()
    print_ratios(rows, out=out)
    assert out.getvalue().strip() == (
        "ratio_vs_dense: 5.00 (on 1 instances both solved; dense did not finish 1)"
    )


CFLP = PMED.parent / "cflp"


@pytest.mark.skipif(not CFLP.is_dir(), reason=f"benchmark instances not found at {CFLP}")
@pytest.mark.parametrize(
    ("name", "optimum"), [("cap41", 1040444.375), ("cap71", 932615.75), ("cap134", 928941.75)]
)
def test_cflp_published_optima(name, optimum):
    from benchmarks.instances import read_cap
    from planner.optimize.cflp import capacitated_fl

    r = capacitated_fl(*read_cap(CFLP / f"{name}.txt"))
    assert r.info.objective == pytest.approx(optimum, abs=1e-3)
    assert r.info.status == "optimal"
    _, caps, demand, _ = read_cap(CFLP / f"{name}.txt")
    load = (r.share * demand[:, None]).sum(axis=0)
    assert (load <= caps * r.open + 1e-6).all()  # capacities hold, closed sites serve none
    assert np.allclose(r.share.sum(axis=1), 1)


def test_cflp_single_source_hand_case():
    # two clients of demand 6, facilities of capacity 10 costing 10 each; serving a whole
    # client costs 1 from facility 0 and 5 from facility 1. Both must open (12 > 10).
    # Single source: 10 + 10 + 1 + 5 = 26. Splittable: facility 0 fills up with one client
    # and 4/6 of the other, the last 2/6 goes to facility 1: 20 + 1 + 4/6 + 10/6.
    fixed = np.array([10.0, 10.0])
    caps = np.array([10.0, 10.0])
    demand = np.array([6.0, 6.0])
    cost = np.array([[1.0, 5.0], [1.0, 5.0]])
    from planner.optimize.cflp import capacitated_fl

    split = capacitated_fl(fixed, caps, demand, cost)
    single = capacitated_fl(fixed, caps, demand, cost, single_source=True)
    assert single.info.objective == pytest.approx(26)
    assert split.info.objective == pytest.approx(20 + 1 + 4 / 6 + 10 / 6)
    assert set(np.unique(np.round(single.share, 6))) <= {0.0, 1.0}


def _brute_force(d, w, p):
    return min(
        (w * d[:, list(c)].min(axis=1)).sum() for c in itertools.combinations(range(d.shape[1]), p)
    )


@pytest.mark.parametrize("seed", range(5))
def test_integer_costs_match_brute_force(seed):
    # integer costs take the "bound > best - 1" pruning; rectangular: 30 clients, 14 sites
    rng = np.random.default_rng(seed)
    d = rng.integers(1, 60, size=(30, 14)).astype(float)
    w = rng.integers(1, 5, 30).astype(float)
    for p in (2, 3, 4):
        r = p_median(d, w, p)
        assert r.objective == _brute_force(d, w, p)
        assert r.info.status == "optimal" and r.info.bound == r.objective
        assert r.open.sum() == p
        # every client goes to its nearest open site, and the objective is that cost
        assert r.open[r.assign].all()
        assert np.allclose(d[np.arange(30), r.assign], d[:, r.open].min(axis=1))
        assert (w * d[np.arange(30), r.assign]).sum() == r.objective


def test_fractional_weights_match_brute_force():
    rng = np.random.default_rng(7)
    d = rng.uniform(0, 10, size=(20, 10))
    w = rng.uniform(0.1, 3.0, 20)
    r = p_median(d, w, 3)
    assert r.objective == pytest.approx(_brute_force(d, w, 3))
    assert r.info.status == "optimal" and r.info.gap == 0.0


def test_time_limit_keeps_a_plan_and_a_valid_bound():
    rng = np.random.default_rng(1)
    d = rng.integers(1, 100, size=(30, 30)).astype(float)
    r = p_median(d, np.ones(30), 3, time_limit_s=0.0)
    assert r.info.status == "time_limit"
    assert r.open.sum() == 3
    # the bound is at least every client at its nearest site, and at most the optimum
    assert d.min(axis=1).sum() <= r.info.bound <= _brute_force(d, np.ones(30), 3) <= r.objective


def test_p_out_of_range():
    with pytest.raises(ValueError, match="p must be between"):
        p_median(np.ones((3, 3)), np.ones(3), 4)
