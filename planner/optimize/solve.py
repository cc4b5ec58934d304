"""Solving a PuLP model: the backend chosen, then status, objective, bound and gap.

The backends are :mod:`~planner.optimize.highs` (HiGHS through highspy) and
:mod:`~planner.optimize.cbc` (PuLP's CBC binary, under the watchdog of
:mod:`~planner.optimize.watchdog`).
"""

from __future__ import annotations

import logging
import time

import pulp

from planner.config import SolverSection
from planner.datatypes import SolveInfo
from planner.errors import InfeasibleError, SolverError
from planner.optimize.cbc import solve_cbc
from planner.optimize.highs import run_highs, solve_highs
from planner.optimize.highs import silence_highs_banner as silence_highs_banner
from planner.optimize.watchdog import run_watched
from planner.progress import SolverWatch, current, label_for
from planner.progress import relative_gap as _relative_gap

#: The names these helpers had here before the backends had modules of their own.
_solve_cbc = solve_cbc
_run_highs = run_highs
_run_watched = run_watched

logger = logging.getLogger(__name__)


def solve(
    prob: pulp.LpProblem,
    *,
    solver: SolverSection,
    model: str,
    build_seconds: float = 0.0,
    warm_start: bool = False,
    start_objective: float | None = None,
) -> SolveInfo:
    """Solve a PuLP problem and report status, objective, bound and gap.

    Parameters
    ----------
    prob
        The model; its variables hold the solution afterwards.
    solver
        Backend, time limit, MIP gap, threads.
    model
        Model name for the report.
    build_seconds
        Time spent building the model, reported alongside.
    warm_start
        Start from the values the variables hold (a previous plan); both backends
        take it as their first incumbent when it is feasible.
    start_objective
        The start's objective: HiGHS stops (``optimal``) once its bound proves the gap
        against it (see :class:`~planner.optimize.highs.StartProof`); the caller then
        keeps the start when the solver's own plan is worse.

    Returns
    -------
    SolveInfo
        Status is ``optimal`` (within the MIP gap), ``time_limit`` (best plan found
        when the safety-net time limit struck: the plan depends on the clock),
        ``node_limit`` (best plan at the deterministic node limit), or raises:
        :class:`InfeasibleError` when the model has no solution, :class:`SolverError`
        when the solver fails or finds none in time.
    """
    start = time.perf_counter()
    watch = _watch(prob, model)
    if solver.name == "highs":
        status, objective, bound = solve_highs(
            prob, solver, warm_start=warm_start, watch=watch, start_objective=start_objective
        )
    else:
        status, objective, bound = solve_cbc(prob, solver, warm_start=warm_start, watch=watch)
    seconds = time.perf_counter() - start
    if objective is None or status == "infeasible":
        if watch is not None:
            watch.end(status, None, None, None)
        if status == "infeasible":
            msg = f"{model}: the solver proved the model infeasible"
            raise InfeasibleError(msg)
        msg = f"{model}: {solver.name} ended with status {status} and no plan"
        raise SolverError(msg)
    gap = None if bound is None else _relative_gap(objective, bound)
    variables = prob.variables()  # PuLP walks every constraint for them: once
    n_int = sum(1 for v in variables if v.cat == pulp.LpInteger)
    if watch is not None:
        watch.end(status, objective, bound if n_int else objective, gap if n_int else 0.0)
    info = SolveInfo(
        model=model,
        solver=solver.name,
        status=status,
        objective=objective,
        bound=bound if n_int else objective,
        gap=gap if n_int else 0.0,
        seconds=seconds,
        build_seconds=build_seconds,
        n_variables=len(variables),
        n_constraints=prob.numConstraints(),
    )
    logger.info(
        "%s: %s by %s, objective %.6g, bound %s, gap %s, %.2f s",
        model,
        status,
        solver.name,
        objective,
        bound,
        gap,
        seconds,
    )
    return info


def report_settled(prob: pulp.LpProblem, info: SolveInfo) -> None:
    """Tell the command's reporter about a solve settled without the MIP solver (a start
    proven against the relaxation, :mod:`~planner.optimize.links`)."""
    watch = _watch(prob, info.model)
    if watch is not None:
        watch.end(info.status, info.objective, info.bound, info.gap)


def _watch(prob: pulp.LpProblem, model: str) -> SolverWatch | None:
    """The progress of this solve for the command's reporter (None without one).

    Both backends solve a minimisation without the objective's constant.
    """
    progress = current()
    if progress is None:
        return None
    watch = SolverWatch(
        progress,
        label_for(model),
        sense=-1.0 if prob.sense == pulp.LpMaximize else 1.0,
        constant=float(prob.objective.constant or 0.0),
    )
    watch.start()
    return watch
