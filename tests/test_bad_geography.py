"""Inputs that do not fit the county: stray rows, foreign townships, a partial extract."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import geopandas as gpd
import numpy as np
import osmium
import pandas as pd
import pytest
import shapely
from pyproj import CRS
from shapely.affinity import translate

from planner import columns as C
from planner.config import load_config
from planner.datatypes import RoadWays
from planner.errors import DataError
from planner.ingest.county import load_county
from planner.ingest.coverage import check_extract_covers, check_townships_inside, keep_near
from tests.conftest import PLAN_ONLY_SETS, site_proc

CHARGERS = "qingxi_operator_chargers.csv"
BOUNDARIES = "qingxi_boundaries.gpkg"


def _copy(small: Path, tmp_path: Path) -> Path:
    shutil.copytree(small.parent, tmp_path / "in")
    return tmp_path / "in" / small.name


def _squares(n: int) -> gpd.GeoDataFrame:
    """``n`` unit townships in a row, x from 0 to n (metres as units)."""
    return gpd.GeoDataFrame(
        {C.TOWNSHIP_ID: [f"t{i}" for i in range(n)], C.TOWNSHIP_NAME: [f"镇{i}" for i in range(n)]},
        geometry=[shapely.box(i, 0, i + 1, 1) for i in range(n)],
        crs=4548,
    )


def test_keep_near_names_the_rows_it_leaves_out(caplog):
    area = shapely.box(0, 0, 1, 1)
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy([0.5, 3, 0.2, 9], [0.5, 0, 0.9, 9]))
    with caplog.at_level(logging.WARNING):
        kept = keep_near(pts, area, label="c.csv", role="chargers", distance_m=5000, header=True)
    assert kept.geometry.x.tolist() == [0.5, 0.2]
    assert (
        "c.csv: 2 of 4 chargers lie more than 5000 m outside the county and are left out: "
        "rows 3, 5 (the header is row 1" in caplog.text
    )
    with pytest.raises(DataError, match=r"c.gpkg: none of the 2 chargers lies within 5000 m"):
        keep_near(
            pts.iloc[[1, 3]], area, label="c.gpkg", role="chargers", distance_m=5000, header=False
        )
    same = keep_near(pts.iloc[[0, 2]], area, label="c", role="x", distance_m=1, header=True)
    assert len(same) == 2


def test_townships_outside_the_county_are_named():
    towns = _squares(4)
    county = gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 2.6, 1)], crs=4548)
    # t2 is 60% inside (kept), t3 0% inside
    pattern = (
        r"b.gpkg, layer 'townships': 1 township lies outside "
        r"the county polygon: 镇3 \(t3\), 0% inside"
    )
    with pytest.raises(DataError, match=pattern):
        check_townships_inside(county, towns, "b.gpkg", layer="townships")
    check_townships_inside(county, towns.iloc[:3], "b.gpkg", layer="townships")


def _roads(lon: list[float], lat: list[float]) -> RoadWays:
    n = len(lon)
    return RoadWays(
        node_ids=np.arange(n),
        lon=np.array(lon, dtype=float),
        lat=np.array(lat, dtype=float),
        way_nodes=[np.arange(n)],
        highway=["residential"],
        maxspeed=[None],
        oneway=[None],
        names=[None],
    )


def test_townships_beyond_the_extracts_data_are_named():
    towns = _squares(4).set_crs(4326, allow_override=True)
    # roads in townships 0 and 1 only; township 2 touches their extent (x = 2)
    roads = _roads([0.5, 1.5, 2.0], [0.5, 0.5, 0.5])
    pattern = (
        r"x.pbf: the extract does not cover the county: "
        r"1 of its townships lies outside the extract's data \(lon 0.500-2.000.*镇3 \(t3\)"
    )
    with pytest.raises(DataError, match=pattern):
        check_extract_covers(roads, towns, "x.pbf")
    check_extract_covers(_roads([0.5, 3.5], [0.5, 0.5]), towns, "x.pbf")  # all within the extent
    # a village mapped in township 3 without roads: the extract covers it
    village = gpd.GeoDataFrame(geometry=[shapely.Point(3.5, 0.5)], crs=4326)
    check_extract_covers(roads, towns, "x.pbf", layers=[village])


def test_a_charger_row_far_outside_is_left_out_of_the_run(small, tmp_path, caplog):
    cfg = _copy(small, tmp_path)
    path = cfg.parent / CHARGERS
    table = pd.read_csv(path, encoding="gb18030", dtype=str)
    far = table.iloc[[0]].copy()
    far["经度"] = str(float(far["经度"].iloc[0]) + 1.6)  # 160 km east
    pd.concat([table, far]).to_csv(path, index=False, encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        county = load_county(load_config(cfg))
    n = len(table) + 1
    assert f"1 of {n} chargers lie more than 5000 m outside the county" in caplog.text
    assert f"left out: row {n + 1} (the header is row 1" in caplog.text
    from_table = county.chargers[county.chargers[C.OSM_ID].astype(str).str.startswith(CHARGERS)]
    assert len(from_table) == len(table)
    # ids name the rows as the warning does: the header is row 1
    assert set(from_table[C.OSM_ID]) == {f"{CHARGERS}#{r}" for r in range(2, n + 1)}


def test_a_foreign_township_exits_2_naming_it(small, tmp_path):
    cfg = _copy(small, tmp_path)
    gpkg = cfg.parent / BOUNDARIES
    county = gpd.read_file(gpkg, layer="county")
    towns = gpd.read_file(gpkg, layer="townships")
    extra = towns.iloc[[0]].copy()
    extra["code"], extra["name"] = "369999100", "外县镇"
    extra["geometry"] = extra.geometry.apply(lambda g: translate(g, 0.6, 0))
    gpkg.unlink()
    county.to_file(gpkg, layer="county")
    pd.concat([towns, extra]).to_file(gpkg, layer="townships")
    r = site_proc(cfg, tmp_path / "out", *PLAN_ONLY_SETS)
    assert r.returncode == 2, r.stderr
    assert "1 township lies outside the county polygon: 外县镇 (369999100), 0% inside" in r.stderr
    assert not (tmp_path / "out").exists()


def _west_half(src: Path, dst: Path, lon: float) -> None:
    """The extract with nodes west of ``lon`` only (ways cut to their kept nodes)."""
    keep: set[int] = set()
    writer = osmium.SimpleWriter(str(dst))

    class Half(osmium.SimpleHandler):
        def node(self, n):
            if n.location.lon < lon:
                keep.add(n.id)
                writer.add_node(n)

        def way(self, w):
            nodes = [r.ref for r in w.nodes if r.ref in keep]
            if len(nodes) >= 2:
                writer.add_way(w.replace(nodes=nodes))

    Half().apply_file(str(src))
    writer.close()


def test_an_extract_covering_part_of_the_county_exits_2(small, tmp_path):
    cfg = _copy(small, tmp_path)
    pbf = cfg.parent / "qingxi.osm.pbf"
    towns = gpd.read_file(cfg.parent / BOUNDARIES, layer="townships")
    w, _, e, _ = towns.total_bounds
    half = tmp_path / "half.osm.pbf"
    _west_half(pbf, half, (w + e) / 2)
    shutil.move(half, pbf)
    r = site_proc(cfg, tmp_path / "out", *PLAN_ONLY_SETS)
    assert r.returncode == 2, r.stderr
    assert "qingxi.osm.pbf: the extract does not cover the county: " in r.stderr
    assert "use an extract that covers the whole county" in r.stderr


def _towns_shapefile(small: Path, folder: Path, epsg: int) -> Path:
    """The small county's townships as a Shapefile in ``epsg`` (with its .prj)."""
    towns = gpd.read_file(small.parent / BOUNDARIES, layer="townships")
    towns = towns[["code", "name", "geometry"]]
    folder.mkdir(parents=True, exist_ok=True)
    towns.to_crs(epsg).to_file(folder / "towns.shp", encoding="utf-8")
    return folder / "towns.shp"


