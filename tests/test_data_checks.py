"""No silent data problems (issue 10, item 5): each check on real files written here."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import rasterio
import rasterio.windows
import shapely

from planner.crs import reproject
from planner.errors import DataError
from planner.ingest.population import read_population
from tests.conftest import NO_TOURS, PLAN_ONLY_SETS, latest, site_proc
from tests.test_ingest import write_raster


def run_site(config, out, *options):
    """`planner site` in a subprocess, as a user runs it (the other runs here are in this
    process: :func:`tests.conftest.site_proc`)."""
    cmd = [sys.executable, "-m", "planner", "site", "--config", str(config), "--out", str(out)]
    return subprocess.run(
        [*cmd, *options],
        capture_output=True,
        text=True,
        timeout=300,
    )


# -- 1. a population raster that covers part of the county -----------------------------


def test_raster_covering_a_quarter_of_the_county_is_an_error(tmp_path):
    path = write_raster(tmp_path / "pop.tif", np.ones((10, 10)))  # 1 km x 1 km
    # the county is 2 km x 2 km with the raster in its north-west quarter
    box = shapely.box(500_000, 3_130_000 - 1000, 502_000, 3_131_000)
    county = reproject(box, 32650, 4326)
    with pytest.raises(DataError) as err:
        read_population(path, county, min_coverage=0.95)
    msg = str(err.value)
    assert msg.startswith(str(path))
    assert "covers 25.0% of the county's area (demand.min_raster_coverage=0.95)" in msg
    # a lower threshold accepts it: the cells the raster lacks count for nothing
    grid = read_population(path, county, min_coverage=0.2)
    assert grid.values.sum() == pytest.approx(100)


def test_raster_in_degrees_is_measured_in_metres(tmp_path):
    # a raster in EPSG:4326 covering the southern half of a county 0.2 x 0.2 degrees
    values = np.ones((10, 20))
    path = write_raster(
        tmp_path / "deg.tif", values, crs="EPSG:4326", origin=(117.0, 28.1), cell=0.01
    )
    county = shapely.box(117.0, 28.0, 117.2, 28.2)
    with pytest.raises(DataError, match=r"covers 50\.\d% of the county's area"):
        read_population(path, county, min_coverage=0.95)


def test_nodata_cells_are_counted_in_a_warning(tmp_path, caplog):
    values = np.ones((10, 10))
    values[:5, :] = -1.0  # nodata over half the county
    path = write_raster(tmp_path / "pop.tif", values)
    county = reproject(shapely.box(500_000, 3_130_000, 501_000, 3_131_000), 32650, 4326)
    grid = read_population(path, county, min_coverage=0.95)  # the extent covers it all
    assert grid.values.sum() == pytest.approx(50)
    assert "50 of the county's 100 cells (50.0%) are nodata" in caplog.text


def _crop_quarter(src_path, dst_path):
    """Write the south-west quarter of a raster as a raster of its own."""
    with rasterio.open(src_path) as src:
        w, h = src.width // 2, src.height // 2
        window = rasterio.windows.Window(0, src.height - h, w, h)
        profile = src.profile | {
            "driver": "GTiff",
            "width": w,
            "height": h,
            "transform": src.window_transform(window),
        }
        data = src.read(1, window=window)
    with rasterio.open(dst_path, "w", **profile) as dst:
        dst.write(data, 1)


@pytest.mark.slow
def test_cli_refuses_a_partial_raster_with_one_line(tmp_path, demo_dir, demo_config):
    part = tmp_path / "quarter.tif"
    _crop_quarter(demo_dir / "qingxi_population.tif", part)
    r = run_site(demo_config, tmp_path / "o", "--set", f"inputs.population.path={part}")
    assert r.returncode == 2, r.stderr
    assert "Traceback" not in r.stderr
    line = r.stderr.strip().splitlines()[-1]
    assert str(part) in line and "of the county's area" in line
    share = float(line.split("covers ")[1].split("%")[0])
    assert 5 < share < 50
    assert not (tmp_path / "o").exists()


def test_demo_raster_covers_the_demo_county(demo_dir):
    import geopandas as gpd

    county = gpd.read_file(demo_dir / "qingxi_boundaries.gpkg", layer="county").to_crs(4326)
    grid = read_population(
        demo_dir / "qingxi_population.tif", county.union_all(), min_coverage=0.95
    )
    assert grid.values.sum() > 0


# -- 2. townships without demand ---------------------------------------------------------


def test_townships_without_demand_are_named_in_a_warning(caplog):
    import geopandas as gpd
    from rasterio.transform import from_origin

    from planner.config import DemandSection
    from planner.datatypes import PopulationGrid
    from planner.demand import demand_from_raster

    values = np.zeros((10, 30))
    values[:, :10] = 5.0  # people in the western third only
    grid = PopulationGrid(
        values=values,
        transform=from_origin(500_000, 3_131_000, 100, 100),
        crs=rasterio.crs.CRS.from_epsg(32650),
        source_total=float(values.sum()),
    )
    towns = gpd.GeoDataFrame(
        {"township_id": ["A", "B", "C"], "township_name": ["城关镇", "青山乡", "白水乡"]},
        geometry=[
            shapely.box(500_000 + k * 1000, 3_130_000, 501_000 + k * 1000, 3_131_000)
            for k in range(3)
        ],
        crs=32650,
    )
    d = demand_from_raster(grid, towns, towns.crs, params=DemandSection(resolution_m=500))
    assert set(d["township_id"]) == {"A"}
    assert "2 of 3 townships have no demand" in caplog.text
    assert "青山乡 (B), 白水乡 (C)" in caplog.text


def _raster_without(township_code, demo_dir, dst):
    """The demo raster with no people in one township."""
    import geopandas as gpd
    import rasterio.features

    towns = gpd.read_file(demo_dir / "qingxi_boundaries.gpkg", layer="townships")
    with rasterio.open(demo_dir / "qingxi_population.tif") as src:
        profile = src.profile | {"driver": "GTiff"}
        data = src.read(1)
        shape = towns[towns["code"] == township_code].to_crs(src.crs).geometry.iloc[0]
        inside = rasterio.features.geometry_mask(
            [shape], data.shape, src.transform, invert=True, all_touched=True
        )
    data[inside] = 0.0
    with rasterio.open(dst, "w", **profile) as out:
        out.write(data, 1)
    return towns[towns["code"] == township_code]["name"].iloc[0]


@pytest.fixture(scope="module")
def empty_township_run(small, tmp_path_factory):
    """A run of the small demo county whose raster has no people in one township:
    (output folder, code, name)."""
    import geopandas as gpd

    tmp = tmp_path_factory.mktemp("empty")
    folder = small.parent
    code = gpd.read_file(folder / "qingxi_boundaries.gpkg", layer="townships")["code"].iloc[-1]
    name = _raster_without(code, folder, tmp / "pop.tif")
    pop = f"inputs.population.path={tmp / 'pop.tif'}"
    r = site_proc(small, tmp / "o", "--set", pop, "--set", "report.language=en", *NO_TOURS)
    assert r.returncode == 0, r.stderr
    assert (
        f"1 of 15 townships have no demand (population 0 or no charging sessions): {name}"
        in " ".join(r.stderr.split())  # rich wraps log lines
    )
    return latest(tmp / "o"), code, name


@pytest.mark.slow
def test_township_without_demand_in_summary_report_and_maps(empty_township_run):
    import json

    out, code, name = empty_township_run
    s = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert s["townships_without_demand"] == [{"township_id": code, "township_name": name}]
    sentence = f"1 of 15 townships have no demand (population 0): {name}"
    assert sentence in (out / "report.html").read_text(encoding="utf-8")
    md = (out / "report.md").read_text(encoding="utf-8")
    assert sentence.replace("(", "\\(").replace(")", "\\)") in md  # Markdown-escaped
    text = (out / "map.html").read_text(encoding="utf-8")
    assert f"{name}: no demand (population 0 people)" in text
    assert f"{name}: 0% of sessions covered" not in text


@pytest.mark.slow
def test_static_map_draws_townships_without_demand_grey(empty_township_run):
    import geopandas as gpd
    from matplotlib.colors import to_rgba

    from planner.report.static_map import _NO_DEMAND, plot_plan

    gpkg = empty_township_run[0] / "sites.gpkg"
    layers = {k: gpd.read_file(gpkg, layer=k) for k in ("townships", "demand", "stations")}
    fig = plot_plan(layers, title="qingxi")
    ax = fig.axes[0]
    grey = to_rgba(_NO_DEMAND, 0.55)
    faces = [tuple(np.round(f, 3)) for c in ax.collections for f in c.get_facecolor()]
    assert faces.count(tuple(np.round(grey, 3))) == 1  # the one empty township
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "township: no demand" in labels


# -- 3. substation tags ------------------------------------------------------------------

_OSM_XML = """<?xml version='1.0' encoding='UTF-8'?>
<osm version="0.6" generator="test">
 <node id="1" lat="28.30" lon="117.30" version="1"/>
 <node id="2" lat="28.30" lon="117.32" version="1"/>
 <node id="3" lat="28.301" lon="117.301" version="1">
  <tag k="power" v="sub_station"/><tag k="name" v="老变电站"/><tag k="voltage" v="35000"/>
 </node>
 <node id="4" lat="28.302" lon="117.302" version="1"><tag k="power" v="substation"/></node>
 <node id="5" lat="28.303" lon="117.303" version="1">
  <tag k="power" v="station"/><tag k="voltage" v="110000;10000"/>
 </node>
 <node id="6" lat="28.304" lon="117.304" version="1">
  <tag k="power" v="station"/><tag k="plant:source" v="hydro"/><tag k="name" v="水电站"/>
 </node>
 <node id="7" lat="28.305" lon="117.305" version="1">
  <tag k="power" v="transformer"/><tag k="transformer" v="distribution"/>
 </node>
 <node id="10" lat="28.310" lon="117.310" version="1"/>
 <node id="11" lat="28.310" lon="117.311" version="1"/>
 <node id="12" lat="28.311" lon="117.311" version="1"/>
 <node id="13" lat="28.311" lon="117.310" version="1"/>
 <node id="20" lat="28.320" lon="117.320" version="1"/>
 <node id="21" lat="28.320" lon="117.321" version="1"/>
 <node id="22" lat="28.321" lon="117.321" version="1"/>
 <node id="23" lat="28.321" lon="117.320" version="1"/>
 <way id="1" version="1"><nd ref="1"/><nd ref="2"/><tag k="highway" v="primary"/></way>
 <way id="2" version="1">
  <nd ref="10"/><nd ref="11"/><nd ref="12"/><nd ref="13"/><nd ref="10"/>
  <tag k="power" v="substation"/><tag k="name" v="城关变"/><tag k="ref" v="S9"/>
 </way>
 <way id="3" version="1">
  <nd ref="20"/><nd ref="21"/><nd ref="22"/><nd ref="23"/><nd ref="20"/>
  <tag k="power" v="sub_station"/>
 </way>
 <way id="4" version="1"><nd ref="1"/><nd ref="10"/><tag k="power" v="line"/></way>
 <way id="5" version="1"><nd ref="2"/><nd ref="20"/><tag k="power" v="minor_line"/></way>
 <way id="6" version="1">
  <nd ref="11"/><nd ref="21"/><tag k="power" v="cable"/><tag k="voltage" v="10000"/>
 </way>
