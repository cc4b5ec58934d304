"""Drive times and distances between the repair points and the stops, along the roads.

One Dijkstra (:func:`scipy.sparse.csgraph.dijkstra`, on drive time, as in
:mod:`planner.network`) per distinct road node of the points gives the fastest path to
every other point; its length is read off the shortest-path tree by pointer jumping. The
paths of the legs a plan drives are rebuilt from the predecessors afterwards
(:func:`leg_paths`), and drawn along the roads (:func:`route_geometry`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
from scipy import sparse
from scipy.sparse import csgraph
from shapely import LineString

from planner.datatypes import RoadGraph, Snap
from planner.network import snap_points

#: Cells of a Dijkstra batch (sources x nodes) kept in memory at once.
_BATCH_CELLS = 5_000_000


@dataclass
class RoadPoints:
    """Points attached to the roads: what the map layers need of a travel matrix.

    ``reach_s`` (optional) bounds the drive time of any leg a plan drives from each point
    (the layers then search the roads no farther).
    """

    snap: Snap
    x: np.ndarray  # the points' coordinates in the graph's metric CRS
    y: np.ndarray
    reach_s: np.ndarray | None = None

    @property
    def n_points(self) -> int:
        """Number of points."""
        return len(self.x)


@dataclass
class TravelMatrix:
    """Fastest drives between points (repair points first, then stops), both ways.

    ``seconds[i, j]`` and ``metres[i, j]`` are the drive from point i to point j: the
    off-road access legs at both ends and the fastest road path between their nodes
    (``inf`` when no road leads there). The diagonal is 0.
    """

    seconds: np.ndarray  # (n, n) float
    metres: np.ndarray  # (n, n) float
    snap: Snap
    x: np.ndarray  # the points' coordinates in the graph's metric CRS
    y: np.ndarray

    @property
    def n_points(self) -> int:
        """Number of points."""
        return len(self.x)


def _csr(graph: RoadGraph, weights: np.ndarray) -> sparse.csr_matrix:
    n = graph.n_nodes
    return sparse.csr_matrix((weights, (graph.tail, graph.head)), shape=(n, n))


def _edge_lengths(graph: RoadGraph, tails: np.ndarray, heads: np.ndarray) -> np.ndarray:
    """Length (m) of the edges ``tails[k] -> heads[k]`` (each must be an edge)."""
    n = graph.n_nodes
    keys = graph.tail.astype(np.int64) * n + graph.head
    order = np.argsort(keys)
    at = np.searchsorted(keys, tails.astype(np.int64) * n + heads, sorter=order)
    return np.asarray(graph.length_m[order[at]], dtype=float)


def _tree_lengths(graph: RoadGraph, pred: np.ndarray, sources: np.ndarray) -> np.ndarray:
    """Length (m) of the tree path from each source to every node (inf when unreached).

    ``pred`` holds one predecessor row per source, as :func:`csgraph.dijkstra` returns
    them. Only the nodes each tree reaches are worked on (a search with a ``limit``
    reaches few). Pointer jumping: every node adds its parent's length to the root and
    jumps to its grandparent, until every node points at the root (log2(depth) rounds).
    """
    rows, n = pred.shape
    in_tree = pred >= 0
    in_tree[np.arange(rows), sources] = True
    r, v = np.nonzero(in_tree)  # row-major: the keys below are sorted
    key = r.astype(np.int64) * n + v
    is_root = v == sources[r]
    up = np.where(is_root, v, pred[r, v])
    parent = np.searchsorted(key, r.astype(np.int64) * n + up)
    acc = np.zeros(key.size)
    acc[~is_root] = _edge_lengths(graph, up[~is_root], v[~is_root])
    own = np.arange(key.size)
    while True:
        grand = parent[parent]
        if np.array_equal(grand, parent):
            break
        acc = acc + acc[parent] * (parent != own)
        parent = grand
    out = np.full((rows, n), np.inf)
    out[r, v] = acc
    return out


def _node_matrices(
    graph: RoadGraph, nodes: np.ndarray, *, limit_s: float = np.inf
) -> tuple[np.ndarray, np.ndarray]:
    """Seconds and metres of the fastest road paths between graph nodes (inf beyond
    ``limit_s`` seconds or where no road leads)."""
    times = _csr(graph, graph.time_s)
    secs = np.empty((len(nodes), len(nodes)))
    metres = np.empty((len(nodes), len(nodes)))
    batch = max(1, _BATCH_CELLS // max(graph.n_nodes, 1))
    for s in range(0, len(nodes), batch):
        chunk = nodes[s : s + batch]
        dist, pred = csgraph.dijkstra(
            times, directed=True, indices=chunk, return_predecessors=True, limit=limit_s
        )
        secs[s : s + batch] = dist[:, nodes]
        metres[s : s + batch] = _tree_lengths(graph, pred, chunk)[:, nodes]
    return secs, metres


def travel_matrix(
    graph: RoadGraph,
    points: gpd.GeoSeries,
    *,
    access_speed_kmh: float,
    max_snap_m: float | None = None,
) -> TravelMatrix:
    """Drive times and distances between all points, along the fastest roads.

    Parameters
    ----------
    graph
        The road graph.
    points
        Point geometries in the graph's metric CRS: the repair points, then the stops.
    access_speed_kmh
        Speed of the off-road leg between a point and its road node.
    max_snap_m
        Points farther than this from a road are logged.

    Returns
    -------
    TravelMatrix
        Seconds and metres from every point to every other.
    """
    snapped = road_points(graph, points, access_speed_kmh=access_speed_kmh, max_snap_m=max_snap_m)
    return sub_matrix(graph, snapped, np.arange(snapped.n_points))


def sub_matrix(
    graph: RoadGraph, points: RoadPoints, rows: np.ndarray, *, limit_s: float = np.inf
) -> TravelMatrix:
    """The travel matrix between some of the snapped points.

    Parameters
    ----------
    graph
        The road graph.
    points
        All points, snapped (:func:`road_points`).
    rows
        The points wanted, in the matrix's order.
    limit_s
        Road drives longer than this many seconds are left out (``inf``): an exact
        matrix of the pairs within it for a fraction of the work.

    Returns
    -------
    TravelMatrix
        Seconds and metres between the points ``rows``.
    """
    node = points.snap.node[rows]
    nodes, inverse = np.unique(node, return_inverse=True)
    secs, metres = _node_matrices(graph, nodes, limit_s=limit_s)
    access_s = points.snap.access_s[rows]
    access_m = points.snap.distance_m[rows]
    seconds = secs[np.ix_(inverse, inverse)] + access_s[:, None] + access_s[None, :]
    dist_m = metres[np.ix_(inverse, inverse)] + access_m[:, None] + access_m[None, :]
    # a point and itself, or two at the same place (a repair point at a station): no drive
    x, y = points.x[rows], points.y[rows]
    same = (x[:, None] == x[None, :]) & (y[:, None] == y[None, :])
    seconds[same] = 0.0
    dist_m[same] = 0.0
    snap = Snap(node=node, access_s=access_s, distance_m=access_m)
    return TravelMatrix(
        seconds=seconds, metres=dist_m, snap=snap, x=points.x[rows], y=points.y[rows]
    )


def road_points(
    graph: RoadGraph,
    points: gpd.GeoSeries,
    *,
    access_speed_kmh: float,
    max_snap_m: float | None = None,
) -> RoadPoints:
    """Points attached to their nearest road node (see :func:`planner.network.snap_points`)."""
    snap = snap_points(
        graph, points, access_speed_kmh=access_speed_kmh, max_snap_m=max_snap_m, label="stops"
    )
    x, y = points.x.to_numpy(dtype=float), points.y.to_numpy(dtype=float)
    return RoadPoints(snap=snap, x=x, y=y)


def depot_times(graph: RoadGraph, points: RoadPoints, depots: np.ndarray) -> np.ndarray:
    """Seconds from each depot to every point (``[0]``) and from every point back (``[1]``).

    Parameters
    ----------
    graph
        The road graph.
    points
        All points, snapped.
    depots
        Rows of the depots among the points.

    Returns
    -------
    ndarray
        Shape (2, depots, points): out and back, access legs included (inf: no road).
    """
    times = _csr(graph, graph.time_s)
    node, access = points.snap.node, points.snap.access_s
    src = node[depots]
    out = csgraph.dijkstra(times, directed=True, indices=src)[:, node]
    back = csgraph.dijkstra(times.T.tocsr(), directed=True, indices=src)[:, node]
    both = np.stack([out, back]) + access[depots][None, :, None] + access[None, None, :]
    x, y = points.x, points.y
    same = (x[depots][:, None] == x[None, :]) & (y[depots][:, None] == y[None, :])
    both[:, same] = 0.0  # a depot and a point at its place (itself included): no drive
    return both


def leg_paths(
    graph: RoadGraph,
    legs: Iterable[tuple[int, int]],
    *,
    limit_s: dict[int, float] | None = None,
) -> dict[tuple[int, int], list[int]]:
    """The fastest road path of each leg, as node lists from the predecessors.

    Parameters
    ----------
    graph
        The road graph.
    legs
        ``(from_node, to_node)`` pairs of graph nodes.
    limit_s
        Per from_node, seconds no leg from it exceeds: its search stops there (a leg
        beyond gets no path).

    Returns
    -------
    dict
        ``(from_node, to_node)`` -> the nodes of the path, both ends included (one node
        when they are the same; empty when no road leads there).
    """
    wanted: dict[int, set[int]] = {}
    for a, b in legs:
        wanted.setdefault(int(a), set()).add(int(b))
    times = _csr(graph, graph.time_s)
    sources = np.array(sorted(wanted), dtype=np.int64)
    batch = max(1, _BATCH_CELLS // max(graph.n_nodes, 1))
    paths: dict[tuple[int, int], list[int]] = {}
    for s in range(0, len(sources), batch):
        chunk = sources[s : s + batch]
        if limit_s is None:
            _, pred = csgraph.dijkstra(
                times, directed=True, indices=chunk, return_predecessors=True
            )
        else:
            pred = np.concatenate([_tree(times, src, limit_s[int(src)]) for src in chunk])
        for row, src in enumerate(chunk):
            for dst in sorted(wanted[int(src)]):
                paths[(int(src), dst)] = _walk(pred[row], int(src), dst)
    return paths


def _tree(times: sparse.csr_matrix, src: int, limit: float) -> np.ndarray:
    """The predecessors (one row) of the fastest paths from ``src`` up to ``limit`` seconds."""
    _, pred = csgraph.dijkstra(
        times, directed=True, indices=[int(src)], return_predecessors=True, limit=limit
    )
    return pred


def _walk(pred: np.ndarray, src: int, dst: int) -> list[int]:
    """Nodes from ``src`` to ``dst`` by following ``dst``'s predecessors back."""
    path = [dst]
    while path[-1] != src:
        prev = int(pred[path[-1]])
        if prev < 0:
            return []
        path.append(prev)
    return path[::-1]


def route_geometry(
    graph: RoadGraph,
    node_path: list[int],
    *,
    start: tuple[float, float] | None = None,
    end: tuple[float, float] | None = None,
) -> LineString:
    """A road path as a line through its nodes, in the graph's metric CRS.

    Parameters
    ----------
    graph
        The road graph.
    node_path
        Graph nodes in driving order (from :func:`leg_paths`).
    start, end
        Points joined to the first and last node by a straight access leg.

    Returns
    -------
    LineString
        The path (a zero-length line when it has one position only).
    """
    coords = [start] if start is not None else []
    coords += [(float(graph.x[v]), float(graph.y[v])) for v in node_path]
    if end is not None:
        coords.append(end)
    dedup = [c for k, c in enumerate(coords) if k == 0 or c != coords[k - 1]]
    if len(dedup) == 1:
        dedup.append(dedup[0])
    return LineString(dedup)
