"""Every county's OSM layers from one read: the same layers as read_osm on the extract."""

from __future__ import annotations

import numpy as np
import osmium
import pytest
import shapely

from planner.ingest.osm import read_osm
from planner.ingest.osm_classify import ReadOptions
from planner.ingest.osm_collect import collect_osm
from planner.ingest.osm_layers import write_layers
from planner.ingest.osm_refs import WayRefs
from tests.test_osm_split import INNER, PBF

needs_pbf = pytest.mark.skipif(
    not PBF.is_file(), reason=f"real OSM extract not found at {PBF} (../shared is absent)"
)
# INNER: the inner boxes of tests/test_osm_split.py; layers are collected with the same
# 0.01 degree margin as the pieces there
OPTIONS = [
    ReadOptions(),
    ReadOptions(buildings=True, extra_highways=("track",), poi_keys=("tourism", "leisure")),
]
LAYERS = ("pois", "places", "substations", "power_lines", "chargers", "power_points")


def _same(a, b) -> None:
    ra, rb = a.roads, b.roads
    np.testing.assert_array_equal(ra.node_ids, rb.node_ids)
    np.testing.assert_array_equal(ra.lon, rb.lon)
    np.testing.assert_array_equal(ra.lat, rb.lat)
    assert len(ra.way_nodes) == len(rb.way_nodes)
    assert all(np.array_equal(x, y) for x, y in zip(ra.way_nodes, rb.way_nodes, strict=True))
    assert (ra.highway, ra.maxspeed, ra.oneway, ra.names) == (
        rb.highway,
        rb.maxspeed,
        rb.oneway,
        rb.names,
    )
    for layer in (*LAYERS, "buildings"):
        x, y = getattr(a, layer), getattr(b, layer)
        if x is None:
            assert y is None
            continue
        assert list(x.columns) == list(y.columns) and list(x.dtypes) == list(y.dtypes)
        assert x.drop(columns="geometry").equals(y.drop(columns="geometry")), layer
        assert shapely.equals_exact(x.geometry.to_numpy(), y.geometry.to_numpy(), 0).all()


@needs_pbf
def test_layers_read_as_the_whole_extract_within_their_box(tmp_path):
    boxes = {k: (w - 0.01, s - 0.01, e + 0.01, n + 0.01) for k, (w, s, e, n) in INNER.items()}
    collected = collect_osm(PBF, OPTIONS, area=(9.4, 47.0, 9.7, 47.3))
    crossing, counted = 0, {layer: 0 for layer in (*LAYERS, "buildings")}
    for group, options in enumerate(OPTIONS):
        kw = {
            "buildings": options.buildings,
            "extra_highways": options.extra_highways,
            "poi_keys": options.poi_keys,
        }
        for k, inner in INNER.items():
            target = tmp_path / f"{k}-{group}.osm-layers.npz"
            nodes, ways = write_layers(collected, group, boxes[k], target, meta={})
            whole, mine = read_osm(PBF, bbox=inner, **kw), read_osm(target, bbox=inner, **kw)
            _same(whole, mine)
            assert ways >= len(mine.roads.highway) > 0 and nodes > 0
            w, s, e, n = inner
            lon, lat = mine.roads.lon, mine.roads.lat
            crossing += int(((lon < w) | (lon > e) | (lat < s) | (lat > n)).sum())
            for layer in counted:
                frame = getattr(mine, layer)
                counted[layer] += 0 if frame is None else len(frame)
    assert crossing > 20  # roads leave the boxes: their nodes out there came along
    assert all(counted.values()), counted  # every layer was compared on some rows
    with pytest.raises(FileExistsError):  # a layers file is never overwritten
        write_layers(collected, 0, boxes["c00"], tmp_path / "c00-0.osm-layers.npz", meta={})


@pytest.mark.parametrize("chunk", [16 << 20, 64])  # the file parsed at once, or in pieces
def test_way_refs_reads_back_every_node_id_in_order(tmp_path, monkeypatch, chunk):
    monkeypatch.setattr("planner.ingest.osm_refs._CHUNK", chunk)
    ways = [
        [1, 2, 3],
        [-7, 5_000_000_000, 12],
        list(range(100, 400)),
        [9, 9],
    ]
    with WayRefs(tmp_path) as refs:
        for k, nodes in enumerate(ways):
            refs.add(osmium.osm.mutable.Way(id=k + 1, nodes=nodes, tags={"name": "a N n,1"}), 0)
        refs.count = sum(map(len, ways))
        got = refs.ids()
    np.testing.assert_array_equal(got, np.concatenate([np.array(w) for w in ways]))
    (tmp_path / "b").mkdir()
    with WayRefs(tmp_path / "b") as short:  # a count that does not match: an error
        short.add(osmium.osm.mutable.Way(id=1, nodes=[1, 2]), 3)
        with pytest.raises(RuntimeError, match="2 node ids read back, 3 expected"):
            short.ids()


def test_an_empty_layer_is_the_frame_geopandas_builds_for_no_rows():
    import geopandas as gpd
    import pandas as pd

    from planner.ingest.osm_frames import WGS84, frame_of, layer_columns

    for columns in [*layer_columns(("shop", "amenity")).values(), ["name", "geometry"]]:
        got = frame_of({c: [] for c in columns}, [], columns)
        want = gpd.GeoDataFrame(
            {c: [] for c in columns}, geometry=gpd.GeoSeries([], crs=WGS84), crs=WGS84
        )
        pd.testing.assert_frame_equal(got, want)
        assert got.crs == want.crs and got.geometry.name == "geometry" and len(got) == 0
