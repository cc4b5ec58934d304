"""A way's node locations from osmium's WKB (planner.ingest.osm_ways)."""

from __future__ import annotations

from dataclasses import dataclass

import osmium
import pytest

from planner.ingest.osm_ways import meets_box, way_points

# nodes 1-3 have locations; node 9 is referenced but missing from the file
_OPL = """\
n1 v1 x116.1 y39.1
n2 v1 x116.2 y39.2
n3 v1 x116.3 y39.1
w10 v1 Thighway=primary Nn1,n2,n3
w11 v1 Thighway=primary Nn1
w12 v1 Thighway=primary N
w13 v1 Thighway=primary Nn1,n9
w14 v1 Thighway=primary Nn9
w15 v1 Thighway=primary Nn1,n1
"""


@dataclass
class _Count:
    bad_locations: int = 0


@pytest.fixture()
def ways(tmp_path):
    path = tmp_path / "ways.opl"
    path.write_text(_OPL)
    count = _Count()
    out = {}
    entities = osmium.osm.NODE | osmium.osm.WAY
    for obj in osmium.FileProcessor(str(path), entities).with_locations():
        if not isinstance(obj, osmium.osm.Way):
            continue
        points = way_points(obj, count)
        out[obj.id] = None if points is None else list(points)
    return out, count


def test_points_of_a_way_in_node_order(ways):
    out, _ = ways
    assert out[10] == [116.1, 39.1, 116.2, 39.2, 116.3, 39.1]
    assert out[15] == [116.1, 39.1, 116.1, 39.1]  # two nodes, even the same one


def test_short_ways_are_skipped_and_only_missing_locations_counted(ways):
    out, count = ways
    assert out[11] is None and out[12] is None and out[14] is None  # fewer than 2 nodes
    assert out[13] is None  # node 9 has no location
    assert count.bad_locations == 1  # w13 only: w14 is too short to be a line anyway


@pytest.mark.parametrize(
    ("box", "expected"),
    [
        ((116.0, 39.0, 116.4, 39.3), True),  # all inside
        ((116.15, 39.15, 116.25, 39.25), True),  # only the middle node inside
        ((116.15, 39.0, 116.25, 39.12), False),  # the line crosses, no node inside
        ((117.0, 39.0, 118.0, 40.0), False),  # far away
        ((116.3, 39.1, 116.5, 39.5), True),  # a node on the edge
    ],
)
def test_meets_box_means_a_node_inside(box, expected):
    flat = [116.1, 39.1, 116.2, 39.2, 116.3, 39.1]
    assert meets_box(flat, box) is expected
