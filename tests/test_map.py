"""map.html without a browser: self-contained, assets, basemap settings, escaping, the
road layer, money and unit texts in both languages, the zoom of township names."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import folium
import geopandas as gpd
import numpy as np
import pytest
import shapely
from pydantic import ValidationError
from pyproj import CRS

from planner.config import ReportSection
from planner.datatypes import RoadWays
from planner.errors import AssetError
from planner.i18n import translator
from planner.report import assets
from planner.report.map import basemaps, encode, road_lines, write_map
from planner.report.map.basemaps import basemap_specs as _basemap_specs
from planner.report.map.encode import js_json as _js_json
from planner.report.map.layers import label_zoom
from planner.report.map.roads import road_layer, road_ranks
from planner.roadgraph import build_graph

EN, ZH = translator("en"), translator("zh")


def test_demo_map_is_self_contained(demo_run: Path):
    text = (demo_run / "map.html").read_text(encoding="utf-8")
    # nothing is loaded from elsewhere: no external script, stylesheet, image or frame
    assert not re.search(r"<(script|link|img|iframe)\b[^>]*\b(src|href)=", text, re.I)
    assert not re.search(r"url\((?!data:|#default#VML)[^)]*\)", text)  # CSS images inline
    for dropped in ("jquery", "bootstrap", "awesome-markers", "font-awesome", "fontawesome"):
        assert dropped not in text.lower()
    assert "Leaflet 1.9" in text  # inline, with its licence header
    assert "sourceMappingURL" not in text
    assert "plannerMap.overlay" in text
    # a few hundred kB for the demo county (Leaflet itself is ~150 kB)
    assert len(text.encode()) < 1_500_000


def test_missing_leaflet_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setattr(assets, "LEAFLET_PACKAGE", "xstatic.pkg.no_such_leaflet")
    with pytest.raises(AssetError, match="XStatic-Leaflet"):
        assets.leaflet_assets()
    monkeypatch.undo()
    monkeypatch.setattr(assets, "_leaflet_dir", lambda: tmp_path)
    with pytest.raises(AssetError, match=r"leaflet\.css is missing"):
        assets.leaflet_assets()


def test_leaflet_assets_inline_their_images():
    css, js = assets.leaflet_assets()
    assert "url(images/" not in css and "data:image/png;base64," in css
    assert js.lstrip().startswith("/* @preserve") and "sourceMappingURL" not in js


def test_write_map_refuses_cdn_links(tmp_path):
    with pytest.raises(AssetError, match="self-contained"):
        write_map(folium.Map(tiles=None), tmp_path / "map.html")
    assert not (tmp_path / "map.html").exists()


def test_script_text_cannot_close_its_element():
    text = _js_json({"t": "</script><img src=x onerror=alert(1)> & 'q'"})
    assert "<" not in text and ">" not in text and "&" not in text
    assert encode.script_safe("a</SCRIPT>b") == "a<\\/SCRIPT>b"


def test_basemaps_default_and_tianditu_key(monkeypatch, caplog):
    monkeypatch.delenv(basemaps.TIANDITU_KEY_ENV, raising=False)
    caplog.set_level(logging.INFO, logger="planner.report.map.basemaps")
    labels = [label for label, _ in _basemap_specs(ReportSection(), lang=EN)]
    assert labels[0] == basemaps.NO_BASEMAP  # offline first: the one shown
    assert "OpenStreetMap" in labels
    assert not any("Tianditu" in x for x in labels)  # no key: left out, with a log line
    assert "Tianditu basemaps left out" in caplog.text

    specs = dict(_basemap_specs(ReportSection(tianditu_key="abc123def456"), lang=EN))
    urls = [t["url"] for t in specs["天地图 Tianditu (vector)"]["tiles"]]
    assert len(urls) == 2 and all(u.endswith("tk=abc123def456") for u in urls)
    assert not specs["天地图 Tianditu (vector)"]["gcj02"]
    assert specs["高德 Gaode/AMap (vector, GCJ-02)"]["gcj02"]

    monkeypatch.setenv(basemaps.TIANDITU_KEY_ENV, "fromtheenv1234")
    specs = dict(_basemap_specs(ReportSection(basemaps=["tianditu_imagery"]), lang=EN))
    assert list(specs) == [basemaps.NO_BASEMAP, "天地图 Tianditu (imagery)"]
    assert specs["天地图 Tianditu (imagery)"]["tiles"][0]["url"].endswith("tk=fromtheenv1234")

    monkeypatch.setenv(basemaps.TIANDITU_KEY_ENV, "bad'key\"<x>")
    assert len(_basemap_specs(ReportSection(basemaps=["tianditu_vector"]))) == 1
    assert list(dict(_basemap_specs(ReportSection(basemaps=[])))) == [basemaps.NO_BASEMAP]

    # in Chinese: the labels and the attributions
    specs = dict(
        _basemap_specs(
            ReportSection(basemaps=["osm", "tianditu_vector"], tianditu_key="abc123def456"),
            lang=ZH,
        )
    )
    assert list(specs) == ["无底图（离线）", "OpenStreetMap", "天地图（矢量）"]
    assert specs["OpenStreetMap"]["tiles"][0]["options"]["attribution"] == (
        "&copy; OpenStreetMap 贡献者"
    )


def test_report_settings_are_validated():
    with pytest.raises(ValidationError):
        ReportSection(basemaps=["google"])
    with pytest.raises(ValidationError):
        ReportSection(tianditu_key="x'); alert(1); ('")
    with pytest.raises(ValidationError):
        ReportSection(map_simplify_m=-1)


def _ways() -> RoadWays:
    """A trunk road, a village road and a track across a 2 km square near 28°N."""
    lon = np.array([117.0, 117.01, 117.02, 117.0, 117.01, 117.01, 117.015])
    lat = np.array([28.0, 28.0, 28.0, 28.01, 28.01, 28.02, 28.02])
    return RoadWays(
        node_ids=np.arange(7, dtype=np.int64),
        lon=lon,
        lat=lat,
        way_nodes=[np.array([0, 1, 2]), np.array([3, 4, 1]), np.array([4, 5, 6]), np.array([6])],
        highway=["trunk", "residential", "track", "service"],
        maxspeed=["80", None, None, None],
        oneway=[None, None, None, None],
        names=["G320", "村道", None, None],
    )


def test_road_lines_from_ways_and_from_the_graph():
    ways = _ways()
    lines = road_lines(ways)
    assert lines.crs.to_epsg() == 4326
    assert list(lines["highway"]) == ["trunk", "residential", "track"]  # a 1-node way drops
    assert list(lines["name"][:2]) == ["G320", "村道"] and lines["name"].isna().iloc[2]
    assert lines.geometry.iloc[1].coords[:] == [(117.0, 28.01), (117.01, 28.01), (117.01, 28.0)]
    assert list(road_ranks(lines)) == [0, 3, 4]

    crs = CRS.from_epsg(4548)
    graph = build_graph(ways, crs, speeds_kmh={"residential": 30, "track": 15})
    segments = road_lines(graph, crs=crs)
    assert segments.crs.to_epsg() == 4326
    assert len(segments) == graph.n_edges // 2  # both directions of a segment: one line
    assert segments["speed_kmh"].max() == pytest.approx(80)
    assert sorted(set(road_ranks(segments))) == [0, 3]  # 80 km/h: major; 30 and 15: other
    # the segments are the ways' pieces: the same length, in metres
    metres = lambda g: g.to_crs(crs).length.sum()  # noqa: E731
    assert metres(segments) == pytest.approx(metres(lines), rel=1e-6)
    with pytest.raises(ValueError, match="crs"):
        road_lines(graph)


def test_road_layer_draws_ranks_clipped_and_within_budget():
    crs = CRS.from_epsg(4548)
    lines = road_lines(_ways())
    # a county covering the western half of the roads: the rest is cut 500 m beyond it
    box = gpd.GeoSeries([shapely.box(117.0, 27.99, 117.005, 28.03)], crs=4326).to_crs(crs)
    county = type("County", (), {"county": gpd.GeoDataFrame(geometry=box), "crs": crs})()
    legend: list[dict] = []
    layer = road_layer(lines, county, 5.0, legend, lang=ZH)
    spec = json.loads(layer.spec_json)
    features = spec["data"]["features"]
    weights = [f["properties"]["s"]["weight"] for f in features]
    assert len(features) == 3 and weights == sorted(weights, reverse=True)  # major first
    assert spec["style"]["interactive"] is False
    east = max(x for f in features for line in f["geometry"]["coordinates"] for x, _ in line)
    assert 117.009 < east < 117.0105  # 117.005 + 500 m, not the roads' 117.02
    assert legend[0]["title"] == "道路" and layer.layer_name == "道路"
    # over the vertex budget, the least important ranks go first
    few = json.loads(road_layer(lines, county, 5.0, [], budget=2).spec_json)
    assert [f["properties"]["s"]["weight"] for f in few["data"]["features"]] == [weights[0]]


def test_money_and_units_in_both_languages():
    assert encode.money_text(1_010_323, lang=EN) == "1,010,323 CNY"
    assert encode.money_text(1_010_323, lang=ZH) == "1,010,323 元"  # as the report prints it
    assert encode.money_text(float("nan"), lang=ZH) == ""
    assert encode.connection_text(None, lang=ZH) == "不计入"
    assert encode.connection_text(None) == "not included"
    assert encode.unit_text(180, "kW", lang=ZH) == "180 千瓦"
    assert encode.unit_text(180, "kW") == "180 kW"


def test_township_names_show_where_they_have_room():
    crs = CRS.from_epsg(4548)
    centre = gpd.GeoSeries([shapely.Point(117.0, 28.0)], crs=4326).to_crs(crs).iloc[0]

    def towns(side_m: float, n: int = 16) -> gpd.GeoDataFrame:
        k = int(np.sqrt(n))
        cell = side_m / k
        boxes = [
            shapely.box(
                centre.x + i * cell,
                centre.y + j * cell,
                centre.x + (i + 1) * cell,
                centre.y + (j + 1) * cell,
            )
            for i in range(k)
            for j in range(k)
        ]
        return gpd.GeoDataFrame(geometry=boxes, crs=crs)

    county = label_zoom(towns(60_000))  # 15 km apart: names from about zoom 11
    assert 10 <= county <= 12
    assert label_zoom(towns(15_000)) == county + 2  # 4 times closer: 2 zooms further in
    assert label_zoom(towns(60_000).to_crs(4326)) == county  # any CRS
    assert label_zoom(towns(500)) == 14 and label_zoom(towns(5_000_000)) == 8  # bounded


# -- the repair vans' tours --------------------------------------------------------------


def _week() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Three vans' tours on Monday and Wednesday near 28°N (EPSG:4548, metres)."""
    crs = CRS.from_epsg(4548)
    base = gpd.GeoSeries([shapely.Point(117.0, 28.0)], crs=4326).to_crs(crs).iloc[0]
    x0, y0 = base.x, base.y
    tours, stops = [], []
    for day, vans in (("wed", ["r001-1", "r000-1"]), ("mon", ["r000-1", "r000-2", "r001-1"])):
        for k, van in enumerate(vans):
            # out along a road to two villages and back the same way
            far = [(x0 + 1000 * (k + 1), y0 + 500 * i) for i in range(3)]
            line = shapely.LineString([(x0, y0), *far, *far[-2::-1], (x0, y0)])
            tours.append(
                {
                    "day": day,
                    "van": van,
                    "repair_id": van[:4],
                    "stops": 2,
                    "km": 4.2,
                    "drive_h": 0.3,
                    "start": "08:00",
                    "back": "09:30",
                    "lunch": "",
                    "sequence": "a > b",
                    "geometry": line,
                }
            )
            for order, (x, y) in enumerate(far[1:], start=1):
                stops.append(
                    {
                        "day": day,
                        "van": van,
                        "repair_id": van[:4],
                        "order": order,
                        "stop_id": f"d{k}{order}",
                        "name": "村" if order == 1 else None,
                        "kind": "villages",
                        "visit": 1,
                        "per_week": 2,
                        "arrival": "08:10",
                        "start": "08:10",
                        "departure": "08:40",
                        "wait_min": 0.0,
                        "km_from_previous": 1.23,
                        "geometry": shapely.Point(x, y),
                    }
                )
    return gpd.GeoDataFrame(tours, crs=crs), gpd.GeoDataFrame(stops, crs=crs)


