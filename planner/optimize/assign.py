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
from highspy import Highs, HighsModelStatus
from scipy import sparse
from scipy.optimize import linprog

from planner.datatypes import SparseTimes
from planner.errors import SolverError
from planner.optimize.arrays import new_highs, pass_model
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
    flows ``F_gj`` (sessions) and each member's unserved share ``w_i = 1 - phi_i``::

        (1)  max  sum_gj F_gj     s.t.  sum_j F_gj <= sum_{i in g} s_i
        (2)  min  sum_gj P_gj F_gj - sum_i s_i o_i w_i
             s.t. sum_j F_gj + sum_{i in g} s_i w_i = sum_{i in g} s_i,
                  sum F >= S* (1 - 1e-9),  0 <= w_i <= 1
        both s.t. sum_g F_gj <= Q_j,  F >= 0

    with ``P_gj = t_ij - o_i`` the group's time profile. A member's drive time is
    ``o_i + P_gj`` whichever site serves it, so any member flows adding up to ``F_gj``
    cost the same and (2) equals the LP over every pair (up to the constant
    ``sum_i s_i o_i``); member ``i`` sends ``phi_i F_gj / sum_j F_gj`` of its sessions to
    ``j``. (2) is solved over a working set of the ``w_i`` (:func:`_least_time`).
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
    first, neg_most = _lp(-np.ones(n_pair), a_ub, np.concatenate([g_sessions, capacity]))
    lp2 = _SecondLP(grp, per_group, per_site, g_sessions, capacity, -neg_most)
    unserved = g_sessions - np.bincount(grp.rows, weights=first, minlength=n_g)
    flow, phi_m = _least_time(lp2, s_m, grp.offset[members], grp.member[members], unserved)
    phi = np.zeros(n_dem)
    phi[members] = np.clip(phi_m, 0.0, 1.0)
    total = np.bincount(grp.rows, weights=flow, minlength=n_g)
    g_of = grp.member[rows]
    n_site_key = max(n_site, 1)
    keys = grp.rows * n_site_key + grp.cols  # ascending: groups numbered in row order
    part = flow[np.searchsorted(keys, g_of * n_site_key + cols)]
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(total[g_of] > 0, phi[rows] * part / total[g_of], 0.0)
    return np.clip(share, 0.0, 1.0)


@dataclass
class _SecondLP:
    """The parts of LP (2) that do not depend on its working set."""

    grp: _Groups
    per_group: sparse.csr_array
    per_site: sparse.csr_array
    g_sessions: np.ndarray
    capacity: np.ndarray
    most: float


#: A left-out ``w_i`` whose reduced cost is below ``-s_i`` times this joins the working set.
_PRICE_TOL = 1e-9


