"""GIS styles read back: QGIS layer_styles in GeoPackages, plan.qgs, SLD and QML beside
Shapefiles, styled KML, GeoPackage 1.3, X north / Y east in projected CSVs, and the data
dictionary in the report language.

The demo run's layers (the session's `demo_run`) are exported once in Chinese, in
EPSG:4326, EPSG:4490 and the county's Gauss-Kruger zone (EPSG:4548), and every file is
parsed back with sqlite3, pyogrio (GDAL) and xml.etree.
"""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import subprocess
import warnings
import xml.etree.ElementTree as ET

import pandas as pd
import pyogrio
import pytest
from pyproj import CRS, Transformer

from planner import columns as C
from planner.errors import ConfigError
from planner.i18n import translator
from planner.report.dictionary import (
    DICTIONARY_COLUMNS,
    data_dictionary,
    dictionary_file_table,
    read_data_dictionary,
)
from planner.report.export import export_crss, write_exports
from planner.report.kml import kml_colour
from planner.report.qml import rgba
from planner.report.reexport import export_run, read_run_layers, saved_language
from planner.report.styles import (
    DAY_COLOURS,
    DRAW_ORDER,
    KML_LAYERS,
    Rule,
    charger_classes,
    layer_style,
)
from planner.report.styling import STYLE_TABLE
from planner.tours.layers import DAY_NAMES
from planner.vocab import CLASS_COLOURS

K = "{http://www.opengis.net/kml/2.2}"
SE = "{http://www.opengis.net/se}"
OGC = "{http://www.opengis.net/ogc}"
SLD = "{http://www.opengis.net/sld}"
GPKGS = [("sites", "plan", 4326), ("sites_EPSG4490", "plan_EPSG4490", 4490)]
GPKGS += [("sites_EPSG4548", "plan_EPSG4548", 4548)]
STYLE_COLUMNS = [
    "id",
    "f_table_catalog",
    "f_table_schema",
    "f_table_name",
    "f_geometry_column",
    "styleName",
    "styleQML",
    "styleSLD",
    "useAsDefault",
    "description",
    "owner",
    "ui",
    "update_time",
]
CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def zh():
    return translator("zh")


@pytest.fixture(scope="module")
def layers(demo_run):
    return read_run_layers(demo_run)


@pytest.fixture(scope="module")
def exported(demo_run, layers, zh, tmp_path_factory):
    """The demo run's layers exported in Chinese: gpkg, shp, csv, kml; 4326, 4490, gk."""
    out = tmp_path_factory.mktemp("gis")
    crss = export_crss(["4490", "gk"], layers["townships"])
    assert [c.to_epsg() for c in crss] == [4490, 4548]
    assignments = pd.read_csv(demo_run / "assignments.csv")
    files = write_exports(
        out, layers, assignments, formats=["gpkg", "shp", "csv", "kml"], extra_crs=crss, lang=zh
    )
    assert {"plan.qgs", "plan_EPSG4490.qgs", "plan_EPSG4548.qgs", "sites.kml"} <= set(files)
    return out


def _aliases(qml: ET.Element) -> dict[str, str]:
    return {a.get("field"): a.get("name") for a in qml.iter("alias")}


def _symbol_colours(renderer: ET.Element) -> dict[str, str]:
    """Symbol name -> fill colour (r,g,b,a) of a renderer's symbols."""
    out = {}
    for symbol in renderer.find("symbols"):
        opts = {o.get("name"): o.get("value") for o in symbol.iter("Option") if o.get("name")}
        out[symbol.get("name")] = opts["color"]
    return out


