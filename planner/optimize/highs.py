"""HiGHS through PuLP and highspy: a warm start, a solve a signal stops, the bound read back."""

from __future__ import annotations

import functools
import logging
import math
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING

import numpy as np
import pulp

from planner.config import SolverSection
from planner.errors import SolverError
from planner.optimize.watchdog import POLL_S, STOP_WAIT_S
from planner.progress import SolverWatch, relative_gap
from planner.signals import check_stop

if TYPE_CHECKING:
    import highspy

logger = logging.getLogger(__name__)

_HIGHS_STATUS = {
    "kOptimal": "optimal",
    "kTimeLimit": "time_limit",
    "kInfeasible": "infeasible",
    "kUnboundedOrInfeasible": "infeasible",
    "kUnbounded": "unbounded",
    "kIterationLimit": "iteration_limit",
    "kSolutionLimit": "solution_limit",
    "kInterrupt": "interrupted",
}


@functools.cache
def silence_highs_banner() -> None:
    """HiGHS prints a banner on stdout when the first instance is made; swallow it."""
    import highspy

    saved, null = os.dup(1), os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, 1)
        highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(null)


def pulp_model(lp: pulp.LpProblem, h: highspy.Highs, *, mip: bool = True) -> None:
    """Hand HiGHS a PuLP problem: the model PuLP's HiGHS interface builds, in bulk.

    PuLP adds the columns and rows one call at a time (0.46 s of the 0.97 s it takes to
    write the joint model of the demo county at ``--scale 20``); this adds them in two
    calls (0.20 s), in the same order, so HiGHS gets the same model. Like PuLP, it sets
    each variable's and constraint's ``index`` (the solution is read back by them) and
    leaves out zero coefficients; with ``mip`` False every column is continuous.
    """
    import highspy

    inf = highspy.kHighsInf
    sense = -1.0 if lp.sense == pulp.LpMaximize else 1.0
    variables = lp.variables()
    objective = lp.objective or {}  # None: no objective yet
    for i, v in enumerate(variables):
        v.index = i
    cost = np.array([sense * objective.get(v, 0.0) for v in variables], dtype=float)
    lower = np.array([-inf if v.lowBound is None else v.lowBound for v in variables], float)
    upper = np.array([inf if v.upBound is None else v.upBound for v in variables], float)
    none = np.zeros(0, dtype=np.int32)
    h.addCols(len(variables), cost, lower, upper, 0, none, none, np.zeros(0))
    integer = [v.index for v in variables if v.cat == pulp.LpInteger] if mip else []
    if integer:
        h.changeColsIntegrality(
            len(integer),
            np.array(integer, dtype=np.int32),
            np.full(len(integer), highspy.HighsVarType.kInteger),
        )
    starts, index, value, row_lower, row_upper = _rows(lp, inf)
    h.addRows(len(starts), row_lower, row_upper, len(index), starts, index, value)


def _rows(lp: pulp.LpProblem, inf: float) -> tuple[np.ndarray, ...]:
    """The constraints row-wise, in PuLP's order (each gets its ``index``): row starts,
    column indices, values (zeros left out), lower and upper bounds."""
    starts: list[int] = []
    index: list[int] = []
    value: list[float] = []
    lower: list[float] = []
    upper: list[float] = []
    for i, row in enumerate(lp._constraints.values()):
        starts.append(len(index))
        for v, a in row.items():
            if a != 0:
                index.append(v.index)
                value.append(a)
        row.index = i
        lb, ub = row.getLb(), row.getUb()
        lower.append(-inf if lb is None else lb)
        upper.append(inf if ub is None else ub)
    return (
        np.array(starts, dtype=np.int32),
        np.array(index, dtype=np.int32),
        np.array(value, dtype=float),
        np.array(lower, dtype=float),
        np.array(upper, dtype=float),
    )


#: HiGHS presolve rules switched off in every MIP solve (``presolve_rule_off``): rule 13,
#: parallel rows and columns. With it and probing both on, HiGHS 1.16's presolve never
#: returned on the joint model of ``planner demo --seed 1`` (1,157 rows; its time limit did
#: not stop it either); with either off the model solves in about 2 s.
PRESOLVE_RULES_OFF = 1 << 13