def test_tour_overlays_one_per_day_in_chinese():
    from planner.report.map.tours import LAYER_NAMES, tour_overlays
    from planner.tours import DAY_NAMES

    assert list(LAYER_NAMES) == list(DAY_NAMES)
    tours, stops = _week()
    legend: list[dict] = []
    overlays = tour_overlays(tours, stops, 5.0, legend, places={"r000": "青山维修点"}, lang=ZH)
    # week order, off when the page opens
    assert [o.layer_name for o in overlays] == ["周一巡回路线", "周三巡回路线"]
    assert not any(o.show for o in overlays)
    specs = [json.loads(o.spec_json) for o in overlays]
    assert [s["key"] for s in specs] == ["tours_mon", "tours_wed"]
    assert legend == [{**legend[0], "key": ["tours_mon", "tours_wed"], "title": "维修车巡回路线"}]
    # a numbered marker per row of tour_stops, on its day
    for spec, day in zip(specs, ("mon", "wed"), strict=True):
        rows = stops[stops["day"] == day]
        assert len(spec["points"]) == len(rows)
        assert [p[2]["n"] for p in spec["points"]] == list(rows["order"])
        drawn = (tours["day"] == day) & tours.geometry.notna()  # a stay at the base: no line
        assert len(spec["data"]["features"]) == drawn.sum()
    mon = specs[0]
    # each van its colour, the same on its routes and its stops, all week
    colours = {
        f["properties"]["p"]["id"]: f["properties"]["s"]["color"] for f in mon["data"]["features"]
    }
    assert len(set(colours.values())) == 3
    assert all(p[2]["c"] == colours[p[2]["p"]["v"][2]] for p in mon["points"])
    wed = {
        f["properties"]["p"]["id"]: f["properties"]["s"]["color"]
        for f in specs[1]["data"]["features"]
    }
    assert all(wed[v] == colours[v] for v in wed)
    # the popups in Chinese: a route's and a stop's
    route = mon["data"]["features"][0]["properties"]
    assert route["p"]["title"] == "维修车 r000-1 · 星期一"
    assert dict(zip(mon["sets"][0]["rows"], route["p"]["v"], strict=True)) == {
        "维修车": "r000-1",
        "所属维修点": "青山维修点 (r000)",
        "星期": "星期一",
        "里程": "4.2 公里",
        "行车时长": "0.3 小时",
        "站点数": "2",
        "出车时段": "08:00–09:30",
        "午休": "–",
    }
    assert route["t"] == "维修车 r000-1，星期一：4.2 公里，2 个站点，08:00–09:30"
    assert route["p"]["xy"] == pytest.approx([117.0, 28.0], abs=1e-6)  # the base, WGS84
    lon, lat, stop = mon["points"][0]
    assert stop["p"]["title"] == "村" and stop["t"] == "第 1 站：村，08:10–08:40"
    assert dict(zip(mon["sets"][1]["rows"], stop["p"]["v"], strict=True)) == {
        "站点": "d01",
        "站点类型": "村庄",
        "维修车": "r000-1",
        "星期": "星期一",
        "顺序": "1",
        "到达–离开": "08:10–08:40",
        "距上一站里程": "1.2 公里",
        "第几次访问": "本周第 1 次（共 2 次）",
    }
    assert mon["points"][1][2]["p"]["title"] == "d02"  # no name: its id
    assert mon["sets"][1]["coords"] == "坐标（经度，纬度）"
    assert 117.0 < lon < 117.05 and 28.0 < lat < 28.05
    # only the routes are searched for (by van), not the stops
    assert mon["search"] == mon["sets"][0]["search"] == "巡回路线"
    assert "search" not in mon["sets"][1]
    # no tours: no overlay, no legend
    assert tour_overlays(tours.iloc[:0], None, 5.0, legend, lang=ZH) == []
    assert len(legend) == 1