def test_geopackages_carry_qgis_styles(exported, layers, zh):
    for stem, _, _ in GPKGS:
        path = exported / f"{stem}.gpkg"
        con = sqlite3.connect(path)
        cols = [r[1] for r in con.execute(f"PRAGMA table_info({STYLE_TABLE})")]
        assert cols == STYLE_COLUMNS
        kind = con.execute(
            "SELECT data_type FROM gpkg_contents WHERE table_name = ?", (STYLE_TABLE,)
        ).fetchone()
        assert kind == ("attributes",)
        rows = con.execute(
            "SELECT f_table_name, f_geometry_column, styleName, styleQML, styleSLD, "
            f"useAsDefault, description FROM {STYLE_TABLE} ORDER BY id"
        ).fetchall()
        con.close()
        assert [r[0] for r in rows] == list(layers)  # one row per layer, in order
        listed = dict(pyogrio.list_layers(path))
        assert listed[STYLE_TABLE] is None  # GDAL lists it, as a table without geometry
        for name, geom_col, style_name, qml_text, sld_text, default, title in rows:
            info = pyogrio.read_info(path, layer=name)
            assert geom_col == info["geometry_name"] and style_name == name and default == 1
            assert title == layer_style(name, layers[name], lang=zh).title
            qml = ET.fromstring(qml_text)
            assert qml.tag == "qgis"
            aliases = _aliases(qml)
            assert list(aliases) == [info["fid_column"], *info["fields"]]
            for col in info["fields"]:
                assert aliases[col] == zh.label(col), (name, col)
            sld = ET.fromstring(sld_text)
            assert sld.find(f"{SLD}NamedLayer/{SE}Name").text == name
        qml = {r[0]: ET.fromstring(r[3]) for r in rows}
        assert _aliases(qml["townships"])["township_name"] == "乡镇"
        stations = qml["stations"].find("renderer-v2")
        assert (stations.get("type"), stations.get("attr")) == ("graduatedSymbol", "chargers")
        ranges = [(float(r.get("lower")), float(r.get("upper"))) for r in stations.iter("range")]
        for n in layers["stations"]["chargers"]:  # every station falls in a class
            assert any(lo <= n <= hi for lo, hi in ranges), n
        cands = qml["candidates"].find("renderer-v2")
        assert cands.get("attr") == "policy_class"
        colours = _symbol_colours(cands)
        by_value = {c.get("value"): colours[c.get("symbol")] for c in cands.iter("category")}
        for code, colour in CLASS_COLOURS.items():
            assert by_value[code] == rgba(colour), code
        assert qml["townships"].find("labeling/settings/text-style").get("fieldName") == (
            "township_name"
        )
    assert list(read_run_layers(_run(exported))) == list(layers)  # the styles are no layer


def _run(folder):
    """A run folder for read_run_layers: the exported sites.gpkg and a run.json."""
    run = folder.parent / f"{folder.name}_run"
    if not run.exists():
        run.mkdir()
        shutil.copy(folder / "sites.gpkg", run / "sites.gpkg")
        (run / "run.json").write_text("{}")
    return run


def test_geopackages_open_without_gdal_warnings(exported, tmp_path):
    for stem, _, _ in GPKGS:
        path = exported / f"{stem}.gpkg"
        con = sqlite3.connect(path)
        assert con.execute("PRAGMA application_id").fetchone() == (0x47504B47,)  # 'GPKG'
        # 1.3: GDAL 3.6 warns "only partially supported" for any user_version above 10300
        assert con.execute("PRAGMA user_version").fetchone() == (10300,)
        assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert con.execute("PRAGMA foreign_key_check").fetchall() == []
        con.close()
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # pyogrio turns GDAL warnings into warnings
            for name, _ in pyogrio.list_layers(path):
                pyogrio.read_info(path, layer=name)
                pyogrio.read_dataframe(path, layer=name)
        if shutil.which("ogrinfo"):
            r = subprocess.run(
                ["ogrinfo", "-ro", "-so", "-al", str(path)], capture_output=True, text=True
            )
            assert r.returncode == 0 and "Warning" not in r.stderr, r.stderr
    # the capture is real: a GeoPackage of a version GDAL does not know does warn
    odd = tmp_path / "odd.gpkg"
    shutil.copy(exported / "sites.gpkg", odd)
    with sqlite3.connect(odd) as con:
        con.execute("PRAGMA user_version = 10900")
    with pytest.warns(RuntimeWarning, match="only be partially supported"):
        pyogrio.read_info(odd, layer="stations")


def _sld_rules(path):
    root = ET.parse(path).getroot()
    return root.findall(f".//{SE}Rule")


