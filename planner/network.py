"""Snapping and sparse travel-time matrices on the road graph.

Travel times come from one Dijkstra per distinct source node with
:func:`scipy.sparse.csgraph.dijkstra` and a cutoff, run from the candidates: on the
reversed graph for demand-to-station times, on the graph itself for repair response
times. A point reaches its graph node by an off-road leg at ``access_speed_kmh``. Sources
are batched by the square tiles of the cutoff's straight-line reach, and each batch runs
on the nodes within that reach of it (:func:`reach_radius`): the same times, without
SciPy filling a row over the whole county's graph for every source.
"""

from __future__ import annotations

import logging
import multiprocessing
import sys
from concurrent.futures import ProcessPoolExecutor
from typing import NamedTuple, TypedDict

import geopandas as gpd
import numpy as np
from scipy import sparse
from scipy.sparse import csgraph
from scipy.spatial import cKDTree

from planner.config import NetworkSection
from planner.datatypes import RoadGraph, Snap, SparseTimes, TravelTimes
from planner.errors import DataError
from planner.roadgraph import build_graph as build_graph
from planner.roadgraph import parse_maxspeed as parse_maxspeed

logger = logging.getLogger(__name__)

#: Cells of a Dijkstra batch (sources x nodes) kept in memory at once.
_BATCH_CELLS = 20_000_000
#: Sources x nodes from which the Dijkstra uses several processes (when given).
PARALLEL_MIN_CELLS = 10_000_000


def snap_points(
    graph: RoadGraph,
    points: gpd.GeoSeries,
    *,
    access_speed_kmh: float,
    max_snap_m: float | None = None,
    label: str = "points",
) -> Snap:
    """Attach points to their nearest graph node.

    Parameters
    ----------
    graph
        The road graph.
    points
        Point geometries in the graph's metric CRS.
    access_speed_kmh
        Speed of the off-road leg.
    max_snap_m
        Points farther than this from any node are counted and logged (they keep their
        long access leg, so they are rarely in reach).
    label
        What the points are, for the log.

    Returns
    -------
    Snap
        Node index, access time (s) and distance (m) per point.
    """
    tree = cKDTree(np.column_stack([graph.x, graph.y]))
    xy = np.column_stack([points.x.to_numpy(), points.y.to_numpy()])
    found = tree.query(xy)
    dist, node = np.asarray(found[0]), np.asarray(found[1])  # arrays for a 2-D query
    if max_snap_m is not None:
        far = int((dist > max_snap_m).sum())
        if far:
            logger.warning(
                "%d %s are more than %.0f m from a drivable road", far, label, max_snap_m
            )
    return Snap(
        node=node.astype(np.int64), access_s=dist / (access_speed_kmh / 3.6), distance_m=dist
    )


def _csr(graph: RoadGraph, *, reverse: bool) -> sparse.csr_matrix:
    n = graph.n_nodes
    t, h = (graph.head, graph.tail) if reverse else (graph.tail, graph.head)
    return sparse.csr_matrix((graph.time_s, (t, h)), shape=(n, n))


