"""Ingest on small files written here: OSM (pbf, xml, bz2), GIS layers, tables, rasters."""

import logging

import geopandas as gpd
import numpy as np
import osmium
import pytest
import rasterio
import shapely
from osmium.osm import mutable
from rasterio.transform import from_origin

from planner.crs import reproject
from planner.errors import DataError
from planner.ingest.boundaries import read_boundaries
from planner.ingest.grid import join_headroom, read_substation_table
from planner.ingest.osm import parse_voltage_kv, read_osm
from planner.ingest.population import read_population
from planner.ingest.vector import read_layer

LAYERS = {
    "county_layer": "county",
    "township_layer": "townships",
    "id_field": "code",
    "name_field": "name",
}


def write_osm(path):
    w = osmium.SimpleWriter(str(path), overwrite=True)
    nodes = {
        1: ((117.30, 28.30), {}),
        2: ((117.31, 28.30), {}),
        3: ((117.32, 28.31), {}),
        4: ((117.33, 28.31), {}),
        5: ((117.305, 28.301), {"amenity": "fuel", "name": "加油站"}),
        6: ((117.306, 28.302), {"amenity": "charging_station", "capacity": "6", "name": "充电站"}),
        7: ((117.31, 28.305), {"place": "village", "name": "张家村", "population": "1,200"}),
        8: ((117.32, 28.305), {"power": "substation", "voltage": "35000;10000", "ref": "S1"}),
        9: ((117.50, 28.50), {"shop": "supermarket", "name": "far away"}),  # outside bbox
        10: ((117.300, 28.303), {}),
        11: ((117.301, 28.303), {}),
        12: ((117.301, 28.304), {}),
        13: ((117.300, 28.304), {}),
        14: ((117.40, 28.31), {}),
        15: ((117.311, 28.302), {"power": "transformer", "voltage": "10000;400"}),
        16: (
            (117.312, 28.302),
            {"amenity": "charging_station", "socket:gb_dc": "2", "socket:gb_ac": "4"},
        ),
    }
    for nid, (loc, tags) in nodes.items():
        w.add_node(mutable.Node(id=nid, location=loc, tags=tags, version=1))
    w.add_way(mutable.Way(id=1, nodes=[1, 2], tags={"highway": "primary", "maxspeed": "60"}))
    w.add_way(mutable.Way(id=2, nodes=[2, 3, 4], tags={"highway": "residential"}))
    w.add_way(mutable.Way(id=3, nodes=[3, 14], tags={"highway": "footway"}))  # not drivable
    w.add_way(
        mutable.Way(id=4, nodes=[10, 11, 12, 13, 10], tags={"amenity": "parking", "name": "停车场"})
    )  # area -> point
    w.add_way(mutable.Way(id=5, nodes=[2, 4], tags={"power": "minor_line", "voltage": "10000"}))
    w.add_way(mutable.Way(id=6, nodes=[1, 3], tags={"highway": "track"}))
    w.close()
    return path


@pytest.mark.parametrize("suffix", [".osm.pbf", ".osm", ".osm.bz2"])
def test_read_osm_formats(tmp_path, suffix):
    path = write_osm(tmp_path / f"t{suffix}")
    osm = read_osm(path, bbox=(117.2, 28.2, 117.45, 28.4))
    assert sorted(osm.roads.highway) == ["primary", "residential"]
    assert len(osm.roads.node_ids) == 4
    assert osm.roads.maxspeed[osm.roads.highway.index("primary")] == "60"
    assert set(osm.pois["name"]) == {"加油站", "停车场"}  # shop outside the box is skipped
    park = osm.pois[osm.pois["name"] == "停车场"].geometry.iloc[0]
    assert park.x == pytest.approx(117.3005) and park.y == pytest.approx(28.3035)
    assert osm.chargers["sockets"].tolist() == [6, 6]  # capacity; else the socket counts
    assert osm.power_points["power"].tolist() == ["transformer"]
    assert osm.power_points["voltage_kv"].tolist() == [10]
    assert osm.places["population"].tolist() == [1200]
    assert osm.substations["voltage_kv"].tolist() == [35]
    assert osm.power_lines["voltage_kv"].tolist() == [10]