def test_shapefiles_have_sld_and_qml_beside_them(exported, layers, zh):
    for folder in ("shp", "shp_EPSG4490", "shp_EPSG4548"):
        for name in layers:
            shp = exported / folder / f"{name}.shp"
            fields = list(pyogrio.read_info(shp)["fields"])
            qml = ET.parse(shp.with_suffix(".qml")).getroot()
            assert qml.tag == "qgis"
            aliases = _aliases(qml)
            assert list(aliases) == fields  # the DBF's 10-character names
            rules = _sld_rules(shp.with_suffix(".sld"))
            assert rules
            for prop in ET.parse(shp.with_suffix(".sld")).getroot().iter(f"{OGC}PropertyName"):
                assert prop.text in fields, (name, prop.text)
        towns = exported / folder / "townships"
        assert _aliases(ET.parse(towns.with_suffix(".qml")).getroot())["twp_name"] == "乡镇"
        rules = _sld_rules(towns.with_suffix(".sld"))
        poly = rules[0].find(f"{SE}PolygonSymbolizer")
        assert poly.find(f"{SE}Fill") is None and poly.find(f"{SE}Stroke") is not None
        label = rules[-1].find(f"{SE}TextSymbolizer/{SE}Label/{OGC}PropertyName")
        assert label.text == "twp_name"
        # candidates: one rule per policy class in its colour, then the others
        colours = {}
        for rule in _sld_rules(exported / folder / "candidates.sld"):
            equal = rule.find(f"{OGC}Filter/{OGC}PropertyIsEqualTo")
            if equal is None:
                continue
            assert equal.find(f"{OGC}PropertyName").text == "pol_class"
            fill = rule.find(f".//{SE}Fill/{SE}SvgParameter[@name='fill']").text
            colours[equal.find(f"{OGC}Literal").text] = fill
            assert rule.find(f"{SE}Name").text == zh.policy_class(equal.find(f"{OGC}Literal").text)
        assert {k: colours[k] for k in CLASS_COLOURS} == CLASS_COLOURS
        assert any(
            r.find(f"{SE}ElseFilter") is not None
            for r in _sld_rules(towns.parent / "candidates.sld")
        )
        # stations: classes of chargers, larger markers for more chargers
        sizes = []
        for rule in _sld_rules(exported / folder / "stations.sld"):
            between = rule.find(f"{OGC}Filter/{OGC}PropertyIsBetween")
            if between is not None:
                assert between.find(f"{OGC}PropertyName").text == "chargers"
                sizes.append(float(rule.find(f".//{SE}Size").text))
        assert len(sizes) >= 2 and sizes == sorted(sizes) and len(set(sizes)) == len(sizes)
        areas = _sld_rules(exported / folder / "service_areas.sld")[0]
        opacity = areas.find(f".//{SE}Fill/{SE}SvgParameter[@name='fill-opacity']")
        assert 0 < float(opacity.text) < 0.5  # translucent


def test_qgis_projects_open_every_layer_in_the_export_crs(exported, layers, zh):
    for stem, project, epsg in GPKGS:
        qgs = exported / f"{project}.qgs"
        root = ET.parse(qgs).getroot()
        assert root.tag == "qgis" and root.get("version").startswith("3.")
        assert root.find("projectCrs/spatialrefsys/authid").text == f"EPSG:{epsg}"
        assert CRS.from_wkt(root.find("projectCrs/spatialrefsys/wkt").text).to_epsg() == epsg
        assert root.find("properties/Paths/Absolute").text == "false"
        gpkg = exported / f"{stem}.gpkg"
        in_file = {str(n) for n, g in pyogrio.list_layers(gpkg) if g is not None}
        ids = {}
        for ml in root.findall("projectlayers/maplayer"):
            source, _, layer = ml.find("datasource").text.partition("|layername=")
            assert source.startswith("./")  # relative to the project
            assert (qgs.parent / source).resolve() == gpkg.resolve() and gpkg.is_file()
            assert layer in in_file
            assert ml.find("srs/spatialrefsys/authid").text == f"EPSG:{epsg}"
            assert ml.find("renderer-v2") is not None
            assert ml.find("layername").text == layer_style(layer, layers[layer], lang=zh).title
            ids[ml.find("id").text] = layer
        assert set(ids.values()) == set(layers) == in_file
        tree = [ids[t.get("id")] for t in root.findall("layer-tree-group/layer-tree-layer")]
        assert tree == [n for n in DRAW_ORDER if n in layers] and tree[0] == "stations"
        assert [ids[e.get("id")] for e in root.findall("layerorder/layer")] == tree
        towns = next(ml for ml in root.iter("maplayer") if ids[ml.find("id").text] == "townships")
        assert _aliases(towns)["township_name"] == "乡镇"
        box = [
            float(root.find(f"mapcanvas/extent/{k}").text) for k in ("xmin", "ymin", "xmax", "ymax")
        ]
        xmin, ymin, xmax, ymax = pyogrio.read_info(gpkg, layer="townships")["total_bounds"]
        assert box[0] <= xmin and box[1] <= ymin and box[2] >= xmax and box[3] >= ymax