def test_routes_are_drawn_once_and_simplified():
    from planner.report.map.tours import drawn_once, route_lines

    tours, _ = _week()
    line = tours.geometry.iloc[0]
    once = drawn_once(line)
    # there and back along the same road: half the length, the same road covered
    assert once.length == pytest.approx(line.length / 2)
    assert once.buffer(0.01).contains(line) and line.buffer(0.01).contains(once)
    assert drawn_once(shapely.LineString([(0, 0), (0, 0)])).length == 0
    # simplified in metres: the straight road keeps its ends only (from any CRS)
    drawn = route_lines(tours.to_crs(4326), 5.0)
    assert drawn.crs.is_projected
    assert shapely.get_num_coordinates(drawn.geometry.iloc[0]) < len(line.coords)


def test_van_colours_distinct_within_a_day():
    from planner.report.map.style import VAN_COLOURS, van_colours

    few = van_colours(["mon", "mon", "tue"], ["b", "a", "b"])
    assert few[("mon", "a")] != few[("mon", "b")] and few[("mon", "b")] == few[("tue", "b")]
    n = len(VAN_COLOURS) + 3  # more vans than colours: distinct within each day still
    vans = [f"v{i:02d}" for i in range(n)]
    many = van_colours(["mon"] * 12 + ["tue"] * 3, vans[:12] + vans[12:])
    assert len({many[("mon", v)] for v in vans[:12]}) == 12
    assert len({many[("tue", v)] for v in vans[12:]}) == 3


