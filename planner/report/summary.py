"""The run's key figures (summary.json) and its manifest (run.json).

They are read from the outcome layers of :mod:`planner.report.outcomes`.
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import math
import platform
import sys
from typing import Any

import geopandas as gpd
import pandas as pd

from planner import __version__
from planner import columns as C
from planner.candidates import connection_costs_note
from planner.config import Config
from planner.datatypes import CountyData, Plan, SolveInfo, worst_status
from planner.report.substation_loads import substation_loads

_PACKAGES = (
    "numpy",
    "pandas",
    "scipy",
    "geopandas",
    "shapely",
    "pyproj",
    "pyvrp",
    "pyogrio",
    "rasterio",
    "osmium",
    "osmnx",
    "networkx",
    "pulp",
    "highspy",
    "folium",
    "matplotlib",
    "pydantic",
    "PyYAML",
)


def headroom_overloads(stations: gpd.GeoDataFrame) -> list[dict[str, Any]]:
    """Substations whose stations' charger power exceeds the known headroom.

    With ``stations.respect_headroom`` the siting model keeps to the headroom; without
    it, this check reports where the plan would need grid reinforcement.
    """
    if len(stations) == 0:
        return []
    load = stations.groupby(C.SUBSTATION_ID).agg(
        kw=(C.CHARGER_KW, "sum"), headroom=(C.HEADROOM_KW, "first")
    )
    over = load[load["headroom"].notna() & (load["kw"] > load["headroom"])]
    return [
        {"substation_id": str(k), "charger_kw": float(r["kw"]), "headroom_kw": float(r["headroom"])}
        for k, r in over.iterrows()
    ]


def finite(x: float | None) -> float | None:
    """``x``, or None when it is missing or not finite (a solve stopped before any bound
    has an infinite one: None is what JSON, the report and the workbook can show)."""
    if x is None or not math.isfinite(float(x)):
        return None
    return float(x)


def _solve_dict(info: SolveInfo | None) -> dict[str, Any] | None:
    if info is None:
        return None
    return {
        "pass": info.stage or None,
        "model": info.model,
        "solver": info.solver,
        "status": info.status,
        "objective": finite(info.objective),
        "bound": finite(info.bound),
        "gap": finite(info.gap),
        "solve_s": round(info.seconds, 3),
        "build_s": round(info.build_seconds, 3),
        "variables": info.n_variables,
        "constraints": info.n_constraints,
    }


def _mean_nearest(demand_out: gpd.GeoDataFrame) -> float | None:
    """Mean drive time to the nearest open station, over the sessions served.

    Weighted like the mean drive time to the assigned stations (sessions served), so the
    two compare: the assigned mean is never below this one.
    """
    near = demand_out[C.NEAREST_STATION_MIN]
    served = demand_out[C.SESSIONS_DAY] * demand_out[C.COVERED_SHARE]
    ok = near.notna() & (served > 0)
    w = served[ok]
    if not ok.any() or float(w.sum()) <= 0:
        return None
    return round(float((w * near[ok]).sum() / w.sum()), 3)


def _without_demand(townships_out: gpd.GeoDataFrame) -> list[dict[str, str]]:
    """Id and name of each township without charging sessions (population 0)."""
    empty = townships_out[~(townships_out[C.SESSIONS_DAY] > 0)]
    return [
        {"township_id": str(i), "township_name": "" if pd.isna(n) else str(n)}
        for i, n in zip(empty[C.TOWNSHIP_ID], empty[C.TOWNSHIP_NAME], strict=True)
    ]


def build_summary(
    county: CountyData,
    demand_out: gpd.GeoDataFrame,
    candidates: gpd.GeoDataFrame,
    townships_out: gpd.GeoDataFrame,
    plan: Plan,
    config: Config,
    *,
    timings: dict[str, float],
    graph: dict[str, int],
) -> dict[str, Any]:
    """Key figures of the plan (the content of summary.json).

    Parameters
    ----------
    county
        Ingested data.
    demand_out, townships_out
        From :func:`~planner.report.outcomes.demand_outcome` and
        :func:`~planner.report.outcomes.township_outcome`.
    candidates
        Candidate sites.
    plan
        The plan.
    config
        The run config.
    timings
        Seconds per stage.
    graph
        Road graph sizes.

    Returns
    -------
    dict
        JSON-ready figures.
    """
    return {
        **_demand_figures(county, demand_out, candidates, plan),
        **_site_figures(plan, config),
        "substation_loads": substation_loads(drawing_stations(plan, config), county.substations),
        "power_factor": config.stations.power_factor,
        "respect_headroom": config.stations.respect_headroom,
        "headroom_table": config.inputs.substations is not None,
        **_service_figures(demand_out, townships_out, plan),
        **_budget_figures(plan, config),
        **_solver_figures(plan),
        "graph_nodes": graph["nodes"],
        "graph_edges": graph["edges"],
        "timings_s": {k: round(v, 3) for k, v in timings.items()},
    }


def _demand_figures(
    county: CountyData, demand_out: gpd.GeoDataFrame, candidates: gpd.GeoDataFrame, plan: Plan
) -> dict[str, Any]:
    """The county, its demand, its candidate sites and its existing chargers."""
    ex = plan.existing_sites
    return {
        "county": county.name,
        "slug": county.slug,
        "crs_metric": county.crs.to_string(),
        "population": round(float(demand_out[C.POPULATION].sum())),
        "evs": round(float(demand_out[C.EVS].sum()), 1),
        "evs_covered": round(float((demand_out[C.EVS] * demand_out[C.COVERED_SHARE]).sum()), 1),
        "sessions_day": round(float(demand_out[C.SESSIONS_DAY].sum()), 2),
        "demand_points": len(demand_out),
        "candidates": len(candidates),
        "connection_costs": connection_costs_note(candidates),
        "existing_chargers": len(county.chargers),
        "existing_sessions_served_day": (
            round(float(ex[C.SESSIONS_SERVED].sum()), 2) if ex is not None and len(ex) else 0.0
        ),
    }


def _site_figures(plan: Plan, config: Config) -> dict[str, Any]:
    """The planned stations and repair points."""
    st, rp = plan.stations, plan.repair_points
    return {
        "objective_kind": config.stations.objective,
        "repair_mode": config.repair.mode if config.repair.enabled else None,
        "repair_points_at_stations": int(rp[C.AT_STATION].sum()) if len(rp) else 0,
        "stations": len(st),
        "chargers": int(st[C.CHARGERS].sum()) if len(st) else 0,
        "charger_kw_total": float(st[C.CHARGER_KW].sum()) if len(st) else 0.0,
        "repair_points": len(rp),
        **_expansion_figures(plan),
        "substations_over_headroom": headroom_overloads(drawing_stations(plan, config)),
        "villages_unreached_by_repair": len(plan.villages_unreached),
    }


def _expanded(plan: Plan) -> pd.DataFrame:
    """The existing sites the plan gave more chargers (stations a rollout opened in an
    earlier year; ``capex`` that of the chargers added)."""
    ex = plan.existing_sites
    if ex is None or len(ex) == 0 or C.EXISTING_CHARGERS not in ex.columns:
        return pd.DataFrame(columns=[C.CANDIDATE_ID, C.NAME, C.CHARGERS, C.CAPEX])
    more = ex[C.CHARGERS] > ex[C.EXISTING_CHARGERS].fillna(0)
    return ex.loc[more]


def drawing_stations(plan: Plan, config: Config) -> gpd.GeoDataFrame:
    """The stations that draw on their substation's headroom: the new ones, and the chargers
    added to stations a rollout opened before (their installed ones are off the headroom
    already)."""
    grown = _expanded(plan)
    if len(grown) == 0:
        return plan.stations
    added = grown[C.CHARGERS] - grown[C.EXISTING_CHARGERS].fillna(0)
    grown = grown.assign(**{C.CHARGER_KW: added * config.stations.charger_kw})
    keep = [C.SUBSTATION_ID, C.CHARGER_KW, C.HEADROOM_KW]
    if any(k not in grown.columns for k in keep):
        return plan.stations
    both = pd.concat([plan.stations[keep], grown[keep]], ignore_index=True)
    return gpd.GeoDataFrame(both)


def _expansion_figures(plan: Plan) -> dict[str, Any]:
    """Stations a rollout opened in an earlier year that the plan gives more chargers: how
    many, the chargers added, their capex (part of ``capex_stations``) and each one."""
    grown = _expanded(plan)
    added: list[int] = []
    if len(grown):
        added = (grown[C.CHARGERS] - grown[C.EXISTING_CHARGERS].fillna(0)).astype(int).tolist()
    return {
        "stations_expanded": len(grown),
        "chargers_added": int(sum(added)),
        "capex_expansions": round(float(grown[C.CAPEX].sum())) if len(grown) else 0,
        "expansions": [
            {
                C.CANDIDATE_ID: str(r[C.CANDIDATE_ID]),
                C.NAME: None if pd.isna(r[C.NAME]) else str(r[C.NAME]),
                "chargers_before": int(r[C.EXISTING_CHARGERS]),
                "chargers_added": int(a),
                C.CAPEX: round(float(r[C.CAPEX])),
            }
            for (_, r), a in zip(grown.iterrows(), added, strict=True)
        ],
    }


def _service_figures(
    demand_out: gpd.GeoDataFrame, townships_out: gpd.GeoDataFrame, plan: Plan
) -> dict[str, Any]:
    """Demand served, townships served and the drive times to the stations."""
    sessions = float(demand_out[C.SESSIONS_DAY].sum())
    served = float((demand_out[C.SESSIONS_DAY] * demand_out[C.COVERED_SHARE]).sum())
    a = plan.assignments.merge(demand_out[[C.DEMAND_ID, C.SESSIONS_DAY]], on=C.DEMAND_ID)
    w = a[C.SESSIONS_DAY] * a[C.COVERED_SHARE]
    mean_min = float((w * a[C.MINUTES]).sum() / w.sum()) if w.sum() > 0 else None
    return {
        "demand_covered_share": round(served / sessions, 6) if sessions > 0 else 0.0,
        "sessions_served_day": round(served, 2),
        "townships_total": len(townships_out),
        "townships_without_demand": _without_demand(townships_out),
        # a township is served by a new station or an existing public charger in use
        "townships_with_station": int(
            ((townships_out[C.STATIONS] + townships_out[C.EXISTING_SITES]) > 0).sum()
        ),
        "mean_travel_min": round(mean_min, 3) if mean_min is not None else None,
        "max_travel_min": round(float(a.loc[w > 0, C.MINUTES].max()), 3) if len(a) else None,
        "mean_nearest_min": _mean_nearest(demand_out),
    }


def _budget_figures(plan: Plan, config: Config) -> dict[str, Any]:
    """Capex of the plan, and the budget, limits and cutoffs it was planned under."""
    st, rp = plan.stations, plan.repair_points
    capex_st = float(st[C.CAPEX].sum()) if len(st) else 0.0
    capex_rp = float(rp[C.CAPEX].sum()) if len(rp) else 0.0
    grown = _expanded(plan)
    capex_st += float(grown[C.CAPEX].sum()) if len(grown) else 0.0
    return {
        # new stations, and the chargers added to stations a rollout opened before
        "capex_stations": round(capex_st),
        "capex_repair": round(capex_rp),
        "capex_total": round(capex_st + capex_rp),
        "budget": config.stations.budget,
        "max_stations": config.stations.max_stations,
        "station_cutoff_min": config.stations.cutoff_min,
        "repair_response_min": config.repair.response_min,
    }


def safety_net(plan: Plan, tours: dict[str, Any] | None = None) -> list[str]:
    """What a time limit stopped (summary.json's ``safety_net``): the solver passes, and
    ``tours`` when the vans' route search ran out of time (``tours``: its record)."""
    stopped = [p.stage for p in plan.passes if p.status == "time_limit"]
    if tours is not None and tours.get("stopped_by") == "time_limit":
        stopped.append("tours")
    return stopped


def _solver_figures(plan: Plan) -> dict[str, Any]:
    """The solver's report: the station solve, the worst status and gap over the passes."""
    passes = plan.passes
    status, gap = worst_status(passes)
    info = plan.station_solve
    return {
        "objective": finite(info.objective),
        "bound": finite(info.bound),
        "gap": finite(gap),
        "solver": info.solver,
        "status": status,
        "safety_net": safety_net(plan),
        # above solver.drive_time_max_pairs the drive-time pass does not run
        "skipped_passes": [] if any(p.stage == "drive_time" for p in passes) else ["drive_time"],
        "repair_status": plan.repair_solve.status if plan.repair_solve else None,
        "solves": [d for d in (_solve_dict(p) for p in passes) if d],
    }


def build_manifest(
    county: CountyData, config: Config, summary: dict[str, Any], *, argv: list[str] | None
) -> dict[str, Any]:
    """The run manifest (run.json): inputs with hashes, versions, config, solver, timings."""
    versions: dict[str, str | None] = {}
    for name in _PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    return {
        "planner_version": __version__,
        "created_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": argv,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "packages": versions,
        "inputs": [
            {"role": f.role, "path": str(f.path), "sha256": f.sha256, "size_bytes": f.size_bytes}
            for f in county.inputs
        ],
        "config": config.model_dump(mode="json"),
        "solves": summary["solves"],
        "status": summary["status"],
        "timings_s": summary["timings_s"],
        "tours": summary.get("tours"),
    }