def _kml(path):
    doc = ET.parse(path).getroot().find(f"{K}Document")
    styles = {s.get("id"): s for s in doc.findall(f"{K}Style")}
    boxes = [c for c in doc if c.tag in (f"{K}Document", f"{K}Folder")]
    return doc, styles, boxes


def _simple(mark, field):
    for data in mark.iter(f"{K}SimpleData"):
        if data.get("name") == field:
            return data.text
    return None


def test_kml_has_styled_placemarks_of_the_plan(exported, layers, zh):
    _, styles, boxes = _kml(exported / "sites.kml")
    titles = [b.find(f"{K}name").text for b in boxes]
    assert titles == [layer_style(n, layers[n], lang=zh).title for n in KML_LAYERS]
    assert titles[0] == "充电站"
    for box, name in zip(boxes, KML_LAYERS, strict=True):
        marks = box.findall(f"{K}Placemark")
        assert len(marks) == len(layers[name])
        for mark in marks:
            url = mark.find(f"{K}styleUrl").text
            assert url.startswith("#") and url[1:] in styles, url
            text = mark.find(f"{K}description").text
            assert CJK.search(text) and "<table>" in text
    style = layer_style("stations", layers["stations"], lang=zh)
    station_marks = boxes[0].findall(f"{K}Placemark")
    for mark in station_marks:
        chargers = int(_simple(mark, "chargers"))
        rule = style.rule_for(chargers)
        assert mark.find(f"{K}styleUrl").text == f"#style-stations-{rule.key}"
        assert zh.label("chargers") in mark.find(f"{K}description").text
    scales = [
        float(styles[f"style-stations-{r.key}"].find(f"{K}IconStyle/{K}scale").text)
        for r in style.rules
    ]
    assert scales == sorted(scales) and len(set(scales)) == len(scales)
    towns = styles["style-townships"]
    assert towns.find(f"{K}PolyStyle/{K}fill").text == "0"
    assert towns.find(f"{K}LineStyle/{K}color") is not None
    # GDAL still reads the file, one layer per folder
    names = [str(n) for n, _ in pyogrio.list_layers(exported / "sites.kml")]
    assert names == titles
    assert len(pyogrio.read_dataframe(exported / "sites.kml", layer="充电站")) == len(
        layers["stations"]
    )


def test_kml_layers_option(layers, tmp_path):
    wanted = [*KML_LAYERS, "candidates"]
    write_exports(tmp_path, layers, pd.DataFrame(), formats=["kml"], kml_layers=wanted)
    _, styles, boxes = _kml(tmp_path / "sites.kml")
    # English (no lang): the folders keep the layer names
    assert [b.find(f"{K}name").text for b in boxes] == [n for n in layers if n in wanted]
    cands = next(b for b in boxes if b.find(f"{K}name").text == "candidates")
    seen = set()
    for mark in cands.findall(f"{K}Placemark"):
        code = _simple(mark, "policy_class")
        assert mark.find(f"{K}styleUrl").text == f"#style-candidates-{code}"
        colour = styles[f"style-candidates-{code}"].find(f"{K}IconStyle/{K}color").text
        assert colour == kml_colour(CLASS_COLOURS[code])
        seen.add(code)
    assert len(seen) >= 3
    with pytest.raises(ConfigError, match="'roads': no such layer"):
        write_exports(tmp_path, layers, pd.DataFrame(), formats=["kml"], kml_layers=["roads"])


