"""The Chinese map.html in a real browser, on a desktop (1366x768) and a phone (390x844).

Township names show from their zoom, popups are in Chinese with ids and coordinates,
the search box finds townships and stations and opens their popups, the layer control
and the legend keep off the county (and start collapsed on the phone), and nothing the
map shows is in English but a few names and units.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

import pytest

from planner import columns as C
from planner.i18n import translator

pytest_plugins = ["tests.map_pages"]  # fixtures: demo, browser, en, zh

if not Path("/usr/bin/chromium").is_file():
    pytest.skip("/usr/bin/chromium is absent (apt-get install chromium)", allow_module_level=True)
pytest.importorskip("playwright.sync_api", reason="playwright not installed")

pytestmark = pytest.mark.slow  # the demo county is prepared and planned

logger = logging.getLogger(__name__)

#: Latin words the Chinese map may show: names of sources and libraries, and units.
ALLOWED_LATIN = {"OSM", "OpenStreetMap", "Leaflet", "GCJ"}  # the scale says 公里 and 米

# -- the Chinese map, on a desktop and on a phone ----------------------------------------


def test_township_names_from_their_zoom(zh, demo):
    assert zh.evaluate("document.documentElement.lang") == "zh-CN"
    threshold = zh.evaluate("plannerMap.state.labels.minZoom")
    assert 8 <= threshold <= 14
    labels = zh.locator(".pl-town-label")
    try:
        zh.evaluate(f"void plannerMap.state.map.setZoom({threshold - 0.5}, {{animate: false}})")
        zh.wait_for_timeout(150)
        assert labels.count() == 0
        zh.evaluate(f"void plannerMap.state.map.setZoom({threshold}, {{animate: false}})")
        zh.wait_for_timeout(150)
        assert sorted(labels.all_inner_texts()) == sorted(demo.townships[C.TOWNSHIP_NAME])
        # drawn, and some of them on screen
        names = zh.locator(".pl-town-label span")
        boxes = [names.nth(i).bounding_box() for i in range(names.count())]
        on_screen = [
            b for b in boxes if b and 0 <= b["x"] < zh.size[0] and 0 <= b["y"] < zh.size[1]
        ]
        assert on_screen and all(b["width"] > 10 and b["height"] > 8 for b in on_screen)
        # the names go with the townships overlay
        zh.evaluate("void plannerMap.state.map.removeLayer(plannerMap.layers.townships)")
        zh.wait_for_timeout(150)
        assert labels.count() == 0
    finally:
        zh.evaluate("void plannerMap.state.map.addLayer(plannerMap.layers.townships)")
        zh.evaluate("void plannerMap.state.map.fitBounds(plannerMap.layers.county.getBounds())")
        zh.wait_for_timeout(150)


def close_popup(page: Any) -> None:
    page.evaluate("void plannerMap.state.map.closePopup()")
    page.wait_for_timeout(250)  # Leaflet fades it out for 200 ms


def search(page: Any, text: str) -> list[str]:
    """Type ``text`` into the search box; the names of the results."""
    page.locator(".pl-search input").fill(text)
    page.wait_for_timeout(100)
    return page.locator(".pl-search-name").all_inner_texts()


def test_search_opens_township_and_station_popups(zh, demo):
    town = demo.townships.iloc[3]
    name = town[C.TOWNSHIP_NAME]
    try:
        assert name in search(zh, name[:2])
        zh.locator(".pl-search-item", has_text=name).first.click()
        popup = zh.locator(".leaflet-popup-content")
        popup.wait_for(timeout=3000)
        assert zh.locator(".pl-popup-title").inner_text() == name
        assert town[C.TOWNSHIP_ID] in popup.inner_text()
        assert zh.locator(".pl-search-results").is_hidden()
        # the township is in view, at a zoom where the names show
        view = zh.evaluate(
            "(() => { const m = plannerMap.state.map; return [m.getZoom(),"
            " m.getBounds().contains(plannerMap.layers.townships.getLayers()[3].getBounds())]; })()"
        )
        assert view[0] >= zh.evaluate("plannerMap.state.labels.minZoom")
        close_popup(zh)
        # a station by its id
        s = demo.stations.iloc[-1]
        assert search(zh, s["candidate_id"]) == [s["name"] or s["candidate_id"]]
        zh.locator(".pl-search input").press("Enter")
        popup.wait_for(timeout=3000)
        assert zh.locator(".pl-popup-title").inner_text() == (s["name"] or s["candidate_id"])
        text = popup.inner_text()
        assert s["candidate_id"] in text and f"{s.geometry.x:.6f}, {s.geometry.y:.6f}" in text
        centre = zh.evaluate(
            "(() => { const c = plannerMap.state.map.getCenter(); return [c.lng, c.lat]; })()"
        )
        assert centre == pytest.approx([s.geometry.x, s.geometry.y], abs=0.05)
        assert search(zh, "不存在的地名") == []
        assert zh.locator(".pl-search-none").inner_text() == "无匹配结果"
    finally:
        zh.locator(".pl-search input").fill("")
        close_popup(zh)
        zh.evaluate("void plannerMap.state.map.fitBounds(plannerMap.layers.county.getBounds())")


def test_station_popup_in_chinese(zh, demo):
    s = demo.stations.iloc[0]
    zh.evaluate(
        "(id) => void plannerMap.layers.stations.eachLayer(l => {"
        " if (l.feature.properties.p.id === id) l.openPopup(); })",
        s["candidate_id"],
    )
    popup = zh.locator(".leaflet-popup-content")
    popup.wait_for(timeout=3000)
    try:
        rows = dict(
            zip(
                zh.locator(".leaflet-popup-content th").all_inner_texts(),
                zh.locator(".leaflet-popup-content td").all_inner_texts(),
                strict=True,
            )
        )
        assert rows["站址编号"] == s["candidate_id"]
        assert rows["站址类型"] == translator("zh").policy_class(s["policy_class"])
        assert s["policy_class"] not in popup.inner_text()  # no raw codes like fuel_station
        assert int(rows["充电桩数"]) == s["chargers"]
        assert rows["充电功率"] == f"{s['charger_kw']:,.0f} 千瓦"
        assert rows["投资额"] == f"{round(s['capex']):,} 元"
        assert rows["坐标（经度，纬度）"] == f"{s.geometry.x:.6f}, {s.geometry.y:.6f}"
        town = demo.townships.set_index(C.TOWNSHIP_ID).loc[s[C.TOWNSHIP_ID], C.TOWNSHIP_NAME]
        assert rows["乡镇"] == town
        assert zh.locator(".pl-popup-kind").inner_text() == "规划充电站"
    finally:
        close_popup(zh)


def _rect(page: Any, selector: str) -> tuple[float, float, float, float]:
    r = page.locator(selector).bounding_box()
    return r["x"], r["y"], r["x"] + r["width"], r["y"] + r["height"]


def _overlap(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    return max(w, 0) * max(h, 0)


def test_controls_leave_the_county_in_view(zh):
    small = zh.size[0] < 800
    expanded = "leaflet-control-layers-expanded"
    control = zh.locator(".leaflet-control-layers")
    legend = zh.locator(".pl-legend")
    assert (expanded in control.get_attribute("class")) != small
    assert zh.evaluate("document.querySelector('.pl-legend').open") != small
    # the county's box on screen after the initial fit, and the controls over it
    county = zh.evaluate(
        "(() => { const m = plannerMap.state.map, b = plannerMap.layers.county.getBounds();"
        " const r = m.getContainer().getBoundingClientRect();"
        " const nw = m.latLngToContainerPoint(b.getNorthWest());"
        " const se = m.latLngToContainerPoint(b.getSouthEast());"
        " return [nw.x + r.left, nw.y + r.top, se.x + r.left, se.y + r.top]; })()"
    )
    area = (county[2] - county[0]) * (county[3] - county[1])
    covered = _overlap(_rect(zh, ".leaflet-control-layers"), county)
    covered += _overlap(_rect(zh, ".pl-legend"), county)
    share = covered / area
    logger.warning("controls cover %.1f%% of the county's box at %dx%d", 100 * share, *zh.size)
    assert county[2] - county[0] > 0.6 * zh.size[0]  # the county fills the screen's width
    assert share < 0.30
    # both stay collapsible: the layer control closes with its button and opens again
    if small:
        control.locator(".leaflet-control-layers-toggle").click()
        assert expanded in control.get_attribute("class")
    zh.locator(".pl-close").click()
    assert expanded not in control.get_attribute("class")
    control.locator(".leaflet-control-layers-toggle").click()
    assert expanded in control.get_attribute("class")
    legend.locator("summary").click()
    assert zh.evaluate("document.querySelector('.pl-legend').open") == small
    legend.locator("summary").click()
    if small:
        zh.locator(".pl-close").click()


def _visible_texts(page: Any) -> list[str]:
    """Every text the map can show: controls, legend, layer names, tooltips, popups, names."""
    return page.evaluate(
        """(() => {
        const out = [document.title];
        document.querySelectorAll('.leaflet-control-container *').forEach(n => {
            for (const c of n.childNodes) if (c.nodeType === 3) out.push(c.textContent);
            for (const a of ['title', 'placeholder', 'aria-label'])
                if (n.getAttribute(a)) out.push(n.getAttribute(a));
        });
        for (const key of Object.keys(plannerMap.layers)) {
            plannerMap.layers[key].eachLayer(l => {
                const t = l.getTooltip && l.getTooltip();
                if (t) out.push(t._content(l).textContent);
                const p = l.getPopup && l.getPopup();
                if (p) out.push(p._content(l).textContent);
            });
        }
        plannerMap.state.labels.group.eachLayer(
            l => out.push(l.options.icon.options.html.textContent));
        plannerMap.state.layerControl._layers.forEach(o => {
            out.push(o.name);
            // attributions are HTML: their text, parsed inertly
            if (o.layer.eachLayer) o.layer.eachLayer(t => out.push(new DOMParser()
                .parseFromString(t.options.attribution || '', 'text/html').body.textContent));
        });
        return out.filter(t => t && t.trim());
    })()"""
    )


def test_chinese_map_shows_no_english(zh):
    texts = _visible_texts(zh)
    assert len(texts) > 500  # every feature's tooltip and popup
    latin: dict[str, str] = {}
    for text in texts:
        # ids (c0010, r000, QX-35-03) and numbers with a unit letter (GCJ-02) are not words
        bare = re.sub(r"[A-Za-z0-9_-]*\d[A-Za-z0-9_-]*", " ", text)
        for word in re.findall(r"[A-Za-z]+", bare):
            if word not in ALLOWED_LATIN:
                latin.setdefault(word, text)
    assert not latin, latin
