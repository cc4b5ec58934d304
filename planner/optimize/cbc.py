"""CBC, PuLP's bundled binary: the model as MPS, the run under a watchdog, its log read."""

from __future__ import annotations

import logging
import re
import tempfile
import warnings
from pathlib import Path

import pulp

from planner.config import SolverSection
from planner.errors import SolverError
from planner.optimize.watchdog import grace, run_watched
from planner.progress import SolverWatch
from planner.signals import CBC_TMP_PREFIX

logger = logging.getLogger(__name__)

_CBC_BOUND = re.compile(r"^Lower bound:\s+(\S+)", re.MULTILINE)
#: CBC's progress lines: nodes, incumbent and bound; a new incumbent.
_CBC_NODES = re.compile(
    r"^Cbc0010I After (\d+) nodes, \d+ on tree, (\S+) best solution, best possible (\S+)",
    re.MULTILINE,
)
_CBC_FOUND = re.compile(r"^Cbc0012I Integer solution of (\S+)", re.MULTILINE)


def solve_cbc(
    prob: pulp.LpProblem,
    cfg: SolverSection,
    *,
    warm_start: bool = False,
    watchdog_s: float | None = None,
    watch: SolverWatch | None = None,
) -> tuple[str, float | None, float | None]:
    """Run PuLP's CBC binary on the model as MPS, under a watchdog.

    CBC can overrun its ``-sec`` limit on large models (it checks the clock between
    phases, not inside its root LP). The watchdog interrupts it (SIGINT: CBC then stops
    and writes its best plan) ``watchdog_s`` seconds after the start (default: the time
    limit plus a grace of 10 s or 10%), and kills it if it still runs after another grace.

    Parameters
    ----------
    prob
        The model, written to CBC as MPS; its variables get CBC's solution back.
    cfg
        CBC's ``-sec``, ``-ratio``, ``-threads`` and ``-maxNodes``; ``msg`` logs CBC's log.
    warm_start
        Hand CBC the variables' values as its first incumbent (``-mips``).
    watchdog_s
        Seconds after which the watchdog interrupts CBC.
    watch
        Where the solve's progress goes (None: nowhere): CBC's log is read as it
        grows (CBC writes it in blocks of a few kB, so its figures come in steps).

    Returns
    -------
    tuple
        ``(status, objective, bound)``; objective and bound None without a plan.
    """
    with warnings.catch_warnings():
        # PuLP 3.x warns that its bundled CBC goes in 4.0; the project pins pulp<4
        warnings.simplefilter("ignore", DeprecationWarning)
        backend = pulp.PULP_CBC_CMD(msg=False)
    if not backend.available():
        msg = "CBC is not available in this PuLP installation"
        raise SolverError(msg)
    limit = float(cfg.time_limit_s)
    watchdog = limit + grace(limit) if watchdog_s is None else watchdog_s
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
        args += _cbc_options(cfg, limit, sol)
        on_poll = None if watch is None else _LogReader(log, watch)
        interrupted = run_watched(args, log, watchdog, echo=cfg.msg, on_poll=on_poll)
        text = log.read_text(errors="replace") if log.exists() else ""
        if cfg.msg:
            logger.info("CBC log:\n%s", text)
        if not sol.exists() or sol.stat().st_size == 0:
            _no_solution(text, limit, watchdog, interrupted=interrupted)
            return "infeasible", None, None
        status_code, values, _, _, _, sol_status = backend.readsol_MPS(
            str(sol), prob, vs, var_names, con_names
        )
    prob.assignVarsVals(values)
    prob.assignStatus(status_code, sol_status)
    return _cbc_result(prob, text, status_code, sol_status, interrupted=interrupted)


def _cbc_options(cfg: SolverSection, limit: float, sol: Path) -> list[str]:
    """CBC's command-line options: limits, gap, threads, then solve and write ``sol``."""
    args = ["-sec", f"{limit:g}", "-timeMode", "elapsed", "-ratio", f"{cfg.mip_gap:g}"]
    if cfg.threads:
        args += ["-threads", str(cfg.threads)]
    if cfg.node_limit is not None:
        args += ["-maxNodes", str(cfg.node_limit)]
    return [*args, "-solve", "-printingOptions", "all", "-solution", str(sol)]


def _no_solution(text: str, limit: float, watchdog: float, *, interrupted: bool) -> None:
    """CBC wrote no solution: return when its log says infeasible, raise otherwise.

    Raises
    ------
    SolverError
        When the watchdog stopped CBC, or CBC ended without a plan for another reason.
    """
    if interrupted:
        msg = (
            f"CBC did not stop at its {limit:g} s time limit and was stopped by the "
            f"watchdog after {watchdog:g} s without a plan: raise solver.time_limit_s "
            "or use solver.name: highs"
        )
        raise SolverError(msg)
    if "infeasible" not in text.lower():
        msg = "CBC ended without writing a solution (set solver.msg: true to see its log)"
        raise SolverError(msg)


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


class _LogReader:
    """Reads what CBC added to its log and hands its figures to a :class:`SolverWatch`.

    CBC's figures are in the minimisation it solves (``-max`` negates them), as HiGHS'.
    """

    def __init__(self, log: Path, watch: SolverWatch) -> None:
        self.log = log
        self.watch = watch
        self._offset = 0
        self._rest = ""
        self._figures: tuple[float, float, int | None] = (float("inf"), float("-inf"), None)

    def __call__(self) -> None:
        self._read()
        self.watch.poll()

    def _read(self) -> None:
        try:
            with self.log.open("rb") as f:
                f.seek(self._offset)
                chunk = f.read()
        except OSError:
            return
        if not chunk:
            return
        self._offset += len(chunk)
        text = self._rest + chunk.decode(errors="replace")
        complete, _, self._rest = text.rpartition("\n")
        primal, dual, nodes = self._figures
        for m in _CBC_FOUND.finditer(complete):
            primal = min(primal, float(m.group(1)))
        for m in _CBC_NODES.finditer(complete):
            nodes, dual = int(m.group(1)), float(m.group(3))
            primal = min(primal, float(m.group(2)))
        self._figures = (primal, dual, nodes)
        self.watch.seen(primal, dual, nodes)
