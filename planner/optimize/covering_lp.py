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
        cols: list[Any] = [sparse.csc_matrix(inst.at)]
        cost: list[np.ndarray] = [-np.ones(m)]
        upper: list[np.ndarray] = [inst.weight.astype(float)]
        if inst.max_sites is not None:
            cols.append(sparse.csc_matrix(-np.ones((n, 1))))
            cost.append(np.array([float(inst.max_sites)]))
            upper.append(np.array([_INF]))
        if inst.budget is not None:
            scale = max(float(inst.budget), 1e-9)
            cols.append(sparse.csc_matrix(-(inst.cost / scale)[:, None]))
            cost.append(np.array([inst.budget / scale]))
            upper.append(np.array([_INF]))
        if inst.groups:
            cols.append(sparse.csc_matrix(inst.group_of))
            cost.append(-np.ones(len(inst.groups)))
            upper.append(np.full(len(inst.groups), _INF))
        self.u0 = sum(c.shape[1] for c in cols)
        #: the columns of mu, beta and gamma, and their costs (for the certified bound)
        self.side = sparse.hstack(cols[1:], format="csr") if len(cols) > 1 else None
        self.side_cost = np.concatenate(cost[1:]) if len(cols) > 1 else np.zeros(0)
        self.sets: list[np.ndarray] = []
        eye = sparse.identity(n, format="csc")
        cols += [-eye, eye]
        cost += [np.ones(n), np.zeros(n)]
        upper += [np.full(n, _INF), np.zeros(n)]
        self.t0 = self.u0 + n
        mat = sparse.hstack(cols, format="csc")
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = mat.shape[1], n
        lp.col_cost_ = np.concatenate(cost)
        lp.col_lower_ = np.zeros(mat.shape[1])
        lp.col_upper_ = np.concatenate(upper)
        lp.row_lower_ = np.full(n, -_INF)
        lp.row_upper_ = np.zeros(n)
        lp.offset_ = float(inst.weight.sum())
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = mat.indptr.astype(np.int32)
        lp.a_matrix_.index_ = mat.indices.astype(np.int32)
        lp.a_matrix_.value_ = mat.data.astype(float)
        self.h = new_highs(np.inf, threads)
        self.h.setOptionValue("simplex_strategy", 1)  # dual simplex
        self.h.passModel(lp)
        self.n_col = mat.shape[1]
        self.n_sets = 0
        self._active: frozenset[int] = frozenset()
        self.iterations = 0
        self._fix = np.full(n, FREE, dtype=np.int8)
        self._u_idx = np.arange(self.u0, self.u0 + n, dtype=np.int32)
        self._t_idx = np.arange(self.t0, self.t0 + n, dtype=np.int32)

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

    def add_set(self, sites: np.ndarray) -> int:
        """A column for ``sum_{j in sites} x_j >= 1``, off until a node turns it on."""
        sites = np.asarray(sites, dtype=np.int32)
        self.h.addCol(-1.0, 0.0, 0.0, len(sites), sites, np.ones(len(sites)))
        self.sets.append(sites)
        self.n_col += 1
        self.n_sets += 1
        return self.n_sets - 1

    def set_active(self, active: frozenset[int]) -> None:
        """Turn on the set rows ``active`` (ids from :meth:`add_set`), the others off."""
        changed = np.array(sorted(active ^ self._active), dtype=np.int32)
        if len(changed) == 0:
            return
        on = np.array([k in active for k in changed.tolist()])
        first = self.n_col - self.n_sets
        self.h.changeColsBounds(
            len(changed), first + changed, np.zeros(len(changed)), np.where(on, _INF, 0.0)
        )
        self._active = active

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
        limit = 2**31 - 1 if iterations is None else int(min(max(iterations, 0), 2**31 - 1))
        self.h.setOptionValue("simplex_iteration_limit", limit)
        self.h.run()
        info = self.h.getInfo()
        its = max(int(info.simplex_iteration_count), 0)
        self.iterations += its
        n = self.inst.n_sites
        status = self.h.getModelStatus()
        if status in (
            highspy.HighsModelStatus.kInfeasible,
            highspy.HighsModelStatus.kUnbounded,
            highspy.HighsModelStatus.kUnboundedOrInfeasible,
        ):
            # the dual unbounded (or infeasible): no plan under these fixings
            return NodeLP("infeasible", -np.inf, np.zeros(n), np.zeros(n), np.zeros(n), its)
        if status != highspy.HighsModelStatus.kOptimal:
            # not a bound: the objective where the dual simplex stopped, for estimates
            why = "time_limit" if status == highspy.HighsModelStatus.kTimeLimit else "work_limit"
            at = float(info.objective_function_value)
            return NodeLP(why, at if np.isfinite(at) else np.inf, *(np.zeros(n),) * 3, its)
        sol = self.h.getSolution()
        x = np.clip(-np.asarray(sol.row_dual), 0.0, 1.0)
        bound, slack, upper = self._certify(np.asarray(sol.col_value), fix, active)
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
        n, m = inst.n_sites, inst.a.shape[0]
        lam = np.clip(col[:m], 0.0, inst.weight)
        act = inst.at @ lam
        obj = float((inst.weight - lam).sum())
        if self.side is not None:
            side = np.maximum(col[m : self.u0], 0.0)
            act += self.side @ side
            obj += float(self.side_cost @ side)
        first = self.n_col - self.n_sets
        for k in active:
            g = max(float(col[first + k]), 0.0)
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
        # set columns added since the basis was taken start at their bound 0
        cols += [highspy.HighsBasisStatus.kLower.value] * (self.n_col - len(cols))
        b.col_status = [_LUT[v] for v in cols]
        b.row_status = [_LUT[v] for v in basis[1].tolist()]
        b.valid = True
        self.h.setBasis(b)
