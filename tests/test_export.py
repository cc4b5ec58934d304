"""GIS exports: every format written and read back with pyogrio, and `planner export`.

The layers come from the demo run (the session's `demo_run` fixture); the CLI tests run
`planner export` on that run in a subprocess.
"""

from __future__ import annotations

import json
import logging
import re
import shutil

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely

from planner.errors import ConfigError, DataError
from planner.report.dictionary import data_dictionary, read_data_dictionary
from planner.report.export import export_targets
from planner.report.formats import (
    csv_frame,
    kml_frame,
    resolve_crs,
    shapefile_names,
    write_layers,
)
from planner.report.reexport import read_run_layers
from planner.report.shapefile_text import check_encodable
from tests.conftest import NO_TOURS, close_geometries, latest, run_cli, sets, site_json

ROUND_TRIPS = [
    ("gpkg", "4490", "utf-8"),
    ("shp", "4326", "utf-8"),
    ("shp", "4490", "gbk"),
    ("shp", "gk", "gbk"),
    ("geojson", "4326", "utf-8"),
    ("geojson", "gk", "utf-8"),
    ("csv", "4326", "utf-8"),
    ("csv", "gk", "utf-8"),
    ("kml", "4326", "utf-8"),
]


@pytest.fixture(scope="module")
def layers(demo_run):
    """The demo run's layers as `planner export` reads them (sites.gpkg, EPSG:4326), with
    a true/false column added to the repair points (as a flag column would be)."""
    out = read_run_layers(demo_run)
    rp = out["repair_points"]
    out["repair_points"] = rp.assign(flag=np.arange(len(rp)) % 2 == 0)
    return out


@pytest.fixture(scope="module")
def centre(layers):
    c = layers["townships"].union_all().centroid
    return (c.x, c.y)


def _same(a: pd.Series, b: pd.Series) -> None:
    """Same values: numbers to 1e-9, texts exactly; null and empty text are one value
    (CSV and DBF cannot tell them apart)."""
    assert len(a) == len(b)
    if pd.api.types.is_bool_dtype(a):
        truth = {"true": True, "1": True, "false": False, "0": False}
        got = [v if isinstance(v, bool) else truth.get(str(v).lower(), v) for v in b.tolist()]
        assert a.tolist() == [bool(v) for v in got], a.name
        return
    if pd.api.types.is_numeric_dtype(a):
        x = a.to_numpy(dtype=float)
        y = pd.to_numeric(b).to_numpy(dtype=float)
        assert np.allclose(x, y, rtol=1e-9, atol=1e-9, equal_nan=True), a.name
        return

    def norm(s: pd.Series) -> list:
        # GeoJSON and KML readers see "08:30" as a time and give "08:30:00" back
        texts = [None if (v is None or v != v or v == "") else str(v) for v in s.tolist()]
        return [re.sub(r"^(\d\d:\d\d):00$", r"\1", t) if t else t for t in texts]

    assert norm(a) == norm(b), a.name


def _read_back(folder, fmt, name, crs):
    """Each layer of an export as a GeoDataFrame, with the export's own column names."""
    out = {}
    if fmt in ("gpkg", "kml"):
        path = folder / f"sites.{fmt}"
        for layer, _ in pyogrio.list_layers(path):
            out[str(layer)] = pyogrio.read_dataframe(path, layer=layer)
        return out
    for path in sorted(folder.glob(f"*.{fmt}")):
        if fmt != "csv":
            out[path.stem] = pyogrio.read_dataframe(path)
            continue
        if path.stem == "data_dictionary":
            continue
        table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        geo = crs.is_geographic
        x, y = ("lon", "lat") if geo else ("easting", "northing")
        if "wkt" in table:
            wkt = table.pop("wkt").to_numpy()
            geom = shapely.from_wkt(np.where(wkt == "", None, wkt))  # a blank cell: none
        else:
            geom = shapely.points(table[x].astype(float), table[y].astype(float))
        out[path.stem] = gpd.GeoDataFrame(table, geometry=geom, crs=crs)
    return out


