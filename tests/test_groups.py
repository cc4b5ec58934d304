"""Demand rows merged by their sites: the array grouping against the row-by-row one."""

import numpy as np
import pytest

from planner.datatypes import SparseTimes
from planner.optimize import groups, station_plan
from planner.optimize.groups import aggregate, aggregate_rows


def _reach(seed: int) -> tuple[SparseTimes, np.ndarray]:
    """Rows drawn from a few site patterns (so many rows share one), some rows empty,
    ratios from a few values and some NaN, minutes from a few values."""
    rng = np.random.default_rng(seed)
    n_dem, n_site = 300, 25
    patterns = [rng.choice(n_site, size=rng.integers(1, 6), replace=False) for _ in range(12)]
    rows, cols, minutes = [], [], []
    for i in range(n_dem):
        if rng.random() < 0.1:
            continue  # no site in reach
        sites = patterns[rng.integers(len(patterns))]
        rows += [i] * len(sites)
        cols += sites.tolist()
        minutes += rng.choice([5.0, 7.5, 10.0], size=len(sites)).tolist()
    perm = rng.permutation(len(rows))  # the pairs in no order
    reach = SparseTimes(
        np.array(rows)[perm], np.array(cols)[perm], np.array(minutes)[perm], (n_dem, n_site)
    )
    ratio = rng.choice([1.0, 2.0, 0.5, -0.0, 0.0, np.nan], size=n_dem)
    return reach, ratio


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("by_time", [False, True])
def test_the_array_grouping_is_the_row_by_row_one(seed, by_time):
    reach, ratio = _reach(seed)
    got = aggregate(reach, ratio, by_time=by_time)
    want = aggregate_rows(reach, ratio, by_time=by_time)
    for a, b in zip(got, want, strict=True):
        assert a.tolist() == b.tolist()
    group = got[0]
    assert (group == -1).sum() == (np.bincount(reach.rows, minlength=reach.shape[0]) == 0).sum()
    assert len(np.unique(group[group >= 0])) < (group >= 0).sum()  # rows did merge


def test_a_shared_fingerprint_falls_back_to_the_row_by_row_grouping(monkeypatch):
    reach, ratio = _reach(0)
    # every row gets the same fingerprint: the check finds rows that differ
    monkeypatch.setattr(groups, "_mix", lambda x: np.zeros_like(x))
    got = aggregate(reach, ratio)
    want = aggregate_rows(reach, ratio)
    for a, b in zip(got, want, strict=True):
        assert a.tolist() == b.tolist()


def test_no_row_in_reach():
    reach = SparseTimes(np.zeros(0, int), np.zeros(0, int), np.zeros(0), (4, 3))
    group, g_rows, g_cols = aggregate(reach, np.ones(4))
    assert group.tolist() == [-1, -1, -1, -1]
    assert len(g_rows) == len(g_cols) == 0


@pytest.mark.parametrize("seed", range(6))
def test_the_flow_lookup_is_the_dictionary_one(seed):
    """Each demand-site pair's share is its group's flow to that site: the sorted lookup
    gives what a dictionary of the group pairs gives, 0 for pairs not in it and rows in
    no group."""
    rng = np.random.default_rng(seed)
    n_grp, n_site = int(rng.integers(1, 30)), int(rng.integers(1, 12))
    pairs = {(int(g), int(j)) for g, j in rng.integers(0, [n_grp, n_site], (60, 2))}
    g_rows, g_cols = (np.array(v, dtype=np.int64) for v in zip(*sorted(pairs), strict=True))
    order = rng.permutation(len(g_rows))  # the model's pairs need not be sorted
    g_rows, g_cols = g_rows[order], g_cols[order]
    values = rng.uniform(0, 1, len(g_rows))
    rows = rng.integers(-1, n_grp + 2, 200)  # -1: in no group; n_grp..: in no pair
    cols = rng.integers(0, n_site, 200)
    flow = dict(zip(zip(g_rows.tolist(), g_cols.tolist(), strict=True), values, strict=True))
    want = [flow.get((g, j), 0.0) if g >= 0 else 0.0 for g, j in zip(rows, cols, strict=True)]
    got = station_plan._pair_values(g_rows, g_cols, values, rows, cols, n_site)
    assert got.tolist() == want


def test_the_flow_lookup_without_pairs():
    got = station_plan._pair_values(
        np.zeros(0, np.int64),
        np.zeros(0, np.int64),
        np.zeros(0),
        np.array([0, -1]),
        np.array([1, 0]),
        3,
    )
    assert got.tolist() == [0.0, 0.0]
