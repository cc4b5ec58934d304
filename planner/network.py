"""Road graph, speeds, snapping and sparse travel-time matrices.

Travel times come from one Dijkstra per distinct source node with
:func:`scipy.sparse.csgraph.dijkstra` and a cutoff, run from the candidates: on the
reversed graph for demand-to-station times, on the graph itself for repair response
times. A point reaches its graph node by an off-road leg at ``access_speed_kmh``.
"""

from __future__ import annotations

import logging
import multiprocessing
import re
import sys
from concurrent.futures import ProcessPoolExecutor
from typing import TypedDict

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import CRS, Transformer
from scipy import sparse
from scipy.sparse import csgraph
from scipy.spatial import cKDTree

from planner.config import NetworkSection
from planner.datatypes import RoadGraph, RoadWays, Snap, SparseTimes, TravelTimes
from planner.errors import DataError

logger = logging.getLogger(__name__)

_MPH = 1.609344
_DEFAULT_SPEED = 30.0
#: Cells of a Dijkstra batch (sources x nodes) kept in memory at once.
_BATCH_CELLS = 20_000_000
#: Sources x nodes from which the Dijkstra uses several processes (when given).
PARALLEL_MIN_CELLS = 10_000_000


def parse_maxspeed(value: str | None) -> float | None:
    """Speed in km/h from an OSM ``maxspeed`` tag.

    Parameters
    ----------
    value
        E.g. ``"60"``, ``"40 mph"``, ``"60;80"`` (the lowest is taken), ``"none"``.

    Returns
    -------
    float or None
        km/h, or None when the tag gives no number (``"signals"``, ``"CN:rural"``).
    """
    if not value:
        return None
    speeds = []
    for part in re.split(r"[;|,]", value):
        m = re.match(r"\s*(\d+(?:\.\d+)?)\s*(mph|km/h|kmh|kph)?\s*$", part.strip().lower())
        if m:
            v = float(m.group(1))
            speeds.append(v * _MPH if m.group(2) == "mph" else v)
    speeds = [s for s in speeds if s > 0]
    return min(speeds) if speeds else None


def _class_speed(highway: str, speeds_kmh: dict[str, float]) -> float | None:
    if highway in speeds_kmh:
        return speeds_kmh[highway]
    return speeds_kmh.get(highway.removesuffix("_link"))


