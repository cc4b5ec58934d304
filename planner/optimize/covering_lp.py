r"""The linear relaxation of the maximal covering model, solved in its dual form.

The relaxation of :mod:`~planner.optimize.mclp_large`'s model has one row per demand row
(tens of thousands) and one column per site (hundreds to thousands). Its dual has the
shapes swapped: one row per site, so the simplex basis has the size of the site count
and the dual simplex of HiGHS solves it in a fraction of the time the primal takes
(measured on 1,000 sites x 46,881 merged rows: 40-60 s against no answer in 180 s).
With ``r = A^T lambda`` the dual is::

    min  sum_i (w_i - lambda_i) + p mu + B beta - sum_T gamma_T
         + sum_j (ub_j u_j - lb_j t_j)
    s.t. r_j - mu - f_j beta + sum_{T ni j} gamma_T - u_j + t_j <= 0   for every site j
         0 <= lambda_i <= w_i,  mu, beta, gamma, u, t >= 0

(``lambda_i``: the dual of ``z_i <= sum_{j in N_i} x_j``, ``mu`` of the count, ``beta``
of the budget, ``gamma_T`` of group ``T``, ``u_j`` and ``t_j`` of ``x_j <= ub_j`` and
``x_j >= lb_j``). The row duals are the sites' ``x_j``. A branch fixes ``x_j`` through
the costs of ``u_j`` (0 when ``x_j = 0``) and ``t_j`` (usable, at cost -1, when
``x_j = 1``), so every node solves the same model from a stored basis. A branch
``sum_{j in D} x_j >= 1`` adds a column (cost -1, 1 in the rows of ``D``) that stays at 0
in the nodes without that branch. The budget row is divided by ``B`` to keep the model
well scaled.

Every feasible point of this dual is an upper bound on the covered weight under the
node's fixings, which also gives reduced-cost fixing: a free site at ``x_j = 0`` whose
row has slack ``s_j`` cannot open in a plan above ``bound - s_j``, and one at
``x_j = 1`` with ``u_j > 0`` cannot close in a plan above ``bound - u_j``.

**Sifting.** With many more demand rows than sites (more than :data:`SIFT_RATIO` per
site), only a working set of the ``lambda_i`` columns is in HiGHS; every other
``lambda_i`` is held at a bound (0 or ``w_i``), folded into the row bounds and the
objective. That is a restriction of the dual, so its optimum is still an upper bound.
After each solve, the held columns are priced with the sites' ``x``: ``lambda_i`` held
at 0 is right when ``c_i = sum_{j in N_i} x_j >= 1``, at ``w_i`` when ``c_i <= 1``. A
wrong one far from ``c_i = 1`` (by :data:`SIFT_NEAR` or more) switches bound once, the
others join the working set, and the solve goes on from its basis until none is wrong: the
relaxation is then exact. Sifting pays when most rows stay out (1,000 sites x 46,927
rows, p = 3: 0.4 s against 2.3 s with every column in); when a round would bring in
more than :data:`SIFT_ALL` of the rows, or the solve has already taken
:data:`SIFT_ITERATIONS` per site, every column joins at once (p = 15 on those rows:
9.4 s, against 22.9 s in seven rounds and 12.0 s with every column in from the start).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import highspy
import numpy as np
from scipy import sparse

from planner.optimize.arrays import new_highs
from planner.optimize.covering_reduce import CoverInstance

_LUT = list(highspy.HighsBasisStatus.__members__.values())
_INF = highspy.kHighsInf
_LOWER = highspy.HighsBasisStatus.kLower.value
_UPPER = highspy.HighsBasisStatus.kUpper.value

#: Sift when there are more demand rows than this per site.
SIFT_RATIO = 20
#: Held columns whose row coverage is this close to 1 join the working set.
SIFT_NEAR = 0.3
#: Pricing rounds per solve before it gives up (its bound stays valid).
SIFT_ROUNDS = 100
#: When a pricing round would bring the working set above this share of the rows, every
#: held column joins it: the re-solves after each round cost more than the solve with
#: all columns in (1,000 sites x 46,927 rows, p = 15: root 12.0 s with all in, 22.9 s
#: in seven sifting rounds that end with 74% of the rows in; p = 3 stays at 25%).
SIFT_ALL = 0.5
#: The same once a solve has taken more dual simplex iterations than this many per site
#: (p = 40 on those rows covers them all, a degenerate relaxation: 10.5 s in 12 rounds
#: with 30% of the rows in, 2.2 s with all in).
SIFT_ITERATIONS = 2
#: Site states in a node's fixing array.
FREE, CLOSED, OPEN = -1, 0, 1


@dataclass
class NodeLP:
    """A node's relaxation: status, bound, the sites' ``x`` and fixing margins."""

    status: str  # optimal | infeasible | time_limit | work_limit
    bound: float
    x: np.ndarray
    slack: np.ndarray  # per site: how much opening it lowers the bound (at least)
    upper: np.ndarray  # per site: how much closing it lowers the bound (at least)
    iterations: int


class CoverLP:
    """The dual-form relaxation of a reduced instance in HiGHS, re-solved per node."""

    def __init__(self, inst: CoverInstance, *, threads: int | None = 1) -> None:
        self.inst = inst
        n, m = inst.n_sites, inst.a.shape[0]
        side: list[Any] = []
        cost: list[np.ndarray] = []
        if inst.max_sites is not None:
            side.append(sparse.csc_matrix(-np.ones((n, 1))))
            cost.append(np.array([float(inst.max_sites)]))
        if inst.budget is not None:
            scale = max(float(inst.budget), 1e-9)
            side.append(sparse.csc_matrix(-(inst.cost / scale)[:, None]))
            cost.append(np.array([inst.budget / scale]))
        if inst.groups:
            side.append(sparse.csc_matrix(inst.group_of))
            cost.append(-np.ones(len(inst.groups)))
        #: the columns of mu, beta and gamma, and their costs (for the certified bound)
        self.side = sparse.hstack(side, format="csc") if side else sparse.csc_matrix((n, 0))
        self.side_cost = np.concatenate(cost) if cost else np.zeros(0)
        k = self.side.shape[1]
        self.u0, self.t0 = k, k + n
        eye = sparse.identity(n, format="csc")
        mat = sparse.hstack([self.side, -eye, eye], format="csc")
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = mat.shape[1], n
        lp.col_cost_ = np.concatenate([self.side_cost, np.ones(n), np.zeros(n)])
        lp.col_lower_ = np.zeros(mat.shape[1])
        lp.col_upper_ = np.concatenate([np.full(k + n, _INF), np.zeros(n)])
        lp.row_lower_ = np.full(n, -_INF)
        lp.row_upper_ = np.zeros(n)
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = mat.indptr.astype(np.int32)
        lp.a_matrix_.index_ = mat.indices.astype(np.int32)
        lp.a_matrix_.value_ = mat.data.astype(float)
        self.h = new_highs(np.inf, threads)
        self.h.setOptionValue("simplex_strategy", 1)  # dual simplex
        self.h.passModel(lp)
        self.n_col = mat.shape[1]
        self.n_base = self.n_col
        #: basis status of each column added after the model was built, when added
        self.added: list[int] = []
        #: LP column of each demand row's lambda (-1: held at ``held``)
        self.lam_col = np.full(m, -1, dtype=np.int64)
        self.held = np.zeros(m)
        self._switched = np.zeros(m, dtype=bool)
        self._row_upper: np.ndarray = np.zeros(n)
        self.sets: list[np.ndarray] = []
        self.set_col: list[int] = []
        self._active: frozenset[int] = frozenset()
        self.iterations = 0
        self._fix = np.full(n, FREE, dtype=np.int8)
        self._u_idx = np.arange(self.u0, self.u0 + n, dtype=np.int32)
        self._t_idx = np.arange(self.t0, self.t0 + n, dtype=np.int32)
        if m <= SIFT_RATIO * n:
            self._add_rows(np.arange(m))
        else:  # a spread start: one row in every m / (10 n)
            self._add_rows(np.arange(0, m, max(m // (10 * n), 1)))
        self._sync()

    def _add_rows(self, rows: np.ndarray) -> None:
        """Bring the ``lambda`` columns of ``rows`` into the working set."""
        if len(rows) == 0:
            return
        sub = sparse.csc_matrix(self.inst.at[:, rows])
        w = self.inst.weight[rows]
        self.h.addCols(
            len(rows),
            -np.ones(len(rows)),
            np.zeros(len(rows)),
            w,
            sub.nnz,
            sub.indptr[:-1].astype(np.int32),
            sub.indices.astype(np.int32),
            sub.data.astype(float),
        )
        at_upper = self.held[rows] > 0
        self.added += np.where(at_upper, _UPPER, _LOWER).tolist()
        self.lam_col[rows] = np.arange(self.n_col, self.n_col + len(rows))
        self.n_col += len(rows)
        self.held[rows] = 0.0

    def _sync(self) -> None:
        """Row bounds and objective constant from the held columns."""
        upper = -np.asarray(self.inst.at @ self.held, dtype=float).ravel()
        for j in np.flatnonzero(upper != self._row_upper).tolist():
            self.h.changeRowBounds(j, -_INF, float(upper[j]))
        self._row_upper = upper
        self.h.changeObjectiveOffset(float(self.inst.weight.sum() - self.held.sum()))

    def _price(self, x: np.ndarray, *, costly: bool = False) -> bool:
        """Fix the held columns the sites' ``x`` shows wrong; True if there were none.

        ``costly``: this solve has taken :data:`SIFT_ITERATIONS` per site already, so
        every held column joins the working set if any is wrong.
        """
        held = self.lam_col < 0
        if not held.any():
            return True
        c = self.inst.a @ x
        w = self.inst.weight
        wrong = held & (((c < 1 - 1e-9) & (self.held == 0)) | ((c > 1 + 1e-9) & (self.held > 0)))
        if not wrong.any():
            return True
        # a column wrong again after switching bound joins the working set instead
        near = wrong & ((np.abs(c - 1) < SIFT_NEAR) | self._switched)
        far = wrong & ~near
        if costly or (self.lam_col >= 0).sum() + near.sum() > SIFT_ALL * len(held):
            self._add_rows(np.flatnonzero(held))
            self._sync()
            return False
        self.held[far] = np.where(self.held[far] > 0, 0.0, w[far])
        self._switched |= far
        self._add_rows(np.flatnonzero(near))
        self._sync()
        return False

    def widen(self, x: np.ndarray, margin: float) -> None:
        """Bring in the held columns of rows with ``|c_i - 1| < margin`` under ``x``
        (``inf``: all), so that later solves seldom need pricing rounds."""
        held = np.flatnonzero(self.lam_col < 0)
        if len(held) == 0:
            return
        c = self.inst.a[held] @ x
        self._add_rows(held[np.abs(c - 1) < margin])
        self._sync()

    def add_set(self, sites: np.ndarray) -> int:
        """A column for ``sum_{j in sites} x_j >= 1``, off until a node turns it on."""
        sites = np.asarray(sites, dtype=np.int32)
        self.h.addCol(-1.0, 0.0, 0.0, len(sites), sites, np.ones(len(sites)))
        self.sets.append(sites)
        self.set_col.append(self.n_col)
        self.added.append(_LOWER)
        self.n_col += 1
        return len(self.sets) - 1

    def set_active(self, active: frozenset[int]) -> None:
        """Turn on the set rows ``active`` (ids from :meth:`add_set`), the others off."""
        changed = sorted(active ^ self._active)
        if not changed:
            return
        cols = np.array([self.set_col[k] for k in changed], dtype=np.int32)
        on = np.array([k in active for k in changed])
        self.h.changeColsBounds(len(cols), cols, np.zeros(len(cols)), np.where(on, _INF, 0.0))
        self._active = active

    def set_fixing(self, fix: np.ndarray) -> None:
        """Fix sites closed or open (``fix``: FREE, CLOSED or OPEN per site)."""
        changed = np.flatnonzero(fix != self._fix).astype(np.int32)
        if len(changed) == 0:
            return
        f = fix[changed]
        self.h.changeColsCost(len(changed), self._u_idx[changed], np.where(f == CLOSED, 0.0, 1.0))
        self.h.changeColsCost(len(changed), self._t_idx[changed], np.where(f == OPEN, -1.0, 0.0))
        self.h.changeColsBounds(
            len(changed),
            self._t_idx[changed],
            np.zeros(len(changed)),
            np.where(f == OPEN, _INF, 0.0),
        )
        self._fix = fix.copy()

    def solve(
        self,
        fix: np.ndarray,
        basis: tuple[np.ndarray, np.ndarray] | None,
        *,
        active: frozenset[int] = frozenset(),
        seconds: float = np.inf,
        iterations: int | None = None,
    ) -> NodeLP:
        """The relaxation under ``fix`` and the set rows ``active``, warm-started from
        ``basis`` when given.

        ``seconds`` (safety net) and ``iterations`` limit this solve; a solve they stop
        has status ``time_limit`` or ``work_limit`` and no bound.
        """
        self.set_fixing(fix)
        self.set_active(active)
        if basis is not None:
            self._set_basis(basis)
        # HiGHS counts its time limit from its first run, over all runs
        self.h.setOptionValue("time_limit", self.h.getRunTime() + float(max(seconds, 0.0)))
        n = self.inst.n_sites
        its = 0
        for _ in range(SIFT_ROUNDS):
            left = None if iterations is None else iterations - its
            limit = 2**31 - 1 if left is None else int(min(max(left, 0), 2**31 - 1))
            self.h.setOptionValue("simplex_iteration_limit", limit)
            self.h.run()
            info = self.h.getInfo()
            its += max(int(info.simplex_iteration_count), 0)
            status = self.h.getModelStatus()
            if status in (
                highspy.HighsModelStatus.kInfeasible,
                highspy.HighsModelStatus.kUnbounded,
                highspy.HighsModelStatus.kUnboundedOrInfeasible,
            ):
                # the dual unbounded: no plan under these fixings (a restriction of the
                # dual is unbounded only if the dual is)
                self.iterations += its
                return NodeLP("infeasible", -np.inf, *(np.zeros(n),) * 3, its)
            if status != highspy.HighsModelStatus.kOptimal:
                # not a bound: the objective where the dual simplex stopped, for estimates
                self.iterations += its
                why = (
                    "time_limit" if status == highspy.HighsModelStatus.kTimeLimit else "work_limit"
                )
                at = float(info.objective_function_value)
                return NodeLP(why, at if np.isfinite(at) else np.inf, *(np.zeros(n),) * 3, its)
            x = np.clip(-np.asarray(self.h.getSolution().row_dual), 0.0, 1.0)
            if self._price(x, costly=its > SIFT_ITERATIONS * n):
                break
        self.iterations += its
        bound, slack, upper = self._certify(np.asarray(self.h.getSolution().col_value), fix, active)
        return NodeLP("optimal", bound, x, slack, upper, its)

    def _certify(
        self, col: np.ndarray, fix: np.ndarray, active: frozenset[int]
    ) -> tuple[float, np.ndarray, np.ndarray]:
        """The bound of HiGHS' solution made exactly dual feasible, and the margins.

        The solution satisfies its rows and bounds to HiGHS' tolerances only: the
        multipliers are clipped to their bounds and every row still violated is repaired
        by raising its ``u_j`` (free for a closed site), so the bound holds whatever the
        tolerances. Returns ``(bound, slack, upper)`` (see :class:`NodeLP`).
        """
        inst = self.inst
        n = inst.n_sites
        inside = self.lam_col >= 0
        lam = self.held.copy()
        lam[inside] = col[self.lam_col[inside]]
        lam = np.clip(lam, 0.0, inst.weight)
        act = inst.at @ lam
        obj = float((inst.weight - lam).sum())
        side = np.maximum(col[: self.u0], 0.0)
        act += self.side @ side
        obj += float(self.side_cost @ side)
        for k in active:
            g = max(float(col[self.set_col[k]]), 0.0)
            act[self.sets[k]] += g
            obj -= g
        u = np.maximum(col[self.u0 : self.u0 + n], 0.0)
        t = np.where(fix == OPEN, np.maximum(col[self.t0 : self.t0 + n], 0.0), 0.0)
        ucost = np.where(fix == CLOSED, 0.0, 1.0)
        act += t - u
        viol = np.maximum(act, 0.0)
        obj += float(ucost @ (u + viol)) - float(t.sum())
        return obj, np.maximum(-act, 0.0), u + viol

    def basis(self) -> tuple[np.ndarray, np.ndarray]:
        """The current basis, compact."""
        b = self.h.getBasis()
        return (
            np.fromiter((s.value for s in b.col_status), dtype=np.int8, count=self.n_col),
            np.fromiter((s.value for s in b.row_status), dtype=np.int8),
        )

    def _set_basis(self, basis: tuple[np.ndarray, np.ndarray]) -> None:
        b = highspy.HighsBasis()
        cols = basis[0].tolist()
        # columns added since the basis was taken start at the bound they had then
        cols += self.added[len(cols) - self.n_base :]
        b.col_status = [_LUT[v] for v in cols]
        b.row_status = [_LUT[v] for v in basis[1].tolist()]
        b.valid = True
        self.h.setBasis(b)