def test_tours_are_coloured_by_day_and_stops_labelled_by_order(exported, layers, zh):
    days = list(dict.fromkeys(layers["tours"]["day"]))
    assert days == ["mon", "tue", "wed", "thu", "fri"]
    with sqlite3.connect(exported / "sites.gpkg") as con:
        qml = dict(con.execute(f"SELECT f_table_name, styleQML FROM {STYLE_TABLE}").fetchall())
    for name, kind in (("tours", "line_color"), ("tour_stops", "color")):
        renderer = ET.fromstring(qml[name]).find("renderer-v2")
        assert (renderer.get("type"), renderer.get("attr")) == ("categorizedSymbol", "day")
        symbols = {
            s.get("name"): {o.get("name"): o.get("value") for o in s.iter("Option")}
            for s in renderer.find("symbols")
        }
        cats = [c for c in renderer.iter("category") if c.get("value")]
        assert [c.get("value") for c in cats] == days
        assert [c.get("label") for c in cats] == ["星期一", "星期二", "星期三", "星期四", "星期五"]
        for c in cats:
            assert symbols[c.get("symbol")][kind] == rgba(DAY_COLOURS[c.get("value")])
    assert len({DAY_COLOURS[d] for d in days}) == len(days)  # a colour of its own each day
    text = ET.fromstring(qml["tour_stops"]).find("labeling/settings/text-style")
    assert text.get("fieldName") == "order"
    assert ET.fromstring(qml["tours"]).find("labeling") is None
    sld = _sld_rules(exported / "shp" / "tours.sld")
    lines = [r for r in sld if r.find(f"{SE}LineSymbolizer") is not None]
    literals = [
        r.find(f".//{OGC}Literal").text for r in lines if r.find(f".//{OGC}Literal") is not None
    ]
    assert literals == days
    # KML (the tours are among the plan's layers): a style per day, tours named by van and day
    _, styles, boxes = _kml(exported / "sites.kml")
    box = next(b for b in boxes if b.find(f"{K}name").text == "维修车巡回路线")
    marks = box.findall(f"{K}Placemark")
    assert len(marks) == len(layers["tours"])
    for mark, (_, row) in zip(marks, layers["tours"].iterrows(), strict=True):
        assert mark.find(f"{K}name").text == f"{row['van']} {zh.gettext(DAY_NAMES[row['day']])}"
        assert mark.find(f"{K}styleUrl").text == f"#style-tours-{row['day']}"
        colour = styles[f"style-tours-{row['day']}"].find(f"{K}LineStyle/{K}color").text
        assert colour == kml_colour(DAY_COLOURS[row["day"]])
        assert _simple(mark, "back") == row["back"] and mark.find(f"{K}TimeSpan") is None
        assert "返回时间" in mark.find(f"{K}description").text


def test_gauss_kruger_csv_has_easting_and_northing(exported, layers, zh):
    """Projected CSVs name their coordinates easting / northing: a GIS reads "x" as the
    easting, Chinese surveying as the northing (EPSG:4548's first axis is X north)."""
    gk = CRS.from_epsg(4548)
    assert gk.axis_info[0].abbrev == "X" and gk.axis_info[0].direction == "north"
    csv = pd.read_csv(exported / "csv_EPSG4548" / "stations.csv")
    assert "x" not in csv and "y" not in csv
    st = layers["stations"]
    east, north = Transformer.from_crs(4326, gk, always_xy=True).transform(
        st.geometry.x.to_numpy(), st.geometry.y.to_numpy()
    )
    assert csv["northing"].to_numpy() == pytest.approx(north, abs=2e-3)
    assert csv["easting"].to_numpy() == pytest.approx(east, abs=2e-3)
    assert csv["northing"].between(3.0e6, 3.3e6).all()  # ~28.3 N
    assert csv["easting"].between(400_000, 600_000).all()  # 500 km false easting, no zone
    towns = pd.read_csv(exported / "csv_EPSG4548" / "townships.csv")
    assert towns["northing"].between(3.0e6, 3.3e6).all() and "wkt" in towns
    d = pd.read_csv(exported / "data_dictionary.csv", keep_default_na=False)
    assert list(d.columns) == ["列名", "说明", "单位", "Shapefile字段", "图层"]
    rows = d.set_index("列名")
    assert "北坐标" in rows.loc["northing", "说明"] and "东坐标" in rows.loc["easting", "说明"]
    assert rows.loc["northing", "单位"] == zh.unit("m")
    assert "Northing" in C.DICTIONARY[C.NORTHING][0] and "Easting" in C.DICTIONARY[C.EASTING][0]


