"""Solver backends: HiGHS (through highspy) and CBC, both through PuLP."""

from __future__ import annotations

import functools
import logging
import os
import re
import tempfile
import time
import warnings
from pathlib import Path

import pulp

from planner.config import SolverSection
from planner.datatypes import SolveInfo
from planner.errors import InfeasibleError, SolverError

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


def solve(
    prob: pulp.LpProblem, *, solver: SolverSection, model: str, build_seconds: float = 0.0
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

    Returns
    -------
    SolveInfo
        Status is ``optimal`` (within the MIP gap), ``time_limit`` (best plan found
        when the limit struck), or raises: :class:`InfeasibleError` when the model has no
        solution, :class:`SolverError` when the solver fails or finds none in time.
    """
    start = time.perf_counter()
    if solver.name == "highs":
        status, objective, bound = _solve_highs(prob, solver)
    else:
        status, objective, bound = _solve_cbc(prob, solver)
    seconds = time.perf_counter() - start
    if status == "infeasible":
        msg = f"{model}: the solver proved the model infeasible"
        raise InfeasibleError(msg)
    if objective is None:
        msg = f"{model}: {solver.name} ended with status {status} and no plan"
        raise SolverError(msg)
    gap = None
    if bound is not None:
        gap = abs(bound - objective) / max(abs(objective), 1e-9)
        if gap < 1e-12:
            gap = 0.0
    n_int = sum(1 for v in prob.variables() if v.cat == pulp.LpInteger)
    info = SolveInfo(
        model=model,
        solver=solver.name,
        status=status,
        objective=objective,
        bound=bound if n_int else objective,
        gap=gap if n_int else 0.0,
        seconds=seconds,
        build_seconds=build_seconds,
        n_variables=len(prob.variables()),
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


def _solve_highs(
    prob: pulp.LpProblem, cfg: SolverSection
) -> tuple[str, float | None, float | None]:
    if not cfg.msg:
        silence_highs_banner()
    backend = pulp.HiGHS(
        msg=cfg.msg, timeLimit=cfg.time_limit_s, gapRel=cfg.mip_gap, threads=cfg.threads
    )
    if not backend.available():
        msg = "HiGHS is not available: install highspy (pip install highspy)"
        raise SolverError(msg)
    prob.solve(backend)
    h = prob.solverModel
    raw = h.modelStatusToString(h.getModelStatus())
    name = str(h.getModelStatus()).split(".")[-1]
    status = _HIGHS_STATUS.get(name, raw.lower().replace(" ", "_"))
    info = h.getInfo()
    has_solution = info.primal_solution_status == 2  # kSolutionStatusFeasible
    objective = pulp.value(prob.objective) if has_solution else None
    if objective is not None:
        objective = float(objective)
    bound = None
    if has_solution and info.mip_node_count >= 0:
        # PuLP hands HiGHS a minimisation; read the bound back in the model's sense
        constant = float(prob.objective.constant or 0.0)
        internal = float(info.objective_function_value)
        sign = (
            -1.0
            if abs(internal + (objective - constant)) < abs(internal - (objective - constant))
            else 1.0
        )
        bound = sign * float(info.mip_dual_bound) + constant
    elif has_solution:
        bound = objective
    return status, objective, bound


_CBC_OBJ = re.compile(r"^Objective value:\s+(\S+)", re.MULTILINE)
_CBC_BOUND = re.compile(r"^Lower bound:\s+(\S+)", re.MULTILINE)


def _solve_cbc(prob: pulp.LpProblem, cfg: SolverSection) -> tuple[str, float | None, float | None]:
    with tempfile.TemporaryDirectory(prefix="planner-cbc-") as tmp:
        log = Path(tmp) / "cbc.log"
        with warnings.catch_warnings():
            # PuLP 3.x warns that its bundled CBC goes in 4.0; the project pins pulp<4
            warnings.simplefilter("ignore", DeprecationWarning)
            backend = pulp.PULP_CBC_CMD(
                msg=cfg.msg,
                timeLimit=cfg.time_limit_s,
                gapRel=cfg.mip_gap,
                threads=cfg.threads,
                logPath=str(log),
            )
        if not backend.available():
            msg = "CBC is not available in this PuLP installation"
            raise SolverError(msg)
        try:
            prob.solve(backend)
        except pulp.PulpSolverError as err:
            msg = f"CBC failed: {err}"
            raise SolverError(msg) from None
        text = log.read_text(errors="replace") if log.exists() else ""
    if prob.status == pulp.LpStatusInfeasible or "Result - Problem proven infeasible" in text:
        return "infeasible", None, None
    if "Stopped on time" in text:
        status = "time_limit"
    elif prob.status == pulp.LpStatusOptimal:
        status = "optimal"
    else:
        status = pulp.LpStatus[prob.status].lower()
    has_solution = prob.sol_status in (pulp.LpSolutionOptimal, pulp.LpSolutionIntegerFeasible)
    objective = float(pulp.value(prob.objective)) if has_solution else None
    bound = None
    m = _CBC_BOUND.search(text)
    if m and objective is not None:
        # CBC minimises internally; its log reports the bound in the minimisation sense
        raw = float(m.group(1))
        constant = float(prob.objective.constant or 0.0)
        bound = (-raw if prob.sense == pulp.LpMaximize else raw) + constant
    elif objective is not None and status == "optimal":
        bound = objective
    return status, objective, bound