class _HighsWithStart(pulp.HiGHS):  # type: ignore[misc]  # PuLP is untyped: Any
    """PuLP's HiGHS interface, handing HiGHS the variables' values as a start."""

    def __init__(
        self,
        *args: object,
        start: bool = False,
        watch: SolverWatch | None = None,
        proof: StartProof | None = None,
        stall: StallLimit | None = None,
        **kwargs: object,
    ) -> None:
        super().__init__(*args, **kwargs)
        self._start = start
        self._watch = watch
        self._proof = proof
        self._stall = stall

    def buildSolverModel(self, lp: pulp.LpProblem) -> None:  # noqa: N802 - PuLP's name
        pulp_model(lp, lp.solverModel, mip=self.mip)

    def callSolver(self, lp: pulp.LpProblem) -> None:  # noqa: N802 - PuLP's name
        lp.solverModel.setOptionValue("presolve_rule_off", PRESOLVE_RULES_OFF)
        if self._start:
            cols = [(v.index, v.varValue) for v in lp.variables() if v.varValue is not None]
            if cols:
                index, value = zip(*cols, strict=True)
                lp.solverModel.setSolution(len(index), list(index), list(value))
        if self._proof is not None:
            lp.solverModel.cbMipInterrupt.subscribe(self._proof.check)
        if self._stall is not None:
            lp.solverModel.cbMipInterrupt.subscribe(self._stall.check)
        run_highs(lp.solverModel, watch=self._watch)

    def findSolutionValues(self, lp: pulp.LpProblem) -> tuple[int, int]:  # noqa: N802
        try:
            return super().findSolutionValues(lp)  # type: ignore[no-any-return]
        except KeyError:  # PuLP knows no status for HiGHS's node limit (a solution limit)
            import highspy

            h = lp.solverModel
            if h.getModelStatus() != highspy.HighsModelStatus.kSolutionLimit:
                raise
            # the variables hold the solution already: only the status lookup failed
            if h.getInfo().primal_solution_status == 2:  # kSolutionStatusFeasible
                return pulp.LpStatusOptimal, pulp.LpSolutionIntegerFeasible
            return pulp.LpStatusNotSolved, pulp.LpSolutionNoSolutionFound


class StartProof:
    """Stops HiGHS once its bound proves the gap against the start's objective.

    HiGHS maps a MIP start into its presolved model, and there the start can lose value
    (on the demo county at ``--scale 100`` the start covered 106,493 sessions and HiGHS
    carried on from 105,960), so it may go on searching although its bound is already
    within the gap of the start. This callback compares HiGHS' dual bound with the
    start's own objective and interrupts the solve when the gap is proven; the model
    then returns the start (:func:`~planner.optimize.mclp.better_plan`). The callback
    runs at the same points of a single-threaded solve every time, so the stop does not
    depend on the clock.

    Parameters
    ----------
    objective
        The start's objective in HiGHS' sense (a minimisation without the constant).
    gap
        The relative gap to prove.
    """

    def __init__(self, objective: float, gap: float) -> None:
        self.objective = objective
        self.gap = gap
        self.proven = False

    def check(self, event: highspy.HighsCallbackEvent) -> None:
        """Interrupt when ``(start - bound) / |start| <= gap`` (a minimisation)."""
        bound = float(event.data_out.mip_dual_bound)
        if not math.isfinite(bound):
            return
        data_in = event.data_in
        if data_in is not None and self.objective - bound <= self.gap * max(
            abs(self.objective), 1e-9
        ):
            self.proven = True
            data_in.user_interrupt = True


#: Nodes without a better plan before a solve stops (:func:`stall_limit`; None: no limit).
_STALL: ContextVar[int | None] = ContextVar("planner_stall_nodes", default=None)


@contextmanager
def stall_limit(nodes: int | None) -> Iterator[None]:
    """HiGHS solves within stop after ``nodes`` nodes without a better plan (:class:`StallLimit`).

    The lexicographic passes after the first set it (``solver.stall_nodes``, see
    :func:`planner.optimize.passes.pass_stall_nodes`); other solves run without it.
    """
    token = _STALL.set(nodes)
    try:
        yield
    finally:
        _STALL.reset(token)


