r"""p-median by Benders decomposition, built as arrays straight into HiGHS.

The classic p-median model (ReVelle & Swain 1970) has one assignment variable per
client-facility pair: n^2 columns, which is what makes it slow to build and to solve for
n = 900. Projecting the assignments out gives the Benders reformulation (following
Duran-Mateluna, Ales & Elloumi, "An efficient Benders decomposition for the p-median
problem", EJOR 2023)::

    min  sum_i w_i theta_i
    s.t. sum_j y_j = p
         theta_i >= D - sum_{j: d_ij < D} (D - d_ij) y_j     for every client i and
                                                              every distance D of row i
         y_j in {0, 1}

For a given ``y`` the most violated cut of client ``i`` is found in closed form: ``D``
is the smallest distance at which the ``y`` of the facilities no farther than ``D``
sum to at least 1. The cuts are generated lazily: first to convergence of the linear
relaxation (whose bound equals the classic model's), then around each integer master
solution until the master's bound meets the best plan's cost.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import highspy
import numpy as np

from planner.datatypes import SolveInfo
from planner.optimize.solve import silence_highs_banner

logger = logging.getLogger(__name__)

_TOL = 1e-7


@dataclass
class PMedianResult:
    """Open facilities, assignment and the solver report."""

    open: np.ndarray  # bool per facility
    assign: np.ndarray  # facility index per client
    objective: float
    info: SolveInfo


def _cost(d: np.ndarray, w: np.ndarray, open_idx: np.ndarray) -> tuple[float, np.ndarray]:
    sub = d[:, open_idx]
    k = sub.argmin(axis=1)
    return float((w * sub[np.arange(len(d)), k]).sum()), open_idx[k]


def _greedy(d: np.ndarray, w: np.ndarray, p: int) -> np.ndarray:
    """Greedy add, then best-improvement swaps until none improves (Teitz & Bart)."""
    best = np.full(d.shape[0], np.inf)
    chosen: list[int] = []
    for _ in range(p):
        gain = (w[:, None] * np.minimum(best[:, None], d)).sum(axis=0)
        gain[chosen] = np.inf
        j = int(gain.argmin())
        chosen.append(j)
        best = np.minimum(best, d[:, j])
    current, _ = _cost(d, w, np.array(chosen))
    improved = True
    while improved:
        improved = False
        for pos in range(p):
            rest = np.array(chosen[:pos] + chosen[pos + 1 :], dtype=int)
            base = d[:, rest].min(axis=1) if len(rest) else np.full(d.shape[0], np.inf)
            totals = (w[:, None] * np.minimum(base[:, None], d)).sum(axis=0)
            totals[chosen] = np.inf
            j = int(totals.argmin())
            if totals[j] < current - 1e-9:
                chosen[pos] = j
                current = float(totals[j])
                improved = True
    return np.array(sorted(chosen))


class _Separator:
    """Closed-form Benders cuts for all clients at once."""

    def __init__(self, d: np.ndarray) -> None:
        self.order = np.argsort(d, axis=1, kind="stable")
        self.dsorted = np.take_along_axis(d, self.order, axis=1)

    def cuts(
        self, y: np.ndarray, theta: np.ndarray | None
    ) -> list[tuple[int, float, np.ndarray, np.ndarray]]:
        """Violated cuts ``(client, D, facility indices, coefficients)`` at ``(y, theta)``."""
        ys = y[self.order]
        cum = np.cumsum(ys, axis=1)
        t = np.argmax(cum >= 1.0 - 1e-9, axis=1)
        dstar = self.dsorted[np.arange(len(t)), t]
        out = []
        for i in range(len(t)):
            ds = dstar[i]
            row = self.dsorted[i]
            k = int(np.searchsorted(row, ds, side="left"))  # facilities strictly nearer
            coef = ds - row[:k]
            value = ds - float(coef @ ys[i, :k])
            if theta is None or theta[i] < value - _TOL * max(1.0, abs(value)):
                out.append((i, float(ds), self.order[i, :k], coef))
        return out


def p_median(
    d: np.ndarray,
    weights: np.ndarray,
    p: int,
    *,
    time_limit_s: float = 60.0,
    mip_gap: float = 0.0,
    threads: int | None = None,
    highs_options: dict[str, object] | None = None,
) -> PMedianResult:
    """Solve the p-median problem exactly by Benders decomposition in HiGHS.

    Parameters
    ----------
    d
        Dense client x facility cost matrix (travel times or distances).
    weights
        Client weights.
    p
        Number of facilities to open.
    time_limit_s
        Wall-clock limit for the whole solve; the best plan found is returned, with
        status ``time_limit`` and its gap.
    mip_gap
        Relative gap at which to stop (0: proven optimal).
    threads
        HiGHS threads.
    highs_options
        Further HiGHS options for the master problem.

    Returns
    -------
    PMedianResult
        Open facilities, assignment, objective, and status/bound/gap/timings.
    """
    t0 = time.perf_counter()
    silence_highs_banner()
    d = np.asarray(d, dtype=float)
    w = np.asarray(weights, dtype=float)
    m, n = d.shape
    if not 1 <= p <= n:
        msg = f"p must be between 1 and the number of facilities ({n}), got {p}"
        raise ValueError(msg)
    sep = _Separator(d)
    incumbent = _greedy(d, w, p)
    ub, _ = _cost(d, w, incumbent)

    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    if threads:
        h.setOptionValue("threads", threads)
    for key, value in (highs_options or {}).items():
        h.setOptionValue(key, value)
    inf = highspy.kHighsInf
    # columns: y_0..y_{n-1}, theta_0..theta_{m-1}
    h.addCols(
        n,
        np.zeros(n),
        np.zeros(n),
        np.ones(n),
        0,
        np.array([], dtype=np.int32),
        np.array([], dtype=np.int32),
        np.array([], dtype=float),
    )
    h.addCols(
        m,
        w,
        np.zeros(m),
        np.full(m, inf),
        0,
        np.array([], dtype=np.int32),
        np.array([], dtype=np.int32),
        np.array([], dtype=float),
    )
    h.addRow(p, p, n, np.arange(n, dtype=np.int32), np.ones(n))
    n_cuts = 0

    def add(cuts: list[tuple[int, float, np.ndarray, np.ndarray]]) -> None:
        nonlocal n_cuts
        if not cuts:
            return
        starts, idx, val, lower = [], [], [], []
        pos = 0
        for i, ds, fac, coef in cuts:
            starts.append(pos)
            idx.append(np.append(fac, n + i))
            val.append(np.append(coef, 1.0))
            lower.append(ds)
            pos += len(fac) + 1
        h.addRows(
            len(cuts),
            np.array(lower),
            np.full(len(cuts), inf),
            pos,
            np.array(starts, dtype=np.int32),
            np.concatenate(idx).astype(np.int32),
            np.concatenate(val),
        )
        n_cuts += len(cuts)

    y_inc = np.zeros(n)
    y_inc[incumbent] = 1.0
    add(sep.cuts(y_inc, None))
    # phase 1: the linear relaxation, to convergence
    lp_rounds = 0
    while time.perf_counter() - t0 < time_limit_s:
        t_run = time.perf_counter()
        h.run()
        sol = np.asarray(h.getSolution().col_value)
        cuts = sep.cuts(sol[:n], sol[n:])
        lp_rounds += 1
        logger.debug(
            "LP round %d: %.2f s, bound %.6g, %d new cuts",
            lp_rounds,
            time.perf_counter() - t_run,
            h.getInfo().objective_function_value,
            len(cuts),
        )
        if not cuts:
            break
        add(cuts)
    lp_bound = float(h.getInfo().objective_function_value)
    # reduced-cost fixing: opening j costs the LP at least its reduced cost, so a
    # facility whose reduced cost lifts the bound past the incumbent's cost stays shut
    rc = np.asarray(h.getSolution().col_dual)[:n]
    shut = np.flatnonzero(lp_bound + rc > ub + 1e-9 * max(1.0, abs(ub)))
    shut = np.setdiff1d(shut, incumbent)
    if len(shut):
        h.changeColsBounds(
            len(shut), shut.astype(np.int32), np.zeros(len(shut)), np.zeros(len(shut))
        )
    logger.debug(
        "LP bound %.6g, incumbent %.6g: %d of %d facilities fixed shut", lp_bound, ub, len(shut), n
    )
    # phase 2: integer master, cuts around each integer solution
    h.changeColsIntegrality(
        n, np.arange(n, dtype=np.int32), np.full(n, highspy.HighsVarType.kInteger)
    )
    h.setOptionValue("mip_rel_gap", mip_gap)
    lb = lp_bound
    status = "optimal"
    mip_rounds = 0
    while True:
        remaining = time_limit_s - (time.perf_counter() - t0)
        if ub - lb <= mip_gap * ub + 1e-9 * max(1.0, abs(ub)):
            break
        if remaining <= 0:
            status = "time_limit"
            break
        h.setOptionValue("time_limit", remaining)
        start = np.zeros(n + m)
        start[incumbent] = 1.0
        start[n:] = d[:, incumbent].min(axis=1)  # theta at its true value: every cut holds
        guess = highspy.HighsSolution()
        guess.col_value = start.tolist()
        guess.value_valid = True
        h.setSolution(guess)
        t_run = time.perf_counter()
        h.run()
        mip_rounds += 1
        logger.debug(
            "MIP round %d: %.2f s, bound %.6g",
            mip_rounds,
            time.perf_counter() - t_run,
            h.getInfo().mip_dual_bound,
        )
        model_status = h.getModelStatus()
        info = h.getInfo()
        if info.primal_solution_status != 2:
            status = "time_limit"
            break
        lb = max(lb, float(info.mip_dual_bound))
        sol = np.asarray(h.getSolution().col_value)
        y = np.round(sol[:n])
        open_idx = np.flatnonzero(y > 0.5)
        cost, _ = _cost(d, w, open_idx)
        if cost < ub:
            ub, incumbent = cost, open_idx
        if model_status != highspy.HighsModelStatus.kOptimal:
            status = "time_limit"
            break
        cuts = sep.cuts(y, sol[n:])
        if not cuts:
            lb = max(lb, cost)  # the master's optimum is exact at this y
            break
        add(cuts)
    is_open = np.zeros(n, dtype=bool)
    is_open[incumbent] = True
    objective, assign = _cost(d, w, np.flatnonzero(is_open))
    gap = max(0.0, (objective - lb) / max(abs(objective), 1e-9))
    if gap <= 1e-12:
        gap = 0.0
    seconds = time.perf_counter() - t0
    logger.info(
        "p-median n=%d p=%d: %s, objective %.6g, bound %.6g, %d cuts, %d LP + %d MIP rounds, "
        "%.2f s",
        n,
        p,
        status,
        objective,
        lb,
        n_cuts,
        lp_rounds,
        mip_rounds,
        seconds,
    )
    info = SolveInfo(
        model="p_median",
        solver="highs",
        status=status,
        objective=objective,
        bound=lb,
        gap=gap,
        seconds=seconds,
        build_seconds=0.0,
        n_variables=n + m,
        n_constraints=1 + n_cuts,
    )
    return PMedianResult(open=is_open, assign=assign, objective=objective, info=info)
