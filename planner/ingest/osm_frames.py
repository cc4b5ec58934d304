"""The frames of :class:`~planner.datatypes.OsmData`, built alike from every source.

:func:`planner.ingest.osm.read_osm` builds them from rows, a county's layers file
(:mod:`planner.ingest.osm_layers`) from columns: both go through :func:`frame_of`, so
that the frames are the same (columns, dtypes, index).
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
from geopandas.array import from_shapely
from pyproj import CRS

from planner.datatypes import OsmData, RoadWays

#: EPSG:4326 parsed once (geopandas parses an EPSG code on every frame).
WGS84 = CRS.from_epsg(4326)


def layer_columns(poi_keys: tuple[str, ...]) -> dict[str, list[str]]:
    """The columns of each point and line layer (besides ``geometry``)."""
    return {
        "pois": ["osm_id", "name", *poi_keys],
        "places": ["osm_id", "name", "place", "population"],
        "substations": ["osm_id", "ref", "name", "voltage_kv"],
        "power_lines": ["osm_id", "power", "voltage_kv", "name"],
        "chargers": ["osm_id", "name", "operator", "sockets"],
        "power_points": ["osm_id", "power", "voltage_kv"],
    }


def frame(rows: list[dict[str, Any]], columns: list[str]) -> gpd.GeoDataFrame:
    """A layer from rows (each with its ``geometry``)."""
    if rows and (len(set(columns)) < len(columns) or "geometry" in columns):
        return gpd.GeoDataFrame(
            rows, columns=[*columns, "geometry"], geometry="geometry", crs=WGS84
        )
    data = {c: [r[c] for r in rows] for c in columns}
    return frame_of(data, [r["geometry"] for r in rows], columns)


def frame_of(data: dict[str, list[Any]], geoms: Any, columns: list[str]) -> gpd.GeoDataFrame:
    """A layer from its columns and geometries (shapely objects).

    Built column by column: the same frame as from rows, in a third of the time.
    """
    plain = len(set(columns)) == len(columns) and "geometry" not in columns
    if not len(geoms):
        if not plain:
            return gpd.GeoDataFrame(
                {c: [] for c in columns}, geometry=gpd.GeoSeries([], crs=WGS84), crs=WGS84
            )
        # built as a full one: the same frame in half the time
        geoms, data = np.empty(0, dtype=object), {c: [] for c in columns}
    if not plain:
        rows = [{c: data[c][k] for c in columns} for k in range(len(geoms))]
        for row, geom in zip(rows, geoms, strict=True):
            row["geometry"] = geom
        return frame(rows, columns)
    out: dict[str, Any] = {c: data[c] for c in columns}
    out["geometry"] = from_shapely(geoms, crs=WGS84)
    return gpd.GeoDataFrame(out, geometry="geometry")


def osm_data(
    roads: RoadWays,
    frames: dict[str, gpd.GeoDataFrame],
    buildings: list[tuple[float, float]] | None,
) -> OsmData:
    """:class:`OsmData` of the layers (``buildings``: their points, None when not read)."""
    return OsmData(
        roads=roads,
        pois=frames["pois"],
        places=frames["places"],
        substations=frames["substations"],
        power_lines=frames["power_lines"],
        chargers=frames["chargers"],
        power_points=frames["power_points"],
        buildings=gpd.GeoDataFrame(
            geometry=gpd.points_from_xy(*np.array(buildings).reshape(-1, 2).T), crs=WGS84
        )
        if buildings is not None
        else None,
    )
