"""The p-median's Benders master (see :mod:`~planner.optimize.pmedian`): closed-form cuts
and the linear relaxation in HiGHS with its growing cut pool."""

from __future__ import annotations

import highspy
import numpy as np

from planner.optimize.arrays import HighsOptions, new_highs

_TOL = 1e-7

Cut = tuple[int, float, np.ndarray, np.ndarray]  # client, D, facility indices, coefficients


class Separator:
    """Closed-form Benders cuts for all clients at once."""

    def __init__(self, d: np.ndarray) -> None:
        self.order = np.argsort(d, axis=1, kind="stable")
        self.dsorted = np.take_along_axis(d, self.order, axis=1)

    def cuts(self, y: np.ndarray, theta: np.ndarray | None) -> list[Cut]:
        """The most violated cut of every client whose ``theta`` is below it at ``y``.

        With ``theta`` None, every client's cut at ``y``.
        """
        ys = y[self.order]
        t = np.argmax(np.cumsum(ys, axis=1) >= 1.0 - 1e-9, axis=1)
        dstar = self.dsorted[np.arange(len(t)), t]
        coef = np.maximum(dstar[:, None] - self.dsorted, 0.0)
        value = dstar - (coef * ys).sum(axis=1)
        if theta is None:
            rows = np.arange(len(t))
        else:
            rows = np.flatnonzero(theta < value - _TOL * np.maximum(1.0, np.abs(value)))
        out = []
        for i in rows:
            k = int(np.searchsorted(self.dsorted[i], dstar[i], side="left"))  # strictly nearer
            out.append((int(i), float(dstar[i]), self.order[i, :k], coef[i, :k]))
        return out


class Relaxation:
    """The Benders master's linear relaxation in HiGHS, with its growing cut pool."""

    def __init__(
        self,
        w: np.ndarray,
        p: int,
        n: int,
        threads: int | None,
        highs_options: HighsOptions | None,
    ) -> None:
        self.n = n
        self.n_cuts = 0
        self.n_lp = 0
        self.n_iter = 0
        h = new_highs(np.inf, threads)
        for key, value in (highs_options or {}).items():
            h.setOptionValue(key, value)
        none_i = np.array([], dtype=np.int32)
        none_f = np.array([], dtype=float)
        m = len(w)
        # columns: y_0..y_{n-1}, theta_0..theta_{m-1}
        h.addCols(n, np.zeros(n), np.zeros(n), np.ones(n), 0, none_i, none_i, none_f)
        h.addCols(m, w, np.zeros(m), np.full(m, highspy.kHighsInf), 0, none_i, none_i, none_f)
        h.addRow(p, p, n, np.arange(n, dtype=np.int32), np.ones(n))
        self.h = h
        self.all_y = np.arange(n, dtype=np.int32)

    def add(self, cuts: list[Cut]) -> None:
        """Add cuts ``theta_i + sum_j (D - d_ij) y_j >= D`` as rows."""
        if not cuts:
            return
        n = self.n
        starts = np.cumsum([0] + [len(fac) + 1 for _, _, fac, _ in cuts[:-1]])
        idx = np.concatenate([np.append(fac, n + i) for i, _, fac, _ in cuts])
        val = np.concatenate([np.append(coef, 1.0) for _, _, _, coef in cuts])
        self.h.addRows(
            len(cuts),
            np.array([ds for _, ds, _, _ in cuts]),
            np.full(len(cuts), highspy.kHighsInf),
            len(idx),
            starts.astype(np.int32),
            idx.astype(np.int32),
            val,
        )
        self.n_cuts += len(cuts)

    def set_bounds(self, lo: np.ndarray, hi: np.ndarray) -> None:
        """Bounds of every ``y``."""
        self.h.changeColsBounds(self.n, self.all_y, lo, hi)

    def run(self, cutoff: float) -> tuple[bool, float]:
        """Solve; ``(solved to optimality, objective)``.

        The objective is ``inf`` when the bounds leave no solution, and above ``cutoff``
        when the dual simplex proves the optimum exceeds ``cutoff`` and stops there
        (HiGHS checks that bound with the exact, unperturbed costs).
        """
        self.h.setOptionValue("objective_bound", cutoff)
        self.h.run()
        self.n_lp += 1
        self.n_iter += self.h.getInfo().simplex_iteration_count
        status = self.h.getModelStatus()
        if status == highspy.HighsModelStatus.kInfeasible:
            return False, np.inf
        z = self.h.getInfo().objective_function_value
        if status == highspy.HighsModelStatus.kObjectiveBound:
            return False, max(np.nextafter(cutoff, np.inf), z)
        return status == highspy.HighsModelStatus.kOptimal, z

    def basis(self) -> highspy.HighsBasis:
        """The current basis."""
        return self.h.getBasis()

    def restore(self, basis: highspy.HighsBasis) -> None:
        """Start from ``basis``; cuts added since it was taken start basic."""
        extra = self.h.getNumRow() - len(basis.row_status)
        if extra > 0:
            start = highspy.HighsBasis()
            start.col_status = basis.col_status
            start.row_status = list(basis.row_status) + [highspy.HighsBasisStatus.kBasic] * extra
            start.valid = True
            basis = start
        self.h.setBasis(basis)

    def solution(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``y``, ``theta`` and the reduced costs of ``y``."""
        sol = self.h.getSolution()
        x = np.asarray(sol.col_value)
        return x[: self.n], x[self.n :], np.asarray(sol.col_dual)[: self.n]
