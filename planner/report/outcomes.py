"""The outcome layers of a plan: demand points, townships and existing chargers.

Each input layer gets the plan's outcome as attributes: a demand point its served share,
main station and nearest-station time (:func:`demand_outcome`); a township its population,
sessions, covered share, stations, chargers and drive times (:func:`township_outcome`);
an existing charger its station id, township and the sessions the plan routes to it
(:func:`existing_outcome`). The run's files and the key figures
(:mod:`planner.report.summary`) are made from these layers.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from planner import columns as C
from planner.candidates import existing_ids
from planner.datatypes import Plan


def demand_outcome(demand: gpd.GeoDataFrame, plan: Plan) -> gpd.GeoDataFrame:
    """Demand points with their served share, main station and nearest-station time."""
    service = plan.service.set_index(C.DEMAND_ID)
    out = demand.copy()
    for col in (C.COVERED_SHARE, C.STATION_ID, C.NEAREST_STATION_MIN):
        out[col] = out[C.DEMAND_ID].map(service[col]).to_numpy()
    return out


def township_outcome(
    townships: gpd.GeoDataFrame, demand_out: gpd.GeoDataFrame, plan: Plan
) -> gpd.GeoDataFrame:
    """Townships with population, sessions, covered share, stations, chargers and drive times.

    The drive times are those of the township's populated demand points to the stations
    the assignment sends them to (the nearest open one, or the next where it is full): the
    session-weighted mean and the worst over the sessions served, and the count of points
    with no station within the cutoff.
    """
    t = townships[[C.TOWNSHIP_ID, C.TOWNSHIP_NAME, townships.geometry.name]].copy()
    d = demand_out.assign(_served=demand_out[C.SESSIONS_DAY] * demand_out[C.COVERED_SHARE])
    g = d.groupby(C.TOWNSHIP_ID)
    t[C.POPULATION] = t[C.TOWNSHIP_ID].map(g[C.POPULATION].sum()).fillna(0.0).to_numpy()
    t[C.EVS] = t[C.TOWNSHIP_ID].map(g[C.EVS].sum()).fillna(0.0).to_numpy()
    t[C.SESSIONS_DAY] = t[C.TOWNSHIP_ID].map(g[C.SESSIONS_DAY].sum()).fillna(0.0).to_numpy()
    served = t[C.TOWNSHIP_ID].map(g["_served"].sum()).fillna(0.0).to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        t[C.COVERED_SHARE] = np.where(t[C.SESSIONS_DAY] > 0, served / t[C.SESSIONS_DAY], 0.0)
    s = plan.stations.groupby(C.TOWNSHIP_ID)
    t[C.STATIONS] = t[C.TOWNSHIP_ID].map(s.size()).fillna(0).astype(int).to_numpy()
    t[C.CHARGERS] = t[C.TOWNSHIP_ID].map(s[C.CHARGERS].sum()).fillna(0).astype(int).to_numpy()
    ex = plan.existing_sites
    per: pd.Series[int] | dict[str, int] = (
        ex.groupby(C.TOWNSHIP_ID).size() if ex is not None and len(ex) else {}
    )
    t[C.EXISTING_SITES] = t[C.TOWNSHIP_ID].map(per).fillna(0).astype(int).to_numpy()
    # drive times of the populated points (villages) to the stations they are assigned to
    lived = d[d[C.POPULATION] > 0]
    near = lived[C.NEAREST_STATION_MIN]
    a = plan.assignments.merge(
        lived[[C.DEMAND_ID, C.TOWNSHIP_ID, C.SESSIONS_DAY]], on=C.DEMAND_ID, how="inner"
    )
    a = a[a[C.COVERED_SHARE] > 0].assign(_s=a[C.SESSIONS_DAY] * a[C.COVERED_SHARE])
    g = a.assign(_w=a["_s"] * a[C.MINUTES]).groupby(C.TOWNSHIP_ID)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = g["_w"].sum() / g["_s"].sum()
    t[C.MEAN_STATION_MIN] = t[C.TOWNSHIP_ID].map(mean).to_numpy(dtype=float)
    t[C.WORST_STATION_MIN] = t[C.TOWNSHIP_ID].map(g[C.MINUTES].max()).to_numpy(dtype=float)
    unreached = lived[near.isna()].groupby(C.TOWNSHIP_ID).size()
    t[C.POINTS_UNREACHED] = t[C.TOWNSHIP_ID].map(unreached).fillna(0).astype(int).to_numpy()
    return t


def existing_outcome(chargers: gpd.GeoDataFrame, plan: Plan, names: pd.Series) -> gpd.GeoDataFrame:
    """The existing public chargers with the ids the demand's and the assignments'
    ``station_id`` give them, their township and the sessions per day the plan routes to
    them (0 for one the plan does not use)."""
    ids = pd.Series(existing_ids(len(chargers)), index=chargers.index)
    if C.STATION_ID in chargers.columns:  # stations a rollout opened keep their site ids
        ids = chargers[C.STATION_ID].where(chargers[C.STATION_ID].notna(), ids)
    out = chargers.assign(**{C.STATION_ID: ids})
    if C.SOCKETS in out.columns:  # counts: whole numbers, empty where unknown
        sockets = pd.to_numeric(out[C.SOCKETS], errors="coerce")
        if bool((sockets.dropna() % 1 == 0).all()):
            out[C.SOCKETS] = sockets.astype("Int64")
    used = plan.existing_sites
    if used is None or len(used) == 0:
        return out.assign(**{C.SESSIONS_SERVED: 0.0})
    by_id = used.set_index(C.CANDIDATE_ID)
    ids = out[C.STATION_ID]
    township = ids.map(by_id[C.TOWNSHIP_ID])
    return out.assign(
        **{
            C.TOWNSHIP_ID: township,
            C.TOWNSHIP_NAME: township.map(names),
            C.SESSIONS_SERVED: ids.map(by_id[C.SESSIONS_SERVED]).fillna(0.0),
        }
    )