def build_graph(
    roads: RoadWays, crs: CRS, *, speeds_kmh: dict[str, float], use_maxspeed: bool = True
) -> RoadGraph:
    """Build the directed drivable graph, keeping its largest strongly connected part.

    Parameters
    ----------
    roads
        Ways as read from OSM.
    crs
        The metric CRS the node coordinates are projected to.
    speeds_kmh
        Speed per highway class where ``maxspeed`` is missing.
    use_maxspeed
        Take ``maxspeed`` tags where they parse; False uses the class speeds only.

    Returns
    -------
    RoadGraph
        Nodes and directed edges with lengths (m) and times (s). Nodes outside the
        largest strongly connected component are dropped (counted in ``dropped_nodes``
        and logged), so that every remaining node can reach every other.
    """
    to_metric = Transformer.from_crs(4326, crs, always_xy=True)
    x, y = to_metric.transform(roads.lon, roads.lat)
    x, y = np.asarray(x), np.asarray(y)
    tails, heads, speeds, fwd_ok, bwd_ok = [], [], [], [], []
    unknown: dict[str, int] = {}
    for nodes, hw, ms, ow in zip(
        roads.way_nodes, roads.highway, roads.maxspeed, roads.oneway, strict=True
    ):
        if len(nodes) < 2:
            continue
        kmh = (parse_maxspeed(ms) if use_maxspeed else None) or _class_speed(hw, speeds_kmh)
        if kmh is None:
            unknown[hw] = unknown.get(hw, 0) + 1
            kmh = _DEFAULT_SPEED
        ow = (ow or "").strip().lower()
        forward = ow != "-1"
        backward = ow not in ("yes", "true", "1") and not (
            hw in ("motorway", "motorway_link") and ow != "no"
        )
        if ow == "-1":
            backward = True
        k = len(nodes) - 1
        tails.append(nodes[:-1])
        heads.append(nodes[1:])
        speeds.append(np.full(k, kmh))
        fwd_ok.append(np.full(k, forward))
        bwd_ok.append(np.full(k, backward))
    if unknown:
        logger.warning(
            "no speed for highway classes %s (%d ways): %.0f km/h used; set network.speeds_kmh",
            sorted(unknown),
            sum(unknown.values()),
            _DEFAULT_SPEED,
        )
    t = np.concatenate(tails)
    h = np.concatenate(heads)
    sp = np.concatenate(speeds)
    fw = np.concatenate(fwd_ok)
    bw = np.concatenate(bwd_ok)
    tail = np.concatenate([t[fw], h[bw]])
    head = np.concatenate([h[fw], t[bw]])
    speed = np.concatenate([sp[fw], sp[bw]])
    keep = tail != head
    tail, head, speed = tail[keep], head[keep], speed[keep]
    length = np.hypot(x[tail] - x[head], y[tail] - y[head])
    time_s = length / (speed / 3.6)
    # parallel edges: keep the fastest
    edges = pd.DataFrame({"t": tail, "h": head, "len": length, "s": time_s})
    edges = edges.sort_values("s").drop_duplicates(["t", "h"], keep="first")
    tail, head = edges["t"].to_numpy(), edges["h"].to_numpy()
    length, time_s = edges["len"].to_numpy(), edges["s"].to_numpy()

    n = len(x)
    adj = sparse.csr_matrix((np.ones(len(tail)), (tail, head)), shape=(n, n))
    n_comp, labels = csgraph.connected_components(adj, directed=True, connection="strong")
    used = np.zeros(n, dtype=bool)
    used[tail] = True
    used[head] = True
    counts = np.bincount(labels[used], minlength=n_comp)
    main = int(np.argmax(counts))
    keep_node = labels == main
    dropped = int(used.sum() - keep_node.sum())
    if dropped:
        logger.warning(
            "road graph: %d of %d nodes dropped (not in the largest strongly connected part)",
            dropped,
            int(used.sum()),
        )
    new_index = np.full(n, -1)
    new_index[keep_node] = np.arange(int(keep_node.sum()))
    ek = keep_node[tail] & keep_node[head]
    return RoadGraph(
        x=x[keep_node],
        y=y[keep_node],
        osm_ids=roads.node_ids[keep_node],
        tail=new_index[tail[ek]],
        head=new_index[head[ek]],
        length_m=length[ek],
        time_s=time_s[ek],
        dropped_nodes=dropped,
    )


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
    tgt_nodes = targets.node
    batch = max(1, _BATCH_CELLS // max(graph.n_nodes, 1))
    starts = list(range(0, len(src_nodes), batch))
    workers = _workers(workers, len(src_nodes) * graph.n_nodes, parallel_min_cells)
    if workers > 1:
        # Dijkstra holds the GIL: spread the sources over processes
        batch = min(batch, -(-len(src_nodes) // workers))  # memory stays bounded per batch
        starts = list(range(0, len(src_nodes), batch))
        ctx = multiprocessing.get_context("fork" if sys.platform == "linux" else "spawn")
        with ProcessPoolExecutor(
            workers,
            mp_context=ctx,
            initializer=_init_worker,
            initargs=(mat, tgt_nodes, cutoff_s),
        ) as pool:
            parts = list(pool.map(_dijkstra_part, [src_nodes[s : s + batch] for s in starts]))
    else:
        parts = [_reach(mat, src_nodes[s : s + batch], tgt_nodes, cutoff_s) for s in starts]
    rows_s = [r + s for (r, _, _), s in zip(parts, starts, strict=True)]
    cols_t = [c for _, c, _ in parts]
    secs = [v for _, _, v in parts]
    node_rows = np.concatenate(rows_s)
    tgt_cols = np.concatenate(cols_t)
    node_secs = np.concatenate(secs)
    # expand distinct source nodes back to the sources that sit on them
    order = np.argsort(src_inverse, kind="stable")
    per_node = np.bincount(src_inverse, minlength=len(src_nodes))
    first = np.concatenate([[0], np.cumsum(per_node)[:-1]])
    reps = per_node[node_rows]
    src_idx = order[np.repeat(first[node_rows], reps) + _ranges(reps)]
    tgt_idx = np.repeat(tgt_cols, reps)
    total = np.repeat(node_secs, reps) + sources.access_s[src_idx] + targets.access_s[tgt_idx]
    ok = total <= cutoff_s
    src_idx, tgt_idx, minutes = src_idx[ok], tgt_idx[ok], total[ok] / 60.0
    if to_sources:
        return SparseTimes(tgt_idx, src_idx, minutes, (len(targets.node), len(sources.node)))
    return SparseTimes(src_idx, tgt_idx, minutes, (len(sources.node), len(targets.node)))


class _WorkerState(TypedDict, total=False):
    """What :func:`_init_worker` hands each worker process."""

    mat: sparse.csr_matrix
    tgt: np.ndarray
    cutoff: float


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


def _reach(
    mat: sparse.csr_matrix, chunk: np.ndarray, tgt_nodes: np.ndarray, cutoff_s: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Finite (row, target, seconds) triplets of one batch of sources."""
    dist = csgraph.dijkstra(mat, directed=True, indices=chunk, limit=cutoff_s)
    sub = dist[:, tgt_nodes]  # (chunk, n_targets)
    r, c = np.nonzero(np.isfinite(sub))
    return r, c, sub[r, c]


def _init_worker(mat: sparse.csr_matrix, tgt_nodes: np.ndarray, cutoff_s: float) -> None:
    _worker_state.update({"mat": mat, "tgt": tgt_nodes, "cutoff": cutoff_s})


def _dijkstra_part(chunk: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    s = _worker_state
    return _reach(s["mat"], chunk, s["tgt"], s["cutoff"])


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
