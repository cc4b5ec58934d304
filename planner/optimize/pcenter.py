r"""p-center: ``p`` sites that minimise the worst travel time to the nearest one.

The model (Hakimi 1965). Sets: ``I`` demand points, ``J`` candidate sites. Data:
``d_ij`` travel time (pairs beyond any cutoff left out: a demand point is never served
from a site missing from its row). Variables: ``x_j`` in {0,1} site open, ``a_ij`` in
{0,1} demand ``i`` assigned to ``j``, ``r`` the radius::

    min  r
    s.t. sum_j x_j = p
         sum_j a_ij = 1                for every demand i
         a_ij <= x_j
         r >= sum_j d_ij a_ij          for every demand i
         x_j, a_ij in {0,1}

It is solved exactly as a sequence of set-covering problems (Minieka 1970;
:func:`~planner.optimize.lscp.lscp`): a radius ``R`` is achievable with ``p`` sites if
and only if the fewest sites covering every demand point within ``R`` (with the required,
excluded and group rules) number at most ``p``. The optimal radius is one of the distinct
times given; a binary search over them, from the lower bound ``max_i min_j d_ij``, finds
the least achievable one. Each covering problem is solved to proven optimality.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import numpy as np

from planner.config import SolverSection
from planner.datatypes import SolveInfo, SparseTimes
from planner.errors import InfeasibleError
from planner.optimize.lscp import lscp
from planner.optimize.rules import indices

logger = logging.getLogger(__name__)


@dataclass
class CenterResult:
    """Result of :func:`pcenter`.

    Attributes
    ----------
    open
        Boolean per site.
    radius
        The worst travel time from a demand point to its nearest open site.
    assign
        Nearest open site of each demand point.
    info
        Solver report: objective is the radius; bound the proven lower bound.
    """

    open: np.ndarray
    radius: float
    assign: np.ndarray
    info: SolveInfo


def pcenter(
    times: SparseTimes,
    p: int,
    *,
    required: np.ndarray | None = None,
    excluded: np.ndarray | None = None,
    groups: dict[str, np.ndarray] | None = None,
    solver: SolverSection,
) -> CenterResult:
    """p-center: ``p`` sites that minimise the worst travel time (model: module docstring).

    Parameters
    ----------
    times
        Demand x site travel times (pairs beyond any cutoff left out).
    p
        Number of sites (the plan may use fewer when they already reach the radius).
    required, excluded, groups
        As in :func:`~planner.optimize.mclp.mclp`.
    solver
        Backend settings (the MIP gap is set to 0 for the covering problems).

    Returns
    -------
    CenterResult
        The sites, the radius and the solver report.

    Raises
    ------
    InfeasibleError
        When ``p`` sites cannot reach every demand point within the times given.
    """
    t0 = time.perf_counter()
    usable = _usable(times, excluded)
    radii, lo = _radii(usable)
    hi = len(radii) - 1
    exact = solver.model_copy(update={"mip_gap": 0.0})
    solves: list[SolveInfo] = []

    def fits(k: int) -> np.ndarray | None:
        ok = usable.minutes <= radii[k]
        within = SparseTimes(usable.rows[ok], usable.cols[ok], usable.minutes[ok], times.shape)
        try:
            res = lscp(
                within.neighbours(),
                times.shape[1],
                required=required,
                excluded=excluded,
                groups=groups,
                solver=exact,
                model="pcenter_cover",
            )
        except InfeasibleError:
            return None
        solves.append(res.info)
        return res.open if res.open.sum() <= p else None

    best = fits(hi)
    if best is None:
        msg = (
            f"pcenter: {p} sites cannot reach every demand point within the largest time "
            f"given ({radii[hi]:g})"
        )
        raise InfeasibleError(msg)
    while lo < hi:  # the least radius that fits, by bisection
        mid = (lo + hi) // 2
        found = fits(mid)
        if found is None:
            lo = mid + 1
        else:
            best, hi = found, mid
    radius = float(radii[hi])
    info = _report(radius, solves, solver, seconds=time.perf_counter() - t0)
    logger.info(
        "pcenter: radius %g with %d sites after %d covering solves",
        radius,
        int(best.sum()),
        len(solves),
    )
    return CenterResult(open=best, radius=radius, assign=_nearest_open(usable, best), info=info)


def _usable(times: SparseTimes, excluded: np.ndarray | None) -> SparseTimes:
    """The pairs of ``times`` whose site is not excluded."""
    usable = np.ones(times.shape[1], dtype=bool)
    usable[indices(excluded)] = False
    keep = usable[times.cols]
    return SparseTimes(times.rows[keep], times.cols[keep], times.minutes[keep], times.shape)


def _radii(times: SparseTimes) -> tuple[np.ndarray, int]:
    """The distinct times, and the position of the lower bound ``max_i min_j d_ij``."""
    nearest = np.full(times.shape[0], np.inf)
    np.minimum.at(nearest, times.rows, times.minutes)
    if not np.isfinite(nearest).all():
        missing = int((~np.isfinite(nearest)).sum())
        msg = f"pcenter: {missing} demand points have no usable site in the matrix"
        raise InfeasibleError(msg)
    radii = np.unique(times.minutes)
    return radii, int(np.searchsorted(radii, nearest.max()))


def _nearest_open(times: SparseTimes, is_open: np.ndarray) -> np.ndarray:
    """The nearest open site of each demand point."""
    open_idx = np.flatnonzero(is_open)
    d = np.full((times.shape[0], len(open_idx)), np.inf)
    pos = {j: k for k, j in enumerate(open_idx.tolist())}
    triplets = zip(times.rows.tolist(), times.cols.tolist(), times.minutes.tolist(), strict=True)
    for i, j, m in triplets:
        if j in pos:
            d[i, pos[j]] = min(d[i, pos[j]], m)
    nearest: np.ndarray = open_idx[d.argmin(axis=1)]
    return nearest


def _report(
    radius: float, solves: list[SolveInfo], solver: SolverSection, *, seconds: float
) -> SolveInfo:
    """One solver report for the covering solves: optimal when all were proven."""
    proven = all(s.status == "optimal" for s in solves)
    return SolveInfo(
        model="pcenter",
        solver=solver.name,
        status="optimal" if proven else "time_limit",
        objective=radius,
        bound=radius if proven else None,
        gap=0.0 if proven else None,
        seconds=seconds,
        build_seconds=sum(s.build_seconds for s in solves),
        n_variables=max((s.n_variables for s in solves), default=0),
        n_constraints=max((s.n_constraints for s in solves), default=0),
    )
