"""Service areas: the part of the road network reachable within a drive time.

Method (one polygon per point, in the graph's metric CRS):

1. The point is snapped to its nearest road node, as for the travel-time matrices
   (:func:`planner.network.snap_points`); its off-road access leg is taken off the time
   budget ``T``.
2. One Dijkstra with the cutoff ``T`` on the directed graph (driving *from* the point,
   as a repair crew does) gives the drive time ``t(n)`` to every node.
3. Every directed edge ``u -> v`` whose tail is reached is driven for the time left:
   all of it when ``t(u) + time(u, v) <= T``, else its first
   ``(T - t(u)) / time(u, v)`` (edges are straight segments between OSM nodes, as the
   graph stores them). The start node itself is kept as a point.
4. These segments are merged into lines, thinned with the tolerance ``simplify_m``,
   buffered by ``buffer_m`` (the strip along the roads that a short off-road leg
   reaches) and unioned; holes smaller than ``min_hole_m2`` (blocks enclosed by
   reachable roads) are filled; the polygon is simplified with the same tolerance.

The polygon therefore follows the road network: a valley road reached in 25 minutes is
in, the ridge next to it that no road climbs is out. It slightly over-states reach near
its edge, since a place there still needs its own off-road leg.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor

import geopandas as gpd
import numpy as np
import shapely
from scipy import sparse
from scipy.sparse import csgraph
from shapely.geometry.base import BaseGeometry

from planner import columns as C
from planner.datatypes import RoadGraph
from planner.errors import DataError
from planner.network import snap_points

logger = logging.getLogger(__name__)

#: Cells of a Dijkstra batch (sources x nodes) kept in memory at once.
_BATCH_CELLS = 20_000_000

#: Columns of the result besides the geometry.
AREA_COLUMNS = (C.SERVICE_MIN, C.AREA_KM2)


def service_areas(
    graph: RoadGraph,
    points: gpd.GeoSeries | gpd.GeoDataFrame,
    minutes: float,
    *,
    access_speed_kmh: float,
    buffer_m: float = 200.0,
    min_hole_m2: float = 1_000_000.0,
    simplify_m: float | None = None,
    workers: int = 1,
) -> gpd.GeoDataFrame:
    """Polygons of the road network reachable from each point within a drive time.

    Parameters
    ----------
    graph
        The road graph (node coordinates in a metric CRS).
    points
        Start points in the graph's CRS (a GeoSeries, or a GeoDataFrame whose geometry
        is used); the result keeps their index.
    minutes
        The drive-time budget, off-road access leg included.
    access_speed_kmh
        Speed of the off-road leg from a point to its nearest node.
    buffer_m
        Half-width of the strip drawn along each reachable road segment.
    min_hole_m2
        Holes smaller than this are filled (0 keeps every hole).
    simplify_m
        Simplification tolerance (0: none); default an eighth of ``buffer_m``, which
        keeps the strips' shape and cuts the vertices of their rounded ends.
    workers
        Threads for the geometry work (GEOS releases the GIL); 1 runs it in this thread.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per point, same index and CRS: ``service_min`` (the budget),
        ``area_km2`` and the
        (Multi)Polygon; an empty polygon where the access leg alone exceeds the budget.

    Raises
    ------
    DataError
        ``minutes`` or ``buffer_m`` is not positive, or the points have no CRS.
    """
    if minutes <= 0 or buffer_m <= 0:
        msg = f"service areas need a positive time and buffer (got {minutes} min, {buffer_m} m)"
        raise DataError(msg)
    geoms = points.geometry if isinstance(points, gpd.GeoDataFrame) else points
    if geoms.crs is None:
        msg = "service areas: the points have no CRS (expected the graph's metric CRS)"
        raise DataError(msg)
    if len(geoms) == 0:
        return gpd.GeoDataFrame(
            {C.SERVICE_MIN: [], C.AREA_KM2: []}, geometry=gpd.GeoSeries([], crs=geoms.crs)
        )
    if simplify_m is None:
        simplify_m = buffer_m / 8
    snap = snap_points(graph, geoms, access_speed_kmh=access_speed_kmh)
    budget = minutes * 60.0 - snap.access_s
    mat = sparse.csr_matrix(
        (graph.time_s, (graph.tail, graph.head)), shape=(graph.n_nodes, graph.n_nodes)
    )
    nodes, inverse = np.unique(snap.node, return_inverse=True)
    limit = float(max(budget.max(), 0.0))
    batch = max(1, _BATCH_CELLS // max(graph.n_nodes, 1))
    out: list[BaseGeometry | None] = [None] * len(geoms)
    # the geometry work (GEOS) releases the GIL: threads share it out over the cores
    with ThreadPoolExecutor(max(1, workers)) as pool:
        for start in range(0, len(nodes), batch):
            dist = csgraph.dijkstra(
                mat, directed=True, indices=nodes[start : start + batch], limit=limit
            )
            idx = np.flatnonzero((inverse >= start) & (inverse < start + batch))

            def one(i: int, dist: np.ndarray = dist, start: int = start) -> BaseGeometry:
                return _area(
                    graph,
                    dist[inverse[i] - start],
                    int(snap.node[i]),
                    float(budget[i]),
                    buffer_m=buffer_m,
                    min_hole_m2=min_hole_m2,
                    simplify_m=simplify_m,
                )

            for i, area in zip(idx, pool.map(one, idx), strict=True):
                out[i] = area
    unreached = int((budget < 0).sum())
    if unreached:
        logger.warning(
            "service areas: %d points are farther off-road than %.0f min allow", unreached, minutes
        )
    # types-geopandas: a sequence of geometries without None; geopandas takes None as missing
    areas = gpd.GeoSeries(out, index=geoms.index, crs=geoms.crs)  # type: ignore[arg-type]
    return gpd.GeoDataFrame(
        {C.SERVICE_MIN: float(minutes), C.AREA_KM2: areas.area / 1e6}, geometry=areas
    )


def _area(
    graph: RoadGraph,
    dist_s: np.ndarray,
    node: int,
    budget_s: float,
    *,
    buffer_m: float,
    min_hole_m2: float,
    simplify_m: float,
) -> BaseGeometry:
    """The service polygon of one start node from its Dijkstra times."""
    if budget_s < 0:
        return shapely.Polygon()
    t_tail = dist_s[graph.tail]
    reached = t_tail <= budget_s
    frac = np.clip((budget_s - t_tail[reached]) / np.maximum(graph.time_s[reached], 1e-9), 0, 1)
    keep = frac > 0
    tail, head, frac = graph.tail[reached][keep], graph.head[reached][keep], frac[keep]
    x0, y0 = graph.x[tail], graph.y[tail]
    x1 = x0 + frac * (graph.x[head] - x0)
    y1 = y0 + frac * (graph.y[head] - y0)
    # a two-way road driven end to end appears once per direction: keep one
    whole = frac >= 1
    dup = whole & (tail > head) & _has_whole_reverse(tail, head, whole)
    segments = np.stack([np.column_stack([x0, y0]), np.column_stack([x1, y1])], axis=1)[~dup]
    area: BaseGeometry = shapely.buffer(
        shapely.Point(graph.x[node], graph.y[node]), buffer_m, quad_segs=4
    )
    if len(segments):
        # merged into long lines (and thinned), the buffer is several times faster
        roads = shapely.line_merge(shapely.multilinestrings(shapely.linestrings(segments)))
        if simplify_m > 0:
            roads = shapely.simplify(roads, simplify_m)
        # each line buffered on its own, then one cascaded union: on a whole country's
        # roads (Liechtenstein, 5,000 lines) 0.2 s, against 24 s for buffering the
        # MultiLineString as one geometry
        strips = shapely.buffer(shapely.get_parts(roads), buffer_m, quad_segs=3)
        area = shapely.union_all(np.append(strips, [area]))
    area = _fill_holes(area, min_hole_m2)
    if simplify_m > 0:
        area = shapely.simplify(area, simplify_m, preserve_topology=True)
    return area


def _has_whole_reverse(tail: np.ndarray, head: np.ndarray, whole: np.ndarray) -> np.ndarray:
    """Whether each edge's reverse edge is also driven end to end."""
    n = int(max(tail.max(initial=0), head.max(initial=0))) + 1
    fwd = tail[whole].astype(np.int64) * n + head[whole]
    rev = head.astype(np.int64) * n + tail
    return np.isin(rev, fwd)


def _fill_holes(area: BaseGeometry, min_hole_m2: float) -> BaseGeometry:
    """The polygon with its holes smaller than ``min_hole_m2`` filled."""
    if min_hole_m2 <= 0 or area.is_empty:
        return area
    polys = []
    for part in shapely.get_parts(area):
        holes = [r for r in part.interiors if shapely.Polygon(r).area >= min_hole_m2]
        polys.append(shapely.Polygon(part.exterior, holes))
    return polys[0] if len(polys) == 1 else shapely.MultiPolygon(polys)