def test_read_osm_errors(tmp_path):
    with pytest.raises(DataError, match="OSM file not found"):
        read_osm(tmp_path / "missing.osm.pbf")
    bad = tmp_path / "roads.txt"
    bad.write_text("x")
    with pytest.raises(DataError, match="not an OSM extract"):
        read_osm(bad)
    path = write_osm(tmp_path / "t.osm.pbf")
    with pytest.raises(DataError, match="no drivable roads"):
        read_osm(path, bbox=(10.0, 10.0, 11.0, 11.0))
    junk = tmp_path / "junk.osm.pbf"
    junk.write_bytes(b"not a pbf at all")
    with pytest.raises(DataError, match=r"junk\.osm\.pbf: cannot read OSM data"):
        read_osm(junk)


@pytest.mark.parametrize(
    ("tag", "kv"), [("110000;35000;10000", 110), ("10 kV", 10), ("", None), ("medium", None)]
)
def test_parse_voltage(tag, kv):
    assert parse_voltage_kv(tag) == kv


def township_layers(path, *, crs=4490, invalid=False):
    county = shapely.box(117.0, 28.0, 117.2, 28.2)
    a = shapely.box(117.0, 28.0, 117.1, 28.2)
    b = shapely.box(117.1, 28.0, 117.2, 28.2)
    if invalid:  # a bow-tie: self-intersecting
        b = shapely.Polygon([(117.1, 28.0), (117.2, 28.2), (117.2, 28.0), (117.1, 28.2)])
    gpd.GeoDataFrame({"name": ["县"]}, geometry=[county], crs=crs).to_file(path, layer="county")
    gpd.GeoDataFrame(
        {"code": ["361199100", "361199201"], "name": ["城关镇", "青山乡"]}, geometry=[a, b], crs=crs
    ).to_file(path, layer="townships")
    return path


def test_read_boundaries(tmp_path):
    path = township_layers(tmp_path / "b.gpkg")
    county, towns = read_boundaries(
        path, county_layer="county", township_layer="townships", id_field="code", name_field="name"
    )
    assert county.crs.to_epsg() == 4326 and len(county) == 1
    assert towns["township_id"].tolist() == ["361199100", "361199201"]
    assert towns["township_name"].tolist() == ["城关镇", "青山乡"]


def test_township_codes_stored_as_double_keep_their_digits(tmp_path):
    """An ArcGIS layer whose code field is Double gives 361199100, not 361199100.0, so
    that the outputs join back to the county's own layer."""
    path = township_layers(tmp_path / "b.gpkg")
    towns = gpd.read_file(path, layer="townships")
    towns["code"] = towns["code"].astype(float)
    towns.to_file(path, layer="townships")
    assert gpd.read_file(path, layer="townships")["code"].dtype.kind == "f"
    _, got = read_boundaries(
        path, county_layer="county", township_layer="townships", id_field="code", name_field="name"
    )
    assert got["township_id"].tolist() == ["361199100", "361199201"]


@pytest.mark.filterwarnings("ignore:'crs' was not provided")
def test_boundary_errors(tmp_path, caplog):
    path = township_layers(tmp_path / "b.gpkg")
    kw = {"county_layer": "county", "township_layer": "townships", "name_field": "name"}
    with pytest.raises(DataError, match=r"b.gpkg, layer 'townships', field 'kode': field not"):
        read_boundaries(path, id_field="kode", **kw)
    with pytest.raises(DataError, match=r"layer 'towns': layer not found \(layers are"):
        read_layer(path, layer="towns")
    nocrs = tmp_path / "nocrs.shp"  # a shapefile without .prj
    gpd.GeoDataFrame({"a": [1]}, geometry=[shapely.box(0, 0, 1, 1)]).to_file(nocrs)
    with pytest.raises(DataError, match="has no CRS"):
        read_layer(nocrs)
    empty = tmp_path / "empty.gpkg"
    gpd.GeoDataFrame({"a": []}, geometry=gpd.GeoSeries([], crs=4326)).to_file(empty)
    with pytest.raises(DataError, match="layer is empty"):
        read_layer(empty)
    broken = tmp_path / "broken.gpkg"
    broken.write_bytes(b"SQLite format 3\x00 but not really")
    with pytest.raises(DataError, match="cannot open as a GIS file"):
        read_layer(broken)
    bowtie = township_layers(tmp_path / "bowtie.gpkg", invalid=True)
    with caplog.at_level(logging.WARNING):
        towns = read_layer(bowtie, layer="townships")
    assert towns.is_valid.all()
    assert "1 invalid geometry repaired by GEOS make_valid" in caplog.text
    assert "feature 2: Self-intersection[" in caplog.text  # where: the analyst can fix it
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        read_boundaries(
            bowtie, county_layer="townships", township_layer="townships", id_field="code",
            name_field="name",
        )  # fmt: skip
    # one warning for the one layer read, naming the township
    assert caplog.text.count("invalid geometry repaired") == 1, caplog.text
    assert "feature 2 (361199201 青山乡): Self-intersection[" in caplog.text


