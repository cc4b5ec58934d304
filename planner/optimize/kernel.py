"""The sized coverage pass's start, improved on the sites its linear relaxation uses.

The start of :func:`~planner.optimize.mclp.start_plan` (greedy plan, sizing re-solved,
township sites chosen again) can be short of the optimum where the relaxation's bound is
not: with 100 m demand at ``--scale 20`` it covers 18,262 sessions/day against a root bound
of 18,458 after HiGHS's cuts, and HiGHS's own heuristics find 18,396 in a minute, then
search for more than 5 minutes without closing the gap (0.34%). A kernel search's first
step (Angelelli et al. 2010: the model restricted to the variables its relaxation uses)
closes it: the sized model on the sites the relaxation opens and the start's
(:func:`kernel_plan`) is small and solved near exactly at once, and its plan is a start
the full model proves at its root.

Measured there (CPU s): the relaxation by interior point 9.9 s (592 of 2,276 sites used),
the kernel of 639 sites 2.6 s at one node (18,447), then the full model proves 0.1% against
it: 38 s for the whole pass, against 342 s stopped at 0.34% before. On 1 km demand the
full model finds as good a plan itself and the kernel's 10-15 s are lost (``--scale 20``
at 0.1%: 17 -> 31 s; ``--scale 50`` at 1%: 15 -> 30 s), so it runs from
``solver.kernel_min_pairs`` demand-site pairs, or from 100,000 pairs with
``solver.kernel_min_pairs_per_site`` per site (:func:`wants_kernel`): 100 m demand on a
small county (``--scale 2``: 1,560 pairs per site, against about 60 with 1 km demand)
has the same trouble, the coverage pass 0.62% from its bound after 280 s without the
kernel and proven to 0.39% in 17 s with it.

The joint model (:func:`~planner.optimize.two_tier.two_tier`) takes the same step from its
staged start on its own relaxation's station sites. There it helps less: at 100 m the
staged start covers 17,975, the joint kernel (630 sites) stops at its node limit at 18,128
with its own bound 0.44% away, and the full joint model is at 0.33% after 280 s.

The capex pass (least capex at the coverage of the first pass; ``kernel_first`` of the
model functions, :func:`wants_cost_kernel`) takes the same step: the cost model on the
sites its relaxation uses (before its linking rows are separated: a wider kernel; the
narrower one, 103 sites at ``--scale 5``, held no cheaper plan) and those of its start,
the coverage plan's sites with their chargers re-chosen. Branch and bound on the full model
stopped on its stall limit (``solver.stall_nodes``) far from the optimum there; from the
kernel's plan it starts near it. On the demo at ``--scale 2`` (250 sites): a kernel of 78
sites, 26,282,643 CNY in 9 s, against 26,795,111 from the full model alone (3.4% from its
bound; the optimum, proven to 0.5% in 126 CPU s, is about 26,068,583); at ``--scale 5``:
148 of 596 sites, 78,525,078 against 79,444,538.
"""

from __future__ import annotations

import logging
from dataclasses import replace

import numpy as np
import pulp

from planner.config import SolverSection
from planner.datatypes import SparseTimes
from planner.optimize.links import relaxation_model
from planner.optimize.rules import CoverageResult, StationRules, indices
from planner.progress import solver_label

logger = logging.getLogger(__name__)

#: A site of the relaxation above this share is in the kernel.
KERNEL_MIN = 1e-6

#: Nodes of the kernel's solve at most (a deterministic work limit: its plan is a start).
KERNEL_NODES = 50


#: Demand-site pairs from which ``solver.kernel_min_pairs_per_site`` applies.
DENSE_MIN_PAIRS = 100_000


def wants_kernel(reach: SparseTimes, solver: SolverSection) -> bool:
    """Whether the model is large enough for its start to be improved on a kernel:
    ``solver.kernel_min_pairs`` pairs, or from :data:`DENSE_MIN_PAIRS` pairs
    ``solver.kernel_min_pairs_per_site`` per candidate site (fine demand, few sites)."""
    pairs = len(reach.rows)
    least = solver.kernel_min_pairs
    if least is not None and pairs >= least:
        return True
    dense = solver.kernel_min_pairs_per_site
    sites = max(int(reach.shape[1]), 1)
    return dense is not None and pairs >= DENSE_MIN_PAIRS and pairs >= dense * sites


def relaxed_sites(
    prob: pulp.LpProblem, x: list[pulp.LpVariable], *, threads: int | None = 1
) -> np.ndarray | None:
    """The sites' ``x_j`` in the linear relaxation of ``prob`` (None if it failed).

    Solved by interior point with crossover (a vertex: the sites it leaves at 0 are out),
    on a copy of the model in HiGHS; ``prob`` is left as it was.
    """
    import highspy

    h = relaxation_model(prob, threads=threads)
    prob.solverModel = None
    h.setOptionValue("solver", "ipm")
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        logger.info("start kernel: relaxation ended %s", h.getModelStatus())
        return None
    value = np.asarray(h.getSolution().col_value)
    # a site in no row and without cost is not in the solver's model (no index): at 0
    col = np.array([getattr(v, "index", -1) for v in x], dtype=np.int64)
    return np.where(col >= 0, value[col], 0.0)


