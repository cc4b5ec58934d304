import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
import shapely
from pyproj import CRS, Transformer

from planner import network
from planner.datatypes import RoadWays
from planner.network import build_graph, parse_maxspeed, snap_points, travel_times

CRS_M = CRS.from_epsg(4548)
SPEEDS = {"primary": 60, "tertiary": 30, "residential": 20}
TO_LONLAT = Transformer.from_crs(CRS_M, 4326, always_xy=True)
X0, Y0 = 500_000.0, 3_130_000.0


def ways(nodes: dict[int, tuple[float, float]], spec: list[tuple[list[int], dict]]) -> RoadWays:
    """RoadWays from node coordinates in metres (relative to X0, Y0) and way specs."""
    ids = np.array(sorted(nodes), dtype=np.int64)
    xy = np.array([nodes[i] for i in ids]) + np.array([X0, Y0])
    lon, lat = TO_LONLAT.transform(xy[:, 0], xy[:, 1])
    index = {int(n): k for k, n in enumerate(ids)}
    return RoadWays(
        node_ids=ids,
        lon=np.asarray(lon),
        lat=np.asarray(lat),
        way_nodes=[np.array([index[n] for n in w]) for w, _ in spec],
        highway=[t["highway"] for _, t in spec],
        maxspeed=[t.get("maxspeed") for _, t in spec],
        oneway=[t.get("oneway") for _, t in spec],
        names=[None for _ in spec],
    )


@pytest.mark.parametrize(
    ("tag", "kmh"),
    [
        ("60", 60),
        ("40 mph", 64.37376),
        ("60;80", 60),
        ("30 km/h", 30),
        ("none", None),
        ("CN:rural", None),
        (None, None),
        ("signals", None),
    ],
)
def test_parse_maxspeed(tag, kmh):
    got = parse_maxspeed(tag)
    assert (got is None and kmh is None) or got == pytest.approx(kmh)


def test_speeds_oneway_and_dropped_nodes():
    # 0 -1000m- 1 -1000m- 2 ; 2 -> 3 one-way spur (3 cannot get back: dropped)
    nodes = {1: (0, 0), 2: (1000, 0), 3: (2000, 0), 4: (2000, 500)}
    roads = ways(
        nodes,
        [
            ([1, 2], {"highway": "primary"}),  # 60 km/h -> 60 s
            ([2, 3], {"highway": "tertiary", "maxspeed": "20"}),  # maxspeed wins -> 180 s
            ([3, 4], {"highway": "residential", "oneway": "yes"}),
        ],
    )
    g = build_graph(roads, CRS_M, speeds_kmh=SPEEDS)
    assert g.n_nodes == 3 and g.dropped_nodes == 1
    times = {
        (int(g.osm_ids[t]), int(g.osm_ids[h])): s
        for t, h, s in zip(g.tail, g.head, g.time_s, strict=True)
    }
    assert times[(1, 2)] == pytest.approx(60, rel=1e-3)
    assert times[(2, 3)] == pytest.approx(180, rel=1e-3)
    assert times[(3, 2)] == pytest.approx(180, rel=1e-3)


def test_oneway_ring_stays_connected_and_is_directed():
    sq = {1: (0, 0), 2: (1000, 0), 3: (1000, 1000), 4: (0, 1000)}
    roads = ways(sq, [([1, 2, 3, 4, 1], {"highway": "tertiary", "oneway": "yes"})])
    g = build_graph(roads, CRS_M, speeds_kmh=SPEEDS)
    assert g.n_nodes == 4 and g.n_edges == 4 and g.dropped_nodes == 0
    pts = gpd.GeoSeries([shapely.Point(X0, Y0), shapely.Point(X0 + 1000, Y0)], crs=CRS_M)
    snap = snap_points(g, pts, access_speed_kmh=15)
    src = type(snap)(snap.node[:1], snap.access_s[:1], snap.distance_m[:1])
    tgt = type(snap)(snap.node[1:], snap.access_s[1:], snap.distance_m[1:])
    # node 1 -> node 2 is one edge (2 min at 30 km/h); back is three edges (6 min)
    out = travel_times(g, src, tgt, cutoff_min=60, to_sources=False)
    back = travel_times(g, src, tgt, cutoff_min=60, to_sources=True)
    assert out.minutes[0] == pytest.approx(2.0, rel=1e-3)
    assert back.minutes[0] == pytest.approx(6.0, rel=1e-3)
    # the cutoff leaves the slow direction out
    assert len(travel_times(g, src, tgt, cutoff_min=5, to_sources=True).minutes) == 0