def test_substation_table(tmp_path):
    csv = tmp_path / "subs.csv"
    csv.write_text("substation_id,rated_kva,peak_load_kw\nS1,10000,7000\nS9,5000,1000\n")
    table = read_substation_table(
        csv,
        id_field="substation_id",
        rated_kva_field="rated_kva",
        peak_load_kw_field="peak_load_kw",
    )
    subs = gpd.GeoDataFrame(
        {"osm_id": ["n8", "n9"], "ref": ["S1", None]},
        geometry=[shapely.Point(0, 0), shapely.Point(1, 1)],
        crs=4326,
    )
    joined = join_headroom(subs, table)
    assert joined["headroom_kw"].iloc[0] == pytest.approx(10000 * 0.9 - 7000)
    assert np.isnan(joined["headroom_kw"].iloc[1])
    csv.write_text("substation_id,rated_kva,peak_load_kw\nS1,lots,7000\n")
    with pytest.raises(DataError, match=r"field 'rated_kva', row 2: not a non-negative"):
        read_substation_table(
            csv,
            id_field="substation_id",
            rated_kva_field="rated_kva",
            peak_load_kw_field="peak_load_kw",
        )
    with pytest.raises(DataError, match="column not found"):
        read_substation_table(
            csv, id_field="id", rated_kva_field="rated_kva", peak_load_kw_field="peak_load_kw"
        )


def write_raster(
    path, values, *, crs="EPSG:32650", origin=(500_000, 3_131_000), nodata=-1.0, cell=100.0
):
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=values.shape[1],
        height=values.shape[0],
        count=1,
        dtype="float32",
        crs=crs,
        nodata=nodata,
        transform=from_origin(*origin, cell, cell),
    ) as dst:
        dst.write(values.astype("float32"), 1)
    return path


def test_read_population_clips_to_the_county(tmp_path):
    values = np.ones((10, 10))
    values[0, 0] = -1.0  # nodata
    path = write_raster(tmp_path / "pop.tif", values)
    # the county polygon covers the left half of the raster
    box = shapely.box(500_000, 3_130_000, 500_500, 3_131_000)
    county = reproject(box, 32650, 4326)
    grid = read_population(path, county)
    assert grid.values.sum() == pytest.approx(49, abs=1)  # 50 cells, one nodata
    assert grid.crs.to_epsg() == 32650


def test_read_population_errors(tmp_path):
    county = shapely.box(117.0, 28.0, 117.1, 28.1)
    with pytest.raises(DataError, match="population raster not found"):
        read_population(tmp_path / "none.tif", county)
    path = write_raster(
        tmp_path / "neg.tif",
        -5 * np.ones((5, 5)),
        nodata=-1.0,
        crs="EPSG:4326",
        origin=(117.0, 28.1),
        cell=0.02,
    )
    with pytest.raises(DataError, match="negative population"):
        read_population(path, county)
    far = write_raster(tmp_path / "far.tif", np.ones((5, 5)))
    with pytest.raises(DataError, match="does not overlap"):
        read_population(far, county)
    txt = tmp_path / "pop.tif.txt"
    txt.write_text("hello")
    with pytest.raises(DataError, match="cannot open as a raster"):
        read_population(txt, county)


