"""The repair vans' tours on the Chinese map.html in a real browser (1366x768).

A day's overlay is off when the page opens; switched on in the layer control, its routes
are drawn on the canvas in their vans' colours, its stops show as numbered circles (one
per visit of the day, in visiting order), a stop's popup opens in Chinese, the legend
explains the tours, and the search box finds a van's tours. Switched off, all of it goes.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from planner.report.map.style import VAN_COLOURS

pytest_plugins = ["tests.map_pages"]  # fixtures: demo, browser, en, zh

if not Path("/usr/bin/chromium").is_file():
    pytest.skip("/usr/bin/chromium is absent (apt-get install chromium)", allow_module_level=True)
pytest.importorskip("playwright.sync_api", reason="playwright not installed")

pytestmark = pytest.mark.slow  # the demo county is prepared and planned


@pytest.fixture(scope="module")
def page(browser: Any, demo: Any) -> Iterator[Any]:
    from tests.map_pages import DESKTOP, open_map  # a plugin: imported once pytest has it

    pg = open_map(browser, demo.zh, DESKTOP)
    yield pg
    pg.close()


def _rgb(colour: str) -> np.ndarray:
    return np.array([int(colour[i : i + 2], 16) for i in (1, 3, 5)], dtype=float)


def _screen_xy(page: Any, lon: float, lat: float) -> list[float]:
    """Where (lon, lat) is drawn in the page, in CSS pixels."""
    return page.evaluate(
        "([lat, lon]) => { const m = plannerMap.state.map;"
        " const p = m.latLngToContainerPoint([lat, lon]);"
        " const r = m.getContainer().getBoundingClientRect();"
        " return [p.x + r.left, p.y + r.top]; }",
        [lat, lon],
    )


def _shot(page: Any) -> np.ndarray:
    """The page as RGB pixels."""
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(page.screenshot())).convert("RGB"), dtype=float)


def _routes_drawn(page: Any, tours: Any, before: np.ndarray) -> int:
    """How many of ``tours`` are drawn on screen now in their van's colour, where the page
    ``before`` showed something else (at 3 or more of 9 points along each)."""
    now = _shot(page)
    key = f"tours_{tours['day'].iloc[0]}"
    colour = dict(
        page.evaluate(
            "(key) => plannerMap.layers[key].getLayers().filter(l => !l.getLatLng)"
            ".map(l => [l.feature.properties.p.id, l.options.color])",
            key,
        )
    )
    drawn = 0
    for _, t in tours.iterrows():
        want, hits = _rgb(colour[t["van"]]), 0
        for f in np.linspace(0.1, 0.9, 9):
            p = t.geometry.interpolate(f, normalized=True)
            x, y = (round(v) for v in _screen_xy(page, p.x, p.y))
            if not (3 <= x < now.shape[1] - 3 and 3 <= y < now.shape[0] - 3):
                continue
            patch, old = (a[y - 2 : y + 3, x - 2 : x + 3].reshape(-1, 3) for a in (now, before))
            # opacity 0.85 over the map: within 20% of the van's colour, and new there
            new = np.abs(patch - old).max(axis=1) > 40
            hits += bool(((np.abs(patch - want).max(axis=1) < 0.2 * 255) & new).any())
        drawn += hits >= 3
    return drawn


def test_a_day_of_tours_on_the_map(page, demo):
    day = demo.tours["day"].iloc[0]
    of_day = demo.tours[demo.tours["day"] == day]
    # a van whose only stop is the station at its own repair point drives nowhere: no line
    assert (of_day.loc[of_day.geometry.isna(), "km"] == 0).all()
    tours = of_day[of_day.geometry.notna()]
    visits = demo.tour_stops[demo.tour_stops["day"] == day]
    names = {"mon": "周一巡回路线", "tue": "周二巡回路线", "wed": "周三巡回路线"}
    names |= {"thu": "周四巡回路线", "fri": "周五巡回路线"}
    entries = page.locator(".leaflet-control-layers-overlays label")
    for d in demo.tours["day"].unique():
        assert not entries.filter(has_text=names[d]).locator("input").is_checked()
    assert page.locator(".pl-stop").count() == 0
    legend = page.locator(".pl-legend")
    assert "维修车巡回路线" not in legend.inner_text()
    view = page.evaluate(
        "(() => { const m = plannerMap.state.map; return [m.getCenter(), m.getZoom()]; })()"
    )
    before = _shot(page)
    toggle = entries.filter(has_text=names[day]).locator("input")
    toggle.check()
    page.wait_for_timeout(300)
    try:
        # the routes, drawn in their vans' colours (all vans of the day apart)
        assert _routes_drawn(page, tours, before) == len(tours)
        colours = page.evaluate(
            f"plannerMap.layers.tours_{day}.getLayers().filter(l => !l.getLatLng)"
            ".map(l => l.options.color)"
        )
        assert len(set(colours)) == len(tours) and set(colours) <= set(VAN_COLOURS)
        # a numbered circle per visit of the day, in each van's visiting order
        stops = page.locator(".pl-stop")
        assert stops.count() == len(visits)
        assert sorted(map(int, stops.all_inner_texts())) == sorted(visits["order"])
        box = stops.first.bounding_box()
        assert box is not None and 14 <= box["width"] <= 22 and 14 <= box["height"] <= 22
        assert "维修车巡回路线" in legend.inner_text()
        _stop_popup(page, visits.iloc[len(visits) // 2])
    finally:
        page.evaluate("void plannerMap.state.map.closePopup()")
        toggle.uncheck()
        page.evaluate("([c, z]) => void plannerMap.state.map.setView(c, z, {animate: false})", view)
        page.wait_for_timeout(300)
    assert page.locator(".pl-stop").count() == 0
    assert _routes_drawn(page, tours, before) == 0
    assert "维修车巡回路线" not in legend.inner_text()


def _stop_popup(page: Any, visit: Any) -> None:
    """Click the stop of ``visit`` (the map centred on it): its popup, in Chinese."""
    page.evaluate(
        "([lat, lon]) => void plannerMap.state.map.setView([lat, lon], 14, {animate: false})",
        [visit.geometry.y, visit.geometry.x],
    )
    page.wait_for_timeout(300)
    page.mouse.click(*_screen_xy(page, visit.geometry.x, visit.geometry.y))
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for(timeout=3000)
    rows = dict(
        zip(
            popup.locator("th").all_inner_texts(),
            popup.locator("td").all_inner_texts(),
            strict=True,
        )
    )
    assert page.locator(".pl-popup-title").inner_text() == (visit["name"] or visit["stop_id"])
    assert page.locator(".pl-popup-kind").inner_text() == "巡回站点"
    assert rows["站点"] == visit["stop_id"]
    assert rows["维修车"] == visit["van"]
    assert rows["星期"] == _day(visit["day"])
    assert rows["顺序"] == str(visit["order"])
    assert rows["到达–离开"] == f"{visit['arrival']}–{visit['departure']}"
    assert rows["距上一站里程"] == f"{visit['km_from_previous']:,.1f} 公里"
    assert rows["站点类型"] in {"村庄", "充电站"}


def test_search_finds_a_vans_tours(page, demo):
    van = demo.tours["van"].iloc[0]
    days = demo.tours.loc[demo.tours["van"] == van, "day"]
    box = page.locator(".pl-search input")
    try:
        box.fill(van)
        page.wait_for_timeout(100)
        found = page.locator(".pl-search-name").all_inner_texts()
        assert found[: len(days)] == [f"维修车 {van} · " + _day(d) for d in days]
        assert page.locator(".pl-search-meta").first.inner_text() == f"巡回路线 · {van}"
        box.press("Enter")  # the first: its day's overlay on, its popup open at the base
        popup = page.locator(".leaflet-popup-content")
        popup.wait_for(timeout=3000)
        assert page.locator(".pl-popup-kind").inner_text() == "维修车巡回路线"
        assert page.evaluate(
            f"plannerMap.state.map.hasLayer(plannerMap.layers.tours_{days.iloc[0]})"
        )
        assert "出车时段" in popup.inner_text() and "公里" in popup.inner_text()
    finally:
        box.fill("")
        page.evaluate("void plannerMap.state.map.closePopup()")
        page.evaluate(
            f"void plannerMap.state.map.removeLayer(plannerMap.layers.tours_{days.iloc[0]})"
        )


def _day(code: str) -> str:
    """The name of a working day in Chinese."""
    return "星期" + dict(zip(["mon", "tue", "wed", "thu", "fri"], "一二三四五", strict=True))[code]


def test_no_errors(page):
    assert page.blocked == [] and page.problems == []