@pytest.mark.parametrize(("fmt", "crs_spec", "encoding"), ROUND_TRIPS)
def test_round_trip(tmp_path, layers, centre, fmt, crs_spec, encoding):
    crs = resolve_crs(crs_spec, lonlat=centre)
    written = write_layers(layers, tmp_path, fmt=fmt, crs=crs, encoding=encoding)
    assert written and all(p.exists() for p in written)
    back = _read_back(tmp_path, fmt, "sites", crs)
    if fmt in ("gpkg", "kml"):
        assert list(back) == list(layers)  # every layer, in order
    else:
        assert sorted(back) == sorted(layers)  # a file per layer
    fields = shapefile_names(c for g in layers.values() for c in g.columns if c != "geometry")
    geographic = crs.is_geographic or fmt == "kml"
    tol = 2e-7 if geographic else 2e-3  # 7 decimals of a degree; millimetres
    for name, src in layers.items():
        got = back[name]
        assert len(got) == len(src), name
        target = 4326 if fmt == "kml" else crs
        if fmt != "csv":
            assert got.crs is not None and got.crs.equals(pyogrio_crs(target)), (name, got.crs)
        expected = src.to_crs(target).geometry.to_numpy()
        gotgeom = shapely.force_2d(got.geometry.to_numpy())
        assert close_geometries(expected, gotgeom, tol), name
        source = kml_frame(src, layer=name) if fmt == "kml" else src
        for col in source.columns:
            if col == "geometry":
                continue
            have = {"shp": fields.get(col), "kml": "Name" if col == "name" else col}.get(fmt, col)
            assert have in got.columns, (name, col, have)
            numeric = pd.api.types.is_numeric_dtype(source[col])
            if fmt == "csv" and numeric and not pd.api.types.is_bool_dtype(source[col]):
                _same(source[col], got[have].replace("", np.nan).astype(float))
            else:
                _same(source[col], got[have])
    if fmt == "shp":
        for name in layers:
            assert len({c.lower() for c in back[name].columns}) == len(back[name].columns)
            assert all(len(c) <= 10 for c in back[name].columns)
            cpg = (tmp_path / f"{name}.cpg").read_text()
            assert cpg == {"utf-8": "UTF-8", "gbk": "GBK"}[encoding]
        # the bytes in the .dbf are the encoding the .cpg names: no mojibake
        town = layers["townships"]["township_name"].iloc[0]
        dbf = (tmp_path / "townships.dbf").read_bytes()
        assert town.encode(encoding) in dbf
        other = "gbk" if encoding == "utf-8" else "utf-8"
        assert town.encode(other) not in dbf


def pyogrio_crs(spec):
    from pyproj import CRS

    return CRS.from_user_input(spec)


def test_kml_is_read_by_gdal(tmp_path, layers):
    from planner.report.formats import kml_driver

    write_layers(layers, tmp_path, fmt="kml", crs=pyogrio_crs(4326))
    info = pyogrio.read_info(tmp_path / "sites.kml", layer="stations")
    assert info["driver"] in ("LIBKML", "KML")
    assert kml_driver() in pyogrio.list_drivers(write=True)
    st = pyogrio.read_dataframe(tmp_path / "sites.kml", layer="stations")
    assert set(st["Name"]) == set(kml_frame(layers["stations"], layer="stations")["name"])
    text = (tmp_path / "sites.kml").read_text(encoding="utf-8")
    assert layers["townships"]["township_name"].iloc[0] in text  # UTF-8 Chinese


def test_empty_layer_keeps_its_geometry_type(tmp_path, layers):
    some = {"stations": layers["stations"].iloc[:0], "townships": layers["townships"].iloc[:0]}
    for fmt in ("gpkg", "shp", "geojson"):
        folder = tmp_path / fmt
        folder.mkdir()
        write_layers(some, folder, fmt=fmt, crs=pyogrio_crs(4326))
    assert pyogrio.read_info(tmp_path / "shp" / "stations.shp")["geometry_type"] == "Point"
    info = pyogrio.read_info(tmp_path / "gpkg" / "sites.gpkg", layer="townships")
    assert info["features"] == 0 and "Polygon" in info["geometry_type"]


