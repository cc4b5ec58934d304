"""Who charges where: demand assigned to the open stations by drive time, under capacity.

The siting models decide which stations open and how many chargers they get; the flows
they return are one feasible way to fill those chargers, not what drivers do. The figures a
user reads (``assignments.csv``, sessions served per station, drive times) come from
:func:`assign_demand`, a transportation LP over the open stations: drivers go to the nearest
station within the cutoff and, where its chargers are full, to the next.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from scipy import sparse
from scipy.optimize import linprog

from planner.datatypes import SparseTimes
from planner.errors import SolverError
from planner.optimize.rules import CoverageResult, Sizing

#: Shares below this are dropped from the assignment (LP round-off).
_TINY = 1e-7


@dataclass
class Assignment:
    """Demand served by the open stations.

    Attributes
    ----------
    rows, cols, share, minutes
        Demand point ``rows[k]`` sends ``share[k]`` of its sessions to site ``cols[k]``,
        ``minutes[k]`` away (pairs with a positive share only).
    covered
        Share of each demand point's sessions served within the cutoff.
    load
        Sessions/day served by each site.
    """

    rows: np.ndarray
    cols: np.ndarray
    share: np.ndarray
    minutes: np.ndarray
    covered: np.ndarray
    load: np.ndarray


def assign_demand(
    reach: SparseTimes,
    sessions: np.ndarray,
    capacity: np.ndarray,
) -> Assignment:
    r"""Assign demand to open sites: most sessions served, then least drive time.

    Two linear programs over the pairs ``(i, j)`` of ``reach`` whose site is open
    (``capacity_j > 0``), with ``f_ij`` the share of demand ``i`` served at ``j``::

        (1)  max  S = sum_ij s_i f_ij
        (2)  min  sum_ij s_i t_ij f_ij   s.t.  sum_ij s_i f_ij >= S* (1 - 1e-9)
        both s.t.  sum_j f_ij <= 1            for every demand i
                   sum_i s_i f_ij <= Q_j      for every open site j
                   f_ij >= 0

    ``S*`` is the optimum of (1): as many sessions as the chargers can take within the
    cutoff; (2) then sends them the shortest way, so every point goes to its nearest open
    station unless that one is full. Demand points without sessions go wholly to their
    nearest open site. Both are solved by HiGHS's dual simplex (deterministic).

    Parameters
    ----------
    reach
        Demand x site pairs within the cutoff, with minutes.
    sessions
        ``s_i``, sessions/day of each demand point.
    capacity
        ``Q_j``, sessions/day each site can serve (0: closed).

    Returns
    -------
    Assignment
        The flows and what they add up to.
    """
    n_dem, n_site = reach.shape
    sessions = np.asarray(sessions, dtype=float)
    capacity = np.asarray(capacity, dtype=float)
    ok = capacity[reach.cols] > 0
    rows, cols, minutes = reach.rows[ok], reach.cols[ok], reach.minutes[ok]
    busy = sessions[rows] > 0
    share = np.zeros(len(rows))
    if busy.any():
        share[busy] = _transport(
            rows[busy], cols[busy], minutes[busy], sessions, capacity, n_dem, n_site
        )
    share[~busy] = _nearest(rows[~busy], minutes[~busy])
    keep = share > _TINY
    rows, cols, share, minutes = rows[keep], cols[keep], share[keep], minutes[keep]
    order = np.lexsort((cols, rows))
    rows, cols, share, minutes = rows[order], cols[order], share[order], minutes[order]
    covered = np.minimum(1.0, np.bincount(rows, weights=share, minlength=n_dem))
    load = np.bincount(cols, weights=sessions[rows] * share, minlength=n_site)
    return Assignment(rows, cols, share, minutes, covered, load)


def _nearest(rows: np.ndarray, minutes: np.ndarray) -> np.ndarray:
    """1 on the nearest pair of each row (ties: the first), 0 elsewhere."""
    out = np.zeros(len(rows))
    if len(rows) == 0:
        return out
    order = np.lexsort((minutes, rows))
    first = np.unique(rows[order], return_index=True)[1]
    out[order[first]] = 1.0
    return out


def _transport(
    rows: np.ndarray,
    cols: np.ndarray,
    minutes: np.ndarray,
    sessions: np.ndarray,
    capacity: np.ndarray,
    n_dem: int,
    n_site: int,
) -> np.ndarray:
    """The two LPs of :func:`assign_demand` over profile groups; returns ``f`` per pair.

    Demand rows with the same open sites in reach, whose drive times to them differ by
    one constant ``o_i`` (points snapped to one road node differ by their access leg),
    form a group ``g`` (see :func:`_profiles`). The LPs are solved over the group
    flows ``F_gj`` (sessions) and each member's served share ``phi_i``::

        (1)  max  sum_gj F_gj     s.t.  sum_j F_gj <= sum_{i in g} s_i
        (2)  min  sum_gj P_gj F_gj + sum_i s_i o_i phi_i
             s.t. sum_j F_gj = sum_{i in g} s_i phi_i,  sum F >= S* (1 - 1e-9)
        both s.t. sum_g F_gj <= Q_j,  F >= 0,  0 <= phi_i <= 1

    with ``P_gj = t_ij - o_i`` the group's time profile. A member's drive time is
    ``o_i + P_gj`` whichever site serves it, so any member flows adding up to ``F_gj``
    cost the same and (2) equals the LP over every pair; member ``i`` sends
    ``phi_i F_gj / sum_j F_gj`` of its sessions to ``j``.
    """
    grp = _profiles(rows, cols, minutes, n_dem)
    n_g, n_pair = grp.n_groups, len(grp.cols)
    members = np.flatnonzero(grp.member >= 0)
    s_m = sessions[members]
    g_sessions = np.bincount(grp.member[members], weights=s_m, minlength=n_g)
    k = np.arange(n_pair)
    per_group = sparse.csr_array((np.ones(n_pair), (grp.rows, k)), shape=(n_g, n_pair))
    per_site = sparse.csr_array((np.ones(n_pair), (grp.cols, k)), shape=(n_site, n_pair))
    a_ub = sparse.vstack([per_group, per_site]).tocsr()
    most = -_lp(-np.ones(n_pair), a_ub, np.concatenate([g_sessions, capacity]))[1]
    n_m = len(members)
    take = sparse.csr_array((-s_m, (grp.member[members], np.arange(n_m))), shape=(n_g, n_m))
    a_eq = sparse.hstack([per_group, take]).tocsr()
    zeros = sparse.csr_array((n_site, n_m))
    a_ub = sparse.vstack(
        [
            sparse.hstack([per_site, zeros]),
            sparse.csr_array(-np.concatenate([np.ones(n_pair), np.zeros(n_m)]).reshape(1, -1)),
        ]
    ).tocsr()
    b_ub = np.append(capacity, -most * (1 - 1e-9))
    c = np.concatenate([grp.minutes, s_m * grp.offset[members]])
    bounds = np.column_stack(
        [np.zeros(n_pair + n_m), np.concatenate([np.full(n_pair, np.inf), np.ones(n_m)])]
    )
    x = _lp(c, a_ub, b_ub, a_eq=a_eq, b_eq=np.zeros(n_g), bounds=bounds)[0]
    flow, phi = x[:n_pair], np.zeros(n_dem)
    phi[members] = np.clip(x[n_pair:], 0.0, 1.0)
    total = np.bincount(grp.rows, weights=flow, minlength=n_g)
    g_of = grp.member[rows]
    n_site_key = max(n_site, 1)
    keys = grp.rows * n_site_key + grp.cols  # ascending: groups numbered in row order
    part = flow[np.searchsorted(keys, g_of * n_site_key + cols)]
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(total[g_of] > 0, phi[rows] * part / total[g_of], 0.0)
    return np.clip(share, 0.0, 1.0)


@dataclass
class _Groups:
    """Profile groups of :func:`_profiles` and their pairs (group, site, profile)."""

    member: np.ndarray  # group of each demand row, -1 for rows without a pair
    offset: np.ndarray  # o_i, each row's least minutes to an open site
    rows: np.ndarray
    cols: np.ndarray
    minutes: np.ndarray
    n_groups: int


#: Profiles are compared to this many minutes (6e-5 s), above floating round-off.
_PROFILE_TOL = 1e-6


def _profiles(rows: np.ndarray, cols: np.ndarray, minutes: np.ndarray, n_dem: int) -> _Groups:
    """Group demand rows by their sites and time profile ``t_ij - min_j t_ij``."""
    order = np.lexsort((cols, rows))
    r, c, m = rows[order], cols[order], minutes[order]
    count = np.bincount(r, minlength=n_dem)
    start = np.concatenate([[0], np.cumsum(count)])
    offset = np.zeros(n_dem)
    has = np.flatnonzero(count)
    if len(has):
        offset[has] = np.minimum.reduceat(m, start[has])
    prof = np.round((m - offset[r]) / _PROFILE_TOL).astype(np.int64)
    member = np.full(n_dem, -1, dtype=np.int64)
    seen: dict[tuple[bytes, bytes], int] = {}
    first: list[int] = []
    for i in has.tolist():
        a, b = start[i], start[i + 1]
        g = seen.setdefault((c[a:b].tobytes(), prof[a:b].tobytes()), len(seen))
        if g == len(first):
            first.append(i)
        member[i] = g
    is_rep = np.zeros(n_dem, dtype=bool)
    is_rep[np.asarray(first, dtype=np.int64)] = True
    sel = np.flatnonzero(is_rep[r])  # the pairs of each group's first row
    g_rows = member[r[sel]]
    return _Groups(member, offset, g_rows, c[sel], m[sel] - offset[r[sel]], len(first))


def _lp(
    c: np.ndarray,
    a_ub: sparse.csr_array,
    b_ub: np.ndarray,
    *,
    a_eq: sparse.csr_array | None = None,
    b_eq: np.ndarray | None = None,
    bounds: np.ndarray | tuple[float, float | None] = (0, None),
) -> tuple[np.ndarray, float]:
    """HiGHS's dual simplex on ``min c x``; the solution and its objective."""
    # scipy-stubs type A_ub as dense only; SciPy's HiGHS methods take sparse arrays
    res = linprog(  # type: ignore[call-overload]
        c, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs-ds"
    )
    if res.status != 0 or res.x is None:
        msg = f"the assignment of demand to stations failed: {res.message}"
        raise SolverError(msg)
    return np.asarray(res.x, dtype=float), float(res.fun)


def reassign(result: CoverageResult, reach: SparseTimes, sizing: Sizing | None) -> CoverageResult:
    """A station plan with its flows replaced by :func:`assign_demand`'s.

    The open sites stay; each new station keeps the fewest chargers that carry its
    assigned load (at least ``min_chargers``, never more than the plan gave it, so the
    capex can only fall); existing sites keep their installed chargers. Without sizing
    (the classic model, no capacities) the plan's nearest-site flows are kept.
    """
    if sizing is None:
        return result
    per = sizing.per_charger
    capacity = np.where(result.open, result.chargers * per, 0.0)
    a = assign_demand(reach, sizing.sessions, capacity)
    need = np.ceil(a.load / per - 1e-6).astype(int)
    chargers = np.where(
        result.open,
        np.minimum(np.clip(need, sizing.min_chargers, sizing.max_chargers), result.chargers),
        0,
    )
    if sizing.installed is not None:
        existing = np.asarray(sizing.installed) > 0
        chargers = np.where(existing & result.open, result.chargers, chargers)
    return replace(
        result,
        chargers=chargers,
        flow_rows=a.rows,
        flow_cols=a.cols,
        flow_share=a.share,
        flow_minutes=a.minutes,
        covered=a.covered,
    )