class StallLimit:
    """Stops HiGHS after ``nodes`` branch-and-bound nodes without a better plan.

    A deterministic work limit (:func:`stall_limit`): the callback sees the node count
    and the best plan's objective at the same points of a single-threaded solve every
    time. It waits for a first plan (a solve without one would have nothing to keep).

    Parameters
    ----------
    nodes
        Nodes without a better plan before the solve stops.
    """

    def __init__(self, nodes: int) -> None:
        self.nodes = nodes
        self.best = math.inf
        self.since = 0
        self.fired = False

    def check(self, event: highspy.HighsCallbackEvent) -> None:
        """Interrupt once ``nodes`` nodes went by since the last better plan (a minimisation)."""
        out = event.data_out
        primal, count = float(out.mip_primal_bound), int(out.mip_node_count)
        if primal < self.best - 1e-9 * max(1.0, abs(primal)):
            self.best, self.since = primal, count
            return
        stalled = math.isfinite(self.best) and count - self.since >= self.nodes
        if stalled and event.data_in is not None:
            self.fired = True
            event.data_in.user_interrupt = True


def run_highs(h: highspy.Highs, *, watch: SolverWatch | None = None) -> None:
    """``h.run()``, stopped at once by a signal (what PuLP's ``callSolver`` does, plus that).

    The solve runs in highspy's solver thread while this thread waits in slices of
    :data:`~planner.optimize.watchdog.POLL_S`, so a signal's handler runs at once. On any
    exception (a signal's :class:`~planner.errors.Interrupted`, or Ctrl-C's
    KeyboardInterrupt outside the CLI) the solve is cancelled through HiGHS' interrupt
    callbacks and given :data:`~planner.optimize.watchdog.STOP_WAIT_S` to stop. The
    callbacks only read a flag: without a signal the solve is the same as ``run()``'s,
    node for node.

    With a ``watch``, the MIP interrupt callback (the one the cancel uses) also hands it
    HiGHS' incumbent, bound and node count, and this thread sends its updates: reading
    them changes nothing in the solve.

    Parameters
    ----------
    h
        The ``highspy.Highs`` holding the model.
    watch
        The solve's progress, or None.
    """
    h.HandleUserInterrupt = True
    reader = None if watch is None else _reader(watch)
    if reader is not None:  # after the cancel's: no callback starts that was not on
        h.cbMipInterrupt.subscribe(reader)
    h.startSolve()
    logger.debug("HiGHS solve started")
    try:
        while not h.wait(POLL_S)[0]:
            check_stop()
            if watch is not None:
                watch.poll()
    except BaseException:
        h.cancelSolve()
        t0 = time.monotonic()
        while not h.wait(POLL_S)[0]:
            if time.monotonic() - t0 > STOP_WAIT_S:
                logger.warning("HiGHS did not stop within %.0f s of the cancel", STOP_WAIT_S)
                break
        else:
            logger.debug("HiGHS stopped %.2f s after the cancel", time.monotonic() - t0)
        raise


def _reader(watch: SolverWatch) -> Callable[[highspy.HighsCallbackEvent], None]:
    """A callback that hands ``watch`` HiGHS' figures; it only reads them."""

    def read(event: highspy.HighsCallbackEvent) -> None:
        out = event.data_out
        watch.seen(out.mip_primal_bound, out.mip_dual_bound, out.mip_node_count)

    return read