def test_township_table_dup_ids(tmp_path):
    path = tmp_path / "dup.gpkg"
    township_layers(path)
    t = gpd.read_file(path, layer="townships")
    t["code"] = ["1", "1"]
    t.to_file(path, layer="townships")
    with pytest.raises(DataError, match="duplicate township id '1'"):
        read_boundaries(path, **LAYERS)


def test_substation_table_joined_by_position(tmp_path):
    from planner.ingest.grid import join_headroom_nearest

    subs = gpd.GeoDataFrame(
        {"osm_id": ["n1", "w2"], "ref": [None, None]},
        geometry=[shapely.Point(117.30, 28.30), shapely.Point(117.40, 28.30)],
        crs=4326,
    )
    table = gpd.GeoDataFrame(
        {
            "substation_id": ["东港站", "石塘站", "新站"],
            "rated_kva": [10000.0, 5000.0, 8000.0],
            "peak_load_kw": [6000.0, 4000.0, 1000.0],
        },
        # 300 m from n1; 200 m from w2; 5 km from both
        geometry=[
            shapely.Point(117.303, 28.30),
            shapely.Point(117.402, 28.30),
            shapely.Point(117.35, 28.35),
        ],
        crs=4326,
    )
    out = join_headroom_nearest(subs, table, 4548, max_distance_m=1000)
    assert out["substation_id"].tolist() == ["东港站", "石塘站", "新站"]
    assert out["headroom_kw"].tolist() == pytest.approx([3000, 500, 6200])
    assert out.geometry.iloc[0].x == pytest.approx(117.30)  # keeps the substation's place
    assert out.crs.to_epsg() == 4326


def test_disk_index_reads_the_same(demo_dir):
    pbf = demo_dir / "qingxi.osm.pbf"
    mem = read_osm(pbf)
    disk = read_osm(pbf, disk_index_bytes=0)  # force the province-size path
    assert np.array_equal(mem.roads.node_ids, disk.roads.node_ids)
    assert np.array_equal(mem.roads.lon, disk.roads.lon)
    assert mem.roads.highway == disk.roads.highway
    assert len(mem.pois) == len(disk.pois) and len(mem.places) == len(disk.places)


@pytest.mark.filterwarnings("ignore:'crs' was not provided")
def test_wrong_or_missing_crs_gets_a_hint(tmp_path):
    # GK zone 39 metres with the zone prefix, but the file claims CGCS2000 degrees
    box = shapely.box(39_500_000, 3_130_000, 39_510_000, 3_140_000)
    wrong = tmp_path / "wrong.gpkg"
    gpd.GeoDataFrame({"code": ["1"], "name": ["镇"]}, geometry=[box], crs=4490).to_file(
        wrong, layer="townships"
    )
    gpd.GeoDataFrame({"name": ["县"]}, geometry=[box], crs=4490).to_file(wrong, layer="county")
    with pytest.raises(
        DataError,
        match=r"wrong\.gpkg, layer 'county': coordinates do not fit "
        r".*zone 39 with the zone prefix \(EPSG:4527\)",
    ):
        read_boundaries(
            wrong,
            county_layer="county",
            township_layer="townships",
            id_field="code",
            name_field="name",
        )
    nocrs = tmp_path / "towns.shp"
    gpd.GeoDataFrame({"a": [1]}, geometry=[box]).to_file(nocrs)
    with pytest.raises(
        DataError,
        match=r"has no CRS \(coordinates look like CGCS2000 "
        r"3-degree Gauss-Kruger zone 39",
    ):
        read_layer(nocrs)


def test_extra_highway_classes(tmp_path):
    path = write_osm(tmp_path / "t.osm.pbf")
    osm = read_osm(path, bbox=(117.2, 28.2, 117.45, 28.4), extra_highways=("track",))
    assert sorted(osm.roads.highway) == ["primary", "residential", "track"]


def test_blank_township_id_is_an_error(tmp_path):
    path = township_layers(tmp_path / "b.gpkg")
    t = gpd.read_file(path, layer="townships")
    t.loc[1, "code"] = None
    t.to_file(path, layer="townships")
    with pytest.raises(DataError, match=r"field 'code', row 2: empty township id \(1 features\)"):
        read_boundaries(path, **LAYERS)