def test_polygon_layers_are_accepted_and_csv_has_wkt(tmp_path, layers):
    """A service_areas layer (added by the map work) is written like any other."""
    towns = layers["townships"]
    areas = gpd.GeoDataFrame(
        {"station_id": ["s1", "s2"], "minutes": [15.0, 15.0]},
        geometry=[towns.geometry.iloc[0], towns.geometry.iloc[1].buffer(0.001)],
        crs=towns.crs,
    )
    some = {"service_areas": areas, "stations": layers["stations"]}
    write_layers(some, tmp_path, fmt="gpkg", crs=pyogrio_crs(4490))
    assert [n for n, _ in pyogrio.list_layers(tmp_path / "sites.gpkg")] == [
        "stations",
        "service_areas",
    ]
    table = csv_frame(areas)
    assert list(table.columns) == ["station_id", "minutes", "lon", "lat", "wkt"]
    for lon, lat, geom in zip(table["lon"], table["lat"], areas.geometry, strict=True):
        assert geom.contains(shapely.Point(lon, lat))  # the anchor lies inside
    back = shapely.from_wkt(table["wkt"].to_numpy())
    assert (shapely.hausdorff_distance(back, areas.geometry.to_numpy()) < 1e-6).all()


def test_gbk_cannot_encode_is_an_error_naming_the_place(tmp_path, layers):
    st = layers["stations"].copy()
    st.loc[st.index[2], "name"] = "⚡快充站"
    with pytest.raises(DataError, match=r"layer 'stations', row 3, field 'name'.*U\+26A1.*GBK"):
        write_layers({"stations": st}, tmp_path, fmt="shp", crs=pyogrio_crs(4326), encoding="gbk")
    assert list(tmp_path.iterdir()) == []  # checked before anything is written
    rare = st.assign(name="𠮷野家")  # CJK extension B: in UTF-8 and GB18030, not in GBK
    with pytest.raises(DataError, match="row 1, field 'name'"):
        check_encodable(rare, layer="stations", encoding="gbk")
    check_encodable(rare, layer="stations", encoding="utf-8")
    write_layers({"stations": rare}, tmp_path, fmt="shp", crs=pyogrio_crs(4326))
    assert set(pyogrio.read_dataframe(tmp_path / "stations.shp")["name"]) == {"𠮷野家"}


def test_a_text_longer_than_a_shapefile_field_is_cut_with_a_warning(tmp_path, layers, caplog):
    """A DBF text field holds 254 bytes: a longer text (a van's day of many stops) is cut
    at a character, ends in "…" and is counted in a warning; other formats keep it."""
    st = layers["stations"].copy()
    st["name"] = st["name"].astype(object)
    st.loc[st.index[:2], "name"] = ["长" * 100, "a" * 300]  # 300 bytes in UTF-8 both
    check_encodable(st, layer="stations", encoding="utf-8")  # not an error
    with caplog.at_level(logging.WARNING, logger="planner.report.shapefile_text"):
        write_layers({"stations": st}, tmp_path, fmt="shp", crs=pyogrio_crs(4326))
    assert "field 'name': 2 texts longer than the 254 bytes" in caplog.text
    back = pyogrio.read_dataframe(tmp_path / "stations.shp")["name"]
    assert back[0] == "长" * 83 + "…" and back[1] == "a" * 251 + "…"
    assert all(len(v.encode("utf-8")) <= 254 for v in back)
    assert back[2:].tolist() == st["name"][2:].tolist()
    write_layers({"stations": st}, tmp_path, fmt="gpkg", crs=pyogrio_crs(4326))
    whole = pyogrio.read_dataframe(tmp_path / "sites.gpkg", layer="stations")["name"]
    assert whole[0] == "长" * 100 and whole[1] == "a" * 300


def test_gb18030_shapefiles_hold_what_gbk_cannot(tmp_path, layers):
    rare = layers["stations"].assign(name="𠮷野家")  # CJK extension B: not in GBK
    check_encodable(rare, layer="stations", encoding="gb18030")
    write_layers({"stations": rare}, tmp_path, fmt="shp", crs=pyogrio_crs(4326), encoding="gb18030")
    assert (tmp_path / "stations.cpg").read_text() == "GB18030"
    assert set(pyogrio.read_dataframe(tmp_path / "stations.shp")["name"]) == {"𠮷野家"}