def kernel_plan(
    reach: SparseTimes,
    weight: np.ndarray,
    rules: StationRules,
    start: CoverageResult,
    sites: np.ndarray | None,
    *,
    solver: SolverSection,
) -> tuple[CoverageResult, bool]:
    """The sized model solved on the sites its relaxation uses and the start's.

    With the coverage objective (the coverage pass's start) or the cost objective (the
    capex pass, :func:`wants_cost_kernel`): the model's objective is ``rules.objective``.

    Parameters
    ----------
    reach, weight, rules
        The model, as for :func:`~planner.optimize.mclp.mclp` (the coverage objective).
    start
        A plan keeping every rule (it is feasible in the kernel, so never lost).
    sites
        ``x_j`` in the model's linear relaxation (:func:`relaxed_sites`; None: no kernel).
    solver
        Settings; the kernel is solved to half their gap, within :data:`KERNEL_NODES`
        nodes.

    Returns
    -------
    plan, fired
        The better of the kernel's plan and ``start``; whether the kernel's solve was
        stopped by the safety-net time limit (the plan then depends on the clock).
    """
    from planner.optimize.mclp import mclp

    keep = kernel_sites(sites, start.open, rules)
    if keep is None:
        return start, False
    with solver_label("start kernel"):
        plan = mclp(
            kernel_reach(reach, keep),
            weight,
            rules,
            excluded=np.flatnonzero(~keep),
            start=start,
            solver=kernel_solver(solver),
        )
    if rules.objective == "cost":
        report_kernel(keep, plan.info.objective, start.info.objective, what="capex")
    else:
        report_kernel(keep, float(weight @ plan.covered), float(weight @ start.covered))
    return plan, plan.info.status == "time_limit"


def kernel_sites(
    sites: np.ndarray | None, start_open: np.ndarray, rules: StationRules
) -> np.ndarray | None:
    """The kernel: the sites above :data:`KERNEL_MIN` in the relaxation or open in the
    start, none excluded by the rules (None: no relaxation, or the kernel is every site
    the model may open)."""
    if sites is None:
        return None
    allowed = np.ones(len(sites), dtype=bool)
    allowed[indices(rules.excluded)] = False
    keep = ((sites > KERNEL_MIN) | start_open) & allowed
    return None if (keep == allowed).all() else keep


def kernel_reach(reach: SparseTimes, keep: np.ndarray) -> SparseTimes:
    """The pairs of the kernel's sites."""
    on = keep[reach.cols]
    return SparseTimes(reach.rows[on], reach.cols[on], reach.minutes[on], reach.shape)


def kernel_solver(solver: SolverSection) -> SolverSection:
    """The kernel's settings: half the gap, within :data:`KERNEL_NODES` nodes."""
    return solver.model_copy(update={"mip_gap": solver.mip_gap / 2, "node_limit": KERNEL_NODES})


def wants_cost_kernel(asked: bool, rules: StationRules, start: object, relax_only: bool) -> bool:
    """Whether a least-capex model is first solved on its kernel (``kernel_first``): asked
    for, with the cost objective, sizing and a start, and not ``relax_only``."""
    cost = rules.objective == "cost" and rules.sizing is not None
    return asked and cost and start is not None and not relax_only


#: Above ``solver.capex_max_pairs`` (``relax_only``: the whole model is not searched) the
#: capex pass's kernel still runs when it has at most this many sites. With 100 m demand
#: at ``--scale 2`` (380,671 pairs) its plan cost 27.38 M CNY against 31.43 M for the
#: coverage plan's sites; at ``--scale 50`` (a kernel of about 1,000 sites) HiGHS was
#: still at its root after 10 minutes.
RELAXED_KERNEL_MAX_SITES = 400


def wants_relaxed_kernel(
    asked: bool, rules: StationRules, sites: np.ndarray | None, start_open: np.ndarray | None
) -> bool:
    """Whether a least-capex model that is only settled on its relaxation (``relax_only``)
    takes its kernel's plan first: asked for, with cost, sizing and a start, and a kernel
    of at most :data:`RELAXED_KERNEL_MAX_SITES` sites."""
    if not asked or start_open is None or rules.objective != "cost" or rules.sizing is None:
        return False
    keep = kernel_sites(sites, start_open, rules)
    return keep is not None and int(keep.sum()) <= RELAXED_KERNEL_MAX_SITES


def report_kernel(
    keep: np.ndarray, value: float | None, before: float | None, *, what: str = "covered"
) -> None:
    """Log what the kernel did (``what``: the figure, covered sessions or capex)."""
    logger.info(
        "start kernel: %d of %d sites, %.6g %s (start %.6g)",
        int(keep.sum()),
        len(keep),
        np.nan if value is None else value,
        what,
        np.nan if before is None else before,
    )


def marked_fired(plan: CoverageResult) -> CoverageResult:
    """``plan`` marked as stopped by the time limit (its start kernel's was)."""
    logger.warning("%s: the start kernel's solve hit the time limit", plan.info.model)
    return replace(plan, info=replace(plan.info, status="time_limit"))