def test_point_layer_is_not_a_boundary(tmp_path):
    path = township_layers(tmp_path / "b.gpkg")
    gpd.GeoDataFrame({"name": ["县"]}, geometry=[shapely.Point(117.1, 28.1)], crs=4490).to_file(
        path, layer="county"
    )
    with pytest.raises(DataError, match="boundaries must be polygons, found Point"):
        read_boundaries(path, **LAYERS)


def test_substation_table_duplicates_and_empty(tmp_path):
    csv = tmp_path / "subs.csv"
    kw = {
        "id_field": "substation_id",
        "rated_kva_field": "rated_kva",
        "peak_load_kw_field": "peak_load_kw",
    }
    csv.write_text("substation_id,rated_kva,peak_load_kw\nS1,100,50\nS2,100,50\nS1,90,10\n")
    with pytest.raises(DataError, match=r"row 4: duplicate substation id 'S1'"):
        read_substation_table(csv, **kw)
    csv.write_text("substation_id,rated_kva,peak_load_kw\n")
    with pytest.raises(DataError, match="table has no rows"):
        read_substation_table(csv, **kw)


def test_population_window_takes_every_touched_cell(tmp_path):
    path = write_raster(tmp_path / "pop.tif", np.ones((20, 20)))
    # a county whose edges fall a quarter into cells: x 500125..500975, y 3130475..3130875
    box = shapely.box(500_125, 3_130_475, 500_975, 3_130_875)
    grid = read_population(path, reproject(box, 32650, 4326))
    # cell centres inside: columns 1..9 (500150..500950) and rows 1..4: 9 x 4 = 36 cells;
    # a window that rounds its width (8.5 cells) down to 8 misses column 9
    assert grid.values.sum() == 36


def test_extra_poi_keys_and_untagged_power_lines(tmp_path):
    path = tmp_path / "t.osm.pbf"
    w = osmium.SimpleWriter(str(path), overwrite=True)
    w.add_node(mutable.Node(id=1, location=(117.30, 28.30), version=1))
    w.add_node(mutable.Node(id=2, location=(117.31, 28.30), version=1))
    w.add_node(
        mutable.Node(
            id=3, location=(117.305, 28.301), version=1, tags={"tourism": "hotel", "name": "宾馆"}
        )
    )
    w.add_way(mutable.Way(id=1, nodes=[1, 2], tags={"highway": "primary"}, version=1))
    w.close()
    assert read_osm(path).pois.empty
    pois = read_osm(path, poi_keys=("tourism",)).pois
    assert pois["tourism"].tolist() == ["hotel"]


def test_a_point_layers_crs_comes_from_the_config_when_given_else_from_the_file(tmp_path, caplog):
    """A Shapefile in Gauss-Kruger without .prj is read in the config's crs; a layer that
    states its CRS keeps it when the config gives none, and the config's wins (warned)."""
    from planner.config import PointTableInput
    from planner.ingest.tables import read_points

    lonlat = [(117.23, 28.17), (117.30, 28.30)]
    pts = gpd.GeoDataFrame(
        {"name": ["甲", "乙"]}, geometry=gpd.points_from_xy(*zip(*lonlat, strict=True)), crs=4326
    )
    gk = pts.to_crs(4527)
    bare = tmp_path / "bare.shp"
    gk.to_file(bare, encoding="utf-8")
    bare.with_suffix(".prj").unlink()
    with pytest.raises(DataError, match=r"layer has no CRS.*EPSG:4527"):
        read_points(PointTableInput(path=bare), role="chargers")
    got = read_points(PointTableInput(path=bare, crs="EPSG:4527"), role="chargers")
    assert np.allclose(shapely.get_coordinates(got.geometry), lonlat, atol=1e-9)
    stated = tmp_path / "stated.gpkg"
    gk.to_file(stated)
    got = read_points(PointTableInput(path=stated), role="chargers")
    assert np.allclose(shapely.get_coordinates(got.geometry), lonlat, atol=1e-9)
    with caplog.at_level(logging.WARNING):
        read_points(PointTableInput(path=stated, crs="EPSG:4490"), role="chargers")
    assert "the file states EPSG:4527; the config's crs EPSG:4490 is used instead" in caplog.text


