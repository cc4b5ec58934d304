"""The demo county: deterministic, realistic, in real formats."""

import dataclasses
import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
import shapely

from planner.candidates import build_candidates, existing_sites, with_existing
from planner.config import load_config
from planner.demo import DEFAULT_SEED, DemoIdentity, DemoParams, build_demo
from planner.demo.names import QINGXI, province_names
from planner.ingest import load_county
from planner.ingest.osm import read_osm
from planner.network import build_graph
from planner.optimize.diagnose import station_problems


@pytest.fixture(scope="module")
def osm(demo_dir):
    return read_osm(demo_dir / "qingxi.osm.pbf")


def test_files_and_formats(demo_dir):
    names = sorted(p.name for p in demo_dir.iterdir())
    assert names == [
        ".planner-generated.json",  # what it wrote, with hashes (planner/generated.py)
        "qingxi.osm.pbf",
        "qingxi.yaml",
        "qingxi_boundaries.gpkg",
        "qingxi_operator_chargers.csv",
        "qingxi_population.tif",
        "qingxi_substations.csv",
    ]
    with rasterio.open(demo_dir / "qingxi_population.tif") as src:
        assert src.res == (100.0, 100.0)
        assert src.crs.to_epsg() == 32650
        assert src.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG"


def test_boundaries(demo_dir):
    gpkg = demo_dir / "qingxi_boundaries.gpkg"
    county = gpd.read_file(gpkg, layer="county")
    towns = gpd.read_file(gpkg, layer="townships")
    assert county.crs.to_epsg() == 4490 and towns.crs.to_epsg() == 4490
    assert 12 <= len(towns) <= 16
    assert towns["code"].str.fullmatch(r"361199\d{3}").all() and towns["code"].is_unique
    assert towns["name"].str.fullmatch(r"[\u4e00-\u9fff]+[镇乡]").all()
    assert towns["name_pinyin"].str.fullmatch(r"[A-Z][a-z]+ (Zhen|Xiang)").all()
    assert towns.is_valid.all()
    c = county.to_crs(4548).geometry.iloc[0]
    union = shapely.union_all(towns.to_crs(4548).geometry.to_numpy())
    assert union.symmetric_difference(c).area < 1e-4 * c.area  # townships tile the county
    assert 1_200e6 < c.area < 3_000e6  # a county of 1,200-3,000 km2
    lon, lat = county.geometry.iloc[0].centroid.coords[0]
    assert abs(lon - 117.3) < 0.3 and abs(lat - 28.3) < 0.3


def test_settlements_and_population(demo_dir, osm):
    places = osm.places
    villages = places[~places["name"].str.endswith(("镇", "乡", "县城"))]
    assert 200 <= len(villages) <= 300
    seat = places[places["name"] == "青溪县城"]
    assert len(seat) == 1
    with rasterio.open(demo_dir / "qingxi_population.tif") as src:
        raster = src.read(1)
    county_total = places["population"].sum()  # some villages lack the tag
    assert 0.85 * 300_000 < county_total <= 300_000
    # the raster holds the county's 300,000 people plus neighbouring villages outside it
    assert 300_000 < raster[raster > 0].sum() < 340_000
    assert 0.2 < seat["population"].iloc[0] / 300_000 < 0.3
    assert places["population"].isna().sum() > 0  # realistic: not every node is tagged


def test_roads(osm):
    hw = pd.Series(osm.roads.highway)
    assert {"trunk", "secondary", "tertiary", "unclassified", "residential"} <= set(hw)
    assert sum(m is not None for m in osm.roads.maxspeed) >= 5
    assert sum(n is not None for n in osm.roads.names) > 0.5 * len(hw)
    assert "yes" in osm.roads.oneway
    g = build_graph(osm.roads, rasterio.crs.CRS.from_epsg(4548).to_wkt(), speeds_kmh={"trunk": 70})
    assert g.dropped_nodes == 0  # one connected network
    deg = np.bincount(np.concatenate([g.tail, g.head]), minlength=g.n_nodes) // 2
    assert (deg == 1).sum() > 50  # dead ends: village roads and spurs
    assert 2_000 < g.n_nodes < 20_000


def test_outlets_chargers_and_grid(demo_dir, osm):
    amen = osm.pois["amenity"].value_counts()
    shops = osm.pois["shop"].value_counts()
    towns = gpd.read_file(demo_dir / "qingxi_boundaries.gpkg", layer="townships")
    assert amen["townhall"] == len(towns)
    for a in ("marketplace", "fuel", "post_office", "bus_station", "parking", "school", "clinic"):
        assert amen.get(a, 0) >= 1, a
    assert shops["supermarket"] >= 4
    assert 3 <= len(osm.chargers) <= 5
    seat = towns.to_crs(4326).geometry.iloc[0]
    assert osm.chargers.within(seat).all()
    kv = sorted(osm.substations["voltage_kv"])
    assert kv[-1] == 110 and kv.count(35) >= 2
    assert (osm.power_lines["power"] == "minor_line").sum() >= 5
    table = pd.read_csv(demo_dir / "qingxi_substations.csv")
    assert set(table["substation_id"]) == set(osm.substations["ref"])
    assert (table["rated_kva"] > table["peak_load_kw"]).all()


