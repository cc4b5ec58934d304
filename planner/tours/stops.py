"""What the vans visit, from the plan's tables; and the whole tours stage in one call."""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from planner.config import NetworkSection
from planner.config.tours import ToursSection
from planner.datatypes import RoadGraph
from planner.errors import ConfigError
from planner.tours.decompose import plan_tours_by_point
from planner.tours.matrix import RoadPoints, TravelMatrix, road_points, travel_matrix
from planner.tours.problem import STOP_EVS, STOP_ID, STOP_KIND, STOP_NAME, STOP_TOWNSHIP
from planner.tours.result import TourPlan
from planner.tours.solve import NO_REPAIR_POINTS, plan_tours

logger = logging.getLogger(__name__)

#: A village stop without a name of its own takes the name of the nearest named place
#: (OSM ``place=*``) within this distance (m); one demand square is 1 km wide.
PLACE_NAME_M = 1000.0


def stop_table(
    tours: ToursSection,
    *,
    demand: gpd.GeoDataFrame | None = None,
    stations: gpd.GeoDataFrame | None = None,
    village_id: str = "demand_id",
    station_id: str = "candidate_id",
    places: gpd.GeoDataFrame | None = None,
) -> gpd.GeoDataFrame:
    """The stops of the tours: villages with EVs and/or the stations, per ``tours.stops``.

    Parameters
    ----------
    tours
        The config section (``stops``, and each kind's ``min_evs``).
    demand
        The demand points (``evs``, ``township_id``, optionally ``name``): those with at
        least ``tours.villages.min_evs`` EVs (and more than none) are the villages.
    stations
        The plan's stations (``name``, ``township_id``).
    village_id, station_id
        The id columns of those tables.
    places
        Named places (``name``, in the CRS of ``demand``): a village without a name takes
        the nearest one's within :data:`PLACE_NAME_M` (see :func:`name_after_places`).

    Returns
    -------
    GeoDataFrame
        ``stop_id``, ``name`` (the id where no name is known), ``kind``, ``evs``,
        ``township_id`` and the geometry, villages first.
    """
    parts = []
    if "villages" in tours.stops and demand is not None:
        evs = pd.to_numeric(demand[STOP_EVS], errors="coerce").fillna(0.0)
        keep = (evs > 0) & (evs >= tours.villages.min_evs)
        villages = demand[keep.to_numpy()]
        if places is not None:
            villages = name_after_places(villages, places)
        parts.append(_stops(villages, village_id, "villages"))
        logger.info(
            "tours: %d of %d demand points are villages to visit", int(keep.sum()), len(demand)
        )
    if "stations" in tours.stops and stations is not None:
        parts.append(_stops(stations, station_id, "stations"))
    if not parts:
        cols = [STOP_ID, STOP_NAME, STOP_KIND, STOP_EVS, STOP_TOWNSHIP]
        return gpd.GeoDataFrame({c: [] for c in cols}, geometry=[])
    crs = next((p.crs for p in parts if p.crs is not None), None)
    return gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), geometry="geometry", crs=crs)


