"""The road graph: speeds from OSM tags and classes, the directed drivable graph.

Each way's segments become edges, both ways unless the way is one-way, at the way's
``maxspeed`` or its class speed; parallel edges keep the fastest, and only the largest
strongly connected part of the graph is kept, so that every node reaches every other.
"""

from __future__ import annotations

import logging
import re

import numpy as np
import pandas as pd
from pyproj import CRS, Transformer
from scipy import sparse
from scipy.sparse import csgraph

from planner.datatypes import RoadGraph, RoadWays

logger = logging.getLogger(__name__)

_MPH = 1.609344
_DEFAULT_SPEED = 30.0


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
    tail, head, speed = _way_edges(roads, speeds_kmh=speeds_kmh, use_maxspeed=use_maxspeed)
    keep = tail != head
    tail, head, speed = tail[keep], head[keep], speed[keep]
    length = np.hypot(x[tail] - x[head], y[tail] - y[head])
    time_s = length / (speed / 3.6)
    # parallel edges: keep the fastest
    edges = pd.DataFrame({"t": tail, "h": head, "len": length, "s": time_s})
    edges = edges.sort_values("s").drop_duplicates(["t", "h"], keep="first")
    tail, head = edges["t"].to_numpy(), edges["h"].to_numpy()
    length, time_s = edges["len"].to_numpy(), edges["s"].to_numpy()
    keep_node, dropped = _largest_component(len(x), tail, head)
    new_index = np.full(len(x), -1)
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


def _way_edges(
    roads: RoadWays, *, speeds_kmh: dict[str, float], use_maxspeed: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Tail, head and speed (km/h) of every way segment, once per allowed direction."""
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
        forward, backward = _directions(hw, ow)
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
    return (
        np.concatenate([t[fw], h[bw]]),
        np.concatenate([h[fw], t[bw]]),
        np.concatenate([sp[fw], sp[bw]]),
    )


def _directions(highway: str, oneway: str | None) -> tuple[bool, bool]:
    """Whether a way may be driven forwards and backwards, from its ``oneway`` tag."""
    ow = (oneway or "").strip().lower()
    forward = ow != "-1"
    backward = ow not in ("yes", "true", "1") and not (
        highway in ("motorway", "motorway_link") and ow != "no"
    )
    if ow == "-1":
        backward = True
    return forward, backward


def _largest_component(n: int, tail: np.ndarray, head: np.ndarray) -> tuple[np.ndarray, int]:
    """Nodes of the largest strongly connected part, and how many used nodes fall outside."""
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
    return keep_node, dropped