def test_demo_map_draws_the_tours(demo_run: Path):
    """The pipeline's map.html: a tour overlay per working day, a marker per visit."""
    import pandas as pd

    from planner.report.map.tours import LAYER_NAMES

    text = (demo_run / "map.html").read_text(encoding="utf-8")
    specs = {
        s["key"]: s
        for s in map(json.loads, re.findall(r"plannerMap\.overlay\((\{.*?\})\);\n", text))
    }
    tours = pd.read_csv(demo_run / "tours.csv", encoding="utf-8-sig")
    visits = pd.read_csv(demo_run / "tour_stops.csv", encoding="utf-8-sig")
    days = list(dict.fromkeys(d for d in LAYER_NAMES if d in set(tours["day"])))
    assert [k for k in specs if k.startswith("tours_")] == [f"tours_{d}" for d in days]
    for day in days:
        spec = specs[f"tours_{day}"]
        drawn = (tours["day"] == day) & tours["wkt"].notna()  # a stay at the base: no line
        assert len(spec["data"]["features"]) == drawn.sum()
        assert len(spec["points"]) == (visits["day"] == day).sum()
    assert sum(len(specs[f"tours_{d}"]["points"]) for d in days) == len(visits)


def test_the_map_credits_its_data(demo_run):
    """OpenStreetMap's licence asks for its credit on maps of its data: the corner has it."""
    html = (demo_run / "map.html").read_text(encoding="utf-8")
    # the demo county's config credits its synthetic OSM-format data in its own words
    assert '"credit":"数据：合成示例数据' in html


def test_number_text_never_prints_a_small_positive_number_as_zero():
    from planner.report.map.encode import number_text

    assert [number_text(x, 1) for x in (0.04, 0.05, 0.0, 1234.56)] == [
        "<0.1",
        "0.1",
        "0.0",
        "1,234.6",
    ]
    assert number_text(0.3) == "<1" and number_text(None) == ""
