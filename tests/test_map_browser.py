"""map.html in a real browser (headless Debian chromium), with the network blocked.

The demo county's maps (see tests/map_pages.py), in English and in Chinese: they must
make no request and log no error, show the plan's sites and townships, start with the
service areas off and show a metric scale only; the English one must name its layers
and rows in English, show the injected township name as text, and shift its overlays
to GCJ-02 only while a Gaode basemap is on. The Chinese map: test_map_browser_zh.py.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from planner.i18n import translator
from planner.ingest.china import wgs84_to_gcj02

pytest_plugins = ["tests.map_pages"]  # fixtures: demo, browser, en, zh

if not Path("/usr/bin/chromium").is_file():
    pytest.skip("/usr/bin/chromium is absent (apt-get install chromium)", allow_module_level=True)
pytest.importorskip("playwright.sync_api", reason="playwright not installed")
pytestmark = pytest.mark.slow  # the demo county is prepared and planned


def count(page: Any, key: str) -> int:
    return page.evaluate(f"plannerMap.layers[{key!r}].getLayers().length")


def on_map(page: Any, key: str) -> bool:
    return page.evaluate(f"plannerMap.state.map.hasLayer(plannerMap.layers[{key!r}])")


def click_at(page: Any, lon: float, lat: float) -> None:
    """Click the map where (lon, lat) is drawn now."""
    xy = page.evaluate(
        "([lat, lon]) => { const m = plannerMap.state.map;"
        " const p = m.latLngToContainerPoint([lat, lon]);"
        " const r = m.getContainer().getBoundingClientRect();"
        " return [p.x + r.left, p.y + r.top]; }",
        [lat, lon],
    )
    page.mouse.click(*xy)


def close_popup(page: Any) -> None:
    page.evaluate("void plannerMap.state.map.closePopup()")
    page.wait_for_timeout(250)  # Leaflet fades it out for 200 ms


# -- both languages ----------------------------------------------------------------------


def test_offline_no_requests_no_errors(en, zh):
    for page in (en, zh):
        assert page.blocked == []
        assert page.problems == []
        assert page.evaluate("typeof L") == "object"


def test_markers_and_polygons_match_the_plan(en, demo):
    assert len(demo.stations) > 0 and len(demo.repair) > 0
    assert count(en, "stations") == len(demo.stations)
    assert count(en, "repair_points") == len(demo.repair)
    assert en.locator(".pl-repair").count() == len(demo.repair)  # DOM markers, on the map
    assert count(en, "townships") == len(demo.townships)
    assert count(en, "service_areas") == len(demo.repair)
    assert count(en, "roads") >= 2  # one feature per road rank: major and other roads
    # canvas rendering: the vector overlays draw into a canvas, not thousands of SVG nodes
    assert en.locator(".leaflet-overlay-pane canvas").count() == 1
    assert en.locator(".leaflet-overlay-pane svg").count() == 0


def test_service_areas_are_off_at_start(en, zh):
    for page in (en, zh):
        assert not on_map(page, "service_areas")
        assert on_map(page, "stations") and on_map(page, "roads")
        name = page.evaluate(
            "plannerMap.state.layerControl._layers"
            ".find(o => o.layer === plannerMap.layers.service_areas).name"
        )
        entry = page.locator(".leaflet-control-layers-overlays label", has_text=name)
        assert not entry.locator("input").is_checked()


def test_scale_is_metric_only(en, zh):
    for page, units in ((en, "m|km"), (zh, "米|公里")):  # in the page's language
        lines = page.locator(".leaflet-control-scale-line").all_inner_texts()
        assert len(lines) == 1, lines
        assert re.fullmatch(rf"\d+ ({units})", lines[0].strip()), lines


# -- the English map ---------------------------------------------------------------------


def test_layer_control_and_legend_en(en):
    assert en.evaluate("document.documentElement.lang") == "en"
    labels = [t.strip() for t in en.locator(".leaflet-control-layers label").all_inner_texts()]
    for name in (
        "No basemap (offline)",
        "OpenStreetMap",
        "天地图 Tianditu (vector)",
        "天地图 Tianditu (imagery)",
        "高德 Gaode/AMap (vector, GCJ-02)",
        "Townships (shaded by coverage share)",
        "Roads",
        "Repair service areas (30 min by road)",
        "County boundary",
        "Grid (substations, 10 kV lines)",
        "Demand (sized by sessions/day)",
        "Uncovered demand (highlighted)",
        "Candidates by policy class",
        "Existing chargers",
        "Charging stations (planned, sized by chargers)",
        "Repair points",
    ):
        assert name in labels
    checked = en.locator(".leaflet-control-layers-base input:checked").locator("xpath=..")
    assert checked.inner_text().strip() == "No basemap (offline)"
    legend = en.locator(".pl-legend")
    assert "Charging stations" in legend.inner_text() and "major road" in legend.inner_text()
    # the legend explains the overlays that are on: service areas only once switched on
    assert "Repair service areas" not in legend.inner_text()
    areas = en.locator(".leaflet-control-layers label", has_text="Repair service areas")
    areas.locator("input").check()
    en.wait_for_timeout(100)
    assert "Repair service areas" in legend.inner_text()
    areas.locator("input").uncheck()
    en.wait_for_timeout(100)
    assert "Repair service areas" not in legend.inner_text()


def test_station_popup_opens_on_click_en(en, demo):
    # repair diamonds may sit on stations: switch that layer off in the control first
    repair = en.locator(".leaflet-control-layers label", has_text="Repair points").locator("input")
    repair.uncheck()
    assert en.locator(".pl-repair").count() == 0
    try:
        s = demo.stations.iloc[0]
        click_at(en, s.geometry.x, s.geometry.y)
        title = en.locator(".leaflet-popup-content .pl-popup-title")
        title.wait_for(timeout=3000)
        assert title.inner_text() == (s["name"] or s["candidate_id"])
        rows = en.locator(".leaflet-popup-content th").all_inner_texts()
        assert rows == [
            "Site id",
            "Site class",
            "Township",
            "Chargers",
            "Charging power",
            "Sessions served per day",
            "Capital cost",
            "of which grid connection",
            "Substation",
            "Coordinates (lon, lat)",
        ]
        values = en.locator(".leaflet-popup-content td").all_inner_texts()
        assert values[0] == s["candidate_id"]
        assert values[1] == translator("en").policy_class(s["policy_class"])  # not the code
        assert int(values[3]) == s["chargers"]
        assert values[4] == f"{s['charger_kw']:,.0f} kW"
        assert values[6] == f"{round(s['capex']):,} CNY"  # whole yuan, as the report
        assert values[-1] == f"{s.geometry.x:.6f}, {s.geometry.y:.6f}"
    finally:
        close_popup(en)
        repair.check()


def test_injected_township_name_is_text(en, demo):
    # its tooltip, opened as on hover, shows the literal string and runs nothing
    en.evaluate(
        "(payload) => void plannerMap.layers.townships.eachLayer(l => {"
        " if (l.feature.properties.t.startsWith(payload)) l.openTooltip(); })",
        demo.payload,
    )
    tip = en.locator(".leaflet-tooltip").filter(has_text="onerror=alert(1)")
    tip.wait_for(timeout=3000)
    assert tip.inner_text().startswith(demo.payload)
    # and as its name on the map and in the search box's results
    en.evaluate("void plannerMap.state.map.setZoom(plannerMap.state.labels.minZoom)")
    en.wait_for_timeout(200)
    assert demo.payload in en.locator(".pl-town-label").all_inner_texts()
    en.locator(".pl-search input").fill("onerror")
    assert en.locator(".pl-search-name").first.inner_text() == demo.payload
    en.locator(".pl-search input").fill("")
    assert en.locator("img[src='x']").count() == 0
    en.wait_for_timeout(200)
    assert not any(p.startswith("dialog") for p in en.problems)
    # the raw string reaches the page only JSON-escaped inside scripts
    html = en.content()
    assert demo.payload not in html.split("<body")[0]
    en.evaluate("void plannerMap.layers.townships.eachLayer(l => l.closeTooltip())")


def test_gcj02_shift_reference_values(en):
    # the browser's shift against the published reference pair (see tests/test_china.py)
    lon, lat = en.evaluate("plannerMap.gcj02(116.404, 39.915)")
    assert lon == pytest.approx(116.41024449916938, abs=1e-9)
    assert lat == pytest.approx(39.91640428150164, abs=1e-9)
    # and against the Python conversion, inside and outside China
    rng = np.random.default_rng(3)
    pts = np.column_stack([rng.uniform(75, 134, 200), rng.uniform(18, 53, 200)])
    pts = np.vstack([pts, [[9.52, 47.14], [-74.0, 40.7]]])
    js = np.array(en.evaluate("pts => pts.map(p => plannerMap.gcj02(p[0], p[1]))", pts.tolist()))
    py = np.column_stack(wgs84_to_gcj02(pts[:, 0], pts[:, 1]))
    assert np.abs(js - py).max() < 1e-9


def test_gaode_basemap_shifts_overlays_for_display_only(en, demo):
    s = demo.stations.iloc[0]
    lon, lat = s.geometry.x, s.geometry.y
    where = (
        "(() => { const ll = plannerMap.layers.stations.getLayers()[0].getLatLng();"
        " return [ll.lng, ll.lat]; })()"
    )
    label = (
        "(() => { const ll = plannerMap.state.labels.group.getLayers()[0].getLatLng();"
        " return [ll.lng, ll.lat]; })()"
    )
    assert en.evaluate(where) == pytest.approx([lon, lat], abs=1e-6)
    label_wgs = en.evaluate(label)
    en.locator(".leaflet-control-layers label", has_text="Gaode/AMap (vector").click()
    en.wait_for_timeout(300)
    glon, glat = wgs84_to_gcj02(lon, lat)
    assert en.evaluate(where) == pytest.approx([float(glon), float(glat)], abs=1e-6)
    llon, llat = wgs84_to_gcj02(*label_wgs)
    assert en.evaluate(label) == pytest.approx([float(llon), float(llat)], abs=1e-6)
    assert en.locator(".pl-notice").is_visible()
    # the tiles were requested only now, and from Gaode's servers
    assert en.blocked and all("autonavi" in u for u in en.blocked)
    en.locator(".leaflet-control-layers label", has_text="No basemap").click()
    en.wait_for_timeout(200)
    assert en.evaluate(where) == pytest.approx([lon, lat], abs=1e-6)
    assert en.evaluate(label) == pytest.approx(label_wgs, abs=1e-9)
    assert not en.locator(".pl-notice").is_visible()


def test_printed_on_one_a4_page_with_the_whole_county(browser, demo, tmp_path):
    """Printing the map (an official's A4 copy): one A4 landscape page, the whole county
    in view while printing, the legend open, no buttons; the view as it was afterwards."""
    from tests.map_pages import open_map
    from tests.test_report_print import pdf_pages

    page = open_map(browser, demo.zh, (1280, 800))
    try:
        n, boxes = pdf_pages(page.pdf(prefer_css_page_size=True))
        assert n == 1 and all(w == pytest.approx(841.9, abs=1) and h < w for w, h in boxes)
        # (headless printing fires beforeprint only: the events are sent by hand below)
        page.evaluate("void plannerMap.state.map.setView([28.3, 117.3], 15, {animate: false})")
        before = page.evaluate("plannerMap.state.map.getZoom()")
        # what the page shows while printing: beforeprint fits the county, opens the legend
        # (a page smaller than the screen, as an A4 sheet is: the fit zooms out further)
        page.set_viewport_size({"width": 1000, "height": 640})
        page.evaluate("dispatchEvent(new Event('beforeprint'))")
        fits = page.evaluate(
            "(() => { var m = plannerMap.state.map, t = plannerMap.state.overlays.townships;"
            " return m.getBounds().pad(0.02).contains(t.getBounds()); })()"
        )
        assert fits and page.evaluate("plannerMap.state.legend.open")
        # every township's name on the printed page, at whatever zoom fits the county
        labels = page.locator(".pl-town-label span")
        zoom = page.evaluate("plannerMap.state.map.getZoom()")
        assert zoom < page.evaluate("plannerMap.state.labels.minZoom")  # below the names' zoom
        assert labels.count() == len(demo.townships) and labels.first.is_visible()
        page.emulate_media(media="print")
        for sel in (".leaflet-control-zoom", ".leaflet-control-layers", ".pl-search"):
            assert not page.locator(sel).first.is_visible(), sel
        page.emulate_media(media="screen")
        page.evaluate("dispatchEvent(new Event('afterprint'))")
        assert page.evaluate("plannerMap.state.map.getZoom()") == before
        page.evaluate("void plannerMap.state.map.setView([28.3, 117.3], 8, {animate: false})")
        assert labels.count() == 0  # on screen, names from their zoom on as before
        assert page.problems == []
    finally:
        page.close()
