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
    """The two LPs of :func:`assign_demand`; returns ``f`` per pair."""
    n = len(rows)
    k = np.arange(n)
    s = sessions[rows]
    per_demand = sparse.csr_array((np.ones(n), (rows, k)), shape=(n_dem, n))
    per_site = sparse.csr_array((s, (cols, k)), shape=(n_site, n))
    a_ub = sparse.vstack([per_demand, per_site]).tocsr()
    b_ub = np.concatenate([np.ones(n_dem), capacity])
    served = _lp(-s, a_ub, b_ub)
    most = float(s @ served)
    a_ub = sparse.vstack([a_ub, sparse.csr_array(-s.reshape(1, -1))]).tocsr()
    b_ub = np.append(b_ub, -most * (1 - 1e-9))
    return _lp(s * minutes, a_ub, b_ub)


def _lp(c: np.ndarray, a_ub: sparse.csr_array, b_ub: np.ndarray) -> np.ndarray:
    # scipy-stubs type A_ub as dense only; SciPy's HiGHS methods take sparse arrays
    res = linprog(c, A_ub=a_ub, b_ub=b_ub, bounds=(0, None), method="highs-ds")  # type: ignore[call-overload]
    if res.status != 0 or res.x is None:
        msg = f"the assignment of demand to stations failed: {res.message}"
        raise SolverError(msg)
    x: np.ndarray = np.clip(res.x, 0.0, 1.0)
    return x


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
