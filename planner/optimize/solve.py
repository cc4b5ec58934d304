"""Solver backends: HiGHS (through highspy) and CBC, both through PuLP."""

from __future__ import annotations

import ctypes
import functools
import logging
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypedDict

import pulp

from planner.config import SolverSection
from planner.datatypes import SolveInfo
from planner.errors import InfeasibleError, SolverError
from planner.signals import CBC_TMP_PREFIX, check_stop

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

#: Seconds between two looks at the stop flag while a solver runs.
_POLL_S = 0.1

#: Seconds a cancelled solver gets to stop before it is left (HiGHS) or killed (CBC).
_STOP_WAIT_S = 1.0


def solve(
    prob: pulp.LpProblem,
    *,
    solver: SolverSection,
    model: str,
    build_seconds: float = 0.0,
    warm_start: bool = False,
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
    if solver.name == "highs":
        status, objective, bound = _solve_highs(prob, solver, warm_start=warm_start)
    else:
        status, objective, bound = _solve_cbc(prob, solver, warm_start=warm_start)
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


class _HighsWithStart(pulp.HiGHS):  # type: ignore[misc]  # PuLP is untyped: Any
    """PuLP's HiGHS interface, handing HiGHS the variables' values as a start."""

    def __init__(self, *args: object, start: bool = False, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self._start = start

    def callSolver(self, lp: pulp.LpProblem) -> None:  # noqa: N802 - PuLP's name
        if self._start:
            cols = [(v.index, v.varValue) for v in lp.variables() if v.varValue is not None]
            if cols:
                index, value = zip(*cols, strict=True)
                lp.solverModel.setSolution(len(index), list(index), list(value))
        _run_highs(lp.solverModel)


def _run_highs(h: highspy.Highs) -> None:
    """``h.run()``, stopped at once by a signal (what PuLP's ``callSolver`` does, plus that).

    The solve runs in highspy's solver thread while this thread waits in slices of
    :data:`_POLL_S`, so a signal's handler runs at once. On any exception (a signal's
    :class:`~planner.errors.Interrupted`, or Ctrl-C's KeyboardInterrupt outside the CLI)
    the solve is cancelled through HiGHS' interrupt callbacks and given
    :data:`_STOP_WAIT_S` to stop. The callbacks only read a flag: without a signal the
    solve is the same as ``run()``'s, node for node.

    Parameters
    ----------
    h
        The ``highspy.Highs`` holding the model.
    """
    h.HandleUserInterrupt = True
    h.startSolve()
    logger.debug("HiGHS solve started")
    try:
        while not h.wait(_POLL_S)[0]:
            check_stop()
    except BaseException:
        h.cancelSolve()
        t0 = time.monotonic()
        while not h.wait(_POLL_S)[0]:
            if time.monotonic() - t0 > _STOP_WAIT_S:
                logger.warning("HiGHS did not stop within %.0f s of the cancel", _STOP_WAIT_S)
                break
        else:
            logger.debug("HiGHS stopped %.2f s after the cancel", time.monotonic() - t0)
        raise


def _solve_highs(
    prob: pulp.LpProblem, cfg: SolverSection, *, warm_start: bool = False
) -> tuple[str, float | None, float | None]:
    if not cfg.msg:
        silence_highs_banner()
    extra = {} if cfg.node_limit is None else {"mip_max_nodes": int(cfg.node_limit)}
    backend = _HighsWithStart(
        msg=cfg.msg,
        timeLimit=cfg.time_limit_s,
        gapRel=cfg.mip_gap,
        threads=cfg.threads,
        start=warm_start,
        **extra,
    )
    if not backend.available():
        msg = "HiGHS is not available: install highspy (pip install highspy)"
        raise SolverError(msg)
    prob.solve(backend)
    h = prob.solverModel
    raw = h.modelStatusToString(h.getModelStatus())
    name = str(h.getModelStatus()).split(".")[-1]
    status = _HIGHS_STATUS.get(name, raw.lower().replace(" ", "_"))
    if status == "solution_limit" and cfg.node_limit is not None:
        status = "node_limit"  # HiGHS reports its node limit as a solution limit
    info = h.getInfo()
    has_solution = info.primal_solution_status == 2  # kSolutionStatusFeasible
    objective = pulp.value(prob.objective) if has_solution else None
    if objective is not None:
        objective = float(objective)
    bound = None
    if objective is not None and info.mip_node_count >= 0:
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


_CBC_BOUND = re.compile(r"^Lower bound:\s+(\S+)", re.MULTILINE)

#: Seconds the watchdog allows CBC beyond its time limit before interrupting it, and
#: after an interrupt before killing it: ``max(_GRACE_MIN_S, _GRACE_SHARE * limit)``.
_GRACE_MIN_S = 10.0
_GRACE_SHARE = 0.1


def _grace(limit_s: float) -> float:
    return max(_GRACE_MIN_S, _GRACE_SHARE * limit_s)


def _solve_cbc(
    prob: pulp.LpProblem,
    cfg: SolverSection,
    *,
    warm_start: bool = False,
    watchdog_s: float | None = None,
) -> tuple[str, float | None, float | None]:
    """Run PuLP's CBC binary on the model as MPS, under a watchdog.

    CBC can overrun its ``-sec`` limit on large models (it checks the clock between
    phases, not inside its root LP). The watchdog interrupts it (SIGINT: CBC then stops
    and writes its best plan) ``watchdog_s`` seconds after the start (default: the time
    limit plus a grace of 10 s or 10%), and kills it if it still runs after another grace.
    """
    with warnings.catch_warnings():
        # PuLP 3.x warns that its bundled CBC goes in 4.0; the project pins pulp<4
        warnings.simplefilter("ignore", DeprecationWarning)
        backend = pulp.PULP_CBC_CMD(msg=False)
    if not backend.available():
        msg = "CBC is not available in this PuLP installation"
        raise SolverError(msg)
    limit = float(cfg.time_limit_s)
    watchdog = limit + _grace(limit) if watchdog_s is None else watchdog_s
    with tempfile.TemporaryDirectory(prefix=CBC_TMP_PREFIX) as tmp:
        folder = Path(tmp)
        mps, sol, log, start = (folder / n for n in ("model.mps", "sol.txt", "cbc.log", "mst"))
        vs, var_names, con_names, _ = prob.writeMPS(str(mps), rename=1)
        args = [backend.path, str(mps)]
        if prob.sense == pulp.LpMaximize:
            args.append("-max")
        if warm_start:
            backend.writesol(str(start), prob, vs, var_names, con_names)
            args += ["-mips", str(start)]
        args += ["-sec", f"{limit:g}", "-timeMode", "elapsed", "-ratio", f"{cfg.mip_gap:g}"]
        if cfg.threads:
            args += ["-threads", str(cfg.threads)]
        if cfg.node_limit is not None:
            args += ["-maxNodes", str(cfg.node_limit)]
        args += ["-solve", "-printingOptions", "all", "-solution", str(sol)]
        interrupted = _run_watched(args, log, watchdog, echo=cfg.msg)
        text = log.read_text(errors="replace") if log.exists() else ""
        if cfg.msg:
            logger.info("CBC log:\n%s", text)
        if not sol.exists() or sol.stat().st_size == 0:
            if interrupted:
                msg = (
                    f"CBC did not stop at its {limit:g} s time limit and was stopped by the "
                    f"watchdog after {watchdog:g} s without a plan: raise solver.time_limit_s "
                    "or use solver.name: highs"
                )
                raise SolverError(msg)
            if "infeasible" in text.lower():
                return "infeasible", None, None
            msg = "CBC ended without writing a solution (set solver.msg: true to see its log)"
            raise SolverError(msg)
        status_code, values, _, _, _, sol_status = backend.readsol_MPS(
            str(sol), prob, vs, var_names, con_names
        )
    prob.assignVarsVals(values)
    prob.assignStatus(status_code, sol_status)
    return _cbc_result(prob, text, status_code, sol_status, interrupted=interrupted)


def _cbc_result(
    prob: pulp.LpProblem, text: str, status_code: int, sol_status: int, *, interrupted: bool
) -> tuple[str, float | None, float | None]:
    """Status, objective and bound of a CBC run, from PuLP's reading of it and CBC's log."""
    if status_code == pulp.LpStatusInfeasible or "Result - Problem proven infeasible" in text:
        return "infeasible", None, None
    stopped = interrupted or "Stopped on time" in text or "Result - Stopped" in text
    if "Stopped on node" in text or "Result - Stopped on iterations" in text:
        status = "node_limit"
    elif stopped:
        status = "time_limit"
    elif status_code == pulp.LpStatusOptimal:
        status = "optimal"
    else:
        status = pulp.LpStatus[status_code].lower()
    has_solution = sol_status in (pulp.LpSolutionOptimal, pulp.LpSolutionIntegerFeasible)
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


def _run_watched(args: list[str], log: Path, watchdog_s: float, *, echo: bool) -> bool:
    """Run a solver process; interrupt it at ``watchdog_s``, kill it a grace later.

    The planner ends the process (and its group) on any exception, e.g. a signal's
    :class:`~planner.errors.Interrupted`: nothing keeps running after the planner (see
    :func:`_child_options` for a planner killed outright).

    Returns True when the watchdog had to step in.
    """
    with log.open("w") as out:
        proc = subprocess.Popen(
            args,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            **_child_options(),
        )
        logger.debug("CBC started, pid %d", proc.pid)
        try:
            code = _wait(proc, watchdog_s)
            watched = code is None
            if watched:
                code = _interrupt(proc, watchdog_s)
        except BaseException:
            _end(proc)
            raise
    if watched:
        return True
    if code != 0:
        msg = f"CBC failed with exit code {code} (set solver.msg: true to see its log)"
        if echo:
            logger.error(log.read_text(errors="replace"))
        raise SolverError(msg)
    return False


class _ChildOptions(TypedDict, total=False):
    """The options of :func:`_child_options`, typed for ``subprocess.Popen``."""

    process_group: int
    preexec_fn: Callable[[], None]


def _child_options() -> _ChildOptions:
    """Popen options that tie the solver's process to the planner's.

    On POSIX the process gets its own process group, so a Ctrl-C in the terminal reaches
    only the planner, which then ends it. On Linux it also gets SIGKILL when the planner
    thread that started it ends, however it ends (even by SIGKILL, which runs no cleanup).
    """
    if os.name != "posix":
        return {}
    options: _ChildOptions = {"process_group": 0}
    if sys.platform.startswith("linux"):
        options["preexec_fn"] = _die_with(os.getpid())
    return options


#: ``prctl`` option: the signal a process gets when its parent thread ends (Linux).
_PR_SET_PDEATHSIG = 1


def _die_with(parent: int) -> Callable[[], None]:
    """What the child runs before ``exec``: SIGKILL when the planner ends (Linux)."""
    prctl = _libc().prctl

    def in_child() -> None:
        prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL))
        if os.getppid() != parent:  # the planner ended before the call
            os._exit(1)

    return in_child


