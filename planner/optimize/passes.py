"""Lexicographic plans: most coverage, then least capex at it, then least drive time.

A covering model has many optimal plans: the coverage objective is indifferent to cost, and
two plans of the same coverage and capex can send drivers very different distances. A plan
a county signs must not be an arbitrary one of them, so it is solved in passes, each with
the optimum of the earlier ones held as a constraint:

1. ``coverage``: maximise the sessions covered within the cutoff (``W*``);
2. ``capex``: minimise capex subject to covering ``W*``; it starts from the coverage
   plan's sites with their chargers and repair points re-chosen at least capex, then the
   model is solved on a kernel of sites (those its linear relaxation uses, and that plan's;
   :mod:`~planner.optimize.kernel`) and the full model starts from the kernel's plan; above
   ``solver.capex_max_pairs`` demand-site pairs the first plan stands, with its gap to the
   linear relaxation over all sites (:mod:`~planner.optimize.plan`);
3. ``drive_time``: minimise the session-weighted drive time subject to covering ``W*`` at
   no more than the capex of pass 2, with the sites of pass 2 (stations and repair points)
   held: their chargers and who charges where are re-chosen (:func:`held_sites`).

With ``stations.objective: cost`` the first two swap: the least capex that covers the
target, then the most coverage that capex buys, then the drive time. Every pass stops on
the configured MIP gap (or a deterministic node limit); the time limit is a safety net only,
and a pass that hit it is reported as such. Each pass starts from the plan of the one before.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Generic, TypeVar

import numpy as np

from planner.config import SolverSection
from planner.datatypes import SolveInfo
from planner.errors import InfeasibleError, SolverError
from planner.progress import solver_label

logger = logging.getLogger(__name__)

R = TypeVar("R")

#: The model objective behind each pass.
OBJECTIVES = {"coverage": "coverage", "capex": "cost", "drive_time": "time"}

#: Slack on the optimum carried into the next pass: relative and absolute (sessions/day
#: for coverage; CNY for capex, whose figures are whole yuan).
_REL_TOL = 1e-7
_COVER_ABS = 1e-6
_CAPEX_ABS = 0.5


def held_sites(is_open: np.ndarray, existing: np.ndarray | None) -> dict[str, np.ndarray]:
    """``required`` and ``excluded`` that hold a plan's sites for the drive-time pass.

    Re-choosing the sites too was measured on the demo county: the same optimum, found in
    20-60 s instead of 1 s, and not proven to 0.5% within 40 s. Among the plans of least
    capex, the sites are the solver's deterministic choice; their sizes are re-chosen.
    """
    new = np.asarray(is_open, dtype=bool).copy()
    if existing is not None:
        new[np.asarray(existing, dtype=np.int64)] = False
    return {"required": np.flatnonzero(new), "excluded": np.flatnonzero(~np.asarray(is_open))}


def pass_stall_nodes(solver: SolverSection, objective: str, *, first: str) -> int | None:
    """The stall limit of one pass: ``solver.stall_nodes`` after the first pass,
    ``solver.first_stall_nodes`` in it.

    A later pass starts from the plan of the one before and only refines it, so it stops
    after ``solver.stall_nodes`` nodes without a better plan (a deterministic limit; on the
    demo at ``--scale 5`` the capex pass otherwise ran into the time limit). The first pass
    sets the figure the later ones hold, so its limit is far larger (at ``--scale 2`` a
    limit of 300 cut its coverage by 0.19%); without one, a first pass whose bound closes
    slowly ran until the time limit, which then decided the plan.

    Parameters
    ----------
    solver
        The configured solver.
    objective
        The pass's model objective (see :data:`OBJECTIVES`).
    first
        The station objective (``coverage`` or ``cost``): its pass comes first.
    """
    if OBJECTIVES[pass_order(first)[0]] == objective:
        return solver.first_stall_nodes
    return solver.stall_nodes


def pass_order(objective: str, *, drive_time: bool = True) -> tuple[str, ...]:
    """The passes for a station objective (``coverage`` or ``cost``)."""
    first = ("coverage", "capex") if objective == "coverage" else ("capex", "coverage")
    return (*first, "drive_time") if drive_time else first


@dataclass
class Lexicographic(Generic[R]):
    """The plan of the last pass that found one, and the report of every pass."""

    result: R
    passes: list[SolveInfo]


def solve_lexicographic(
    solve_pass: Callable[..., R],
    info_of: Callable[[R], SolveInfo],
    order: tuple[str, ...],
    *,
    min_cover: float | None,
    budget: float | None,
    start: R | None = None,
) -> Lexicographic[R]:
    """Run the passes in ``order``, each holding the earlier optima.

    Parameters
    ----------
    solve_pass
        Solves the model once: called with keywords ``objective`` (a model objective),
        ``min_cover``, ``budget`` and ``start``; returns the model's result.
    info_of
        The solver report of a result.
    order
        Pass names (see :func:`pass_order`).
    min_cover, budget
        The configured coverage floor and budget (None: none).
    start
        A plan to start the first pass from.

    Returns
    -------
    Lexicographic
        The final plan and one report per pass. A later pass that fails (the solver finds
        no plan within its limits, or round-off makes the held optimum infeasible) keeps
        the plan before it, and its report says so.
    """
    passes: list[SolveInfo] = []
    result = start
    for k, stage in enumerate(order):
        try:
            with solver_label(f"pass {k + 1}/{len(order)} {stage}"):
                res = solve_pass(
                    objective=OBJECTIVES[stage], min_cover=min_cover, budget=budget, start=result
                )
        except (SolverError, InfeasibleError) as err:
            if k == 0:
                raise
            logger.warning(
                "%s pass found no plan, the %s plan stands: %s", stage, order[k - 1], err
            )
            passes.append(_failed(passes[-1], stage, err))
            break
        info = replace(info_of(res), stage=stage)
        passes.append(info)
        result = res
        value = float(info.objective or 0.0)
        if stage == "coverage":
            floor = value - max(_COVER_ABS, _REL_TOL * abs(value))
            min_cover = floor if min_cover is None else max(min_cover, floor)
        elif stage == "capex":
            cap = value + max(_CAPEX_ABS, _REL_TOL * abs(value))
            budget = cap if budget is None else min(budget, cap)
    assert result is not None
    return Lexicographic(result, passes)


def _failed(before: SolveInfo, stage: str, err: Exception) -> SolveInfo:
    status = "infeasible" if isinstance(err, InfeasibleError) else "no_plan"
    return replace(
        before,
        model=f"{before.model}:{stage}",
        stage=stage,
        status=status,
        objective=None,
        bound=None,
        gap=None,
        seconds=0.0,
        build_seconds=0.0,
    )
