"""map.html without a browser: self-contained, assets, basemap settings, escaping."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import folium
import pytest
from pydantic import ValidationError

from planner.config import ReportSection
from planner.errors import AssetError
from planner.report import assets
from planner.report.map import basemaps, encode, write_map
from planner.report.map.basemaps import basemap_specs as _basemap_specs
from planner.report.map.encode import js_json as _js_json


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
    labels = [label for label, _ in _basemap_specs(ReportSection())]
    assert labels[0] == basemaps.NO_BASEMAP  # offline first: the one shown
    assert "OpenStreetMap" in labels
    assert not any("Tianditu" in x for x in labels)  # no key: left out, with a log line
    assert "Tianditu basemaps left out" in caplog.text

    specs = dict(_basemap_specs(ReportSection(tianditu_key="abc123def456")))
    urls = [t["url"] for t in specs["天地图 Tianditu (vector)"]["tiles"]]
    assert len(urls) == 2 and all(u.endswith("tk=abc123def456") for u in urls)
    assert not specs["天地图 Tianditu (vector)"]["gcj02"]
    assert specs["高德 Gaode/AMap (vector, GCJ-02)"]["gcj02"]

    monkeypatch.setenv(basemaps.TIANDITU_KEY_ENV, "fromtheenv1234")
    specs = dict(_basemap_specs(ReportSection(basemaps=["tianditu_imagery"])))
    assert list(specs) == [basemaps.NO_BASEMAP, "天地图 Tianditu (imagery)"]
    assert specs["天地图 Tianditu (imagery)"]["tiles"][0]["url"].endswith("tk=fromtheenv1234")

    monkeypatch.setenv(basemaps.TIANDITU_KEY_ENV, "bad'key\"<x>")
    assert len(_basemap_specs(ReportSection(basemaps=["tianditu_vector"]))) == 1
    assert list(dict(_basemap_specs(ReportSection(basemaps=[])))) == [basemaps.NO_BASEMAP]


def test_report_settings_are_validated():
    with pytest.raises(ValidationError):
        ReportSection(basemaps=["google"])
    with pytest.raises(ValidationError):
        ReportSection(tianditu_key="x'); alert(1); ('")
    with pytest.raises(ValidationError):
        ReportSection(map_simplify_m=-1)
