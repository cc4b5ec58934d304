"""Fixtures and helpers of the browser tests of map.html (test_map_browser*.py), which
load this module as a plugin (``pytest_plugins``), so that its fixtures are shared.

The demo county's plan and its repair vans' week (the demo config enables ``tours``) are
the session's demo run's (``demo_session`` in conftest.py: the layers and plan its report
stage was given); its map is built again in Chinese and in English (the
English one with township 1 renamed to a script-injection string, both with the county's
roads, the tours and a fake Tianditu key) and opened from file:// URLs in headless Debian
chromium. Every request that is not a file is aborted and counted.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import pytest

from planner import columns as C
from planner.i18n import translator
from planner.report.map import build_map, road_lines, write_map
from tests.conftest import DemoSession

CHROMIUM = Path("/usr/bin/chromium")
PAYLOAD = "<img src=x onerror=alert(1)>"
FAKE_KEY = "0123456789abcdef0123456789abcdef"
DESKTOP, PHONE = (1366, 768), (390, 844)


@dataclass
class Demo:
    """The demo county's plan, its vans' tours (EPSG:4326) and its two maps."""

    stations: gpd.GeoDataFrame
    repair: gpd.GeoDataFrame
    townships: gpd.GeoDataFrame
    zh: Path
    en: Path
    tours: gpd.GeoDataFrame
    tour_stops: gpd.GeoDataFrame
    payload: str = PAYLOAD  # the English map's name of township 1


@pytest.fixture(scope="session")
def demo(demo_session: DemoSession, tmp_path_factory: pytest.TempPathFactory) -> Demo:
    """The demo county's plan and maps."""
    return build_maps(demo_session.written, tmp_path_factory.mktemp("maps"))


def build_maps(written: dict[str, Any], folder: Path) -> Demo:
    """Write map_zh.html and map_en.html (with the payload) of the plan and tours the
    demo run's report stage was given (``written``: its county, layers, plan, config)."""
    county, layers, plan, config = (written[k] for k in ("county", "layers", "plan", "config"))
    assert config.tours.enabled  # the demo county plans its vans' week
    assert "tours" in layers and "tour_stops" in layers
    towns = layers["townships"].copy()
    settings = config.report.model_copy(update={"tianditu_key": FAKE_KEY})
    roads = road_lines(county.roads)
    paths = {}
    for code in ("zh", "en"):
        t = towns.copy()
        if code == "en":
            t.loc[0, C.TOWNSHIP_NAME] = PAYLOAD
        m = build_map(
            county,
            t,
            layers["demand"],
            layers["candidates"],
            plan,
            service_areas=layers["service_areas"],
            response_min=config.repair.response_min,
            settings=settings,
            lang=translator(code),
            roads=roads,
            tours=layers["tours"],
            tour_stops=layers["tour_stops"],
        )
        paths[code] = folder / f"map_{code}.html"
        write_map(m, paths[code])
    stations = plan.stations.to_crs(4326)
    return Demo(
        stations,
        plan.repair_points,
        towns,
        paths["zh"],
        paths["en"],
        layers["tours"].to_crs(4326),
        layers["tour_stops"].to_crs(4326),
    )


def open_map(browser: Any, path: Path, size: tuple[int, int]) -> Any:
    """The map open in a new page of ``size``; ``page.blocked`` lists aborted requests,
    ``page.problems`` console errors, page errors and dialogs."""
    pg = browser.new_page(viewport={"width": size[0], "height": size[1]})
    blocked: list[str] = []
    problems: list[str] = []

    def route(r: Any) -> None:
        if r.request.url.startswith(("file:", "data:")):
            r.continue_()
        else:
            blocked.append(r.request.url)
            r.abort()

    def dialog(d: Any) -> None:
        problems.append(f"dialog: {d.message}")
        d.dismiss()

    pg.route("**/*", route)
    pg.on("requestfailed", lambda r: problems.append(f"failed: {r.url}"))
    pg.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    pg.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    pg.on("dialog", dialog)
    pg.goto(path.as_uri())
    pg.wait_for_function("typeof plannerMap !== 'undefined' && plannerMap.state.search")
    pg.wait_for_timeout(200)
    pg.blocked, pg.problems = blocked, problems
    return pg


@pytest.fixture(scope="module")
def en(browser: Any, demo: Demo) -> Iterator[Any]:
    pg = open_map(browser, demo.en, (1400, 900))
    yield pg
    pg.close()


@pytest.fixture(scope="module", params=[DESKTOP, PHONE], ids=["1366x768", "390x844"])
def zh(request: pytest.FixtureRequest, browser: Any, demo: Demo) -> Iterator[Any]:
    pg = open_map(browser, demo.zh, request.param)
    pg.size = request.param
    yield pg
    pg.close()