@pytest.mark.slow
def test_export_encoding_applies_to_shapefiles_and_the_dictionary_names_the_crs(tmp_path, demo_run):
    run = shutil.copytree(demo_run, tmp_path / "run")
    r = run_cli("export", str(run), "--format", "csv", "--encoding", "gbk")
    assert r.returncode == 2 and "--encoding gbk applies to Shapefiles only" in r.stderr
    assert not (run / "exports").exists()
    r = run_cli("export", str(run), "--format", "csv", "--crs", "4490")
    assert r.returncode == 0, r.stderr
    d, lang = read_data_dictionary(run / "exports" / "csv_EPSG4490" / "data_dictionary.csv")
    lon = d.set_index("column").loc["lon", "description"]
    assert lon == lang("Longitude, {crs}", crs="CGCS2000 (EPSG:4490)") and "WGS84" not in lon
    r = run_cli("export", str(run), "--format", "shp", "--encoding", "gb18030")
    assert r.returncode == 0, r.stderr
    assert (run / "exports" / "shp_EPSG4326_gb18030" / "stations.cpg").read_text() == "GB18030"
    d, lang = read_data_dictionary(demo_run / "data_dictionary.csv")  # en or the run's zh
    lat = d.set_index("column").loc["lat", "description"]
    assert lat == lang("Latitude, {crs}", crs="WGS84 (EPSG:4326)")


def test_shapefile_names():
    cols = ["township_id", "name", "nearest_station_min", "averylongcolumn_a"]
    cols += ["averylongcolumn_b", "AVERYLONGC", "名称字段很长很长很长"]
    names = shapefile_names(cols)
    assert names["township_id"] == "twp_id" and names["name"] == "name"
    assert names["nearest_station_min"] == "near_st_mn"
    assert all(len(v.encode()) <= 10 and v.isascii() for v in names.values())
    assert len({v.lower() for v in names.values()}) == len(cols)
    assert names["AVERYLONGC"] == "AVERYLONGC"  # short names keep theirs
    assert names["averylongcolumn_a"] == "averylon_1"
    assert names["averylongcolumn_b"] == "averylon_2"


def test_resolve_crs():
    assert resolve_crs(4326).to_epsg() == 4326
    assert resolve_crs("4490").to_epsg() == 4490
    assert resolve_crs("EPSG:4548").to_epsg() == 4548
    assert resolve_crs("gk", lonlat=(117.3, 28.3)).to_epsg() == 4548  # CM 117 E
    assert resolve_crs("GK", lonlat=(100.2, 26.9)).to_epsg() == 4542  # CM 99 E
    with pytest.raises(ConfigError, match="outside China"):
        resolve_crs("gk", lonlat=(9.5, 47.1))
    with pytest.raises(ConfigError, match="not a CRS pyproj knows"):
        resolve_crs("EPSG:123456")
    # CGCS2000 geocentric (4479) and 3D (4480) come first in EPSG lists: no map coordinates
    for code in ("4479", "4480", "4978", "4979"):
        with pytest.raises(ConfigError, match="not a 2D map CRS"):
            resolve_crs(code)


def test_export_targets_layout():
    from pyproj import CRS

    targets = export_targets(["csv", "shp", "kml"], [CRS.from_epsg(4490)])
    got = [(f, c.to_epsg(), folder, name) for f, c, folder, name in targets]
    assert got == [
        ("gpkg", 4326, "", "sites"),
        ("gpkg", 4490, "", "sites_EPSG4490"),
        ("shp", 4326, "shp", "sites"),
        ("shp", 4490, "shp_EPSG4490", "sites"),
        ("csv", 4326, "", "sites"),
        ("csv", 4490, "csv_EPSG4490", "sites"),
        ("kml", 4326, "", "sites"),
    ]


