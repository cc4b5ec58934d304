"""A station block's plan, read back and put in: the solved flows and chargers, a MIP start.

:meth:`~planner.optimize.station.StationBlock.result` reads the solved values of a
station block (:mod:`~planner.optimize.station`) into the flows, covered shares and
chargers of a :class:`~planner.optimize.rules.CoverageResult` (:func:`nearest_flows`
without sizing, :func:`sized_flows` with it); :func:`set_start` puts a previous plan into
the block's variables as a MIP start.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from planner.optimize.rules import CoverageResult

if TYPE_CHECKING:
    from planner.optimize.station import StationBlock


def nearest_flows(block: StationBlock, is_open: np.ndarray) -> tuple[np.ndarray, ...]:
    """Without sizing: each covered point served by its nearest open site."""
    reach, group = block.reach, block.group
    rows, cols = reach.rows, reach.cols
    zg = np.array([min(1.0, max(0.0, v.value() or 0)) for v in block.z])
    covered = np.where(block.member, zg[np.maximum(group, 0)] if block.n_grp else 0.0, 0.0)
    ok = is_open[cols]
    r, c, m = rows[ok], cols[ok], reach.minutes[ok]
    order = np.lexsort((m, r))
    r, c, m = r[order], c[order], m[order]
    first = np.unique(r, return_index=True)[1]
    fr, fc, fm = r[first], c[first], m[first]
    share = covered[fr]
    keep = share > 0
    chargers = np.zeros(reach.shape[1], dtype=int)
    return fr[keep], fc[keep], fm[keep], share[keep], covered, chargers


def sized_flows(block: StationBlock, is_open: np.ndarray) -> tuple[np.ndarray, ...]:
    """With sizing: the model's flows per demand point, chargers for their load."""
    reach, sizing, group = block.reach, block.sizing, block.group
    assert sizing is not None
    n_dem, n_site = reach.shape
    rows, cols = reach.rows, reach.cols
    yg = np.array([max(0.0, v.value() or 0.0) for v in block.y])
    yg[~is_open[block.g_cols]] = 0.0
    share_all = _pair_values(block.g_rows, block.g_cols, yg, group[rows], cols, n_site)
    keep = share_all > 1e-7
    fr, fc, share = rows[keep], cols[keep], share_all[keep]
    fm = reach.minutes[keep]
    covered = np.minimum(1.0, np.bincount(fr, weights=share, minlength=n_dem))
    site_load = np.bincount(fc, weights=block.sessions[fr] * share, minlength=n_site)
    need = np.ceil(site_load / sizing.per_charger - 1e-6).astype(int)
    chargers = np.where(is_open, np.clip(need, sizing.min_chargers, sizing.max_chargers), 0)
    installed = np.zeros(n_site, dtype=int) if sizing.installed is None else sizing.installed
    # a site that may grow: what is installed, more where its load needs them
    grown = np.clip(need, installed, np.maximum(installed, sizing.max_chargers))
    chargers = np.where(block.is_existing, np.where(block.grow, grown, installed), chargers)
    return fr, fc, fm, share, covered, chargers


def set_start(block: StationBlock, start: CoverageResult) -> None:
    """Put a previous plan into the block's variables (a MIP start)."""
    for v, on in zip(block.x, start.open, strict=True):
        v.setInitialValue(1.0 if on else 0.0)
    if block.sizing is None:
        group = block.group
        for g, v in enumerate(block.z):
            rows = np.flatnonzero(group == g)
            v.setInitialValue(float(start.covered[rows].min()) if len(rows) else 0.0)
        return
    for v, n in zip(block.n, start.chargers, strict=True):
        v.setInitialValue(float(n))
    installed = block.sizing.installed
    for j, a in block.added.items():
        k = 0 if installed is None else int(installed[j])
        a.setInitialValue(float(max(int(start.chargers[j]) - k, 0)))
    # a group's flow to j: its members' shares at j weighed by their sessions, so that the
    # loads and the served value are the start's exactly and no group is served twice
    g = block.group[start.flow_rows]
    ok = g >= 0
    n_site = len(block.x)
    keys = block.g_rows * n_site + block.g_cols  # ascending (see aggregate)
    pos = np.searchsorted(keys, g[ok] * n_site + start.flow_cols[ok])
    found = (pos < len(keys)) & (
        keys[np.minimum(pos, len(keys) - 1)] == g[ok] * n_site + start.flow_cols[ok]
    )
    sessions = block.sessions[start.flow_rows[ok]]
    counts = np.where(sessions > 0, sessions, 1.0)
    served = np.bincount(
        pos[found], weights=(start.flow_share[ok] * counts)[found], minlength=len(keys)
    )
    size = block._by_group(np.where(block.sessions > 0, block.sessions, 1.0))
    flow = served / np.maximum(size[block.g_rows], 1e-12)
    for v, value in zip(block.y, np.clip(flow, 0.0, 1.0).tolist(), strict=True):
        v.setInitialValue(value)


def _pair_values(
    g_rows: np.ndarray,
    g_cols: np.ndarray,
    values: np.ndarray,
    rows: np.ndarray,
    cols: np.ndarray,
    n_site: int,
) -> np.ndarray:
    """The value of pair ``(rows[k], cols[k])`` among the pairs ``(g_rows, g_cols)`` (0 when
    it is not one of them, or its row is negative): a sorted lookup of ``row * n_site +
    col`` (a dictionary over 3 M pairs at 100 m demand took seconds per plan read)."""
    keys = g_rows.astype(np.int64) * n_site + g_cols
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    want = rows.astype(np.int64) * n_site + cols
    at = np.minimum(np.searchsorted(sorted_keys, want), max(len(keys) - 1, 0))
    found = (rows >= 0) & (len(keys) > 0)
    if len(keys):
        found &= sorted_keys[at] == want
    out = np.zeros(len(rows), dtype=float)
    out[found] = values[order[at[found]]]
    return out
