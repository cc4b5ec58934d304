r"""Linking rows ``y_gj <= x_j`` added where the linear relaxation needs them.

In the sized station models (:mod:`~planner.optimize.station`) the row ``y_gj <= x_j`` of
demand with sessions is implied by the capacity row ``sum_g s_g y_gj <= q n_j`` with
``n_j <= n_max x_j``: a closed site has no chargers. It is a cut: it keeps the relaxation
from opening a site by the fraction of its load, and the least-capex and drive-time
passes need it (on the demo county the capex pass proves its gap in 0.4 s with the rows,
7 s without). But there is one row per demand-site pair: at ``--scale 50`` (140,000 pairs)
the capex model has 184,000 rows and its first relaxation alone took 56 s.

:func:`separate_links` adds the rows lazily. It solves the relaxation without them, adds
the rows its solution violates, and solves again from the previous basis (dual simplex),
until no row is violated. The relaxation then has the optimum it has with every row (its
solution satisfies them all and it is a relaxation of the full one), so the root bound is
the same; the MIP is exact with any subset of the rows, since they are implied. The loop
has no clock in it: the same model gives the same rows.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import highspy
import numpy as np
import pulp

from planner.datatypes import SolveInfo
from planner.optimize.highs import pulp_model
from planner.optimize.station import StationBlock

logger = logging.getLogger(__name__)

#: A row is violated when ``y_gj - x_j`` exceeds this.
VIOLATION = 1e-6

#: Rounds of separation at most; a relaxation still violating rows after them keeps the
#: rows found so far (the model stays exact, only its bound is weaker).
MAX_ROUNDS = 50

#: Tolerance of the start's feasibility check (rows and bounds).
_FEASIBLE = 1e-6


@dataclass(frozen=True)
class LinkReport:
    """What :func:`separate_links` did.

    Attributes
    ----------
    rounds
        Relaxations solved.
    added
        Rows added to the model.
    candidates
        Pairs that could have had a row (new sites, demand with sessions).
    bound
        The last relaxation's objective, in the model's sense (None if it failed).
    converged
        True when the last relaxation violated no row.
    first_sites
        The sites' ``x_j`` in the first relaxation, before any row was added (None if it
        failed): the capex pass's kernel is taken from it (:mod:`~planner.optimize.kernel`).
    """

    rounds: int
    added: int
    candidates: int
    bound: float | None
    converged: bool
    first_sites: np.ndarray | None = None


def separate_links(
    prob: pulp.LpProblem, block: StationBlock, *, threads: int | None = 1
) -> LinkReport:
    """Add to ``prob`` the linking rows its linear relaxation violates, until it violates none.

    Parameters
    ----------
    prob
        The sized station model (any objective), complete but not solved.
    block
        Its station block; its ``linked`` pairs already have their rows.
    threads
        Solver threads.

    Returns
    -------
    LinkReport
        Rounds, rows added and whether the loop converged.
    """
    candidates = int((block.linkable & ~block.linked).sum())
    h = relaxation_model(prob, threads=threads)
    # a variable in no row and without cost (a flow of no sessions and no weight) is not
    # in the solver's model: it has no index, and reads as 0 (the last column below)
    y_col = np.array([getattr(v, "index", -1) for v in block.y], dtype=np.int64)
    site_col = np.array([getattr(v, "index", -1) for v in block.x], dtype=np.int64)
    x_col = site_col[block.g_cols]
    added, rounds, bound, converged = 0, 0, None, False
    first: np.ndarray | None = None
    # the first relaxation from scratch by interior point (at --scale 50: 47 CPU s for the
    # whole separation instead of 63 s by dual simplex); later rounds from its basis
    h.setOptionValue("solver", "ipm")
    while rounds < MAX_ROUNDS:
        rounds += 1
        h.run()
        h.setOptionValue("solver", "simplex")
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            logger.info("link separation: relaxation ended %s", h.getModelStatus())
            bound = None
            break
        bound = float(h.getInfo().objective_function_value)
        value = np.append(np.asarray(h.getSolution().col_value), 0.0)
        if first is None:
            first = value[site_col]
        over = (value[y_col] - value[x_col] > VIOLATION) & block.linkable & ~block.linked
        pairs = np.flatnonzero(over)
        logger.debug(
            "link separation round %d: bound %.10g, %d iterations, %d rows violated",
            rounds,
            bound,
            h.getInfo().simplex_iteration_count,
            len(pairs),
        )
        if len(pairs) == 0:
            converged = True
            break
        n = len(pairs)
        starts = np.arange(0, 2 * n, 2, dtype=np.int32)
        index = np.column_stack([y_col[pairs], x_col[pairs]]).ravel().astype(np.int32)
        coef = np.tile([1.0, -1.0], n)
        h.addRows(n, np.full(n, -highspy.kHighsInf), np.zeros(n), 2 * n, starts, index, coef)
        added += block.add_links(prob, pairs)
    prob.solverModel = None
    logger.info(
        "link separation: %d of %d rows in %d rounds%s",
        added,
        candidates,
        rounds,
        "" if converged else " (not converged)",
    )
    return LinkReport(rounds, added, candidates, bound, converged, first)


def relaxation_model(prob: pulp.LpProblem, *, threads: int | None = 1) -> highspy.Highs:
    """``prob``'s linear relaxation in HiGHS, silent, not solved yet (the variables get
    their column ``index``; ``prob.solverModel`` holds it until the caller resets it)."""
    if threads:  # HiGHS keeps one thread pool per process (see arrays.new_highs)
        highspy.Highs.resetGlobalScheduler(True)
    lp = pulp.HiGHS(mip=False, msg=False, threads=threads)
    lp.createAndConfigureSolver(prob)
    h: highspy.Highs = prob.solverModel
    pulp_model(prob, h, mip=False)
    return h


def settle_on_relaxation(
    prob: pulp.LpProblem,
    report: LinkReport,
    *,
    model: str,
    gap: float,
    relax_only: bool,
    build_seconds: float,
) -> SolveInfo | None:
    """The verdict on the start the model's variables hold, from the relaxation's bound.

    Called after :func:`separate_links` with a start set (``setInitialValue``). When the
    start is feasible and within ``gap`` of the relaxation's optimum, it is proven and no
    branch and bound is needed (``optimal``); with ``relax_only`` it stands either way,
    reported as stopped by the work limit (``node_limit``) with its gap to that bound.
    Otherwise returns None: the MIP is to be solved.

    Parameters
    ----------
    prob
        The model, its variables holding the start.
    report
        The separation's report (its ``bound`` in the model's sense).
    model
        Model name for the report.
    gap
        The relative gap to prove.
    relax_only
        Do not branch: the start stands, with its gap.
    build_seconds
        Time spent building the model and separating.

    Returns
    -------
    SolveInfo or None
        The report of the settled start, or None.
    """
    objective = feasible_value(prob)
    if report.bound is None or not report.converged or objective is None:
        return None
    sense = -1.0 if prob.sense == pulp.LpMaximize else 1.0
    bound = report.bound * sense + float(prob.objective.constant or 0.0)
    slack = max(0.0, sense * (objective - bound))
    rel = slack / max(abs(objective), 1e-9)
    if rel > gap and not relax_only:
        return None
    status = "optimal" if rel <= gap else "node_limit"
    logger.info("%s: the start is %s, %.4g%% from the relaxation", model, status, 100 * rel)
    return SolveInfo(
        model=model,
        solver="highs",
        status=status,
        objective=objective,
        bound=bound,
        gap=rel,
        seconds=0.0,
        build_seconds=build_seconds,
        n_variables=len(prob.variables()),
        n_constraints=prob.numConstraints(),
    )


def feasible_value(prob: pulp.LpProblem) -> float | None:
    """The objective at the values the variables hold, when they are a feasible plan."""
    if not prob.valid(_FEASIBLE):
        return None
    return float(pulp.value(prob.objective))