</osm>
"""


def test_substations_from_current_legacy_and_area_tags(tmp_path):
    from planner.ingest.osm import read_osm

    path = tmp_path / "grid.osm"
    path.write_text(_OSM_XML, encoding="utf-8")
    osm = read_osm(path)
    subs = osm.substations.set_index("osm_id")
    # nodes and areas, power=substation, the legacy sub_station and the old station;
    # the hydro plant tagged power=station is not a substation
    assert sorted(subs.index) == ["n3", "n4", "n5", "w2", "w3"]
    assert subs.loc["n3", "name"] == "老变电站" and subs.loc["n3", "voltage_kv"] == 35
    assert subs.loc["n5", "voltage_kv"] == 110
    assert subs.loc["w2", "ref"] == "S9"
    area = subs.loc["w2", "geometry"]
    assert area.x == pytest.approx(117.3105) and area.y == pytest.approx(28.3105)
    assert osm.power_points["osm_id"].tolist() == ["n7"]
    lines = osm.power_lines.set_index("osm_id")
    assert lines["power"].to_dict() == {"w4": "line", "w5": "minor_line", "w6": "cable"}


# -- 4. one voltage class for the map and the model --------------------------------------

_LINES = [  # (power, voltage_kv, medium voltage?)
    ("line", None, False),  # untagged power=line: transmission
    ("minor_line", None, True),
    ("cable", None, False),
    ("line", 10.0, True),
    ("line", 20.0, True),
    ("minor_line", 35.0, False),  # the voltage tag wins
    ("cable", 10.0, True),
    ("line", 110.0, False),
]


def test_is_medium_voltage():
    from planner.candidates import is_medium_voltage

    power, kv, expected = zip(*_LINES, strict=True)
    assert is_medium_voltage(list(power), list(kv)).tolist() == list(expected)


def test_map_and_model_agree_on_every_line_voltage(tmp_path):
    import json
    from types import SimpleNamespace

    import geopandas as gpd

    from planner.candidates import build_candidates
    from planner.config import CandidatesSection, CostsSection
    from planner.report.map.layers import grid_layer as _grid_layer

    crs = 4548
    county = gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 10_000, 10_000)], crs=crs)
    towns = gpd.GeoDataFrame({"township_id": ["A"]}, geometry=county.geometry, crs=crs)
    pois = gpd.GeoDataFrame(
        {"osm_id": ["n1"], "name": ["加油站"], "amenity": ["fuel"], "shop": [None]},
        geometry=[shapely.Point(5000, 5100)],
        crs=crs,
    )
    no_subs = gpd.GeoDataFrame({"substation_id": [], "headroom_kw": []}, geometry=[], crs=crs)
    for power, kv, _ in _LINES:
        lines = gpd.GeoDataFrame(
            {"osm_id": ["w1"], "power": [power], "voltage_kv": [kv], "name": [None]},
            geometry=[shapely.LineString([(0, 5000), (10_000, 5000)])],
            crs=crs,
        )
        cand = build_candidates(
            pois, county, towns, no_subs, lines, rules=CandidatesSection(), costs=CostsSection()
        )
        model_mv = bool(cand["grid_distance_m"].iloc[0] == pytest.approx(100))
        county_data = SimpleNamespace(
            power_lines=lines, substations=no_subs.assign(name=[], voltage_kv=[])
        )
        spec = json.loads(_grid_layer(county_data, 0, []).spec_json)
        feature = spec["data"]["features"][0]["properties"]
        map_mv = feature["s"]["color"] == "#e1b12c"
        assert map_mv == model_mv, (power, kv, feature["t"])
        assert ("10 kV line" in feature["t"]) == model_mv


# -- 5. connection costs without grid data -----------------------------------------------


def _no_grid_layers():
    import geopandas as gpd

    crs = 4548
    county = gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 10_000, 10_000)], crs=crs)
    towns = gpd.GeoDataFrame({"township_id": ["A"]}, geometry=county.geometry, crs=crs)
    pois = gpd.GeoDataFrame(
        {"osm_id": ["n1", "n2"], "name": ["加油站", "超市"], "amenity": ["fuel", None]}
        | {"shop": [None, "supermarket"]},
        geometry=[shapely.Point(2000, 2000), shapely.Point(7000, 7000)],
        crs=crs,
    )
    subs = gpd.GeoDataFrame({"substation_id": [], "headroom_kw": []}, geometry=[], crs=crs)
    lines = gpd.GeoDataFrame({"power": [], "voltage_kv": []}, geometry=[], crs=crs)
    return pois, county, towns, subs, lines


def test_without_grid_data_connection_costs_are_not_included(caplog):
    from planner.candidates import build_candidates, connection_costs_note
    from planner.config import CandidatesSection, CostsSection

    costs = CostsSection(station_capex=100_000)
    cand = build_candidates(*_no_grid_layers(), rules=CandidatesSection(), costs=costs)
    assert cand["connection_cost"].isna().all()
    assert (cand["connection_basis"] == "not included").all()
    assert cand["station_capex"].tolist() == [100_000, 100_000]
    assert connection_costs_note(cand) == "not included"
    assert "the connection costs of the 2 candidates are not included" in caplog.text


def test_without_grid_data_a_default_connection_cost(caplog):
    from planner.candidates import build_candidates, connection_costs_note
    from planner.config import CandidatesSection, CostsSection

    costs = CostsSection(station_capex=100_000, connection_default=50_000)
    cand = build_candidates(*_no_grid_layers(), rules=CandidatesSection(), costs=costs)
    assert cand["connection_cost"].tolist() == [50_000, 50_000]
    assert (cand["connection_basis"] == "default").all()
    assert cand["station_capex"].tolist() == [150_000, 150_000]
    assert connection_costs_note(cand) == "default 50,000 CNY per site"
    assert "the 2 candidates take costs.connection_default=50000 CNY" in caplog.text


@pytest.mark.slow
def test_cli_without_grid_data_says_connection_costs_are_not_included(tmp_path, small):
    import csv
    import json

    import osmium

    pbf = tmp_path / "no_grid.osm.pbf"
    writer = osmium.SimpleWriter(str(pbf))
    for obj in osmium.FileProcessor(str(small.parent / "qingxi.osm.pbf")):
        if "power" not in obj.tags:
            writer.add(obj)
    writer.close()
    out = tmp_path / "o"
    r = site_proc(
        small,
        out,
        "--set",
        f"inputs.osm.path={pbf}",
        "--set",
        "inputs.substations=",
        "--set",
        "report.language=en",
        *NO_TOURS,
    )
    assert r.returncode == 0, r.stderr
    out = latest(out)
    log = " ".join(r.stderr.split())  # rich wraps log lines
    assert re.search(r"the connection costs of the \d+ candidates are not included", log)
    s = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert s["connection_costs"] == "not included"
    with open(out / "stations.csv", encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    new = [row for row in rows if row["existing_chargers"] == "0"]
    assert new and all(row["connection_cost"] == "" for row in new)
    assert all(row["connection_basis"] == "not included" for row in new)
    assert "Grid connection costs are not included" in (out / "report.html").read_text(
        encoding="utf-8"
    )
    assert "Grid connection costs are not included" in (out / "report.md").read_text(
        encoding="utf-8"
    )
    assert "not included" in (out / "map.html").read_text(encoding="utf-8")
    from planner.report.dictionary import read_data_dictionary

    assert "connection_basis" in set(read_data_dictionary(out / "data_dictionary.csv")[0]["column"])


def test_demo_connection_costs_are_included(demo_run):
    import json

    s = json.loads((demo_run / "summary.json").read_text(encoding="utf-8"))
    assert s["connection_costs"] == "included"


# -- 6. settlement sizes per place value -------------------------------------------------


def _settlements(rows):
    import geopandas as gpd

    crs = 32650
    county = gpd.GeoDataFrame(
        geometry=[shapely.box(500_000, 3_129_000, 504_000, 3_131_000)], crs=crs
    )
    towns = gpd.GeoDataFrame(
        {"township_id": ["W", "E"], "township_name": ["甲镇", "乙镇"]},
        geometry=[
            shapely.box(500_000, 3_129_000, 502_000, 3_131_000),
            shapely.box(502_000, 3_129_000, 504_000, 3_131_000),
        ],
        crs=crs,
    )
    places = gpd.GeoDataFrame(
        {
            "name": [r[0] for r in rows],
            "place": [r[1] for r in rows],
            "population": [r[2] for r in rows],
        },
        geometry=[shapely.Point(r[3], r[4]) for r in rows],
        crs=crs,
    )
    return places, county, towns


def test_suburbs_do_not_make_a_small_town_big(caplog):
    from planner.config import DemandSection
    from planner.demand import demand_from_settlements

    places, county, towns = _settlements(
        [
            ("甲镇", "town", 430.0, 501_000, 3_130_000),  # a 430-person town, tagged
            ("甲镇新区", "suburb", None, 501_200, 3_130_200),  # no tag: part of the town
            ("老街", "quarter", None, 501_100, 3_130_100),
            ("乙镇", "town", 3000.0, 503_000, 3_130_000),
            ("乙村", "village", None, 503_500, 3_129_500),
        ]
    )
    d = demand_from_settlements(places, county, towns, params=DemandSection(population_total=4_030))
    assert d["name"].tolist() == ["甲镇", "乙镇", "乙村"]
    assert d["population"].tolist() == pytest.approx([430, 3000, 600])
    assert "2 settlements without a population tag are left out" in caplog.text
    assert "{'suburb': 1, 'quarter': 1}" in caplog.text
    # a planner who wants suburbs counted says how many people each holds
    d = demand_from_settlements(
        places, county, towns, params=DemandSection(place_population={"suburb": 500})
    )
    assert d.set_index("name").loc["甲镇新区", "population"] == 500


def test_an_estimate_above_the_county_total_is_a_warning(caplog):
    from planner.config import DemandSection
    from planner.demand import demand_from_settlements

    places, county, towns = _settlements(
        [
            ("甲镇", "town", None, 501_000, 3_130_000),
            ("乙镇", "town", None, 503_000, 3_130_000),
        ]
    )
    d = demand_from_settlements(
        places, county, towns, params=DemandSection(population_total=10_000)
    )
    assert d["population"].sum() == pytest.approx(10_000)
    assert (
        "the settlement estimate of 16000 people is above the county's total "
        "demand.population_total=10000" in caplog.text
    )
    assert [r.levelname for r in caplog.records if "16000" in r.getMessage()] == ["WARNING"]


def test_every_place_value_read_is_a_documented_config_field():
    from planner.config import ConfigError, PlacePopulation, config_from_dict
    from planner.ingest.osm import PLACE_TYPES

    fields = PlacePopulation.model_fields
    assert set(fields) == set(PLACE_TYPES)
    assert all(f.description for f in fields.values())
    assert PlacePopulation().suburb == 0 and PlacePopulation().quarter == 0
    raw = {
        "county": {"name": "x"},
        "inputs": {"boundaries": {"path": "b.gpkg"}, "osm": {"path": "x.osm.pbf"}},
        "stations": {"budget": 1e6},
        "demand": {"place_population": {"suburbb": 100}},
    }
    with pytest.raises(ConfigError, match=r"unknown key 'demand\.place_population\.suburbb'"):
        config_from_dict(raw, base_dir=Path("."))


# -- 7. boundaries in GCJ-02 (or any declared CRS) ---------------------------------------


def _shifted(gdf, forward):
    """The layer with every coordinate passed through ``forward(lon, lat)``."""
    return gdf.set_geometry(
        shapely.transform(
            gdf.geometry.to_numpy(), lambda xy: np.column_stack(forward(xy[:, 0], xy[:, 1]))
        )
    )


def _worst_gap_m(a, b):
    """The largest Hausdorff distance (m) between matching polygons of two layers."""
    crs = 4548  # CGCS2000 GK zone 39, around the demo county
    ga, gb = a.to_crs(crs).geometry.to_numpy(), b.to_crs(crs).geometry.to_numpy()
    return float(shapely.hausdorff_distance(ga, gb).max())


@pytest.mark.parametrize("system", ["gcj02", "bd09"])
def test_boundaries_in_gcj02_or_bd09_come_back_within_a_metre(tmp_path, demo_dir, system):
    import geopandas as gpd

    from planner.ingest.boundaries import read_boundaries
    from planner.ingest.china import wgs84_to_bd09, wgs84_to_gcj02

    forward = {"gcj02": wgs84_to_gcj02, "bd09": wgs84_to_bd09}[system]
    src = demo_dir / "qingxi_boundaries.gpkg"
    county = gpd.read_file(src, layer="county").to_crs(4326)
    towns = gpd.read_file(src, layer="townships").to_crs(4326)
    path = tmp_path / f"towns_{system}.gpkg"
    _shifted(county, forward).to_file(path, layer="county")
    _shifted(towns, forward).to_file(path, layer="townships")
    kw = {"county_layer": "county", "township_layer": "townships"}
    kw |= {"id_field": "code", "name_field": "name"}
    _, as_is = read_boundaries(path, **kw)
    assert _worst_gap_m(as_is, towns) > 100  # undeclared, the offset stays (hundreds of m)
    c, t = read_boundaries(path, crs=system, **kw)
    assert t["township_id"].tolist() == towns["code"].tolist()
    assert _worst_gap_m(t, towns) < 1.0
    assert _worst_gap_m(c, county) < 1.0


def test_boundaries_crs_supplies_a_missing_prj(tmp_path, caplog):
    import geopandas as gpd

    from planner.ingest.boundaries import read_boundaries

    box = shapely.box(117.0, 28.0, 117.2, 28.2)
    metres = gpd.GeoDataFrame({"code": ["1"], "name": ["乡"]}, geometry=[box], crs=4326)
    metres = metres.to_crs(4548)
    path = tmp_path / "towns.shp"
    metres.to_file(path, encoding="utf-8")
    path.with_suffix(".prj").unlink()
    kw = {"county_layer": None, "township_layer": None, "id_field": "code", "name_field": "name"}
    with pytest.raises(DataError, match="layer has no CRS"):
        read_boundaries(path, **kw)
    _, t = read_boundaries(path, crs="EPSG:4548", **kw)
    assert shapely.hausdorff_distance(t.geometry.iloc[0], box) < 1e-6
    # a declared CRS that contradicts the file's own wins, with a warning naming both
    metres.to_file(tmp_path / "stated.gpkg", layer="t")
    _, t = read_boundaries(tmp_path / "stated.gpkg", crs="EPSG:4549", **kw | {"county_layer": "t"})
    assert "the config's crs EPSG:4549 is used instead" in caplog.text


def test_boundaries_crs_in_the_config(tmp_path):
    from planner.config import ConfigError, config_from_dict

    def cfg(boundaries):
        raw = {
            "county": {"name": "x"},
            "inputs": {"boundaries": boundaries, "osm": {"path": "x.osm.pbf"}},
            "stations": {"budget": 1e6},
        }
        return config_from_dict(raw, base_dir=tmp_path)

    assert cfg({"path": "b.gpkg", "crs": "GCJ02"}).inputs.boundaries.crs == "gcj02"
    assert cfg({"path": "b.gpkg", "crs": 4490}).inputs.boundaries.crs == "EPSG:4490"
    with pytest.raises(ConfigError, match=r"inputs\.boundaries\.crs.*'wgs'.*is not a CRS"):
        cfg({"path": "b.gpkg", "crs": "wgs"})
    with pytest.raises(ConfigError, match="crs applies to a boundaries file"):
        cfg({"source": "osm", "county_name": "x", "crs": "gcj02"})


@pytest.mark.slow
def test_cli_runs_on_gcj02_boundaries_as_on_the_originals(tmp_path, small):
    import json

    import geopandas as gpd

    from planner.ingest.china import wgs84_to_gcj02

    src = small.parent / "qingxi_boundaries.gpkg"
    path = tmp_path / "gcj.gpkg"
    for layer in ("county", "townships"):
        _shifted(gpd.read_file(src, layer=layer).to_crs(4326), wgs84_to_gcj02).to_file(
            path, layer=layer
        )
    out = tmp_path / "o"
    r = site_proc(
        small,
        out,
        *("--set", f"inputs.boundaries.path={path}", "--set", "inputs.boundaries.crs=gcj02"),
        *("--set", "repair.enabled=false"),
        *PLAN_ONLY_SETS,
    )
    assert r.returncode == 0, r.stderr
    out = latest(out)
    s = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert s["townships_total"] == 15 and s["townships_without_demand"] == []
    towns = gpd.read_file(out / "sites.gpkg", layer="townships")
    original = gpd.read_file(src, layer="townships")
    assert _worst_gap_m(towns.sort_values("township_id"), original.sort_values("code")) < 1.0