def test_data_dictionary_lists_every_column(layers):
    layers = {n: g.drop(columns=["flag"], errors="ignore") for n, g in layers.items()}
    d = data_dictionary(layers)
    for name, g in layers.items():
        assert set(g.columns) - {"geometry"} <= set(d["column"]), name
    assert "(not documented)" not in set(d["description"])
    assert (d["unit"] != "").all()
    fields = d.set_index("column")["shapefile_field"]
    assert fields["township_name"] == "twp_name" and fields["lon"] == ""


@pytest.mark.slow
def test_run_writes_every_format_asked_for(tmp_path, small):
    out = tmp_path / "o"
    s = site_json(
        small,
        out,
        *sets(
            "report.formats=[gpkg, shp, geojson, csv, kml]",
            "report.extra_crs=[gk]",
            "report.shapefile_encoding=gbk",
            "report.document=false",
        ),
        *NO_TOURS,  # the tours' layers in every format: test_round_trip
    )
    out = latest(out)
    names = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    assert {
        "sites.gpkg",
        "sites_EPSG4548.gpkg",
        "sites.kml",
        "stations.csv",
        "townships.csv",
        "csv_EPSG4548/stations.csv",
        "shp/stations.shp",
        "shp_EPSG4548/townships.cpg",
        "geojson/demand.geojson",
        "geojson_EPSG4548/candidates.geojson",
        "data_dictionary.csv",
        "assignments.csv",
        "plan.qgs",
        "plan_EPSG4548.qgs",
        "shp/stations.sld",
        "shp/stations.qml",
        "shp_EPSG4548/townships.sld",
        "shp_EPSG4548/townships.qml",
    } <= names
    assert not {"report.html", "map.png", "report.md"} & names
    assert (out / "shp" / "stations.cpg").read_text() == "GBK"
    gk = pyogrio.read_dataframe(out / "shp_EPSG4548" / "stations.shp")
    assert gk.crs.to_epsg() == 4548 and len(gk) == s["stations"]
    xy = pd.read_csv(out / "csv_EPSG4548" / "stations.csv")
    # Chinese surveying: X is the northing (latitude ~28.3 N), Y the easting (500 km false
    # easting, no zone prefix in EPSG:4548)
    assert {"easting", "northing"} <= set(xy.columns)
    assert xy["easting"].between(300_000, 700_000).all()
    assert xy["northing"].between(3_000_000, 3_300_000).all()
    d, _ = read_data_dictionary(out / "data_dictionary.csv")
    assert {"easting", "northing", "wkt", "lon", "lat"} <= set(d["column"])


# `planner export` through the command line


