r"""Location set covering (LSCP): the cheapest sites such that every target is covered.

Toregas et al. (1971). Sets: ``K`` targets (villages, stations), ``J`` candidate sites,
``M_k`` the sites that reach target ``k`` within the response time. Variables: ``x_j`` in
{0,1}, a site chosen. Data: ``c_j`` the cost of site ``j`` (all equal by default: the
fewest sites)::

    min  sum_j c_j x_j
    s.t. sum_{j in M_k} x_j >= 1      for every target k
         sum_{j in T} x_j >= 1        for every group T (optional)
         x_j = 1 (required), x_j = 0 (excluded)
         x_j in {0,1}
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pulp

from planner.config import SolverSection
from planner.datatypes import SolveInfo
from planner.optimize.problem import add_cover_rows, add_fixed, add_group_minimum, site_vars
from planner.optimize.solve import solve
from planner.optimize.station import ON


@dataclass
class CoverResult:
    """Result of :func:`lscp`: which sites open, and the solver report."""

    open: np.ndarray
    info: SolveInfo


def lscp(
    cover_sets: list[np.ndarray],
    n_sites: int,
    *,
    site_cost: np.ndarray | None = None,
    required: np.ndarray | None = None,
    excluded: np.ndarray | None = None,
    groups: dict[str, np.ndarray] | None = None,
    solver: SolverSection,
    model: str = "lscp",
) -> CoverResult:
    """Location set covering: the cheapest sites such that every target is covered.

    The model is in the module docstring.

    Parameters
    ----------
    cover_sets
        ``M_k`` for each target: indices of the sites that cover it. Every set must be
        non-empty (the caller diagnoses empty ones).
    n_sites
        Number of candidate sites.
    site_cost
        ``c_j``; ones when None.
    required, excluded
        Site indices fixed open or closed.
    groups
        Site index arrays that must each get at least one open site.
    solver
        Backend settings.
    model
        Name for the report.

    Returns
    -------
    CoverResult
        The open sites and the solver report.
    """
    t0 = time.perf_counter()
    cost = np.ones(n_sites) if site_cost is None else np.asarray(site_cost, dtype=float)
    prob = pulp.LpProblem(model, pulp.LpMinimize)
    x = site_vars(prob, n_sites, prefix="r")
    prob += pulp.LpAffineExpression(list(zip(x, cost.tolist(), strict=True)))
    add_cover_rows(prob, x, cover_sets)
    add_group_minimum(prob, x, groups)
    add_fixed(prob, x, required=required, excluded=excluded)
    build = time.perf_counter() - t0
    info = solve(prob, solver=solver, model=model, build_seconds=build)
    return CoverResult(open=np.array([(v.value() or 0) > ON for v in x]), info=info)
