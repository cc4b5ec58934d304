"""The grid company's substation layer added to OSM's (planner.ingest.grid_sites)."""

from __future__ import annotations

import geopandas as gpd
import pytest
import shapely

from planner.errors import DataError
from planner.ingest.grid_sites import add_substations

CRS_M = 4548  # CGCS2000 / 3-degree GK CM 117E: metres


def _layer(rows, *, crs=CRS_M):
    """Substations from (osm_id, ref, name, x, y) rows, x and y in metres."""
    return gpd.GeoDataFrame(
        {
            "osm_id": [r[0] for r in rows],
            "ref": [r[1] for r in rows],
            "name": [r[2] for r in rows],
            "voltage_kv": [35.0] * len(rows),
        },
        geometry=[shapely.Point(r[3], r[4]) for r in rows],
        crs=crs,
    ).to_crs(4326)


def test_the_layer_replaces_osm_substations_at_its_sites_or_with_its_ids(caplog):
    osm = _layer(
        [
            ("n1", "QX-35-09", "西坑", 500_000, 4_000_000),
            ("n2", "QX-35-07", "梅岭", 510_000, 4_000_000),
            ("n3", None, "金竹", 520_000, 4_000_000),
            ("n4", "QX-35-01", "石塘", 530_000, 4_000_000),
        ]
    )
    grid = _layer(
        [
            ("g.gpkg#2", "西坑变", "西坑变", 500_120, 4_000_050),  # 130 m from n1
            ("g.gpkg#3", "qx-35-07", "梅岭变", 512_000, 4_000_000),  # n2's id, 2 km off
            ("g.gpkg#4", "新田变", "新田变", 540_000, 4_000_000),  # a new one
        ]
    )
    with caplog.at_level("WARNING"):
        out = add_substations(osm, grid, crs=CRS_M, within_m=300, label="g.gpkg")
    assert out["osm_id"].tolist() == ["n3", "n4", "g.gpkg#2", "g.gpkg#3", "g.gpkg#4"]
    assert out.crs == osm.crs
    assert "2 substations listed earlier (OSM's)" in caplog.text
    assert "QX-35-09 (西坑) by 西坑变" in caplog.text
    assert "QX-35-07 (梅岭) by qx-35-07 (梅岭变)" in caplog.text


def test_zero_distance_keeps_osm_substations_that_only_stand_near(caplog):
    osm = _layer([("n1", "A", "a", 500_000, 4_000_000)])
    grid = _layer([("g#2", "B", "b", 500_010, 4_000_000)])
    out = add_substations(osm, grid, crs=CRS_M, within_m=0, label="g")
    assert out["osm_id"].tolist() == ["n1", "g#2"]


def test_two_substations_with_one_id_in_the_layer_are_refused():
    osm = _layer([("n1", "A", "a", 500_000, 4_000_000)])
    grid = _layer(
        [
            ("g.gpkg#2", "西坑变", "西坑变", 500_000, 4_010_000),
            ("g.gpkg#3", "B", "b", 505_000, 4_000_000),
            ("g.gpkg#4", "西坑变 ", "金竹变", 520_000, 4_000_000),  # 20 km away
        ]
    )
    with pytest.raises(DataError) as err:
        add_substations(osm, grid, crs=CRS_M, within_m=300, label="g.gpkg")
    assert "substation id '西坑变' is given to 2 substations (g.gpkg#2, g.gpkg#4)" in str(err.value)
