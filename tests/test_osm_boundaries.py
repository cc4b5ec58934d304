"""County and townships from OSM administrative relations (synthetic file built here)."""

import osmium
import pytest
from osmium.osm import mutable

from planner.errors import DataError
from planner.ingest.osm_boundaries import read_osm_boundaries


def write_admin(path):
    """A county r1 (level 6) of two townships r2, r3 (level 8), and a neighbour r4."""
    w = osmium.SimpleWriter(str(path), overwrite=True)
    pts = {  # a 2 x 1 box split in two, plus a box to the east
        1: (117.0, 28.0),
        2: (117.1, 28.0),
        3: (117.2, 28.0),
        4: (117.2, 28.1),
        5: (117.1, 28.1),
        6: (117.0, 28.1),
        7: (117.3, 28.0),
        8: (117.3, 28.1),
    }
    for nid, loc in pts.items():
        w.add_node(mutable.Node(id=nid, location=loc, version=1))
    ways = {
        10: [1, 2, 3, 4, 5, 6, 1],  # county ring
        11: [1, 2, 5, 6, 1],  # west township
        12: [2, 3, 4, 5, 2],  # east township
        13: [3, 7, 8, 4, 3],  # neighbouring township, outside the county
    }
    for wid, nodes in ways.items():
        w.add_way(mutable.Way(id=wid, nodes=nodes, version=1))
    rels = {
        1: (
            10,
            {
                "admin_level": "6",
                "name": "青溪县",
                "name:en": "Qingxi County",
                "alt_name": "Qingxi",
            },
        ),
        2: (11, {"admin_level": "8", "name": "城关镇", "ref": "361199100"}),
        3: (12, {"admin_level": "8", "name": "石塘镇"}),
        4: (13, {"admin_level": "8", "name": "邻县镇"}),
        5: (13, {"admin_level": "6", "name": "Qingxi"}),
    }
    for rid, (way, tags) in rels.items():
        tags = {"type": "boundary", "boundary": "administrative", **tags}
        w.add_relation(
            mutable.Relation(id=rid, members=[("w", way, "outer")], tags=tags, version=1)
        )
    w.close()
    return path


@pytest.mark.parametrize("name", ["青溪县", "qingxi county", "QINGXI COUNTY"])
def test_county_by_any_name(tmp_path, name):
    path = write_admin(tmp_path / "admin.osm.pbf")
    county, towns = read_osm_boundaries(path, county_name=name)
    assert county.crs.to_epsg() == 4326
    assert county.geometry.iloc[0].area == pytest.approx(0.02)
    assert towns["township_name"].tolist() == ["城关镇", "石塘镇"]
    assert towns["township_id"].tolist() == ["361199100", "r3"]  # ref, else relation id


def test_county_by_id_and_errors(tmp_path):
    path = write_admin(tmp_path / "admin.osm.pbf")
    _, towns = read_osm_boundaries(path, county_osm_id=1)
    assert len(towns) == 2
    with pytest.raises(
        DataError,
        match=r"no complete administrative boundary with name "
        r"'Atlantis' \(levels present: \[6, 8\]",
    ):
        read_osm_boundaries(path, county_name="Atlantis")
    with pytest.raises(DataError, match="no admin_level=9"):
        read_osm_boundaries(path, county_osm_id=1, township_admin_level=9)


def test_ambiguous_name(tmp_path):
    path = write_admin(tmp_path / "admin.osm.pbf")
    # r1's alt_name and r5's name are both "Qingxi", both at level 6
    with pytest.raises(
        DataError,
        match=r"2 boundaries match name 'Qingxi': r1 level 6 青溪县; "
        r"r5 level 6 Qingxi.*county_osm_id",
    ):
        read_osm_boundaries(path, county_name="Qingxi")
    _, towns = read_osm_boundaries(path, county_osm_id=5)
    assert towns["township_name"].tolist() == ["邻县镇"]