def test_export_cli(tmp_path, demo_run, layers):
    out = tmp_path / "gbk"
    r = run_cli(
        "export", str(demo_run), "--format", "shp", "--crs", "4490", "--encoding", "gbk",
        "--out", str(out),
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert "shp written to" in r.stdout
    st = pyogrio.read_dataframe(out / "stations.shp")
    assert st.crs.to_epsg() == 4490 and len(st) == len(layers["stations"])
    assert st["twp_name"].tolist() == layers["stations"]["township_name"].tolist()
    assert (out / "stations.cpg").read_text() == "GBK"
    manifest = json.loads((out / "export.json").read_text(encoding="utf-8"))
    assert manifest["crs"] == "EPSG:4490" and manifest["encoding"] == "gbk"
    assert manifest["layers"]["townships"] == len(layers["townships"])
    d, _ = read_data_dictionary(out / "data_dictionary.csv")
    assert d.set_index("column").loc["nearest_station_min", "shapefile_field"] == "near_st_mn"
    # the demand's split between stations comes along, for joins by demand_id / station_id
    assert (out / "assignments.csv").read_bytes() == (demo_run / "assignments.csv").read_bytes()
    assert "assignments.csv" in manifest["files"]
    assert "assignments" in d.set_index("column").loc["sessions_served", "layers"]
    # again into the same folder: an earlier export is replaced; default folder; gk
    assert run_cli("export", str(demo_run), "--format", "shp", "--out", str(out)).returncode == 0
    assert (out / "stations.cpg").read_text() == "UTF-8"
    run = shutil.copytree(demo_run, tmp_path / "run")  # the default folder is in the run
    r = run_cli("export", str(run), "--format", "geojson", "--crs", "gk")
    assert r.returncode == 0, r.stderr
    g = pyogrio.read_dataframe(run / "exports" / "geojson_EPSG4548" / "townships.geojson")
    assert g.crs.to_epsg() == 4548
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp left


def test_exporting_again_keeps_the_users_files(tmp_path, demo_run):
    """An export into a folder that holds an earlier one replaces only the planner's files:
    a note the analyst left stays, a file of the earlier export edited since stops the
    export (exit 2, one line naming it, nothing moved), and an export in another format
    leaves none of the earlier format's unchanged files behind."""
    out = tmp_path / "exp"
    assert run_cli("export", str(demo_run), "--format", "csv", "--out", str(out)).returncode == 0
    note = out / "审核意见.txt"
    note.write_text("reviewed", "utf-8")
    assert run_cli("export", str(demo_run), "--format", "csv", "--out", str(out)).returncode == 0
    assert note.read_text("utf-8") == "reviewed" and (out / "stations.csv").is_file()
    edited = out / "townships.csv"
    edited.write_text(edited.read_text("utf-8-sig") + "x\n", "utf-8")
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    r = run_cli("export", str(demo_run), "--format", "csv", "--out", str(out))
    assert r.returncode == 2 and "townships.csv: changed since planner export wrote it" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    edited.unlink()
    r = run_cli("export", str(demo_run), "--format", "geojson", "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert note.is_file() and (out / "stations.geojson").is_file()
    # the csv export's layers went; the tables every export writes were written again
    assert {p.name for p in out.glob("*.csv")} == {"assignments.csv", "data_dictionary.csv"}
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp left


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["{missing}", "--format", "shp"], "no such run folder"),
        (["{notrun}", "--format", "shp"], "not a planner run (no run.json)"),
        (["{broken}", "--format", "shp"], "sites.gpkg: cannot read the run's layers"),
        (["{run}", "--format", "kml", "--crs", "4490"], "KML is always WGS84"),
        (["{run}", "--format", "csv", "--crs", "EPSG:123456"], "not a CRS pyproj knows"),
        (["{run}", "--format", "shp", "--out", "{foreign}"], "is not a planner output"),
    ],
)
def test_export_cli_errors(tmp_path, demo_run, args, message):
    (tmp_path / "notrun").mkdir()
    (tmp_path / "notrun" / "sites.gpkg").write_bytes(b"")
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "run.json").write_text("{}")
    (tmp_path / "broken" / "sites.gpkg").write_bytes(b"not a geopackage")
    (tmp_path / "foreign").mkdir()
    (tmp_path / "foreign" / "notes.txt").write_text("keep me")
    paths = {
        "missing": tmp_path / "nope",
        "notrun": tmp_path / "notrun",
        "broken": tmp_path / "broken",
        "run": demo_run,
        "foreign": tmp_path / "foreign",
    }
    r = run_cli("export", *(a.format(**paths) for a in args))
    assert r.returncode == 2, r.stderr
    assert message in r.stderr
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert (tmp_path / "foreign" / "notes.txt").read_text() == "keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken", "foreign", "notrun"]


def test_export_cli_gbk_error_leaves_nothing(tmp_path, demo_run, layers):
    run = tmp_path / "run"
    run.mkdir()
    shutil.copy(demo_run / "run.json", run / "run.json")
    st = layers["stations"].copy()
    st.loc[st.index[1], "township_name"] = "青溪镇·𠮷"
    for name, g in {**layers, "stations": st}.items():
        pyogrio.write_dataframe(g, run / "sites.gpkg", layer=name, append=name != "stations")
    out = tmp_path / "shp"
    r = run_cli("export", str(run), "--format", "shp", "--encoding", "gbk", "--out", str(out))
    assert r.returncode == 2
    assert "layer 'stations', row 2, field 'township_name'" in r.stderr
    assert "GBK cannot encode" in r.stderr and "Traceback" not in r.stderr
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_csv_numbers_have_no_binary_round_off(tmp_path, layers):
    """366.07480799999996 is written as 366.074808 (12 significant digits), which reads
    back as the same double to 1e-12."""
    t = layers["townships"].copy()
    t["evs"] = 366.07480799999996
    write_layers({"townships": t}, tmp_path, fmt="csv", crs=pyogrio_crs(4326))
    text = (tmp_path / "townships.csv").read_text("utf-8-sig")
    assert ",366.074808," in text and "366.0748079999" not in text


