r"""Capacitated facility location, built as sparse arrays for HiGHS.

Fixed costs ``f_j``, capacities ``s_j``, client demands ``d_i`` and the cost ``c_ij`` of
serving all of client ``i`` from ``j`` (Cornuejols, Sridharan & Thizy 1991)::

    min  sum_j f_j y_j + sum_ij c_ij x_ij
    s.t. sum_j x_ij = 1                 for every client i
         sum_i d_i x_ij <= s_j y_j      for every facility j
         x_ij <= y_j                    (strengthens the relaxation)
         sum_j s_j y_j >= sum_i d_i     (a valid cut: enough capacity opens)
         y_j in {0, 1};  0 <= x_ij <= 1 (splittable), or x_ij in {0, 1} (single source)
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from planner.datatypes import SolveInfo
from planner.optimize.arrays import solve_arrays


@dataclass
class CflpResult:
    """Open facilities, the share of each client served by each, and the report."""

    open: np.ndarray
    share: np.ndarray  # (clients, facilities)
    info: SolveInfo


def capacitated_fl(
    fixed: np.ndarray,
    capacity: np.ndarray,
    demand: np.ndarray,
    cost: np.ndarray,
    *,
    single_source: bool = False,
    time_limit_s: float = 60.0,
    mip_gap: float = 0.0,
    threads: int | None = None,
) -> CflpResult:
    """Solve the capacitated facility location problem.

    Parameters
    ----------
    fixed, capacity
        Per facility.
    demand
        Per client.
    cost
        ``(clients, facilities)``: cost of serving the whole of a client from a facility.
    single_source
        Each client served by one facility (binary assignment).
    time_limit_s, mip_gap, threads
        Solver settings.

    Returns
    -------
    CflpResult
        The plan and the solver report (status, objective, bound, gap).
    """
    t0 = time.perf_counter()
    m = len(fixed)
    n = len(demand)
    cost = np.asarray(cost, dtype=float)
    # columns: y (m), then x row-major (client i, facility j) -> m + i*m + j
    n_col = m + n * m
    xi = np.repeat(np.arange(n), m)
    xj = np.tile(np.arange(m), n)
    xcol = m + np.arange(n * m)
    rows, cols, vals = [], [], []
    # assignment: sum_j x_ij = 1
    rows.append(xi)
    cols.append(xcol)
    vals.append(np.ones(n * m))
    # capacity: sum_i d_i x_ij - s_j y_j <= 0
    rows.append(n + xj)
    cols.append(xcol)
    vals.append(np.asarray(demand, dtype=float)[xi])
    rows.append(n + np.arange(m))
    cols.append(np.arange(m))
    vals.append(-np.asarray(capacity, dtype=float))
    # linking: x_ij - y_j <= 0
    link = n + m + np.arange(n * m)
    rows += [link, link]
    cols += [xcol, xj]
    vals += [np.ones(n * m), -np.ones(n * m)]
    # total capacity cut
    total = n + m + n * m
    rows.append(np.full(m, total))
    cols.append(np.arange(m))
    vals.append(np.asarray(capacity, dtype=float))
    n_row = total + 1
    a = sparse.coo_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
        shape=(n_row, n_col),
    )
    lower = np.concatenate([np.ones(n), np.full(m + n * m, -np.inf), [float(np.sum(demand))]])
    upper = np.concatenate([np.ones(n), np.zeros(m + n * m), [np.inf]])
    c = np.concatenate([np.asarray(fixed, dtype=float), cost.ravel()])
    integer = np.zeros(n_col, dtype=bool)
    integer[:m] = True
    if single_source:
        integer[m:] = True
    build = time.perf_counter() - t0
    sol = solve_arrays(
        c,
        a,
        lower,
        upper,
        col_lower=np.zeros(n_col),
        col_upper=np.ones(n_col),
        integer=integer,
        model="cflp_single" if single_source else "cflp",
        time_limit_s=time_limit_s,
        mip_gap=mip_gap,
        threads=threads,
        build_seconds=build,
    )
    return CflpResult(open=sol.x[:m] > 0.5, share=sol.x[m:].reshape(n, m), info=sol.info)