def test_data_dictionary_in_the_report_language(layers, zh, tmp_path):
    en = data_dictionary(layers)
    cn = data_dictionary(layers, lang=zh)
    assert list(en.columns) == list(cn.columns) == list(DICTIONARY_COLUMNS)
    assert en["column"].tolist() == cn["column"].tolist()
    both = en.merge(cn, on="column", suffixes=("", "_zh")).set_index("column")
    assert both.loc["capex", "unit_zh"] == "元" and both.loc["capex", "unit"] == "CNY"
    assert both.loc["lon", "description_zh"] == "经度，WGS84 (EPSG:4326)"
    assert both["description_zh"].map(lambda t: bool(CJK.search(t))).all()
    assert list(dictionary_file_table(en, lang=translator("en")).columns) == list(
        DICTIONARY_COLUMNS
    )
    assert list(dictionary_file_table(en).columns) == list(DICTIONARY_COLUMNS)
    localised = dictionary_file_table(cn, lang=zh)
    assert list(localised.columns) == ["列名", "说明", "单位", "Shapefile字段", "图层"]
    localised.to_csv(tmp_path / "d.csv", index=False, encoding="utf-8-sig")
    back, lang = read_data_dictionary(tmp_path / "d.csv")
    assert lang.code == "zh" and back.equals(cn.astype(str))


def test_charger_classes_and_rules():
    assert charger_classes([]) == []
    assert charger_classes([3, 3, 5.0, None]) == [(3, 3), (5, 5)]
    assert charger_classes(range(1, 11)) == [(1, 3), (4, 6), (7, 8), (9, 10)]
    rule = Rule("1", "x", layer_style("demand", pd.DataFrame()).symbol, bounds=(4.0, 6.0))
    assert rule.matches(4) and rule.matches("6") and not rule.matches(7)
    assert not rule.matches(float("nan")) and not rule.matches(None) and not rule.matches("a")


@pytest.mark.slow
def test_export_run_styles_its_files(demo_run, tmp_path, zh):
    folder, files = export_run(demo_run, fmt="gpkg", crs="4490", out=tmp_path / "g", lang=zh)
    assert "plan.qgs" in files and (folder / "plan.qgs").is_file()
    root = ET.parse(folder / "plan.qgs").getroot()
    assert root.find("projectCrs/spatialrefsys/authid").text == "EPSG:4490"
    with sqlite3.connect(folder / "sites.gpkg") as con:
        count = con.execute(f"SELECT count(*) FROM {STYLE_TABLE}").fetchone()[0]
        assert count == len(read_run_layers(demo_run)) == 10  # the tours: 2, the substations: 1
        assert con.execute("PRAGMA user_version").fetchone() == (10300,)
    manifest = json.loads((folder / "export.json").read_text(encoding="utf-8"))
    assert manifest["language"] == "zh"
    assert read_data_dictionary(folder / "data_dictionary.csv")[1].code == "zh"
    folder, _ = export_run(demo_run, fmt="kml", out=tmp_path / "k")
    manifest = json.loads((folder / "export.json").read_text(encoding="utf-8"))
    assert list(manifest["layers"]) == list(KML_LAYERS)
    _, _, boxes = _kml(folder / "sites.kml")
    assert [b.find(f"{K}name").text for b in boxes] == list(KML_LAYERS)
    folder, _ = export_run(demo_run, fmt="shp", crs="gk", out=tmp_path / "s")
    assert (folder / "stations.sld").is_file() and (folder / "stations.qml").is_file()
    summary = json.loads((demo_run / "summary.json").read_text(encoding="utf-8"))
    assert saved_language(demo_run).code == summary["language"]
    assert saved_language(tmp_path).code == "en"  # no summary.json


