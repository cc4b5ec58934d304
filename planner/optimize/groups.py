"""Demand rows merged by the sites they reach: the exact reduction of the station models.

Demand rows with the same sites in reach and the same value per session are one row of the
sized models (:mod:`~planner.optimize.station`); with the time objective their drive times
must match too. At 100 m demand (234,540 rows at ``--scale 20``) the models are built many
times while the start plan is improved, and grouping the rows one at a time in Python took
about 40% of that. :func:`aggregate` groups them with array operations: a fingerprint of
each row's sites, rows sorted by it, and a check that every row has exactly the sites of
the first row of its group (the row-by-row grouping is the fallback should two different
rows ever share a fingerprint). Groups are numbered in the order of their first row, as
the row-by-row grouping numbers them, so both give the same groups.
"""

from __future__ import annotations

import numpy as np

from planner.datatypes import SparseTimes

_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)


def aggregate(
    reach: SparseTimes, ratio: np.ndarray, *, by_time: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Group demand rows that have the same sites in reach and the same ``ratio``.

    With ``by_time`` the rows must also have the same drive times to those sites.
    Returns the group of each row (-1 for rows with no site in reach) and the pairs
    (group, site) of the aggregated reach. Rows with a NaN ratio stay on their own.
    """
    n_dem = reach.shape[0]
    order = np.lexsort((reach.cols, reach.rows))
    rows, cols = reach.rows[order], reach.cols[order]
    minutes = reach.minutes[order]
    count = np.bincount(rows, minlength=n_dem)
    start = np.concatenate([[0], np.cumsum(count)[:-1]]).astype(np.int64)
    live = np.flatnonzero(count > 0)
    group = np.full(n_dem, -1, dtype=np.int64)
    if len(live) == 0:
        return group, np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    r = np.asarray(ratio, dtype=np.float64) + 0.0  # -0.0 is 0.0
    bits = np.where(np.isfinite(r), r, np.nan).view(np.int64)
    keys = _keys(rows, cols, minutes if by_time else None, start, live, count, bits)
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    rank = np.empty(len(first), dtype=np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(len(first))
    group[live] = rank[inverse]
    rep = np.arange(n_dem, dtype=np.int64)
    rep[live] = live[first[inverse]]
    alike = (count == count[rep]) & (bits == bits[rep])
    if not alike[live].all() or not _same_as_first(
        rows, cols, minutes if by_time else None, start, rep
    ):
        return aggregate_rows(reach, ratio, by_time=by_time)
    reps = live[np.sort(first)]  # the first row of each group, by group number
    lengths = count[reps]
    at = np.repeat(start[reps] - np.cumsum(lengths) + lengths, lengths) + np.arange(lengths.sum())
    g_rows = np.repeat(np.arange(len(reps), dtype=np.int64), lengths)
    return group, g_rows, cols[at].astype(np.int64)


def _keys(
    rows: np.ndarray,
    cols: np.ndarray,
    minutes: np.ndarray | None,
    start: np.ndarray,
    live: np.ndarray,
    count: np.ndarray,
    bits: np.ndarray,
) -> np.ndarray:
    """One 64-bit fingerprint per row with sites, of its ratio, site count and sites (and
    minutes); a row with a NaN ratio gets a key of its own (its index, negated)."""
    position = np.arange(len(rows), dtype=np.int64) - start[rows]
    base = cols.astype(np.uint64) * np.uint64(1_000_003) + position.astype(np.uint64)
    if minutes is not None:
        base ^= _mix(np.ascontiguousarray(minutes, dtype=np.float64).view(np.uint64))
    key = np.add.reduceat(_mix(base + np.uint64(0x9E3779B97F4A7C15)), start[live])
    key ^= _mix(bits[live].view(np.uint64) + _mix(count[live].astype(np.uint64)))
    key &= np.uint64(0x7FFFFFFFFFFFFFFF)  # non-negative, so that own keys stay apart
    out = key.view(np.int64)
    return np.where(np.isnan(bits[live].view(np.float64)), -1 - live, out)


def _mix(x: np.ndarray) -> np.ndarray:
    """A 64-bit mixing function (splitmix64's finaliser), elementwise."""
    x = x ^ (x >> np.uint64(30))
    x = x * _MIX1
    x = x ^ (x >> np.uint64(27))
    x = x * _MIX2
    out: np.ndarray = x ^ (x >> np.uint64(31))
    return out


def _same_as_first(
    rows: np.ndarray,
    cols: np.ndarray,
    minutes: np.ndarray | None,
    start: np.ndarray,
    rep: np.ndarray,
) -> bool:
    """True when every row's sites (and minutes) are those of its group's first row."""
    position = np.arange(len(rows), dtype=np.int64) - start[rows]
    theirs = start[rep[rows]] + position
    same = bool((cols == cols[theirs]).all())
    if minutes is not None:
        same = same and bool((minutes == minutes[theirs]).all())
    return same


def aggregate_rows(
    reach: SparseTimes, ratio: np.ndarray, *, by_time: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`aggregate`, one row at a time (the reference, and the fallback)."""
    groups: dict[tuple[float | str | bytes, ...], int] = {}
    group = np.full(reach.shape[0], -1, dtype=np.int64)
    g_rows: list[np.ndarray] = []
    g_cols: list[np.ndarray] = []
    order = np.lexsort((reach.cols, reach.rows))
    bounds = np.cumsum(np.bincount(reach.rows, minlength=reach.shape[0]))[:-1]
    by_row = np.split(reach.cols[order], bounds)
    minutes = np.split(reach.minutes[order], bounds)
    for i, sites in enumerate(by_row):
        if len(sites) == 0:
            continue
        key: tuple[float | str | bytes, ...] = (float(ratio[i]), sites.tobytes())
        if by_time:
            key += (minutes[i].tobytes(),)
        if not np.isfinite(ratio[i]):
            key = ("row", i)
        g = groups.get(key)
        if g is None:
            g = groups[key] = len(groups)
            g_rows.append(np.full(len(sites), g, dtype=np.int64))
            g_cols.append(sites)
        group[i] = g
    if not g_rows:
        return group, np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    return group, np.concatenate(g_rows), np.concatenate(g_cols)