def test_a_legacy_datum_is_shifted_as_proj_knows_it_for_the_county(tmp_path, caplog):
    from pyproj import CRS
    from pyproj.transformer import AreaOfInterest, TransformerGroup

    from planner.report.formats import write_layers

    pts = gpd.GeoDataFrame(
        {"candidate_id": ["c1", "c2"]},
        geometry=gpd.points_from_xy([117.30, 117.41], [28.30, 28.22]),
        crs=4326,
    )
    got = {}
    for epsg in (2384, 2436, 4548):  # Xian 1980, Beijing 1954, CGCS2000: 117E zones
        folder = tmp_path / str(epsg)
        folder.mkdir()
        caplog.clear()
        with caplog.at_level(logging.WARNING):
            write_layers({"stations": pts}, folder, fmt="csv", crs=CRS.from_epsg(epsg))
        table = pd.read_csv(folder / "stations.csv", encoding="utf-8-sig")
        got[epsg] = table[["easting", "northing"]].to_numpy()
        warned = "PROJ knows no transformation from WGS84/CGCS2000" in caplog.text
        assert warned == (epsg != 4548), epsg
        if epsg != 4548:
            # the operation valid in the county's area (here only a ballpark one), not
            # one of another region that PROJ would otherwise apply point by point
            aoi = AreaOfInterest(117.30, 28.22, 117.41, 28.30)
            op = TransformerGroup(4326, epsg, always_xy=True, area_of_interest=aoi)
            want = np.column_stack(op.transformers[0].transform([117.30, 117.41], [28.30, 28.22]))
            assert np.abs(got[epsg] - want).max() < 1e-3
    # no datum shift: Xian 1980 differs from CGCS2000 by its ellipsoid's projection only
    assert 0.1 < np.abs(got[2384] - got[4548]).max() < 10


def test_export_json_records_the_datum_transformation(tmp_path, demo_run):
    r = run_cli(
        "export", str(demo_run), "--format", "csv", "--crs", "2384", "--out", str(tmp_path / "x")
    )
    assert r.returncode == 0, r.stderr
    assert "Xian 1980" in r.stderr and "ballpark" in r.stderr
    note = json.loads((tmp_path / "x" / "export.json").read_text(encoding="utf-8"))
    assert "Ballpark" in note["datum_transformation"]["operation"]
    assert note["datum_transformation"]["accuracy_m"] is None
    r = run_cli(
        "export", str(demo_run), "--format", "csv", "--crs", "4490", "--out", str(tmp_path / "y")
    )
    note = json.loads((tmp_path / "y" / "export.json").read_text(encoding="utf-8"))
    assert r.returncode == 0 and note["datum_transformation"] is None


def test_geopackage_layers_say_where_they_come_from(demo_run, tmp_path):
    out = tmp_path / "gk"
    import sqlite3

    with sqlite3.connect(demo_run / "sites.gpkg") as db:
        rows = dict(db.execute("SELECT table_name, description FROM gpkg_contents").fetchall())
    run_id = demo_run.resolve().name
    assert {"stations", "townships", "demand"} <= set(rows)
    rows.pop("layer_styles", None)  # QGIS's style table, not a layer of the plan
    for layer, text in rows.items():
        assert f"运行 {run_id}" in text and "合成示例数据" in text, layer  # run, data credit
        if layer != "assignments":  # a table without geometry has no CRS
            assert text.endswith("CRS: WGS 84 (EPSG:4326)."), layer
    # exported again, the layers keep saying it, with their new CRS
    r = run_cli("export", str(demo_run), "--format", "gpkg", "--crs", "gk", "--out", str(out))
    assert r.returncode == 0, r.stderr
    with sqlite3.connect(out / "sites.gpkg") as db:
        text = db.execute("SELECT description FROM gpkg_contents WHERE table_name = 'stations'")
        again = text.fetchone()[0]
    assert again.startswith(rows["stations"].split(" CRS: ")[0]) and "EPSG:4548" in again


