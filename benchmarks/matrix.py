"""Travel-time matrix benchmark: ours against networkx on a demo county graph."""

from __future__ import annotations

import csv
import sys
import time
from pathlib import Path
from typing import TextIO

import numpy as np


def run_matrix(
    nodes: int, origins: int, destinations: int, *, seed: int = 1, out: TextIO = sys.stdout
) -> float:
    """Travel-time matrix on a demo county graph of about ``nodes`` nodes vs networkx.

    Both compute the drive times from ``origins`` to ``destinations`` graph nodes on the
    same directed graph (no cutoff); the results must agree.

    Parameters
    ----------
    nodes
        About how many road nodes the demo county has (its scale follows).
    origins, destinations
        How many graph nodes, drawn at random, to route from and to.
    seed
        Seed of the demo county and of the draw.
    out
        Where the CSV and the ratio go.

    Returns
    -------
    float
        networkx's time over ours, also printed as ``ratio_vs_networkx``.
    """
    import tempfile

    import networkx as nx
    import shapely

    from planner.crs import metric_crs
    from planner.datatypes import Snap
    from planner.demo import build_demo
    from planner.ingest.osm import read_osm
    from planner.network import build_graph, travel_times

    with tempfile.TemporaryDirectory(prefix="planner-bench-") as tmp:
        build_demo(Path(tmp) / "demo", scale=max(0.2, nodes / 5400), seed=seed)
        roads = read_osm(Path(tmp) / "demo" / "qingxi.osm.pbf").roads
    crs = metric_crs(shapely.Point(117.3, 28.3))
    graph = build_graph(roads, crs, speeds_kmh={})
    rng = np.random.default_rng(seed)
    src = rng.choice(graph.n_nodes, size=min(origins, graph.n_nodes), replace=False)
    dst = rng.choice(graph.n_nodes, size=min(destinations, graph.n_nodes), replace=False)
    zero_s, zero_d = np.zeros(len(src)), np.zeros(len(dst))
    t0 = time.perf_counter()
    ours = travel_times(
        graph,
        Snap(src, zero_s, zero_s),
        Snap(dst, zero_d, zero_d),
        cutoff_min=1e9,
        to_sources=False,
    )
    t_ours = time.perf_counter() - t0
    g: nx.DiGraph[int] = nx.DiGraph()
    g.add_weighted_edges_from(
        zip(graph.tail.tolist(), graph.head.tolist(), graph.time_s.tolist(), strict=True)
    )
    t0 = time.perf_counter()
    ref = np.full((len(src), len(dst)), np.inf)
    for k, s in enumerate(src.tolist()):
        dist = nx.single_source_dijkstra_path_length(g, s, weight="weight")
        ref[k] = [dist.get(t, np.inf) for t in dst.tolist()]
    t_nx = time.perf_counter() - t0
    mine = np.full((len(src), len(dst)), np.inf)
    mine[ours.rows, ours.cols] = ours.minutes * 60.0
    if not np.allclose(mine, ref, rtol=1e-9, atol=1e-6):
        msg = "travel times differ from networkx's"
        raise AssertionError(msg)
    writer = csv.writer(out)
    writer.writerow(("graph_nodes", "graph_edges", "origins", "destinations", "method", "seconds"))
    for method, secs in (("planner", t_ours), ("networkx", t_nx)):
        writer.writerow((graph.n_nodes, graph.n_edges, len(src), len(dst), method, f"{secs:.3f}"))
    ratio = t_nx / max(t_ours, 1e-9)
    print("results equal: yes", file=out)
    print(f"ratio_vs_networkx: {ratio:.1f}", file=out)
    return ratio
