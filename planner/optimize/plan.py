"""From demand, candidates and travel times to a :class:`~planner.datatypes.Plan`.

Stage (a) sites charging stations with :func:`~planner.optimize.models.mclp` (sized by
chargers); stage (b) covers every village and every chosen station with the fewest
repair points (:func:`~planner.optimize.models.lscp`). Infeasible set-ups are
diagnosed before solving and raise :class:`~planner.errors.InfeasibleError` listing
their causes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from planner import columns as C
from planner.config import Config
from planner.datatypes import Plan, SolveInfo, SparseTimes, TravelTimes
from planner.errors import ConfigError, InfeasibleError
from planner.optimize.assign import reassign
from planner.optimize.models import (
    CoverageResult,
    Sizing,
    TwoTierResult,
    lscp,
    mclp,
    two_tier,
)
from planner.optimize.passes import (
    Lexicographic,
    held_sites,
    pass_order,
    solve_lexicographic,
)

logger = logging.getLogger(__name__)

_LIST_MAX = 5


def _names(items: list[str]) -> str:
    shown = ", ".join(items[:_LIST_MAX])
    more = len(items) - _LIST_MAX
    return shown + (f" and {more} more" if more > 0 else "")


def station_problems(
    candidates: gpd.GeoDataFrame,
    townships: gpd.GeoDataFrame,
    config: Config,
    *,
    demand: gpd.GeoDataFrame | None = None,
    times: TravelTimes | None = None,
) -> list[str]:
    """Reasons the station model cannot be feasible, found before solving.

    Parameters
    ----------
    candidates
        With ``township_id`` and ``station_capex``.
    townships
        With ``township_id`` and ``township_name``.
    config
        Station limits and costs.
    demand, times
        When given, a coverage target above the demand in reach of any site is found.

    Returns
    -------
    list of str
        Empty when nothing is wrong.
    """
    st = config.stations
    min_station = candidates[C.STATION_CAPEX] + st.min_chargers * config.costs.charger_capex
    causes = []
    required, excluded = (
        site_indices(candidates, st.required),
        site_indices(candidates, st.excluded),
    )
    both = np.intersect1d(required, excluded)
    if len(both):
        ids = candidates[C.OSM_ID].to_numpy()[both].tolist()
        msg = f"stations.required and stations.excluded both name {_names(ids)}"
        raise ConfigError(msg)
    if st.max_stations is not None and len(required) > st.max_stations:
        causes.append(
            f"{len(required)} required stations exceed stations.max_stations={st.max_stations}"
        )
    if st.budget is not None and len(required):
        need = float(min_station.iloc[required].sum())
        if need > st.budget:
            causes.append(
                f"the required stations cost at least {need:,.0f} CNY, above stations.budget "
                f"{st.budget:,.0f}"
            )
    if st.respect_headroom:
        too_small = candidates[C.HEADROOM_KW] < st.min_chargers * st.charger_kw
        if too_small.iloc[required].any() if len(required) else False:
            ids = candidates[C.OSM_ID].to_numpy()[required][too_small.iloc[required].to_numpy()]
            causes.append(
                f"required stations {_names(ids.tolist())} are fed by substations without "
                f"headroom for {st.min_chargers} chargers"
            )
    else:
        too_small = pd.Series(False, index=candidates.index)
    if demand is not None and times is not None and st.min_coverage_share is not None:
        sessions = demand[C.SESSIONS_DAY].to_numpy(dtype=float)
        reachable = np.zeros(len(sessions), dtype=bool)
        reachable[times.demand_to_candidate.rows] = True
        total = float(sessions.sum())
        share = float(sessions[reachable].sum()) / total if total > 0 else 0.0
        if share + 1e-9 < st.min_coverage_share:
            causes.append(
                f"stations.min_coverage_share={st.min_coverage_share:g} but only {share:.1%} "
                f"of the sessions are within {st.cutoff_min:g} min of any candidate site"
            )
        # the most every site could serve: max chargers at new sites (fewer where the
        # station count caps them), the installed points at existing ones
        installed = (
            candidates[C.EXISTING_CHARGERS].fillna(0).to_numpy()
            if C.EXISTING_CHARGERS in candidates.columns
            else np.zeros(len(candidates))
        )
        n_new = int((installed == 0).sum())
        if st.max_stations is not None:
            n_new = min(n_new, st.max_stations + len(required))
        capacity = st.sessions_per_charger_per_day * (n_new * st.max_chargers + installed.sum())
        need = st.min_coverage_share * total
        if capacity + 1e-9 < need:
            causes.append(
                f"stations.min_coverage_share={st.min_coverage_share:g} needs {need:,.0f} "
                f"sessions/day but the stations can serve at most {capacity:,.0f} "
                f"({n_new} stations x {st.max_chargers} chargers x "
                f"{st.sessions_per_charger_per_day:g} sessions, plus existing chargers)"
            )
    new = (
        candidates[C.EXISTING_CHARGERS].fillna(0).to_numpy() == 0
        if C.EXISTING_CHARGERS in candidates.columns
        else np.ones(len(candidates), dtype=bool)
    )
    min_station = min_station.where(new, 0.0)
    if st.budget is not None and new.any() and st.budget < float(min_station[new].min()):
        causes.append(
            f"stations.budget {st.budget:,.0f} is below the cheapest station "
            f"({float(min_station[new].min()):,.0f} CNY with {st.min_chargers} chargers)"
        )
    if st.township_min:
        has = set(candidates[C.TOWNSHIP_ID])
        empty = townships[~townships[C.TOWNSHIP_ID].isin(has)]
        if len(empty):
            names = [f"{r[C.TOWNSHIP_NAME]} ({r[C.TOWNSHIP_ID]})" for _, r in empty.iterrows()]
            causes.append(
                f"{len(empty)} townships have no candidate site but stations.township_min "
                f"is on: {_names(names)}"
            )
        usable = ~too_small
        usable.iloc[excluded] = False
        blocked = townships[
            townships[C.TOWNSHIP_ID].isin(has)
            & ~townships[C.TOWNSHIP_ID].isin(set(candidates.loc[usable, C.TOWNSHIP_ID]))
        ]
        if len(blocked):
            names = [f"{r[C.TOWNSHIP_NAME]} ({r[C.TOWNSHIP_ID]})" for _, r in blocked.iterrows()]
            causes.append(
                f"in {len(blocked)} townships every candidate is excluded or fed by a "
                f"substation without headroom for {st.min_chargers} chargers: {_names(names)}"
            )
        n_needed = len(townships) - len(empty)
        if st.max_stations is not None and st.max_stations < n_needed:
            causes.append(
                f"stations.max_stations={st.max_stations} is below the {n_needed} townships "
                "that each need a station"
            )
        if st.budget is not None and len(candidates):
            cheapest = min_station.groupby(candidates[C.TOWNSHIP_ID]).min()
            if st.budget < float(cheapest.sum()):
                causes.append(
                    f"stations.budget {st.budget:,.0f} is below the {float(cheapest.sum()):,.0f} "
                    "CNY needed for the cheapest station in every township"
                )
    return causes


def site_indices(candidates: gpd.GeoDataFrame, ids: list[str]) -> np.ndarray:
    """Positions of candidates named by ``osm_id`` or ``source``; unknown ids are errors."""
    if not ids:
        return np.zeros(0, dtype=np.int64)
    keys = {str(v): k for k, v in enumerate(candidates[C.OSM_ID])}
    keys.update({str(v): k for k, v in enumerate(candidates[C.SOURCE]) if str(v) not in keys})
    missing = [i for i in ids if i not in keys]
    if missing:
        msg = (
            f"stations.required/excluded: {_names(missing)} are not candidate sites "
            "(use the osm_id or source column of candidates in sites.gpkg)"
        )
        raise ConfigError(msg)
    return np.array(sorted({keys[i] for i in ids}), dtype=np.int64)


def headroom_limits(
    candidates: gpd.GeoDataFrame,
) -> tuple[tuple[np.ndarray, float], ...]:
    """``(sites, kW)`` per substation with a known headroom figure."""
    known = candidates[candidates[C.HEADROOM_KW].notna()]
    out = []
    for _, group in known.groupby(C.SUBSTATION_ID):
        sites = candidates.index.get_indexer(group.index)
        out.append((sites, float(group[C.HEADROOM_KW].iloc[0])))
    return tuple(out)


def _covers(times: SparseTimes) -> list[np.ndarray]:
    """Rows that reach each column (the transposed neighbour lists)."""
    t = SparseTimes(times.cols, times.rows, times.minutes, (times.shape[1], times.shape[0]))
    return t.neighbours()


def _existing(sites: gpd.GeoDataFrame) -> np.ndarray:
    """Boolean per site: an existing public charger (``existing_chargers`` > 0)."""
    if C.EXISTING_CHARGERS not in sites.columns:
        return np.zeros(len(sites), dtype=bool)
    return sites[C.EXISTING_CHARGERS].fillna(0).to_numpy() > 0


def village_cover(times: TravelTimes, config: Config) -> tuple[list[np.ndarray], list[str]]:
    """Sites within the response time of each reachable village, and the unreachable ones.

    Raises :class:`InfeasibleError` for unreachable villages unless
    ``repair.unreachable`` is ``warn``.
    """
    villages = times.villages
    by_village = _covers(times.candidate_to_village)
    unreachable = [k for k, m in enumerate(by_village) if len(m) == 0]
    names = [str(villages.iloc[k][C.NAME] or villages.iloc[k][C.OSM_ID]) for k in unreachable]
    if unreachable:
        what = (
            f"{len(unreachable)} villages have no candidate site within "
            f"repair.response_min={config.repair.response_min:g} min: {_names(names)}"
        )
        if config.repair.unreachable == "error":
            msg = f"repair model infeasible: {what} (repair.unreachable: warn plans the rest)"
            raise InfeasibleError(msg)
        logger.warning("repair points: %s; they are left out of the repair plan", what)
    return [m for m in by_village if len(m)], names


def site_cover(times: TravelTimes) -> list[np.ndarray]:
    """Sites within the response time of each site, the site itself always included."""
    return [
        np.union1d(m, [j]).astype(np.int64)
        for j, m in enumerate(_covers(times.candidate_to_candidate))
    ]


def station_args(
    demand: gpd.GeoDataFrame,
    sites: gpd.GeoDataFrame,
    townships: gpd.GeoDataFrame,
    config: Config,
) -> dict[str, Any]:
    """Keyword arguments of the station tier shared by :func:`mclp` and :func:`two_tier`."""
    st = config.stations
    sessions = demand[C.SESSIONS_DAY].to_numpy(dtype=float)
    is_existing = _existing(sites)
    groups = None
    if st.township_min:
        tid = sites[C.TOWNSHIP_ID].to_numpy()
        groups = {t: np.flatnonzero(tid == t) for t in townships[C.TOWNSHIP_ID]}
    installed = (
        sites[C.EXISTING_CHARGERS].fillna(0).to_numpy(dtype=int) if is_existing.any() else None
    )
    sizing = Sizing(
        sessions=sessions,
        per_charger=st.sessions_per_charger_per_day,
        min_chargers=st.min_chargers,
        max_chargers=st.max_chargers,
        charger_cost=config.costs.charger_capex,
        charger_kw=st.charger_kw,
        headroom=headroom_limits(sites) if st.respect_headroom else (),
        installed=installed,
    )
    share = st.min_coverage_share
    return {
        "site_cost": sites[C.STATION_CAPEX].to_numpy(dtype=float),
        "max_sites": st.max_stations,
        "groups": groups,
        "required": site_indices(sites, st.required),
        "excluded": site_indices(sites, st.excluded),
        "existing": np.flatnonzero(is_existing),
        "min_cover": None if share is None else share * float(sessions.sum()),
        "objective": st.objective,
        "sizing": sizing,
        "solver": config.solver,
    }


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
    model (:func:`~planner.optimize.models.two_tier`); with ``after`` the stations are
    chosen first (:func:`~planner.optimize.models.mclp`), then the cheapest repair points
    that reach every village and station (:func:`~planner.optimize.models.lscp`). The
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
    args = station_args(demand, sites, townships, config)
    sizing = args["sizing"]
    joint = config.repair.enabled and config.repair.mode == "joint"
    unreached: list[str] = []
    pairs = len(reach.rows)
    try:
        if joint:
            v_cover, unreached = village_cover(times, config)
            run = _joint_pass(reach, sessions, v_cover, site_cover(times), config, args)
            lex = _passes(run, config, args, start=_start(start, TwoTierResult), pairs=pairs)
            both = lex.result
            res = both.stations
        else:
            run = _station_pass(reach, sessions, args)
            lex = _passes(run, config, args, start=_start(start, CoverageResult), pairs=pairs)
            res = lex.result
    except InfeasibleError as err:
        msg = f"{err}; no single cause was found: check budget, max_stations and township_min"
        raise InfeasibleError(msg) from None
    res = reassign(res, reach, sizing)
    is_existing = _existing(sites)
    stations = _stations_table(sites, res, sessions, config, keep=res.open & ~is_existing)
    existing_use = _stations_table(sites, res, sessions, config, keep=res.open & is_existing)
    assignments = _assignments(demand, sites, res)
    if joint:
        repair_points = _repair_table(sites, times, res.open, both.repair_open, config)
        repair_info = None
    else:
        repair_points, repair_info, unreached = _repair(sites, times, res.open, config)
    return Plan(
        stations=stations,
        assignments=assignments,
        service=_service(demand, sites, reach, res),
        repair_points=repair_points,
        station_solve=lex.passes[0],
        repair_solve=repair_info,
        villages_unreached=unreached,
        existing_sites=existing_use,
        model_result=both if joint else lex.result,
        extra_solves=lex.passes[1:],
    )


def _passes(
    run: Callable[..., Any],
    config: Config,
    args: dict[str, Any],
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
        min_cover=args["min_cover"],
        budget=config.stations.budget,
        start=start,
    )


def _station_pass(
    reach: SparseTimes, sessions: np.ndarray, args: dict[str, Any]
) -> Callable[..., CoverageResult]:
    """One pass of :func:`mclp`; the drive-time pass holds the sites of its start."""
    fixed = {k: v for k, v in args.items() if k not in ("min_cover", "objective")}

    def run(**kw: Any) -> CoverageResult:
        held: dict[str, Any] = {}
        if kw["objective"] == "time":
            held = held_sites(kw["start"].open, args["existing"])
            # start from the start's own sites with their demand routed by drive time
            kw["start"] = reassign(kw["start"], reach, args["sizing"])
        return mclp(reach, sessions, **kw, **{**fixed, **held})

    return run


def _joint_pass(
    reach: SparseTimes,
    sessions: np.ndarray,
    v_cover: list[np.ndarray],
    s_cover: list[np.ndarray],
    config: Config,
    args: dict[str, Any],
) -> Callable[..., TwoTierResult]:
    """One pass of :func:`two_tier`; the drive-time pass holds the sites of its start."""
    fixed = {k: v for k, v in args.items() if k not in ("min_cover", "objective")}

    def run(**kw: Any) -> TwoTierResult:
        held: dict[str, Any] = {}
        if kw["objective"] == "time":
            prev = kw["start"]
            held = {
                **held_sites(prev.stations.open, args["existing"]),
                "fixed_repair": prev.repair_open,
            }
            stations = reassign(prev.stations, reach, args["sizing"])
            kw["start"] = replace(prev, stations=stations)
        return _joint(
            reach, sessions, v_cover, s_cover, config, polish=False, **kw, **{**fixed, **held}
        )

    return run


def _joint(
    reach: SparseTimes,
    sessions: np.ndarray,
    v_cover: list[np.ndarray],
    s_cover: list[np.ndarray],
    config: Config,
    *,
    budget: float | None,
    start: TwoTierResult | None,
    polish: bool = True,
    **args: Any,
) -> TwoTierResult:
    """:func:`two_tier` with the repair costs of the config."""
    return two_tier(
        reach,
        sessions,
        v_cover,
        s_cover,
        budget=budget,
        repair_cost=config.costs.repair_point_capex,
        repair_cost_at_station=config.costs.repair_at_station_capex,
        start=start,
        polish=polish,
        **args,
    )


def _start(plan: Plan | None, kind: type) -> Any:
    """The previous plan's model result when it is of the model's kind."""
    result = plan.model_result if plan is not None else None
    return result if isinstance(result, kind) else None


def coverage_curve(
    demand: gpd.GeoDataFrame,
    sites: gpd.GeoDataFrame,
    townships: gpd.GeoDataFrame,
    times: TravelTimes,
    config: Config,
) -> list[dict[str, Any]]:
    """Coverage against budget: the station model re-solved for a series of budgets.

    The budgets are ``curve.budgets``, or ``curve.steps`` budgets evenly spaced from the
    cost of the cheapest feasible plan's floor (the required and township-minimum
    stations) up to ``stations.budget``. They are solved in increasing order, each
    warm-started from the plan of the previous one (feasible for a larger budget). With
    ``repair.mode: joint`` the budget covers repair points too.

    Parameters
    ----------
    demand, sites, townships, times, config
        As for :func:`plan_sites`.

    Returns
    -------
    list of dict
        One point per budget with ``budget``, ``stations``, ``chargers``, ``repair_points``,
        ``capex``, ``covered_share``, ``sessions_covered``, ``status``, ``gap``,
        ``seconds`` and ``pareto`` (False for a point that covers no more than a cheaper
        one, or could not be solved: ``status`` says why).
    """
    budgets = curve_budgets(sites, townships, config)
    if not budgets:
        return []
    sessions = demand[C.SESSIONS_DAY].to_numpy(dtype=float)
    total = float(sessions.sum())
    reach = times.demand_to_candidate
    args = station_args(demand, sites, townships, config)
    joint = config.repair.enabled and config.repair.mode == "joint"
    if joint:
        v_cover, _ = village_cover(times, config)
        s_cover = site_cover(times)
    costs = config.costs
    is_existing = _existing(sites)
    points: list[dict[str, Any]] = []
    start_mclp: CoverageResult | None = None
    start_joint: TwoTierResult | None = None
    best = -1.0
    for budget in budgets:
        try:
            if joint:
                both = _joint(
                    reach,
                    sessions,
                    v_cover,
                    s_cover,
                    config,
                    budget=budget,
                    start=start_joint,
                    **args,
                )
                res, start_joint = both.stations, both
                repair = int(both.repair_open.sum())
                repair_capex = float(both.repair_cost.sum())
            else:
                res = mclp(reach, sessions, budget=budget, start=start_mclp, **args)
                start_mclp, repair, repair_capex = res, 0, 0.0
        except InfeasibleError:
            points.append({"budget": budget, "status": "infeasible", "pareto": False})
            continue
        new = res.open & ~is_existing
        st_capex = float(
            sites[C.STATION_CAPEX].to_numpy()[new].sum()
            + res.chargers[new].sum() * costs.charger_capex
        )
        covered = float((sessions * res.covered).sum())
        points.append(
            {
                "budget": budget,
                "stations": int(new.sum()),
                "chargers": int(res.chargers[new].sum()),
                "repair_points": repair,
                "capex": round(st_capex + repair_capex),
                "covered_share": round(covered / total, 6) if total > 0 else 0.0,
                "sessions_covered": round(covered, 3),
                "status": res.info.status,
                "gap": res.info.gap,
                "seconds": round(res.info.seconds + res.info.build_seconds, 3),
                "pareto": covered > best + 1e-9,
            }
        )
        best = max(best, covered)
    return points


def curve_budgets(
    sites: gpd.GeoDataFrame, townships: gpd.GeoDataFrame, config: Config
) -> list[float]:
    """The budgets of the coverage curve (see :func:`coverage_curve`)."""
    cv, st = config.curve, config.stations
    if cv.budgets:
        return list(cv.budgets)
    if not cv.steps or st.budget is None:
        return []
    min_station = sites[C.STATION_CAPEX] + st.min_chargers * config.costs.charger_capex
    new = ~_existing(sites)
    floor = float(min_station[new].min()) if new.any() else 0.0
    if st.township_min:
        has_existing = set(sites.loc[~new, C.TOWNSHIP_ID])
        need = min_station[new].groupby(sites.loc[new, C.TOWNSHIP_ID]).min()
        floor = float(need[~need.index.isin(has_existing)].sum())
    floor = min(floor, st.budget)
    return [float(b) for b in np.linspace(floor, st.budget, cv.steps + 1)[1:]]


def _stations_table(
    candidates: gpd.GeoDataFrame,
    res: CoverageResult,
    sessions: np.ndarray,
    config: Config,
    *,
    keep: np.ndarray,
) -> gpd.GeoDataFrame:
    is_open = keep
    load = np.bincount(
        res.flow_cols,
        weights=sessions[res.flow_rows] * res.flow_share,
        minlength=len(candidates),
    )
    st = candidates.loc[is_open].copy()
    n = res.chargers[is_open]
    st[C.CHARGERS] = n
    st[C.CHARGER_KW] = n * config.stations.charger_kw
    st[C.SESSIONS_SERVED] = np.round(load[is_open], 3)
    new = st[C.EXISTING_CHARGERS].fillna(0).to_numpy() == 0 if C.EXISTING_CHARGERS in st else True
    st[C.CAPEX] = np.where(new, st[C.STATION_CAPEX] + n * config.costs.charger_capex, 0.0)
    return st.reset_index(drop=True)


def _assignments(
    demand: gpd.GeoDataFrame,
    candidates: gpd.GeoDataFrame,
    res: CoverageResult,
) -> pd.DataFrame:
    flow_min = res.flow_minutes
    assignments = pd.DataFrame(
        {
            C.DEMAND_ID: demand[C.DEMAND_ID].to_numpy()[res.flow_rows],
            C.STATION_ID: candidates[C.CANDIDATE_ID].to_numpy()[res.flow_cols],
            C.MINUTES: np.round(flow_min, 3),
            C.COVERED_SHARE: np.round(res.flow_share, 6),
        }
    )
    return assignments


def _service(
    demand: gpd.GeoDataFrame,
    candidates: gpd.GeoDataFrame,
    reach: SparseTimes,
    res: CoverageResult,
) -> pd.DataFrame:
    """Per demand point: share served, main station, drive time to the nearest station."""
    n = len(demand)
    ok = res.open[reach.cols]
    nearest = np.full(n, np.nan)
    np.fmin.at(nearest, reach.rows[ok], reach.minutes[ok])
    main = np.full(n, None, dtype=object)
    order = np.lexsort((-res.flow_share, res.flow_rows))
    rows, first = np.unique(res.flow_rows[order], return_index=True)
    main[rows] = candidates[C.CANDIDATE_ID].to_numpy()[res.flow_cols[order][first]]
    return pd.DataFrame(
        {
            C.DEMAND_ID: demand[C.DEMAND_ID].to_numpy(),
            C.COVERED_SHARE: np.round(res.covered, 6),
            C.STATION_ID: main,
            C.NEAREST_STATION_MIN: np.round(nearest, 3),
        }
    )


def _repair(
    sites: gpd.GeoDataFrame, times: TravelTimes, stations_open: np.ndarray, config: Config
) -> tuple[gpd.GeoDataFrame, SolveInfo | None, list[str]]:
    """Stage (b) of ``repair.mode: after``: the cheapest repair points for the stations."""
    if not config.repair.enabled:
        empty = sites.iloc[0:0].assign(
            **{C.REPAIR_ID: [], C.TARGETS_COVERED: [], C.AT_STATION: [], C.CAPEX: []}
        )
        return empty, None, []
    v_cover, names = village_cover(times, config)
    s_cover = site_cover(times)
    cover_sets = v_cover + [s_cover[j] for j in np.flatnonzero(stations_open)]
    costs = config.costs
    res = lscp(
        cover_sets,
        len(sites),
        site_cost=np.where(stations_open, costs.repair_at_station_capex, costs.repair_point_capex),
        solver=config.solver,
        model="repair_lscp",
    )
    return _repair_table(sites, times, stations_open, res.open, config), res.info, names


def _repair_table(
    sites: gpd.GeoDataFrame,
    times: TravelTimes,
    stations_open: np.ndarray,
    repair_open: np.ndarray,
    config: Config,
) -> gpd.GeoDataFrame:
    chosen = np.flatnonzero(repair_open)
    covers_v = np.bincount(times.candidate_to_village.rows, minlength=len(sites))
    cc = times.candidate_to_candidate
    covers_s = np.bincount(cc.rows[stations_open[cc.cols]], minlength=len(sites))
    rp = sites.iloc[chosen].copy()
    rp.insert(0, C.REPAIR_ID, [f"r{k:03d}" for k in range(len(rp))])
    rp[C.TARGETS_COVERED] = covers_v[chosen] + covers_s[chosen]
    at_station = stations_open[chosen]
    rp[C.AT_STATION] = at_station
    costs = config.costs
    rp[C.CAPEX] = np.where(at_station, costs.repair_at_station_capex, costs.repair_point_capex)
    return rp.reset_index(drop=True)
