"""The road layer of map.html: the county's own roads, drawn offline, major ones thicker.

:func:`road_lines` makes the lines from the ingested ways (with their ``highway`` class)
or from the road graph (with the speed of each edge); :func:`road_layer` clips them to
the county, simplifies them and draws them as one feature per road rank, so that the
page stays small.
"""

from __future__ import annotations

import logging
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from planner.datatypes import CountyData, RoadGraph, RoadWays
from planner.i18n import Lang, translator
from planner.report.map import style
from planner.report.map.elements import Overlay
from planner.report.map.encode import collection

logger = logging.getLogger(__name__)

#: Vertices of the road layer at most (about 21 bytes each in map.html); the least
#: important road ranks are left out beyond it, so that a county of dense village roads
#: does not make map.html several MB.
ROAD_VERTEX_BUDGET = 40_000

# graph edges at this speed (km/h) or faster are drawn as major roads
_MAJOR_SPEED_KMH = (80.0, 60.0, 40.0)


def road_lines(
    roads: RoadWays | RoadGraph, *, crs: CRS | str | int | None = None
) -> gpd.GeoDataFrame:
    """The roads as LineStrings in EPSG:4326, for :func:`~planner.report.map.build_map`.

    Parameters
    ----------
    roads
        The ingested ways (``CountyData.roads``: one line per way, with its ``highway``
        class and ``name``), or the road graph (one line per road segment, both
        directions merged, with ``speed_kmh``).
    crs
        The CRS of the graph's node coordinates (the county's metric CRS); needed for
        a graph only.

    Returns
    -------
    geopandas.GeoDataFrame
        ``highway`` and ``name`` (ways) or ``speed_kmh`` (graph), and the lines.

    Raises
    ------
    ValueError
        A graph without ``crs``.
    """
    if isinstance(roads, RoadGraph):
        if crs is None:
            msg = "road_lines: a road graph needs the crs of its coordinates"
            raise ValueError(msg)
        return _graph_lines(roads, CRS.from_user_input(crs))
    keep = [i for i, nodes in enumerate(roads.way_nodes) if len(nodes) >= 2]
    if not keep:
        return gpd.GeoDataFrame({"highway": [], "name": []}, geometry=[], crs=4326)
    index = np.concatenate([roads.way_nodes[i] for i in keep])
    parts = np.repeat(np.arange(len(keep)), [len(roads.way_nodes[i]) for i in keep])
    coords = np.column_stack([roads.lon[index], roads.lat[index]])
    lines = shapely.linestrings(coords, indices=parts)
    return gpd.GeoDataFrame(
        {"highway": [roads.highway[i] for i in keep], "name": [roads.names[i] for i in keep]},
        geometry=lines,
        crs=4326,
    )


def _graph_lines(graph: RoadGraph, crs: CRS) -> gpd.GeoDataFrame:
    """One line per road segment of the graph (both directions merged), with its speed."""
    a, b = np.minimum(graph.tail, graph.head), np.maximum(graph.tail, graph.head)
    speed = 3.6 * graph.length_m / np.maximum(graph.time_s, 1e-9)
    edges = pd.DataFrame({"a": a, "b": b, "speed_kmh": speed})
    seg = edges.groupby(["a", "b"], as_index=False)["speed_kmh"].max()
    ia, ib = seg["a"].to_numpy(), seg["b"].to_numpy()
    coords = np.stack(
        [np.column_stack([graph.x[ia], graph.y[ia]]), np.column_stack([graph.x[ib], graph.y[ib]])],
        axis=1,
    )
    lines = shapely.linestrings(coords)
    out = gpd.GeoDataFrame({"speed_kmh": seg["speed_kmh"].round(1)}, geometry=lines, crs=crs)
    return out.to_crs(4326)


def road_ranks(roads: gpd.GeoDataFrame) -> np.ndarray:
    """Rank of each road: 0 the most important (see :data:`style.ROAD_RANKS`).

    By ``highway`` class where the lines have one, else by ``speed_kmh``, else all 3.
    """
    if "highway" in roads.columns:
        classes = roads["highway"].astype("string").fillna("").str.removesuffix("_link")
        return classes.map(style.ROAD_RANKS).fillna(style.OTHER_ROAD_RANK).to_numpy(int)
    if "speed_kmh" in roads.columns:
        speed = roads["speed_kmh"].to_numpy(float)
        faster = np.stack([speed >= s for s in _MAJOR_SPEED_KMH])
        return 3 - faster.sum(axis=0)
    return np.full(len(roads), 3)


def _fit_budget(
    geoms: np.ndarray, ranks: np.ndarray, simplify_m: float, budget: int
) -> tuple[np.ndarray, int]:
    """The lines simplified, and the highest rank kept, within ``budget`` vertices.

    Simplification first: ``simplify_m``, then up to 4 times coarser (at least 20 m,
    still under a pixel at zoom 12); then the least important ranks are left out
    (rank 0 always stays).
    """
    top = int(ranks.max(initial=0))
    out = geoms
    for tolerance in (simplify_m, max(2 * simplify_m, 10.0), max(4 * simplify_m, 20.0)):
        out = shapely.simplify(geoms, tolerance) if tolerance > 0 else geoms
        if int(shapely.get_num_coordinates(out).sum()) <= budget:
            return out, top
    vertices = shapely.get_num_coordinates(out)
    while top > 0 and int(vertices[ranks <= top].sum()) > budget:
        top -= 1
    logger.info("map: roads of rank above %d left out (over %d vertices)", top, budget)
    return out, top


def road_layer(
    roads: gpd.GeoDataFrame,
    county: CountyData,
    simplify_m: float,
    legend: list[dict[str, Any]],
    *,
    lang: Lang | None = None,
    budget: int = ROAD_VERTEX_BUDGET,
) -> Overlay:
    """The county's roads, clipped to it, simplified, major ones darker and thicker.

    Parameters
    ----------
    roads
        Lines with an optional ``highway`` class (see :func:`road_lines`).
    county
        The county (its boundary and metric CRS).
    simplify_m
        Simplification tolerance (m).
    legend
        Legend entries, appended to.
    lang
        The language (None: English).
    budget
        Vertices kept at most: the lines are simplified more coarsely, then the least
        important ranks are left out, until they fit.
    """
    lang = lang or translator("en")
    area = county.county.to_crs(county.crs).union_all().buffer(500)
    lines = roads.to_crs(county.crs)
    lines = lines[lines.intersects(area)]
    ranks = road_ranks(lines)
    geoms = shapely.intersection(lines.geometry.to_numpy(), area)
    geoms, top = _fit_budget(geoms, ranks, simplify_m, budget)
    features = []
    for rank in range(top + 1):
        parts = shapely.get_parts(geoms[ranks == rank])
        parts = parts[shapely.get_type_id(parts) == 1]  # LineStrings
        if len(parts):
            features.append((rank, shapely.multilinestrings(parts)))
    merged = gpd.GeoDataFrame(geometry=[g for _, g in features], crs=county.crs)
    props = [{"s": style.ROAD_STYLES[rank]} for rank, _ in features]
    legend.append(style.road_legend(lang))
    return Overlay(
        lang("Roads"),
        {"key": "roads", "style": style.ROADS, "data": collection(merged, props, digits=5)},
    )