@functools.cache
def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def _interrupt(proc: subprocess.Popen[bytes], watchdog_s: float) -> int:
    """The watchdog: interrupt CBC (it then writes its best plan), kill it a grace later."""
    logger.warning(
        "CBC is still running %.1f s after its start, past its time limit: interrupting it",
        watchdog_s,
    )
    if os.name == "posix":
        proc.send_signal(signal.SIGINT)
    else:
        proc.terminate()
    code = _wait(proc, _grace(watchdog_s))
    if code is None:
        logger.warning("CBC ignored the interrupt: killing it")
        proc.kill()
        code = proc.wait()
    return code


def _wait(proc: subprocess.Popen[bytes], timeout_s: float) -> int | None:
    """``proc``'s exit code, or None after ``timeout_s``; looks at the stop flag meanwhile.

    Raises
    ------
    Interrupted
        When a stop was requested.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        check_stop()
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        try:
            return proc.wait(timeout=min(_POLL_S, left))
        except subprocess.TimeoutExpired:
            pass


def _end(proc: subprocess.Popen[bytes]) -> None:
    """Terminate ``proc`` and its process group, kill them if they linger, reap ``proc``."""
    if proc.poll() is not None:
        return
    _signal_group(proc, signal.SIGTERM)
    try:
        proc.wait(timeout=_STOP_WAIT_S)
    except subprocess.TimeoutExpired:
        _signal_group(proc, signal.SIGKILL if os.name == "posix" else signal.SIGTERM)
        proc.wait()


def _signal_group(proc: subprocess.Popen[bytes], sig: int) -> None:
    """Send ``sig`` to ``proc``'s process group (POSIX; the process alone elsewhere)."""
    try:
        if os.name == "posix":
            os.killpg(proc.pid, sig)
        else:
            proc.send_signal(sig)
    except ProcessLookupError:
        pass
