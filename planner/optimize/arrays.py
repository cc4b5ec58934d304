"""HiGHS fed straight from sparse arrays, for the large models PuLP is slow to build."""

from __future__ import annotations

import highspy
import numpy as np
from scipy import sparse

from planner.optimize.solve import silence_highs_banner

#: HiGHS option name -> value, as ``Highs.setOptionValue`` takes them.
HighsOptions = dict[str, bool | int | float | str]


def new_highs(time_limit_s: float, threads: int | None = None) -> highspy.Highs:
    """A silent HiGHS instance with a time limit (``inf``: none) and thread count.

    HiGHS keeps one thread pool per process, made by the first solve with that solve's
    ``threads``; a later instance asking for another count fails at once (its status is
    neither optimal nor a limit). So a thread count given here resets the pool first
    (solves in this process run one at a time).
    """
    silence_highs_banner()
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("time_limit", max(float(time_limit_s), 0.0))
    if threads:
        highspy.Highs.resetGlobalScheduler(True)
        h.setOptionValue("threads", int(threads))
    return h


def pass_model(
    h: highspy.Highs,
    c: np.ndarray,
    a: sparse.spmatrix,
    row_lower: np.ndarray,
    row_upper: np.ndarray,
    col_lower: np.ndarray,
    col_upper: np.ndarray,
    integer: np.ndarray | None = None,
) -> None:
    """Hand HiGHS ``min c x, row_lower <= A x <= row_upper``, column bounds, integrality.

    Infinite bounds (``numpy.inf``) become HiGHS's infinity; ``integer`` is a boolean
    mask of integer columns (None: all continuous).
    """
    csc = sparse.csc_matrix(a)
    inf = highspy.kHighsInf
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = csc.shape[1], csc.shape[0]
    lp.col_cost_ = np.asarray(c, dtype=float)
    lp.col_lower_ = np.where(np.isfinite(col_lower), col_lower, -inf)
    lp.col_upper_ = np.where(np.isfinite(col_upper), col_upper, inf)
    lp.row_lower_ = np.where(np.isfinite(row_lower), row_lower, -inf)
    lp.row_upper_ = np.where(np.isfinite(row_upper), row_upper, inf)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = csc.indptr.astype(np.int32)
    lp.a_matrix_.index_ = csc.indices.astype(np.int32)
    lp.a_matrix_.value_ = csc.data.astype(float)
    if integer is not None:
        lp.integrality_ = [
            highspy.HighsVarType.kInteger if flag else highspy.HighsVarType.kContinuous
            for flag in np.asarray(integer, dtype=bool)
        ]
    h.passModel(lp)