def name_after_places(
    points: gpd.GeoDataFrame, places: gpd.GeoDataFrame, *, max_distance_m: float = PLACE_NAME_M
) -> gpd.GeoDataFrame:
    """``points`` with the nearest named place's name where they have none of their own.

    A name that several points take gets a number after the first (the nearest):
    ``青山村``, ``青山村 (2)``. Points with no named place within ``max_distance_m`` keep no
    name (their id stands for it).

    Parameters
    ----------
    points
        Points with an optional ``name``, in a metric CRS.
    places
        Places with ``name``, in the same CRS.
    max_distance_m
        How far a place may lie from the point.

    Returns
    -------
    GeoDataFrame
        A copy of ``points``, ``name`` filled where a place was near.
    """
    out = points.copy()
    if "name" not in out:
        out["name"] = None
    own = out["name"].notna() & (out["name"].astype(str).str.strip() != "")
    named = places[places["name"].notna() & (places["name"].astype(str).str.strip() != "")]
    todo = np.flatnonzero(~own.to_numpy())
    if len(todo) == 0 or len(named) == 0 or points.crs is None:
        return out
    geoms = named.to_crs(points.crs).geometry.to_numpy()
    tree = shapely.STRtree(geoms)
    pos, dist = tree.query_nearest(
        out.geometry.to_numpy()[todo], max_distance=max_distance_m, return_distance=True
    )
    first = np.unique(pos[0], return_index=True)[1]  # one place per point (ties: first)
    which, place, dist = todo[pos[0][first]], pos[1][first], dist[first]
    names = named["name"].astype(str).to_numpy()[place]
    order = np.lexsort((dist, names))  # per name, the nearest point first
    seen: dict[str, int] = {}
    given = np.empty(len(order), dtype=object)
    for k in order:
        seen[names[k]] = seen.get(names[k], 0) + 1
        given[k] = names[k] if seen[names[k]] == 1 else f"{names[k]} ({seen[names[k]]})"
    col = np.array(out["name"].astype(object).to_numpy(), dtype=object)
    col[which] = given
    out["name"] = col
    logger.info(
        "tours: %d of %d unnamed villages named after a place within %.0f m",
        len(which),
        len(todo),
        max_distance_m,
    )
    return out


def _stops(table: gpd.GeoDataFrame, id_column: str, kind: str) -> gpd.GeoDataFrame:
    ids = table[id_column].astype(str).to_numpy()
    names = table["name"] if "name" in table else pd.Series(np.nan, index=table.index)
    names = names.where(
        names.notna() & (names.astype(str) != ""), pd.Series(ids, index=table.index)
    )
    return gpd.GeoDataFrame(
        {
            STOP_ID: ids,
            STOP_NAME: names.astype(str).to_numpy(),
            STOP_KIND: kind,
            STOP_EVS: (
                pd.to_numeric(table[STOP_EVS], errors="coerce").to_numpy()
                if STOP_EVS in table
                else np.nan
            ),
            STOP_TOWNSHIP: table[STOP_TOWNSHIP].to_numpy() if STOP_TOWNSHIP in table else None,
        },
        geometry=table.geometry.to_numpy(),
        crs=table.crs,
    )


def weekly_tours(
    graph: RoadGraph,
    repair_points: gpd.GeoDataFrame,
    stops: gpd.GeoDataFrame,
    tours: ToursSection,
    *,
    network: NetworkSection,
    repair_id: str = "repair_id",
) -> tuple[TourPlan, TravelMatrix | RoadPoints]:
    """The tours stage: drive times along the roads, then :func:`plan_tours`.

    With more stops than ``tours.decompose_above``, one problem per repair point instead
    (:func:`~planner.tours.decompose.plan_tours_by_point`).

    Parameters
    ----------
    graph
        The road graph.
    repair_points
        The plan's repair points (``repair_id`` and points in the graph's CRS).
    stops
        From :func:`stop_table`, in the graph's CRS.
    tours
        The config section.
    network
        Access speed and snapping limit of the off-road legs.
    repair_id
        The repair points' id column.

    Returns
    -------
    plan, matrix
        The weekly plan, and the travel matrix its tours index (for
        :func:`~planner.tours.layers.tour_layers`; when decomposed, the points on the
        roads only).
    """
    if len(repair_points) == 0:
        raise ConfigError(NO_REPAIR_POINTS)
    points = gpd.GeoSeries(
        [*repair_points.geometry, *stops.geometry], crs=repair_points.crs or stops.crs
    )
    ids = [str(r) for r in repair_points[repair_id]]
    table = pd.DataFrame(stops.drop(columns="geometry"))
    if tours.decompose_above is not None and len(stops) > tours.decompose_above:
        snapped = road_points(
            graph, points, access_speed_kmh=network.access_speed_kmh, max_snap_m=network.max_snap_m
        )
        logger.info("tours: %d stops, one problem per repair point", len(stops))
        return plan_tours_by_point(table, graph, snapped, tours, depot_ids=ids)
    matrix = travel_matrix(
        graph, points, access_speed_kmh=network.access_speed_kmh, max_snap_m=network.max_snap_m
    )
    plan = plan_tours(table, matrix, tours, depot_ids=ids)
    return plan, matrix