def _subs_and_table(tmp_path, rows):
    csv = tmp_path / "subs.csv"
    csv.write_text("substation_id,rated_kva,peak_load_kw\n" + rows)
    fields = {"rated_kva_field": "rated_kva", "peak_load_kw_field": "peak_load_kw"}
    table = read_substation_table(csv, id_field="substation_id", **fields)
    subs = gpd.GeoDataFrame(
        {"osm_id": ["n8", "n9", "n10"], "ref": ["QX-35-01", "QX-35-02", None]},
        geometry=[shapely.Point(0, 0), shapely.Point(1, 1), shapely.Point(2, 2)],
        crs=4326,
    )
    return csv, subs, table


def test_headroom_ids_match_whatever_their_case_spaces_or_width(tmp_path, caplog):
    # a grid team's table: lower case, a stray space, full-width letters and digits
    csv, subs, table = _subs_and_table(
        tmp_path, "qx-35-01 ,1000,100\nＱＸ－３５－０２,2000,200\nQX-99-01,500,50\n"
    )
    with caplog.at_level("WARNING"):
        joined = join_headroom(subs, table, label=csv)
    assert joined["headroom_kw"].tolist()[:2] == pytest.approx([800, 1600])
    assert joined["substation_id"].tolist()[:2] == ["QX-35-01", "QX-35-02"]  # the layer's ids
    assert np.isnan(joined["headroom_kw"].iloc[2])
    text = caplog.text
    assert "1 substations have no row, so their headroom is unknown and not checked: 'n10'" in text
    assert "1 rows match no substation: 'QX-99-01'" in text


def test_a_headroom_table_whose_ids_match_no_substation_stops_the_run(tmp_path):
    csv, subs, table = _subs_and_table(tmp_path, "35-01,1000,100\n35-02,2000,200\n")
    with pytest.raises(DataError) as err:
        join_headroom(subs, table, label=csv)
    text = str(err.value)
    assert str(csv) in text and "none of its 2 substation ids ('35-01', '35-02')" in text
    assert "of the 3 substations ('QX-35-01', 'QX-35-02', 'n10')" in text


def test_ids_that_differ_only_in_case_are_one_substation_given_twice(tmp_path):
    csv, subs, table = _subs_and_table(tmp_path, "QX-35-01,1000,100\nqx-35-01,2000,200\n")
    with pytest.raises(DataError, match="substation id 'qx-35-01' is given twice"):
        join_headroom(subs, table, label=csv)


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ("A,6.3,4.2\nB,10,6.9\nC,0,0\n", r"field 'rated_kva'.*look like MVA \(median 8.15\)"),
        ("A,6300,5.37\nB,10000,6.87\n", r"field 'peak_load_kw'.*look like MW: .* 0.08%"),
    ],
    ids=["mva", "mw"],
)
def test_a_headroom_table_in_mva_or_mw_is_refused(tmp_path, rows, message):
    csv = tmp_path / "subs.csv"
    csv.write_text("substation_id,rated_kva,peak_load_kw\n" + rows)
    fields = {"rated_kva_field": "rated_kva", "peak_load_kw_field": "peak_load_kw"}
    with pytest.raises(DataError, match=message):
        read_substation_table(csv, id_field="substation_id", **fields)


def test_substations_already_over_their_capacity_are_named(tmp_path, caplog):
    csv, subs, table = _subs_and_table(tmp_path, "QX-35-01,6300,6000\nQX-35-02,10000,6000\n")
    with caplog.at_level("WARNING"):
        joined = join_headroom(subs, table, label=csv)
    assert joined["headroom_kw"].iloc[0] == pytest.approx(6300 * 0.9 - 6000)
    assert "1 substations are already loaded beyond their capacity" in caplog.text
    assert "QX-35-01 -330 kW" in caplog.text


def test_rows_without_a_rated_capacity_do_not_make_a_table_look_like_mva(tmp_path):
    _, _, table = _subs_and_table(tmp_path, "QX-35-01,0,0\nQX-35-02,0,0\nX,6300,4000\n")
    assert table["rated_kva"].tolist() == [0, 0, 6300]