def test_access_leg_is_added():
    nodes = {1: (0, 0), 2: (1000, 0)}
    g = build_graph(ways(nodes, [([1, 2], {"highway": "primary"})]), CRS_M, speeds_kmh=SPEEDS)
    pts = gpd.GeoSeries([shapely.Point(X0, Y0 - 250), shapely.Point(X0 + 1000, Y0)], crs=CRS_M)
    snap = snap_points(g, pts, access_speed_kmh=15)
    assert snap.distance_m[0] == pytest.approx(250)
    src = type(snap)(snap.node[:1], snap.access_s[:1], snap.distance_m[:1])
    tgt = type(snap)(snap.node[1:], snap.access_s[1:], snap.distance_m[1:])
    t = travel_times(g, src, tgt, cutoff_min=10, to_sources=False)
    assert t.minutes[0] == pytest.approx(1.0 + 1.0, rel=1e-3)  # 60 s drive + 250 m at 15 km/h


def test_matches_networkx_on_a_random_graph():
    rng = np.random.default_rng(7)
    n = 300
    pos = rng.uniform(0, 20_000, size=(n, 2))
    tri = shapely.delaunay_triangles(shapely.MultiPoint(pos), only_edges=True)
    index = {tuple(np.round(p, 6)): i for i, p in enumerate(pos)}
    spec = []
    for line in shapely.get_parts(tri):
        a, b = (index[tuple(np.round(c, 6))] + 1 for c in line.coords)
        tags = {"highway": ["primary", "tertiary", "residential"][rng.integers(3)]}
        if rng.random() < 0.1:
            tags["oneway"] = "yes"
        spec.append(([a, b], tags))
    g = build_graph(
        ways({i + 1: tuple(p) for i, p in enumerate(pos)}, spec), CRS_M, speeds_kmh=SPEEDS
    )
    nxg = nx.DiGraph()
    for t, h, s in zip(g.tail, g.head, g.time_s, strict=True):
        nxg.add_edge(int(t), int(h), weight=float(s))
    pts = gpd.GeoSeries(gpd.points_from_xy(g.x, g.y), crs=CRS_M)
    snap = snap_points(g, pts, access_speed_kmh=15)
    src_idx = rng.choice(g.n_nodes, 12, replace=False)
    src = type(snap)(snap.node[src_idx], snap.access_s[src_idx], snap.distance_m[src_idx])
    cutoff = 12.0
    res = travel_times(g, src, snap, cutoff_min=cutoff, to_sources=True)
    got = {(int(r), int(c)): m for r, c, m in zip(res.rows, res.cols, res.minutes, strict=True)}
    expected = {}
    for k, s in enumerate(src_idx):
        dist = nx.single_source_dijkstra_path_length(
            nxg.reverse(copy=False), int(s), weight="weight"
        )
        for node, sec in dist.items():
            if sec <= cutoff * 60:
                expected[(node, k)] = sec / 60
    assert got.keys() == expected.keys()
    for key, val in expected.items():
        assert got[key] == pytest.approx(val, abs=1e-9)


def test_parallel_dijkstra_matches_serial():
    rng = np.random.default_rng(2)
    pos = rng.uniform(0, 10_000, size=(120, 2))
    tri = shapely.delaunay_triangles(shapely.MultiPoint(pos), only_edges=True)
    index = {tuple(np.round(p, 6)): i + 1 for i, p in enumerate(pos)}
    spec = [
        ([index[tuple(np.round(c, 6))] for c in line.coords], {"highway": "tertiary"})
        for line in shapely.get_parts(tri)
    ]
    g = build_graph(
        ways({i + 1: tuple(p) for i, p in enumerate(pos)}, spec), CRS_M, speeds_kmh=SPEEDS
    )
    pts = gpd.GeoSeries(gpd.points_from_xy(g.x, g.y), crs=CRS_M)
    snap = snap_points(g, pts, access_speed_kmh=15)
    serial = travel_times(g, snap, snap, cutoff_min=8, to_sources=True, workers=1)
    parallel = travel_times(
        g, snap, snap, cutoff_min=8, to_sources=True, workers=2, parallel_min_cells=0
    )
    a = sorted(zip(serial.rows, serial.cols, serial.minutes, strict=True))
    b = sorted(zip(parallel.rows, parallel.cols, parallel.minutes, strict=True))
    assert a == b and len(a) > 0


def test_unknown_class_speed_is_reported(caplog):
    nodes = {1: (0, 0), 2: (1000, 0)}
    g = build_graph(ways(nodes, [([1, 2], {"highway": "track"})]), CRS_M, speeds_kmh=SPEEDS)
    assert g.time_s[0] == pytest.approx(1000 / (30 / 3.6))
    assert "no speed for highway classes ['track'] (1 ways)" in caplog.text