def test_every_code_in_the_csvs_is_explained_in_the_data_dictionary(demo_run):
    d, _ = read_data_dictionary(demo_run / "data_dictionary.csv")
    described = d.set_index("column")["description"]
    checked = set()
    for path in demo_run.glob("*.csv"):
        table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        for col in ("policy_class", "connection_basis", "at_station", "day", "kind"):
            if col not in table:
                continue
            codes = re.findall(r"(?:：|: |, )([^=,：]+?) = ", described[col])
            values = set(table[col]) - {""}
            assert values <= set(codes), (path.name, col, values - set(codes))
            checked.add(col)
    assert checked == {"policy_class", "connection_basis", "at_station", "day", "kind"}


def test_the_geopackage_holds_the_demands_split_between_stations(demo_run, tmp_path):
    csv = pd.read_csv(demo_run / "assignments.csv", dtype={"demand_id": str}, encoding="utf-8-sig")
    for gpkg in (demo_run / "sites.gpkg", tmp_path / "again" / "sites.gpkg"):
        if not gpkg.exists():  # exported again, the table comes along
            r = run_cli("export", str(demo_run), "--format", "gpkg", "--out", str(gpkg.parent))
            assert r.returncode == 0, r.stderr
        assert dict(pyogrio.list_layers(gpkg))["assignments"] is None  # a table, no geometry
        table = pyogrio.read_dataframe(gpkg, layer="assignments")
        pd.testing.assert_frame_equal(table, csv, check_dtype=False)
    assert "assignments" not in read_run_layers(demo_run)  # not a layer of the map


def test_the_dictionary_names_the_crs_of_easting_and_northing(tmp_path, demo_run):
    for crs, prefixed in (("4527", True), ("gk", False)):
        out = tmp_path / crs
        r = run_cli("export", str(demo_run), "--format", "csv", "--crs", crs, "--out", str(out))
        assert r.returncode == 0, r.stderr
        d, _ = read_data_dictionary(out / "data_dictionary.csv")
        text = d.set_index("column").loc["easting", "description"]
        assert ("EPSG:4527" if prefixed else "EPSG:4548") in text, text
        assert (("东坐标前含带号" in text) or ("zone number in front" in text)) == prefixed, text
        east = pd.read_csv(out / "stations.csv", encoding="utf-8-sig")["easting"]
        assert (east > 1e6).all() == prefixed  # the zone number in front, as it says


def test_station_ids_join_the_demand_and_assignments_to_one_station_layer_each(demo_run):
    """Every station_id the demand and the assignments name is on the stations or the
    existing chargers layer, under the same field name; socket counts are whole numbers."""
    gpkg = demo_run / "sites.gpkg"
    stations = pyogrio.read_dataframe(gpkg, layer="stations")
    existing = pyogrio.read_dataframe(gpkg, layer="existing_chargers")
    assert list(stations.columns[:2]) == ["station_id", "candidate_id"]
    assert (stations["station_id"] == stations["candidate_id"]).all()
    known = set(stations["station_id"]) | set(existing["station_id"])
    assert len(known) == len(stations) + len(existing)  # one id, one station
    demand = pyogrio.read_dataframe(gpkg, layer="demand")
    table = pyogrio.read_dataframe(gpkg, layer="assignments")
    for named in (demand["station_id"].dropna(), table["station_id"]):
        named = set(named) - {""}
        assert named and named <= known, named - known
    assert str(existing["sockets"].dtype).lower().startswith("int"), existing["sockets"].dtype
    info = pyogrio.read_info(gpkg, layer="existing_chargers")
    kinds = dict(zip(info["fields"], info["dtypes"], strict=True))
    assert kinds["sockets"].startswith("int"), kinds