def test_deterministic(tmp_path, demo_dir):
    again = tmp_path / "again"
    build_demo(again)
    for name in ("qingxi_substations.csv", "qingxi.yaml"):
        assert (again / name).read_bytes() == (demo_dir / name).read_bytes()
    a, b = read_osm(again / "qingxi.osm.pbf"), read_osm(demo_dir / "qingxi.osm.pbf")
    assert np.array_equal(a.roads.lon, b.roads.lon) and a.roads.highway == b.roads.highway
    with (
        rasterio.open(again / "qingxi_population.tif") as s1,
        rasterio.open(demo_dir / "qingxi_population.tif") as s2,
    ):
        assert np.array_equal(s1.read(1), s2.read(1))
    other = tmp_path / "other"
    build_demo(other, seed=1)
    assert read_osm(other / "qingxi.osm.pbf").roads.lon.shape != a.roads.lon.shape


def test_scale_multiplies_roads(tmp_path, osm):
    big = tmp_path / "big"
    build_demo(big, scale=2.5)
    o2 = read_osm(big / "qingxi.osm.pbf")
    ratio = len(o2.roads.node_ids) / len(osm.roads.node_ids)
    assert 2.0 < ratio < 3.2
    cfg = (big / "qingxi.yaml").read_text(encoding="utf-8")
    assert re.search(r"budget: 40000000", cfg)


def test_operator_charger_list_is_gbk_gcj02(demo_dir):
    raw = (demo_dir / "qingxi_operator_chargers.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    table = pd.read_csv(demo_dir / "qingxi_operator_chargers.csv", encoding="gbk")
    assert list(table.columns) == ["名称", "运营商", "经度", "纬度", "枪数"]
    towns = gpd.read_file(demo_dir / "qingxi_boundaries.gpkg", layer="townships")
    pts = gpd.GeoSeries(gpd.points_from_xy(table["经度"], table["纬度"]), crs=4326)
    # GCJ-02 puts them hundreds of metres off their true places (read them as gcj02)
    seats = towns.to_crs(4548).geometry.iloc[1:3].centroid
    assert len(pts) == 2 and (pts.to_crs(4548).distance(seats, align=False) > 100).all()


def test_params_are_knobs(tmp_path):
    params = DemoParams()
    with pytest.raises(dataclasses.FrozenInstanceError):
        params.node_spacing_m = 100.0
    usual = build_demo(tmp_path / "usual", scale=0.3, seed=7)
    sparse = build_demo(
        tmp_path / "sparse", scale=0.3, seed=7, params=DemoParams(node_spacing_m=400.0)
    )
    a, b = read_osm(usual.with_suffix(".osm.pbf")), read_osm(sparse.with_suffix(".osm.pbf"))
    assert len(b.roads.node_ids) < 0.8 * len(a.roads.node_ids)
    # the knob changes only the roads' nodes: the same settlements, in the same places
    assert a.places["name"].tolist() == b.places["name"].tolist()


def _presolve_causes(config_path):
    """What the planner's checks before solving find wrong with a county's station model."""
    cfg = load_config(config_path)
    county = load_county(cfg)
    cand = build_candidates(
        county.pois,
        county.county,
        county.townships,
        county.substations,
        county.power_lines,
        rules=cfg.candidates,
        costs=cfg.costs,
        power_points=county.power_points,
    )
    sites = with_existing(cand, existing_sites(county.chargers, county.townships))
    return station_problems(sites, county.townships, cfg)


@pytest.mark.parametrize(
    ("k", "scale"), [(28, 0.3), (39, 0.1), (41, 0.5)], ids=["yongtian", "anjiang", "anquan"]
)
def test_province_counties_can_meet_the_township_minimum(tmp_path, k, scale):
    # counties `planner demo --province` made with no plan: yongtian and anjiang, whose
    # nearly-full first 35 kV substation (room for two stations) alone fed three
    # townships without a charger; anquan, whose thin grid put the cheapest station in
    # every township (19.2 million CNY) above the config's budget (16 million)
    slug, name, pinyin = province_names(k + 1)[k]
    ident = DemoIdentity(slug, name, pinyin, f"3611{99 - k:02d}", QINGXI.center)
    cfg = build_demo(tmp_path / slug, scale=scale, seed=DEFAULT_SEED + k, identity=ident)
    assert _presolve_causes(cfg) == []


def test_the_demo_county_keeps_its_binding_substation_and_budget(demo_config, demo_dir):
    assert _presolve_causes(demo_config) == []
    assert load_config(demo_config).stations.budget == 16_000_000
    table = pd.read_csv(demo_dir / "qingxi_substations.csv")
    first = table[table["substation_id"] == "QX-35-01"].iloc[0]
    assert 0.9 * first["rated_kva"] - first["peak_load_kw"] == pytest.approx(300, abs=0.5)


def test_a_province_county_names_its_own_shops(tmp_path):
    """The county seat's outlets carry their county's name, not the first demo county's."""
    import osmium

    from planner.demo import build_province

    build_province(tmp_path / "p", 2, scale=0.3)
    for slug, stem, other in (("qingxi", "青溪", "石门"), ("shimen", "石门", "青溪")):
        names = [
            o.tags.get("name", "")
            for o in osmium.FileProcessor(str(tmp_path / "p" / slug / f"{slug}.osm.pbf"))
            if "name" in o.tags
        ]
        assert f"{stem}华联超市" in names
        assert not [n for n in names if other in n]