def travel_times(
    graph: RoadGraph,
    sources: Snap,
    targets: Snap,
    *,
    cutoff_min: float,
    to_sources: bool,
    workers: int = 1,
    parallel_min_cells: int = PARALLEL_MIN_CELLS,
) -> SparseTimes:
    """Drive times between sources and targets within a cutoff.

    Parameters
    ----------
    graph
        The road graph.
    sources
        Snapped points that Dijkstra runs from (one run per distinct node).
    targets
        Snapped points read off each run.
    cutoff_min
        Pairs slower than this are left out.
    to_sources
        True: time from each target to each source (run on the reversed graph).
        False: time from each source to each target.
    workers
        Processes that share out the sources (as osmnx's ``cpus``); 1 runs in this
        process, as it must inside a daemonic worker (a dask or multiprocessing pool).
    parallel_min_cells
        The workers are used only from this many sources x road nodes on.

    Returns
    -------
    SparseTimes
        Rows are targets and columns sources when ``to_sources``; rows sources and
        columns targets otherwise. Times include both access legs.
    """
    cutoff_s = cutoff_min * 60.0
    mat = _csr(graph, reverse=to_sources)
    src_nodes, src_inverse = np.unique(sources.node, return_inverse=True)
    # each run is read at the distinct target nodes only (10^5 demand points share nodes)
    tgt_nodes, tgt_inverse = np.unique(targets.node, return_inverse=True)
    batch = max(1, _BATCH_CELLS // max(graph.n_nodes, len(tgt_nodes), 1))
    workers = _workers(workers, len(src_nodes) * graph.n_nodes, parallel_min_cells)
    if workers > 1:
        batch = min(batch, -(-len(src_nodes) // workers))  # memory stays bounded per batch
    radius = reach_radius(graph, cutoff_s)
    local = None if radius is None else _Local(graph.x, graph.y, radius)
    chunks = _chunks(graph.x[src_nodes], graph.y[src_nodes], radius, batch)
    if workers > 1:
        # Dijkstra holds the GIL: spread the sources over processes
        ctx = multiprocessing.get_context("fork" if sys.platform == "linux" else "spawn")
        with ProcessPoolExecutor(
            workers,
            mp_context=ctx,
            initializer=_init_worker,
            initargs=(mat, tgt_nodes, cutoff_s, local),
        ) as pool:
            parts = list(pool.map(_dijkstra_part, [src_nodes[c] for c in chunks]))
    else:
        parts = [_reach(mat, src_nodes[c], tgt_nodes, cutoff_s, local) for c in chunks]
    node_rows = np.concatenate([c[r] for (r, _, _), c in zip(parts, chunks, strict=True)])
    node_cols = np.concatenate([c for _, c, _ in parts])
    node_secs = np.concatenate([v for _, _, v in parts])
    order = np.lexsort((node_cols, node_rows))  # by source, then target, whatever the batches
    node_rows, node_cols, node_secs = node_rows[order], node_cols[order], node_secs[order]
    # expand distinct target nodes, then distinct source nodes, to the points on them
    pair, tgt_idx = _expand(node_cols, tgt_inverse, len(tgt_nodes))
    node_rows, node_secs = node_rows[pair], node_secs[pair]
    pair, src_idx = _expand(node_rows, src_inverse, len(src_nodes))
    tgt_idx, node_secs = tgt_idx[pair], node_secs[pair]
    total = node_secs + sources.access_s[src_idx] + targets.access_s[tgt_idx]
    ok = total <= cutoff_s
    src_idx, tgt_idx, minutes = src_idx[ok], tgt_idx[ok], total[ok] / 60.0
    if to_sources:
        return SparseTimes(tgt_idx, src_idx, minutes, (len(targets.node), len(sources.node)))
    return SparseTimes(src_idx, tgt_idx, minutes, (len(sources.node), len(targets.node)))


def _expand(keys: np.ndarray, inverse: np.ndarray, n_keys: int) -> tuple[np.ndarray, np.ndarray]:
    """Every point on each pair's distinct node.

    Parameters
    ----------
    keys
        The distinct node (an index into the distinct nodes) of each pair.
    inverse
        The distinct node of each point (``np.unique(..., return_inverse=True)``).
    n_keys
        How many distinct nodes there are.

    Returns
    -------
    pair, point
        For each (pair, point on its node): the pair's index and the point's, pairs in
        order and points in their order within a pair.
    """
    order = np.argsort(inverse, kind="stable")
    per_key = np.bincount(inverse, minlength=n_keys)
    first = np.concatenate([[0], np.cumsum(per_key)[:-1]])
    reps = per_key[keys]
    pair = np.repeat(np.arange(len(keys)), reps)
    return pair, order[np.repeat(first[keys], reps) + _ranges(reps)]


class _Local(NamedTuple):
    """Node coordinates and how far a path within the cutoff can go (straight line, m)."""

    x: np.ndarray
    y: np.ndarray
    radius: float


class _WorkerState(TypedDict, total=False):
    """What :func:`_init_worker` hands each worker process."""

    mat: sparse.csr_matrix
    tgt: np.ndarray
    cutoff: float
    local: _Local | None


_worker_state: _WorkerState = {}


def _workers(workers: int, cells: int, min_cells: int) -> int:
    """Processes for a Dijkstra of ``cells`` sources x nodes: 1 when small or daemonic."""
    if workers <= 1 or cells < min_cells:
        return 1
    if multiprocessing.current_process().daemon:
        logger.warning(
            "travel times: %d workers asked for in a daemonic process, which cannot start "
            "processes; running with 1",
            workers,
        )
        return 1
    return workers


def reach_radius(graph: RoadGraph, cutoff_s: float) -> float | None:
    """How far from its source, in a straight line, a path within ``cutoff_s`` can go.

    The cutoff times the graph's fastest straight-line speed over one edge (an edge moves
    no farther than its length): every node of such a path lies within this distance of
    the source. None when an edge moves in no time (no bound).
    """
    dx = graph.x[graph.head] - graph.x[graph.tail]
    dist = np.hypot(dx, graph.y[graph.head] - graph.y[graph.tail])
    t = np.asarray(graph.time_s, dtype=float)
    if np.any((t <= 0) & (dist > 0)):
        return None
    moving = t > 0
    speed = float((dist[moving] / t[moving]).max()) if moving.any() else 0.0
    return cutoff_s * speed * (1 + 1e-9) + 1.0  # metres, with room for round-off


def _chunks(x: np.ndarray, y: np.ndarray, radius: float | None, batch: int) -> list[np.ndarray]:
    """The sources (positions) in batches of at most ``batch``: with a radius, those of one
    square tile of that side together, so each batch's local graph is small."""
    n = len(x)
    if radius is None or n == 0:
        return [np.arange(s, min(s + batch, n)) for s in range(0, n, batch)]
    tx = np.floor((x - x.min()) / max(radius, 1.0)).astype(np.int64)
    ty = np.floor((y - y.min()) / max(radius, 1.0)).astype(np.int64)
    order = np.lexsort((np.arange(n), ty, tx))
    tile = tx[order] * (int(ty.max()) + 1) + ty[order]
    cuts = np.flatnonzero(np.diff(tile)) + 1
    out = []
    for part in np.split(order, cuts):
        out += [part[s : s + batch] for s in range(0, len(part), batch)]
    return out


def _reach(
    mat: sparse.csr_matrix,
    chunk: np.ndarray,
    tgt_nodes: np.ndarray,
    cutoff_s: float,
    local: _Local | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Finite (row, target, seconds) triplets of one batch of sources.

    With ``local``, the Dijkstra runs on the nodes within its radius of the batch's box
    (every path within the cutoff stays there, so the times are the same): SciPy's
    Dijkstra fills a row over every node for each source, which at 757,701 nodes took
    most of the network stage. A box holding more than half the nodes runs on them all.
    """
    n = mat.shape[0]
    if local is not None and len(chunk):
        x, y, radius = local
        cx, cy = x[chunk], y[chunk]
        inside = (x >= cx.min() - radius) & (x <= cx.max() + radius)
        inside &= (y >= cy.min() - radius) & (y <= cy.max() + radius)
        keep = np.flatnonzero(inside)
        if len(keep) <= n // 2:
            at = np.full(n, -1, dtype=np.int64)
            at[keep] = np.arange(len(keep))
            sub_graph = mat[keep][:, keep]
            dist = csgraph.dijkstra(sub_graph, directed=True, indices=at[chunk], limit=cutoff_s)
            near = np.flatnonzero(inside[tgt_nodes])
            sub = dist[:, at[tgt_nodes[near]]]
            r, c = np.nonzero(np.isfinite(sub))
            return r, near[c], sub[r, c]
    dist = csgraph.dijkstra(mat, directed=True, indices=chunk, limit=cutoff_s)
    sub = dist[:, tgt_nodes]  # (chunk, n_targets)
    r, c = np.nonzero(np.isfinite(sub))
    return r, c, sub[r, c]


def _init_worker(
    mat: sparse.csr_matrix, tgt_nodes: np.ndarray, cutoff_s: float, local: _Local | None
) -> None:
    _worker_state.update({"mat": mat, "tgt": tgt_nodes, "cutoff": cutoff_s, "local": local})


def _dijkstra_part(chunk: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    s = _worker_state
    return _reach(s["mat"], chunk, s["tgt"], s["cutoff"], s.get("local"))


def _ranges(counts: np.ndarray) -> np.ndarray:
    """Concatenated ``arange(c)`` for each count."""
    if len(counts) == 0:
        return np.zeros(0, dtype=np.int64)
    ends = np.cumsum(counts)
    return np.arange(ends[-1]) - np.repeat(ends - counts, counts)


def compute_travel_times(
    graph: RoadGraph,
    demand: gpd.GeoDataFrame,
    candidates: gpd.GeoDataFrame,
    villages: gpd.GeoDataFrame,
    *,
    network: NetworkSection,
    station_cutoff_min: float,
    repair_response_min: float,
) -> TravelTimes:
    """All travel-time matrices the models need.

    Parameters
    ----------
    graph
        The road graph.
    demand, candidates, villages
        Points in the graph's CRS.
    network
        Access speed, snapping limits and the Dijkstra's ``workers``.
    station_cutoff_min
        Cutoff of the demand-to-candidate matrix.
    repair_response_min
        Cutoff of the candidate-to-village and candidate-to-candidate matrices.

    Returns
    -------
    TravelTimes
        The three sparse matrices.
    """
    if len(candidates) == 0:
        msg = "no candidate sites: no outlet of the configured classes lies in the county"
        raise DataError(msg)
    kw = {"access_speed_kmh": network.access_speed_kmh, "max_snap_m": network.max_snap_m}
    d_snap = snap_points(graph, demand.geometry, label="demand points", **kw)
    c_snap = snap_points(graph, candidates.geometry, label="candidates", **kw)
    v_snap = snap_points(graph, villages.geometry, label="villages", **kw)
    far = int((d_snap.distance_m > network.max_snap_m).sum())
    far += int((c_snap.distance_m > network.max_snap_m).sum())
    far += int((v_snap.distance_m > network.max_snap_m).sum())
    par = {"workers": network.workers, "parallel_min_cells": network.parallel_min_cells}
    return TravelTimes(
        demand_to_candidate=travel_times(
            graph, c_snap, d_snap, cutoff_min=station_cutoff_min, to_sources=True, **par
        ),
        candidate_to_village=travel_times(
            graph, c_snap, v_snap, cutoff_min=repair_response_min, to_sources=False, **par
        ),
        candidate_to_candidate=travel_times(
            graph, c_snap, c_snap, cutoff_min=repair_response_min, to_sources=False, **par
        ),
        villages=villages,
        graph_nodes=graph.n_nodes,
        graph_edges=graph.n_edges,
        unsnapped=far,
    )