def _least_time(
    lp2: _SecondLP, s_m: np.ndarray, o_m: np.ndarray, g_m: np.ndarray, unserved: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """LP (2) of :func:`_transport` by column generation over the members' ``w_i``.

    At 100 m demand (208,406 members in 7,876 groups) the LP over every ``w_i`` took 20 s
    of dual simplex; almost every member is served wholly, ``w_i = 0``. The LP is solved
    over a working set: in each group the members of largest offset (the first a group
    leaves unserved) that LP (1)'s plan leaves unserved, plus one, so that plan stays
    feasible. A left-out ``w_i`` has reduced cost ``-s_i (o_i + y_g)`` (``y_g`` the dual of
    its group's row); while some are negative, each group adds its most negative ones (at
    most as many as it has in the set, and one at least) and HiGHS goes on from its basis.
    When none is negative, the working set's optimum is the optimum over every member
    (LP column generation), so the result is exact. Returns the flows ``F`` and each
    member's served share ``phi_i``.
    """
    n_g = lp2.grp.n_groups
    order = np.lexsort((np.arange(len(g_m)), -o_m, g_m))  # by group, largest offset first
    g_sorted = g_m[order]
    start = np.searchsorted(g_sorted, np.arange(n_g))
    end = np.searchsorted(g_sorted, np.arange(n_g), side="right")
    cum = np.cumsum(s_m[order])
    before = np.where(start > 0, cum[np.maximum(start - 1, 0)], 0.0)
    # the fewest members (in order) whose sessions reach each group's unserved sessions
    need = np.searchsorted(cum, before + np.maximum(unserved, 0.0) - 1e-9) + 1
    upto = np.where(unserved > 1e-9, np.minimum(np.maximum(need, start) + 1, end), start)
    position = np.arange(len(order))
    work = order[position < upto[g_sorted]]
    h = _second_lp(lp2, s_m[work], o_m[work], g_m[work])
    while True:
        x, duals = _solved(h)
        y = duals[:n_g]
        left = position >= upto[g_sorted]
        priced = left & (o_m[order] + y[g_sorted] > _PRICE_TOL)
        if not priced.any():
            break
        # per group, the next members in order, as many as it has in the set (one at least)
        room = np.maximum(upto - start, 1)
        join = np.flatnonzero(priced & (position < (upto + room)[g_sorted]))
        add = order[join]
        np.maximum.at(upto, g_sorted[join], join + 1)
        _add_leaving(h, s_m[add], o_m[add], g_m[add])
        work = np.concatenate([work, add])
    n_pair = len(lp2.grp.cols)
    phi_m = np.ones(len(g_m))
    phi_m[work] = 1.0 - x[n_pair:]
    return x[:n_pair], phi_m


def _second_lp(lp2: _SecondLP, s_w: np.ndarray, o_w: np.ndarray, g_w: np.ndarray) -> Highs:
    """LP (2) over the ``w_i`` of the working set, in HiGHS (not solved yet)."""
    grp, n_pair, n_w = lp2.grp, len(lp2.grp.cols), len(s_w)
    n_site = lp2.per_site.shape[0]
    leave = sparse.csr_array((s_w, (g_w, np.arange(n_w))), shape=(grp.n_groups, n_w))
    a = sparse.vstack(
        [
            sparse.hstack([lp2.per_group, leave]),
            sparse.hstack([lp2.per_site, sparse.csr_array((n_site, n_w))]),
            sparse.csr_array(np.concatenate([np.ones(n_pair), np.zeros(n_w)]).reshape(1, -1)),
        ]
    )
    inf = np.inf
    row_lower = np.concatenate([lp2.g_sessions, np.full(n_site, -inf), [lp2.most * (1 - 1e-9)]])
    row_upper = np.concatenate([lp2.g_sessions, lp2.capacity, [inf]])
    c = np.concatenate([grp.minutes, -s_w * o_w])
    upper = np.concatenate([np.full(n_pair, inf), np.ones(n_w)])
    h = new_highs(inf, threads=1)
    h.setOptionValue("simplex_strategy", 1)  # dual simplex, as before
    pass_model(h, c, sparse.csc_matrix(a), row_lower, row_upper, np.zeros(n_pair + n_w), upper)
    return h


def _add_leaving(h: Highs, s_w: np.ndarray, o_w: np.ndarray, g_w: np.ndarray) -> None:
    """Add the columns ``w_i`` (coefficient ``s_i`` in group row ``g_i``, cost ``-s_i o_i``)."""
    n = len(s_w)
    h.addCols(
        n,
        -s_w * o_w,
        np.zeros(n),
        np.ones(n),
        n,
        np.arange(n, dtype=np.int32),
        g_w.astype(np.int32),
        s_w.astype(float),
    )


def _solved(h: Highs) -> tuple[np.ndarray, np.ndarray]:
    """Run HiGHS (from its basis, if any): the columns' values and the rows' duals."""
    h.run()
    if h.getModelStatus() != HighsModelStatus.kOptimal:
        status = h.modelStatusToString(h.getModelStatus())
        msg = f"the assignment of demand to stations failed: {status}"
        raise SolverError(msg)
    sol = h.getSolution()
    return np.asarray(sol.col_value, dtype=float), np.asarray(sol.row_dual, dtype=float)


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


def _lp(c: np.ndarray, a_ub: sparse.csr_array, b_ub: np.ndarray) -> tuple[np.ndarray, float]:
    """HiGHS's dual simplex on ``min c x, A x <= b, x >= 0``; the solution and its objective."""
    # scipy-stubs type A_ub as dense only; SciPy's HiGHS methods take sparse arrays
    res = linprog(c, A_ub=a_ub, b_ub=b_ub, method="highs-ds")  # type: ignore[call-overload]
    if res.status != 0 or res.x is None:
        msg = f"the assignment of demand to stations failed: {res.message}"
        raise SolverError(msg)
    return np.asarray(res.x, dtype=float), float(res.fun)


def reassign(result: CoverageResult, reach: SparseTimes, sizing: Sizing | None) -> CoverageResult:
    """A station plan with its flows replaced by :func:`assign_demand`'s.

    The open sites stay; each new station keeps the fewest chargers that carry its
    assigned load (at least ``min_chargers``, never more than the plan gave it, so the
    capex can only fall); existing sites keep their installed chargers (a rollout's
    earlier station, those it needs of the ones the plan added). Without sizing
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
        installed = np.asarray(sizing.installed)
        existing = installed > 0
        kept = result.chargers
        if sizing.expandable is not None:  # a rollout's earlier station: the added ones it needs
            grown = np.maximum(installed, np.minimum(need, result.chargers))
            kept = np.where(np.asarray(sizing.expandable, dtype=bool), grown, kept)
        chargers = np.where(existing & result.open, kept, chargers)
    return replace(
        result,
        chargers=chargers,
        flow_rows=a.rows,
        flow_cols=a.cols,
        flow_share=a.share,
        flow_minutes=a.minutes,
        covered=a.covered,
    )
