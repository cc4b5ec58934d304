"""From demand, candidates and travel times to a :class:`~planner.datatypes.Plan`.

Stage (a) sites charging stations with :func:`~planner.optimize.models.mclp` (sized by
chargers); stage (b) covers every village and every chosen station with the fewest
repair points (:func:`~planner.optimize.models.lscp`). Infeasible set-ups are
diagnosed before solving and raise :class:`~planner.errors.InfeasibleError` listing
their causes.
"""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd

from planner import columns as C
from planner.config import Config
from planner.datatypes import Plan, SolveInfo, SparseTimes, TravelTimes
from planner.errors import ConfigError, InfeasibleError
from planner.optimize.models import CoverageResult, Sizing, lscp, mclp

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
    if st.budget is not None and len(candidates) and st.budget < float(min_station.min()):
        causes.append(
            f"stations.budget {st.budget:,.0f} is below the cheapest station "
            f"({float(min_station.min()):,.0f} CNY with {st.min_chargers} chargers)"
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


def plan_sites(
    demand: gpd.GeoDataFrame,
    candidates: gpd.GeoDataFrame,
    townships: gpd.GeoDataFrame,
    times: TravelTimes,
    config: Config,
) -> Plan:
    """Site stations, size them, then cover villages and stations with repair points.

    Parameters
    ----------
    demand
        Demand points with ``sessions_day`` and ``township_id``.
    candidates
        Candidate sites.
    townships
        Township polygons.
    times
        Travel-time matrices.
    config
        The run config.

    Returns
    -------
    Plan
        Stations, assignments, repair points and the solver reports.
    """
    causes = station_problems(candidates, townships, config)
    if causes:
        raise InfeasibleError("station model infeasible: " + "; ".join(causes))
    st = config.stations
    sessions = demand[C.SESSIONS_DAY].to_numpy(dtype=float)
    groups = None
    if st.township_min:
        tid = candidates[C.TOWNSHIP_ID].to_numpy()
        groups = {t: np.flatnonzero(tid == t) for t in townships[C.TOWNSHIP_ID]}
    sizing = Sizing(
        sessions=sessions,
        per_charger=st.sessions_per_charger_per_day,
        min_chargers=st.min_chargers,
        max_chargers=st.max_chargers,
        charger_cost=config.costs.charger_capex,
        charger_kw=st.charger_kw,
        headroom=headroom_limits(candidates) if st.respect_headroom else (),
    )
    reach = times.demand_to_candidate
    try:
        res = mclp(
            reach,
            sessions,
            site_cost=candidates[C.STATION_CAPEX].to_numpy(dtype=float),
            max_sites=st.max_stations,
            budget=st.budget,
            groups=groups,
            required=site_indices(candidates, st.required),
            excluded=site_indices(candidates, st.excluded),
            sizing=sizing,
            solver=config.solver,
        )
    except InfeasibleError as err:
        msg = f"{err}; no single cause was found: check budget, max_stations and township_min"
        raise InfeasibleError(msg) from None
    stations = _stations_table(candidates, res, sessions, config)
    assignments = _assignments(demand, candidates, reach, res)
    repair_points, repair_info, unreached = _repair(candidates, times, res.open, config)
    return Plan(
        stations=stations,
        assignments=assignments,
        service=_service(demand, candidates, reach, res),
        repair_points=repair_points,
        station_solve=res.info,
        repair_solve=repair_info,
        villages_unreached=unreached,
    )


def _stations_table(
    candidates: gpd.GeoDataFrame, res: CoverageResult, sessions: np.ndarray, config: Config
) -> gpd.GeoDataFrame:
    is_open = res.open
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
    st[C.CAPEX] = st[C.STATION_CAPEX] + n * config.costs.charger_capex
    return st.reset_index(drop=True)


def _assignments(
    demand: gpd.GeoDataFrame,
    candidates: gpd.GeoDataFrame,
    reach: SparseTimes,
    res: CoverageResult,
) -> pd.DataFrame:
    minutes = dict(
        zip(
            zip(reach.rows.tolist(), reach.cols.tolist(), strict=True),
            reach.minutes.tolist(),
            strict=True,
        )
    )
    flow_min = np.array(
        [
            minutes[(i, j)]
            for i, j in zip(res.flow_rows.tolist(), res.flow_cols.tolist(), strict=True)
        ]
    )
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
    candidates: gpd.GeoDataFrame, times: TravelTimes, stations_open: np.ndarray, config: Config
) -> tuple[gpd.GeoDataFrame, SolveInfo | None, list[str]]:
    if not config.repair.enabled:
        empty = candidates.iloc[0:0].assign(**{C.REPAIR_ID: [], C.TARGETS_COVERED: []})
        return empty, None, []
    villages = times.villages
    by_village = _covers(times.candidate_to_village)
    by_candidate = _covers(times.candidate_to_candidate)
    station_idx = np.flatnonzero(stations_open)
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
    cover_sets = [m for m in by_village if len(m)] + [by_candidate[j] for j in station_idx]
    res = lscp(
        cover_sets,
        len(candidates),
        site_cost=np.full(len(candidates), config.costs.repair_point_capex),
        solver=config.solver,
        model="repair_lscp",
    )
    chosen = np.flatnonzero(res.open)
    covers_v = np.bincount(times.candidate_to_village.rows, minlength=len(candidates))
    is_station = np.zeros(len(candidates), dtype=bool)
    is_station[station_idx] = True
    cc = times.candidate_to_candidate
    covers_s = np.bincount(cc.rows[is_station[cc.cols]], minlength=len(candidates))
    rp = candidates.iloc[chosen].copy()
    rp.insert(0, C.REPAIR_ID, [f"r{k:03d}" for k in range(len(rp))])
    rp[C.TARGETS_COVERED] = covers_v[chosen] + covers_s[chosen]
    rp[C.CAPEX] = config.costs.repair_point_capex
    return rp.reset_index(drop=True), res.info, names