@pytest.mark.parametrize(
    ("written", "read_as", "guessed"),
    [(4527, 4548, "EPSG:4527"), (4548, 4527, "without zone prefix")],
)
def test_gauss_kruger_read_with_the_wrong_zone_prefix_is_one_line_naming_the_file(
    small, tmp_path, written, read_as, guessed
):
    from planner.ingest.boundaries import read_boundaries

    shp = _towns_shapefile(small, tmp_path, written)
    with pytest.raises(DataError) as err:
        read_boundaries(
            shp, county_layer=None, township_layer=None, id_field="code", name_field="name",
            crs=f"EPSG:{read_as}",
        )  # fmt: skip
    text = str(err.value)
    assert text.startswith(f"{shp}: coordinates (") and "\n" not in text
    assert f"cannot be in the layer's CRS EPSG:{read_as}" in text and guessed in text


def test_boundaries_in_the_wrong_zone_are_named_not_the_extract(small, tmp_path):
    """Gauss-Kruger numbers of the 117 E zone with a .prj of the 123 E zone put the county
    in the sea: the error names the boundaries and where they lie."""
    cfg = _copy(small, tmp_path)
    shp = _towns_shapefile(small, cfg.parent / "gk", 4548)
    prj = CRS.from_epsg(4550).to_wkt("WKT1_ESRI")
    shp.with_suffix(".prj").write_text(prj, encoding="utf-8")
    b = "inputs.boundaries"
    sets = [f"{b}.path={shp}", f"{b}.county_layer=null", f"{b}.township_layer=null"]
    r = site_proc(cfg, tmp_path / "out", *PLAN_ONLY_SETS, *(x for s in sets for x in ("--set", s)))
    assert r.returncode == 2, r.stderr
    line = r.stderr.strip().splitlines()[-1]
    assert line.startswith(f"error: {shp}: the county's boundaries lie at 123."), line
    assert "where the OSM extract" in line and "Gauss-Kruger zone is wrong" in line
    assert not (tmp_path / "out").exists()


def test_an_extract_whose_header_box_misses_the_county_stops_before_reading(small, tmp_path):
    from planner.ingest.osm import extract_box

    cfg = _copy(small, tmp_path)
    pbf = cfg.parent / "qingxi.osm.pbf"
    assert extract_box(pbf) is None  # the demo's extract says no area
    boxed = tmp_path / "boxed.osm.pbf"  # an extract of Liechtenstein, as its header says
    header = osmium.io.Header()
    header.add_box(osmium.osm.Box(9.47, 47.04, 9.64, 47.28))
    osmium.io.Writer(str(boxed), header).close()
    assert extract_box(boxed) == pytest.approx((9.47, 47.04, 9.64, 47.28))
    r = site_proc(cfg, tmp_path / "out", *PLAN_ONLY_SETS, "--set", f"inputs.osm.path={boxed}")
    assert r.returncode == 2, r.stderr
    assert "outside the OSM extract's area (9.47 to 9.64 E, 47.04 to 47.28 N)" in r.stderr
