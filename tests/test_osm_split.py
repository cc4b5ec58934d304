"""The single-read splitter on a real extract: ways that cross a piece's edge stay whole."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import osmium
import pytest

from planner.ingest.osm import read_osm
from planner.ingest.osm_split import split_osm

REPO = Path(__file__).resolve().parents[1]
PBF = REPO.parent / "shared" / "data" / "osm" / "liechtenstein-2021-10.osm.pbf"

pytestmark = pytest.mark.skipif(
    not PBF.is_file(), reason=f"real OSM extract not found at {PBF} (../shared is absent)"
)

#: Inner boxes (a county's box as the county ingest reads it) on a 3 x 2 grid over
#: Vaduz, Schaan and the Rhine valley; pieces are split with a 0.01 degree margin.
_W, _S, _E, _N = 9.47, 47.05, 9.62, 47.25
INNER = {
    f"c{i}{j}": (
        _W + (_E - _W) * i / 3,
        _S + (_N - _S) * j / 2,
        _W + (_E - _W) * (i + 1) / 3,
        _S + (_N - _S) * (j + 1) / 2,
    )
    for i in range(3)
    for j in range(2)
}


def test_pieces_read_as_the_whole_extract_within_their_box(tmp_path):
    boxes = {k: (w - 0.01, s - 0.01, e + 0.01, n + 0.01) for k, (w, s, e, n) in INNER.items()}
    targets = {k: tmp_path / f"{k}.osm.pbf" for k in boxes}
    counts = split_osm(PBF, boxes, targets)
    crossing = 0
    for k, inner in INNER.items():
        whole, piece = read_osm(PBF, bbox=inner), read_osm(targets[k], bbox=inner)
        a, b = whole.roads, piece.roads
        np.testing.assert_array_equal(a.node_ids, b.node_ids)
        np.testing.assert_array_equal(a.lon, b.lon)
        np.testing.assert_array_equal(a.lat, b.lat)
        assert all(np.array_equal(x, y) for x, y in zip(a.way_nodes, b.way_nodes, strict=True))
        assert a.highway == b.highway and a.names == b.names
        for layer in ("pois", "places", "substations", "power_lines", "chargers"):
            x, y = getattr(whole, layer), getattr(piece, layer)
            assert x.drop(columns="geometry").equals(y.drop(columns="geometry")), (k, layer)
            assert x.geometry.geom_equals(y.geometry).all(), (k, layer)
        w, s, e, n = boxes[k]
        outside = (a.lon < w) | (a.lon > e) | (a.lat < s) | (a.lat > n)
        crossing += int(outside.sum())
        assert counts[k].ways > 0
    # roads leave the pieces' boxes: their nodes out there came along, on the ways
    assert crossing > 20
    total = sum(1 for o in osmium.FileProcessor(str(PBF)) if o.is_way())
    assert max(c.ways for c in counts.values()) < total / 2  # each piece is a share


def test_an_existing_target_is_never_overwritten(tmp_path):
    target = tmp_path / "mine.osm.pbf"
    target.write_bytes(b"a user's file")
    with pytest.raises(Exception, match="exists"):
        split_osm(PBF, {"a": INNER["c00"]}, {"a": target})
    assert target.read_bytes() == b"a user's file"