def test_other_layers_and_the_plain_kml_driver(tmp_path, layers, monkeypatch):
    """A layer the planner does not know (lines here) gets a plain style in every format;
    KML written by GDAL's KML driver (no LIBKML) is styled the same way."""
    import geopandas as gpd
    from shapely.geometry import LineString

    import planner.report.formats as formats

    lines = gpd.GeoDataFrame(
        {"line_id": ["a", "b"]},
        geometry=[
            LineString([(117.1, 28.2), (117.2, 28.3)]),
            LineString([(117.3, 28.2), (117.4, 28.4)]),
        ],
        crs=4326,
    )
    some = {"stations": layers["stations"], "grid_lines": lines}
    monkeypatch.setattr(formats, "kml_driver", lambda: "KML")
    write_exports(
        tmp_path, some, pd.DataFrame(), formats=["gpkg", "shp", "kml"], kml_layers=list(some)
    )
    with sqlite3.connect(tmp_path / "sites.gpkg") as con:
        qml = dict(con.execute(f"SELECT f_table_name, styleQML FROM {STYLE_TABLE}").fetchall())
    symbol = ET.fromstring(qml["grid_lines"]).find("renderer-v2/symbols/symbol")
    assert symbol.get("type") == "line" and symbol.find("layer").get("class") == "SimpleLine"
    project = ET.parse(tmp_path / "plan.qgs").getroot()
    kinds = {ml.find("layername").text: ml.get("geometry") for ml in project.iter("maplayer")}
    assert kinds == {"grid_lines": "Line", "Charging stations": "Point"}
    sld = ET.parse(tmp_path / "shp" / "grid_lines.sld").getroot()
    assert sld.find(f".//{SE}LineSymbolizer/{SE}Stroke") is not None
    _, styles, boxes = _kml(tmp_path / "sites.kml")
    assert boxes[0].tag == f"{K}Folder"  # as GDAL's KML driver writes a layer
    assert [b.find(f"{K}name").text for b in boxes] == list(some)
    for box in boxes:
        for mark in box.findall(f"{K}Placemark"):
            assert mark.find(f"{K}styleUrl").text[1:] in styles
    plain = styles["style-grid_lines"]
    assert plain.find(f"{K}LineStyle") is not None and plain.find(f"{K}PolyStyle") is None
    assert len(pyogrio.read_dataframe(tmp_path / "sites.kml", layer="grid_lines")) == 2


def test_a_run_with_a_chinese_dictionary_still_gives_its_workbook(demo_run, tmp_path, zh):
    """`write_run_workbook` reads data_dictionary.csv in the run's language."""
    from openpyxl import load_workbook

    from planner.report.workbook import write_run_workbook

    run = shutil.copytree(demo_run, tmp_path / "run")
    english, _ = read_data_dictionary(run / "data_dictionary.csv")
    chinese = dictionary_file_table(english, lang=zh)
    chinese.to_csv(run / "data_dictionary.csv", index=False, encoding="utf-8-sig")
    assert read_data_dictionary(run / "data_dictionary.csv")[1].code == "zh"
    book = load_workbook(write_run_workbook(run, tmp_path / "plan.xlsx", lang=zh))
    ws = book[zh("Data dictionary")]
    fields = [row[0] for row in ws.iter_rows(min_row=2, values_only=True) if row[0]]
    assert set(english["column"]) <= set(fields)


@pytest.mark.slow
def test_export_cli_kml_layers(demo_run, tmp_path):
    from tests.conftest import run_cli

    out = tmp_path / "kml"
    r = run_cli("export", str(demo_run), "--format", "kml", "--kml-layers", "stations,demand",
                "--out", str(out))  # fmt: skip
    assert r.returncode == 0, r.stderr
    _, _, boxes = _kml(out / "sites.kml")
    assert len(boxes) == 2  # the demo run is in Chinese: folders carry the layers' titles
    assert boxes[0].find(f"{K}name").text != boxes[1].find(f"{K}name").text
    assert all(re.search(r"[\u4e00-\u9fff]", b.find(f"{K}name").text) for b in boxes)
    bad = run_cli("export", str(demo_run), "--format", "gpkg", "--kml-layers", "demand",
                  "--out", str(tmp_path / "g"))  # fmt: skip
    assert bad.returncode == 2 and "--kml-layers applies to --format kml only" in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1
    unknown = run_cli("export", str(demo_run), "--format", "kml", "--kml-layers", "roads",
                      "--out", str(tmp_path / "k"))  # fmt: skip
    assert unknown.returncode == 2 and "'roads': no such layer" in unknown.stderr
