"""Models passed to HiGHS as sparse arrays, for the large ones PuLP is slow to build."""

from __future__ import annotations

import time
from dataclasses import dataclass

import highspy
import numpy as np
from scipy import sparse

from planner.datatypes import SolveInfo
from planner.errors import InfeasibleError, SolverError
from planner.optimize.solve import silence_highs_banner

_STATUS = {
    highspy.HighsModelStatus.kOptimal: "optimal",
    highspy.HighsModelStatus.kTimeLimit: "time_limit",
    highspy.HighsModelStatus.kInfeasible: "infeasible",
}


@dataclass
class ArraySolution:
    """Values of the columns, and the solver report."""

    x: np.ndarray
    info: SolveInfo


def solve_arrays(
    c: np.ndarray,
    a: sparse.spmatrix,
    row_lower: np.ndarray,
    row_upper: np.ndarray,
    *,
    col_lower: np.ndarray,
    col_upper: np.ndarray,
    integer: np.ndarray,
    model: str,
    time_limit_s: float,
    mip_gap: float,
    threads: int | None = None,
    build_seconds: float = 0.0,
) -> ArraySolution:
    """Minimise ``c x`` subject to ``row_lower <= A x <= row_upper`` and column bounds.

    Parameters
    ----------
    c, a, row_lower, row_upper, col_lower, col_upper
        The model; use ``numpy.inf`` for absent bounds.
    integer
        Boolean mask of integer columns.
    model
        Name for the report.
    time_limit_s, mip_gap, threads
        Solver settings.
    build_seconds
        Time spent building the arrays, reported alongside.

    Returns
    -------
    ArraySolution
        Raises :class:`InfeasibleError` when HiGHS proves infeasibility and
        :class:`SolverError` when it ends with no solution.
    """
    silence_highs_banner()
    t0 = time.perf_counter()
    csc = sparse.csc_matrix(a)
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = csc.shape[1], csc.shape[0]
    inf = highspy.kHighsInf
    lp.col_cost_ = np.asarray(c, dtype=float)
    lp.col_lower_ = np.where(np.isfinite(col_lower), col_lower, -inf)
    lp.col_upper_ = np.where(np.isfinite(col_upper), col_upper, inf)
    lp.row_lower_ = np.where(np.isfinite(row_lower), row_lower, -inf)
    lp.row_upper_ = np.where(np.isfinite(row_upper), row_upper, inf)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = csc.indptr.astype(np.int32)
    lp.a_matrix_.index_ = csc.indices.astype(np.int32)
    lp.a_matrix_.value_ = csc.data.astype(float)
    lp.integrality_ = [
        highspy.HighsVarType.kInteger if flag else highspy.HighsVarType.kContinuous
        for flag in np.asarray(integer, dtype=bool)
    ]
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("time_limit", float(time_limit_s))
    h.setOptionValue("mip_rel_gap", float(mip_gap))
    if threads:
        h.setOptionValue("threads", int(threads))
    h.passModel(lp)
    h.run()
    status_code = h.getModelStatus()
    info = h.getInfo()
    status = _STATUS.get(status_code, h.modelStatusToString(status_code).lower())
    if status == "infeasible":
        msg = f"{model}: HiGHS proved the model infeasible"
        raise InfeasibleError(msg)
    if info.primal_solution_status != 2:
        msg = f"{model}: HiGHS ended with status {status} and no solution"
        raise SolverError(msg)
    objective = float(info.objective_function_value)
    has_int = bool(np.any(integer))
    bound = float(info.mip_dual_bound) if has_int else objective
    gap = abs(objective - bound) / max(abs(objective), 1e-9)
    return ArraySolution(
        x=np.asarray(h.getSolution().col_value),
        info=SolveInfo(
            model=model,
            solver="highs",
            status=status,
            objective=objective,
            bound=bound,
            gap=0.0 if gap < 1e-12 else gap,
            seconds=time.perf_counter() - t0,
            build_seconds=build_seconds,
            n_variables=csc.shape[1],
            n_constraints=csc.shape[0],
        ),
    )