def solve_highs(
    prob: pulp.LpProblem,
    cfg: SolverSection,
    *,
    warm_start: bool = False,
    watch: SolverWatch | None = None,
    start_objective: float | None = None,
) -> tuple[str, float | None, float | None]:
    """Solve with HiGHS through PuLP, stopped at once by a signal.

    Parameters
    ----------
    prob
        The model; its variables hold the solution afterwards.
    cfg
        Time limit, MIP gap, threads, node limit, log echo.
    warm_start
        Hand HiGHS the variables' values as a start.
    watch
        Where the solve's progress goes (None: nowhere).
    start_objective
        The objective of the start (in the model's sense): the solve stops, ``optimal``,
        as soon as its bound is within ``cfg.mip_gap`` of it (:class:`StartProof`).

    Returns
    -------
    tuple
        ``(status, objective, bound)``; objective and bound None without a plan.
    """
    if not cfg.msg:
        silence_highs_banner()
    extra = {} if cfg.node_limit is None else {"mip_max_nodes": int(cfg.node_limit)}
    proof = None
    if start_objective is not None and warm_start:
        sense = -1.0 if prob.sense == pulp.LpMaximize else 1.0
        constant = float(prob.objective.constant or 0.0)
        proof = StartProof(sense * (start_objective - constant), cfg.mip_gap)
    nodes = _STALL.get()
    stall = None if nodes is None else StallLimit(nodes)
    backend = _HighsWithStart(
        msg=cfg.msg,
        timeLimit=cfg.time_limit_s,
        gapRel=cfg.mip_gap,
        threads=cfg.threads,
        start=warm_start,
        watch=watch,
        proof=proof,
        stall=stall,
        **extra,
    )
    if not backend.available():
        msg = "HiGHS is not available: install highspy (pip install highspy)"
        raise SolverError(msg)
    prob.solve(backend)
    h = prob.solverModel
    info = h.getInfo()
    has_solution = info.primal_solution_status == 2  # kSolutionStatusFeasible
    objective = float(pulp.value(prob.objective)) if has_solution else None
    if warm_start and objective is not None and not reports_its_plan(prob, info, objective):
        logger.warning(
            "HiGHS reported an objective that its plan does not have (the start was mapped "
            "into its presolved model wrongly): solving again without the start"
        )
        return solve_highs(prob, cfg, watch=watch)
    raw = h.modelStatusToString(h.getModelStatus())
    name = str(h.getModelStatus()).split(".")[-1]
    status = _HIGHS_STATUS.get(name, raw.lower().replace(" ", "_"))
    if status == "solution_limit" and cfg.node_limit is not None:
        status = "node_limit"  # HiGHS reports its node limit as a solution limit
    if status == "interrupted" and proof is not None and proof.proven:
        status = "optimal"  # the bound proved the gap against the start
    elif status == "interrupted" and stall is not None and stall.fired:
        status = "node_limit"  # solver.stall_nodes: a deterministic work limit
    bound = None
    if objective is not None and info.mip_node_count >= 0:
        bound = _model_bound(prob, objective, info)
    elif has_solution:
        bound = objective
    if stalled_but_proven(status, stall, objective, bound, cfg.mip_gap):
        status = "optimal"  # the stall limit fired after the bound had proven the gap
    return status, objective, bound


def stalled_but_proven(
    status: str,
    stall: StallLimit | None,
    objective: float | None,
    bound: float | None,
    gap: float,
) -> bool:
    """Whether a solve the stall limit stopped had proven its gap already (the interrupt can
    come before HiGHS' own gap check: on the small demo county, with ``stall_nodes`` 1 and
    a zero gap, a capex pass stopped ``node_limit`` with its bound equal to its plan)."""
    if status != "node_limit" or stall is None or not stall.fired:
        return False
    if objective is None or bound is None:
        return False
    return relative_gap(objective, bound) <= gap


def reports_its_plan(prob: pulp.LpProblem, info: highspy.HighsInfo, objective: float) -> bool:
    """Whether HiGHS' objective (``info``) is ``objective``, that of the plan the variables hold.

    With a MIP start, HiGHS 1.16 can map the start into its presolved model wrongly: on
    the demo county at ``--scale 2`` it reported a capex of 31,247,792 as optimal (below
    the true optimum, 31,627,792) and returned the start itself, of 31,997,792. Its status
    and bound are then worthless; :func:`solve_highs` solves again without the start.
    """
    sense = -1.0 if prob.sense == pulp.LpMaximize else 1.0
    held = sense * (objective - float(prob.objective.constant or 0.0))
    reported = float(info.objective_function_value)
    return abs(held - reported) <= 1e-6 * max(1.0, abs(held), abs(reported))


def _model_bound(prob: pulp.LpProblem, objective: float, info: highspy.HighsInfo) -> float:
    """HiGHS' dual bound in the model's sense (PuLP hands HiGHS a minimisation)."""
    constant = float(prob.objective.constant or 0.0)
    internal = float(info.objective_function_value)
    sign = (
        -1.0
        if abs(internal + (objective - constant)) < abs(internal - (objective - constant))
        else 1.0
    )
    return sign * float(info.mip_dual_bound) + constant
