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
    them. Pointer jumping: every node adds its parent's length to the root and jumps to
    its grandparent, until every node points at the root (log2(depth) rounds).
    """
    rows, n = pred.shape
    nodes = np.arange(n)
    reached = pred >= 0
    parent = np.where(reached, pred, nodes[None, :])
    acc = np.zeros(pred.shape)
    r, v = np.nonzero(reached)
    acc[r, v] = _edge_lengths(graph, pred[r, v], v)
    offset = (np.arange(rows) * n)[:, None]
    flat_parent = (parent + offset).ravel()
    flat_acc = acc.ravel()
    while True:
        grand = flat_parent[flat_parent]
        if np.array_equal(grand, flat_parent):
            break
        flat_acc = flat_acc + flat_acc[flat_parent] * (flat_parent != np.arange(flat_parent.size))
        flat_parent = grand
    out = flat_acc.reshape(rows, n)
    out[~reached] = np.inf
    out[np.arange(rows), sources] = 0.0
    return out


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
    snap = snap_points(
        graph, points, access_speed_kmh=access_speed_kmh, max_snap_m=max_snap_m, label="stops"
    )
    nodes, inverse = np.unique(snap.node, return_inverse=True)
    times = _csr(graph, graph.time_s)
    secs = np.empty((len(nodes), len(nodes)))
    metres = np.empty((len(nodes), len(nodes)))
    batch = max(1, _BATCH_CELLS // max(graph.n_nodes, 1))
    for s in range(0, len(nodes), batch):
        chunk = nodes[s : s + batch]
        dist, pred = csgraph.dijkstra(times, directed=True, indices=chunk, return_predecessors=True)
        secs[s : s + batch] = dist[:, nodes]
        metres[s : s + batch] = _tree_lengths(graph, pred, chunk)[:, nodes]
    seconds = secs[np.ix_(inverse, inverse)] + snap.access_s[:, None] + snap.access_s[None, :]
    dist_m = metres[np.ix_(inverse, inverse)]
    dist_m = dist_m + snap.distance_m[:, None] + snap.distance_m[None, :]
    np.fill_diagonal(seconds, 0.0)
    np.fill_diagonal(dist_m, 0.0)
    return TravelMatrix(
        seconds=seconds,
        metres=dist_m,
        snap=snap,
        x=points.x.to_numpy(dtype=float),
        y=points.y.to_numpy(dtype=float),
    )


def leg_paths(
    graph: RoadGraph, legs: Iterable[tuple[int, int]]
) -> dict[tuple[int, int], list[int]]:
    """The fastest road path of each leg, as node lists from the predecessors.

    Parameters
    ----------
    graph
        The road graph.
    legs
        ``(from_node, to_node)`` pairs of graph nodes.

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
        _, pred = csgraph.dijkstra(times, directed=True, indices=chunk, return_predecessors=True)
        for row, src in enumerate(chunk):
            for dst in sorted(wanted[int(src)]):
                paths[(int(src), dst)] = _walk(pred[row], int(src), dst)
    return paths


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