def test_a_daemonic_process_runs_the_dijkstra_in_itself(monkeypatch, caplog):
    import planner.network as net

    class Daemon:
        daemon = True

    assert net._workers(2, 100, 0) == 2
    assert net._workers(2, 100, 101) == 1  # below the threshold
    monkeypatch.setattr(net.multiprocessing, "current_process", Daemon)
    assert net._workers(2, 100, 0) == 1
    assert "daemonic process" in caplog.text


def _delaunay_roads(rng, n, side_m):
    """A road graph on the Delaunay edges of ``n`` random points in a square."""
    pos = rng.uniform(0, side_m, size=(n, 2))
    tri = shapely.delaunay_triangles(shapely.MultiPoint(pos), only_edges=True)
    index = {tuple(np.round(p, 6)): i + 1 for i, p in enumerate(pos)}
    spec = []
    for line in shapely.get_parts(tri):
        tags = {"highway": ["primary", "tertiary", "residential"][rng.integers(3)]}
        if rng.random() < 0.1:
            tags["oneway"] = "yes"
        spec.append(([index[tuple(np.round(c, 6))] for c in line.coords], tags))
    return build_graph(
        ways({i + 1: tuple(p) for i, p in enumerate(pos)}, spec), CRS_M, speeds_kmh=SPEEDS
    )


@pytest.mark.parametrize("to_sources", [True, False])
@pytest.mark.parametrize("workers", [1, 2])
def test_local_dijkstra_on_a_wide_county_matches_networkx(to_sources, workers, monkeypatch):
    """A county far wider than the cutoff reaches: each batch of sources runs on the nodes
    within reach of its tile (forced on, checked), with networkx's times over the whole
    graph, both directions, in this process and in workers."""
    rng = np.random.default_rng(11)
    g = _delaunay_roads(rng, 600, 60_000)
    sizes = []
    dijkstra = network.csgraph.dijkstra
    monkeypatch.setattr(
        network.csgraph,
        "dijkstra",
        lambda m, **kw: sizes.append(m.shape[0]) or dijkstra(m, **kw),
    )
    pts = gpd.GeoSeries(gpd.points_from_xy(g.x, g.y), crs=CRS_M)
    snap = snap_points(g, pts, access_speed_kmh=15)
    src_idx = np.sort(rng.choice(g.n_nodes, 60, replace=False))
    src = type(snap)(snap.node[src_idx], snap.access_s[src_idx], snap.distance_m[src_idx])
    cutoff = 5.0
    res = travel_times(
        g,
        src,
        snap,
        cutoff_min=cutoff,
        to_sources=to_sources,
        workers=workers,
        parallel_min_cells=0,
    )
    nxg = nx.DiGraph()
    for t, h, s in zip(g.tail, g.head, g.time_s, strict=True):
        nxg.add_edge(int(t), int(h), weight=float(s))
    walk = nxg.reverse(copy=False) if to_sources else nxg
    expected = {}
    for k, s in enumerate(src_idx):
        for node, sec in nx.single_source_dijkstra_path_length(
            walk, int(s), weight="weight"
        ).items():
            if sec <= cutoff * 60:
                expected[(node, k) if to_sources else (k, node)] = sec / 60
    got = {(int(r), int(c)): m for r, c, m in zip(res.rows, res.cols, res.minutes, strict=True)}
    assert got.keys() == expected.keys() and len(got) > 60
    for key, val in expected.items():
        assert got[key] == pytest.approx(val, abs=1e-9)
    if workers == 1:  # the workers' calls are not seen here
        assert sizes and max(sizes) < g.n_nodes // 2
    # the same pairs in the same order as the Dijkstra over the whole graph gives
    monkeypatch.setattr(network, "reach_radius", lambda *a: None)
    whole = travel_times(g, src, snap, cutoff_min=cutoff, to_sources=to_sources)
    assert np.array_equal(res.rows, whole.rows) and np.array_equal(res.cols, whole.cols)
    assert np.allclose(res.minutes, whole.minutes, rtol=0, atol=1e-12)


def test_reach_radius_bounds_every_path_within_the_cutoff():
    """Every node a path within the cutoff reaches lies within the radius of its source."""
    rng = np.random.default_rng(5)
    g = _delaunay_roads(rng, 300, 30_000)
    cutoff_s = 240.0
    radius = network.reach_radius(g, cutoff_s)
    assert radius is not None
    nxg = nx.DiGraph()
    for t, h, s in zip(g.tail, g.head, g.time_s, strict=True):
        nxg.add_edge(int(t), int(h), weight=float(s))
    for s in rng.choice(g.n_nodes, 20, replace=False):
        near = nx.single_source_dijkstra_path_length(nxg, int(s), cutoff=cutoff_s, weight="weight")
        far = max(np.hypot(g.x[v] - g.x[s], g.y[v] - g.y[s]) for v in near)
        assert far <= radius
