"""The tables of a plan: stations, assignments, service per demand point, repair points.

They turn a solved :class:`~planner.optimize.rules.CoverageResult` (and the chosen repair
points) into the rows written to ``stations.csv``, ``assignments.csv`` and
``repair_points.csv``.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from planner import columns as C
from planner.config import Config
from planner.costs import site_capex
from planner.datatypes import SparseTimes, TravelTimes
from planner.optimize.rules import CoverageResult


def stations_table(
    candidates: gpd.GeoDataFrame,
    res: CoverageResult,
    sessions: np.ndarray,
    config: Config,
    *,
    keep: np.ndarray,
) -> gpd.GeoDataFrame:
    """The sites in ``keep`` with their chargers, power, sessions served and capex (at an
    existing site, that of the chargers added to a station a rollout opened)."""
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
    existing = (
        st[C.EXISTING_CHARGERS].fillna(0).to_numpy() != 0 if C.EXISTING_CHARGERS in st else None
    )
    st[C.CAPEX] = site_capex(st[C.STATION_CAPEX], n, config.costs.charger_capex, existing=existing)
    if existing is not None:  # chargers added at a rollout's earlier station: theirs alone
        added = np.maximum(n - st[C.EXISTING_CHARGERS].fillna(0).to_numpy(dtype=int), 0)
        st[C.CAPEX] += np.where(existing, added * config.costs.charger_capex, 0.0)
    if C.OPENED_YEAR in st and not st[C.OPENED_YEAR].notna().any():
        st = st.drop(columns=C.OPENED_YEAR)  # new stations: the rollout's mark is not theirs
    return st.reset_index(drop=True)


def assignments_table(
    demand: gpd.GeoDataFrame,
    candidates: gpd.GeoDataFrame,
    res: CoverageResult,
) -> pd.DataFrame:
    """One row per flow: demand point, station, drive time, share served."""
    return pd.DataFrame(
        {
            C.DEMAND_ID: demand[C.DEMAND_ID].to_numpy()[res.flow_rows],
            C.STATION_ID: candidates[C.CANDIDATE_ID].to_numpy()[res.flow_cols],
            C.MINUTES: np.round(res.flow_minutes, 3),
            C.COVERED_SHARE: np.round(res.flow_share, 6),
        }
    )


def service_table(
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


def repair_table(
    sites: gpd.GeoDataFrame,
    times: TravelTimes,
    stations_open: np.ndarray,
    repair_open: np.ndarray,
    config: Config,
) -> gpd.GeoDataFrame:
    """The chosen repair points with the targets they cover, at a station or not, capex."""
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


def no_repair_table(sites: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The repair-point table of a run without repair points (its columns, no rows)."""
    return sites.iloc[0:0].assign(
        **{C.REPAIR_ID: [], C.TARGETS_COVERED: [], C.AT_STATION: [], C.CAPEX: []}
    )
