"""From demand, candidates and travel times to a :class:`~planner.datatypes.Plan`.

Stage (a) sites charging stations with :func:`~planner.optimize.mclp.mclp` (sized by
chargers); stage (b) covers every village and every chosen station with the fewest
repair points (:func:`~planner.optimize.lscp.lscp`); with ``repair.mode: joint`` both come
from :func:`~planner.optimize.two_tier.two_tier`. The model is solved in lexicographic
passes (:mod:`~planner.optimize.passes`). Infeasible set-ups are diagnosed before solving
(:mod:`~planner.optimize.diagnose`) and raise :class:`~planner.errors.InfeasibleError`
listing their causes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import geopandas as gpd
import numpy as np

from planner import columns as C
from planner.config import Config
from planner.datatypes import Plan, SolveInfo, SparseTimes, TravelTimes
from planner.errors import InfeasibleError
from planner.optimize.assign import reassign
from planner.optimize.curve import coverage_curve, curve_budgets
from planner.optimize.diagnose import station_problems
from planner.optimize.highs import stall_limit
from planner.optimize.inputs import (
    existing_sites,
    headroom_limits,
    site_cover,
    site_indices,
    station_rules,
    village_cover,
)
from planner.optimize.lscp import lscp
from planner.optimize.mclp import mclp
from planner.optimize.passes import (
    Lexicographic,
    held_sites,
    pass_order,
    pass_stall_nodes,
    solve_lexicographic,
)
from planner.optimize.rules import CoverageResult, StationRules
from planner.optimize.tables import (
    assignments_table,
    no_repair_table,
    repair_table,
    service_table,
    stations_table,
)
from planner.optimize.two_tier import two_tier
from planner.optimize.two_tier_repair import TwoTierResult
from planner.progress import solver_label

logger = logging.getLogger(__name__)

# moved to their own modules; importable from here as before
__all__ = [
    "coverage_curve",
    "curve_budgets",
    "headroom_limits",
    "plan_sites",
    "site_cover",
    "site_indices",
    "station_problems",
    "station_rules",
    "village_cover",
]


def plan_sites(
    demand: gpd.GeoDataFrame,
    sites: gpd.GeoDataFrame,
    townships: gpd.GeoDataFrame,
    times: TravelTimes,
    config: Config,
    *,
    start: Plan | None = None,
) -> Plan:
    """Site and size stations, and place repair points for villages and stations.

    With ``repair.mode: joint`` (the default) stations and repair points come from one
    model (:func:`~planner.optimize.two_tier.two_tier`); with ``after`` the stations are
    chosen first (:func:`~planner.optimize.mclp.mclp`), then the cheapest repair points
    that reach every village and station (:func:`~planner.optimize.lscp.lscp`). The
    model is solved in lexicographic passes (coverage, capex, drive time; see
    :mod:`planner.optimize.passes`), and the demand is then assigned to the chosen
    stations by drive time under their capacity
    (:func:`~planner.optimize.assign.assign_demand`): the assignments, sessions served and
    drive times of the plan come from that assignment.

    Parameters
    ----------
    demand
        Demand points with ``sessions_day`` and ``township_id``.
    sites
        Candidate sites, followed by the existing chargers' sites when they are used
        (``existing_chargers`` > 0; see :func:`~planner.candidates.with_existing`).
    townships
        Township polygons.
    times
        Travel-time matrices over ``sites``.
    config
        The run config.
    start
        A previous plan of the same model on the same inputs (e.g. a smaller budget),
        handed to the solver as a start.

    Returns
    -------
    Plan
        Stations, assignments, repair points and the solver reports.
    """
    causes = station_problems(sites, townships, config, demand=demand, times=times)
    if causes:
        raise InfeasibleError("station model infeasible: " + "; ".join(causes))
    sessions = demand[C.SESSIONS_DAY].to_numpy(dtype=float)
    reach = times.demand_to_candidate
    rules = station_rules(demand, sites, townships, config)
    lex, unreached = _solve(reach, sessions, times, config, rules, start=start)
    joint = isinstance(lex.result, TwoTierResult)
    res = lex.result.stations if joint else lex.result
    res = reassign(res, reach, rules.sizing)
    is_existing = existing_sites(sites)
    if joint:
        repair_open = lex.result.repair_open
        repair_points = repair_table(sites, times, res.open, repair_open, config)
        repair_info = None
    else:
        repair_points, repair_info, unreached = _repair(sites, times, res.open, config)
    return Plan(
        stations=stations_table(sites, res, sessions, config, keep=res.open & ~is_existing),
        assignments=assignments_table(demand, sites, res),
        service=service_table(demand, sites, reach, res),
        repair_points=repair_points,
        station_solve=lex.passes[0],
        repair_solve=repair_info,
        villages_unreached=unreached,
        existing_sites=stations_table(sites, res, sessions, config, keep=res.open & is_existing),
        model_result=lex.result,
        extra_solves=lex.passes[1:],
    )


def _solve(
    reach: SparseTimes,
    sessions: np.ndarray,
    times: TravelTimes,
    config: Config,
    rules: StationRules,
    *,
    start: Plan | None,
) -> tuple[Lexicographic[Any], list[str]]:
    """The passes of the configured model, and the villages no repair point can reach."""
    unreached: list[str] = []
    pairs = len(reach.rows)
    run: Callable[..., TwoTierResult | CoverageResult]
    try:
        if config.repair.enabled and config.repair.mode == "joint":
            v_cover, unreached = village_cover(times, config)
            run = _joint_pass(reach, sessions, v_cover, site_cover(times), config, rules)
            lex = _passes(run, config, rules, start=_start(start, TwoTierResult), pairs=pairs)
        else:
            run = _station_pass(reach, sessions, config, rules)
            lex = _passes(run, config, rules, start=_start(start, CoverageResult), pairs=pairs)
    except InfeasibleError as err:
        msg = f"{err}; no single cause was found: check budget, max_stations and township_min"
        raise InfeasibleError(msg) from None
    return lex, unreached


def _passes(
    run: Callable[..., Any],
    config: Config,
    rules: StationRules,
    *,
    start: Any,
    pairs: int,
) -> Lexicographic[Any]:
    """The lexicographic passes of the configured objective (see :mod:`.passes`)."""
    limit = config.solver.drive_time_max_pairs
    drive_time = limit is None or pairs <= limit
    if not drive_time:
        logger.warning(
            "drive-time pass skipped: %d demand-site pairs, above solver.drive_time_max_pairs="
            "%d; the chargers of the capex pass stay (demand is still routed by drive time)",
            pairs,
            limit,
        )
    return solve_lexicographic(
        run,
        lambda r: r.info,
        pass_order(config.stations.objective, drive_time=drive_time),
        min_cover=rules.min_cover,
        budget=rules.budget,
        start=start,
    )


def _station_pass(
    reach: SparseTimes, sessions: np.ndarray, config: Config, rules: StationRules
) -> Callable[..., CoverageResult]:
    """One pass of :func:`mclp`; the drive-time pass holds the sites of its start."""

    def run(
        *, objective: str, min_cover: float | None, budget: float | None, start: Any
    ) -> CoverageResult:
        held: dict[str, Any] = {}
        if objective == "time":
            held = held_sites(start.open, rules.existing)
            # start from the start's own sites with their demand routed by drive time
            start = reassign(start, reach, rules.sizing)

        def once(start: Any, **extra: Any) -> CoverageResult:
            return mclp(
                reach,
                sessions,
                rules,
                objective=objective,
                min_cover=min_cover,
                budget=budget,
                start=start,
                solver=config.solver,
                **extra,
            )

        relax_only, capex = False, _after_coverage(objective, start, config)
        first = config.stations.objective
        with stall_limit(pass_stall_nodes(config.solver, objective, first=first)):
            if capex:
                start, relax_only = _capex_start(once, start, start.open, reach, config, rules)
            return once(start, relax_only=relax_only, kernel_first=capex, **held)

    return run


def _joint_pass(
    reach: SparseTimes,
    sessions: np.ndarray,
    v_cover: list[np.ndarray],
    s_cover: list[np.ndarray],
    config: Config,
    rules: StationRules,
) -> Callable[..., TwoTierResult]:
    """One pass of :func:`two_tier`; the drive-time pass holds the sites of its start."""

    def run(
        *, objective: str, min_cover: float | None, budget: float | None, start: Any
    ) -> TwoTierResult:
        held: dict[str, Any] = {}
        fixed_repair = None
        if objective == "time":
            held = held_sites(start.stations.open, rules.existing)
            fixed_repair = start.repair_open
            start = replace(start, stations=reassign(start.stations, reach, rules.sizing))

        def once(start: Any, **extra: Any) -> TwoTierResult:
            return two_tier(
                reach,
                sessions,
                v_cover,
                s_cover,
                rules,
                objective=objective,
                min_cover=min_cover,
                budget=budget,
                start=start,
                repair_cost=config.costs.repair_point_capex,
                repair_cost_at_station=config.costs.repair_at_station_capex,
                polish=False,
                solver=config.solver,
                **extra,
            )

        relax_only, capex = False, _after_coverage(objective, start, config)
        first = config.stations.objective
        with stall_limit(pass_stall_nodes(config.solver, objective, first=first)):
            if capex:
                open_sites = start.stations.open
                start, relax_only = _capex_start(once, start, open_sites, reach, config, rules)
            return once(
                start,
                fixed_repair=fixed_repair,
                relax_only=relax_only,
                kernel_first=capex,
                **held,
            )

    return run


def _after_coverage(objective: str, start: Any, config: Config) -> bool:
    """The capex pass of a plan whose first pass maximised coverage (its start holds it)."""
    return objective == "cost" and start is not None and config.stations.objective == "coverage"


def _capex_start(
    once: Callable[..., Any],
    start: Any,
    open_sites: np.ndarray,
    reach: SparseTimes,
    config: Config,
    rules: StationRules,
) -> tuple[Any, bool]:
    """The capex pass's start, and whether it stands (see :func:`_relax_only`).

    The start is the coverage plan with its sites held and their chargers, flows and repair
    points re-chosen at least capex, at the configured gap (asking it for 0.1% took 15 CPU
    s on one plan at ``--scale 50`` and more than 5 CPU min on one that covered 0.2% more).
    """
    with solver_label("capex on the coverage sites"):
        start = once(start, **held_sites(open_sites, rules.existing))
    return start, _relax_only(reach, config)


def _relax_only(reach: SparseTimes, config: Config) -> bool:
    """Above ``solver.capex_max_pairs`` the capex pass does not re-choose the sites."""
    limit = config.solver.capex_max_pairs
    pairs = len(reach.rows)
    if limit is None or pairs <= limit:
        return False
    logger.warning(
        "capex pass: %d demand-site pairs, above solver.capex_max_pairs=%d: the coverage "
        "plan's sites stay (their chargers and repair points re-chosen at least capex), "
        "and the pass reports its gap to the relaxation over all sites",
        pairs,
        limit,
    )
    return True


def _start(plan: Plan | None, kind: type) -> Any:
    """The previous plan's model result when it is of the model's kind."""
    result = plan.model_result if plan is not None else None
    return result if isinstance(result, kind) else None


def _repair(
    sites: gpd.GeoDataFrame, times: TravelTimes, stations_open: np.ndarray, config: Config
) -> tuple[gpd.GeoDataFrame, SolveInfo | None, list[str]]:
    """Stage (b) of ``repair.mode: after``: the cheapest repair points for the stations."""
    if not config.repair.enabled:
        return no_repair_table(sites), None, []
    v_cover, names = village_cover(times, config)
    s_cover = site_cover(times)
    cover_sets = v_cover + [s_cover[j] for j in np.flatnonzero(stations_open)]
    costs = config.costs
    with solver_label("repair points"):
        res = lscp(
            cover_sets,
            len(sites),
            site_cost=np.where(
                stations_open, costs.repair_at_station_capex, costs.repair_point_capex
            ),
            solver=config.solver,
            model="repair_lscp",
        )
    return repair_table(sites, times, stations_open, res.open, config), res.info, names
