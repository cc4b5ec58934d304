"""p-median by Benders decomposition: published optima and a brute-force check."""

import io
import itertools
from pathlib import Path

import numpy as np
import pytest

from planner.benchmark import Row, print_ratios, read_pmed
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
    ("name", "optimum"), [("pmed1", 5819), ("pmed2", 4093), ("pmed5", 1355), ("pmed10", 1255)]
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
