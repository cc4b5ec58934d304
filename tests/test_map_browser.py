"""map.html in a real browser (headless Debian chromium), with the network blocked.

The demo county is run with one township renamed to a script-injection string and a
(fake) Tianditu key, then the map is opened from a file:// URL. Every request that is
not a file is aborted and counted: the page must make none, log no error, show the
run's stations, repair points and townships, open the right popup, show the injected
name as text, and shift its overlays to GCJ-02 only while a Gaode basemap is on.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from planner.cli import main
from planner.ingest.china import wgs84_to_gcj02
from tests.conftest import latest

pytestmark = pytest.mark.slow  # every test here runs the pipeline or a long solve

CHROMIUM = Path("/usr/bin/chromium")
PAYLOAD = "<img src=x onerror=alert(1)>"
FAKE_KEY = "0123456789abcdef0123456789abcdef"
KEY_OPTION = ("--set", f"report.tianditu_key={FAKE_KEY}")

if not CHROMIUM.is_file():
    pytest.skip(
        f"{CHROMIUM} is absent (apt-get install chromium; .ci/run does)", allow_module_level=True
    )
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright not installed")


@pytest.fixture(scope="module")
def injected_run(demo_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo run with township 1 named ``PAYLOAD``; returns the run folder."""
    src = tmp_path_factory.mktemp("inject") / "qingxi"
    shutil.copytree(demo_dir, src)
    gpkg = src / "qingxi_boundaries.gpkg"
    county = gpd.read_file(gpkg, layer="county")
    towns = gpd.read_file(gpkg, layer="townships")
    towns.loc[0, "name"] = PAYLOAD
    gpkg.unlink()
    county.to_file(gpkg, layer="county")
    towns.to_file(gpkg, layer="townships")
    out = src.parent / "out"
    result = CliRunner().invoke(
        main,
        [*("site", "--config", str(src / "qingxi.yaml"), "--out", str(out)), *KEY_OPTION],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    return latest(out)


@pytest.fixture(scope="module")
def page(injected_run: Path):
    """The map open in chromium; ``page.blocked`` lists aborted requests, ``page.problems``
    console errors, page errors and dialogs."""
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"]
        )
        pg = browser.new_page(viewport={"width": 1400, "height": 900})
        blocked: list[str] = []
        problems: list[str] = []

        def route(r):
            if r.request.url.startswith(("file:", "data:")):
                r.continue_()
            else:
                blocked.append(r.request.url)
                r.abort()

        pg.route("**/*", route)
        pg.on("requestfailed", lambda r: problems.append(f"failed: {r.url}"))
        pg.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        pg.on("pageerror", lambda e: problems.append(f"page error: {e}"))

        def dialog(d):
            problems.append(f"dialog: {d.message}")
            d.dismiss()

        pg.on("dialog", dialog)
        pg.goto((injected_run / "map.html").as_uri())
        pg.wait_for_function("typeof plannerMap !== 'undefined' && plannerMap.state.map")
        pg.wait_for_timeout(300)
        pg.blocked, pg.problems = blocked, problems
        yield pg
        browser.close()


def count(page, key: str) -> int:
    return page.evaluate(f"plannerMap.layers[{key!r}].getLayers().length")


def test_offline_no_requests_no_errors(page):
    assert page.blocked == []
    assert page.problems == []
    assert page.evaluate("typeof L") == "object"


def test_markers_and_polygons_match_the_run(page, injected_run):
    stations = pd.read_csv(injected_run / "stations.csv")
    repair = pd.read_csv(injected_run / "repair_points.csv")
    towns = gpd.read_file(injected_run / "sites.gpkg", layer="townships")
    assert len(stations) > 0 and len(repair) > 0
    assert count(page, "stations") == len(stations)
    assert count(page, "repair_points") == len(repair)
    assert page.locator(".pl-repair").count() == len(repair)  # DOM markers, on the map
    assert count(page, "townships") == len(towns)
    assert count(page, "service_areas") == len(repair)
    # canvas rendering: the vector overlays draw into a canvas, not thousands of SVG nodes
    assert page.locator(".leaflet-overlay-pane canvas").count() == 1
    assert page.locator(".leaflet-overlay-pane svg").count() == 0


def test_layer_control_entries(page):
    labels = [t.strip() for t in page.locator(".leaflet-control-layers label").all_inner_texts()]
    for name in (
        "No basemap (offline)",
        "OpenStreetMap",
        "天地图 Tianditu (vector)",
        "天地图 Tianditu (imagery)",
        "高德 Gaode/AMap (vector, GCJ-02)",
        "Townships (shaded by coverage share)",
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
    checked = page.locator(".leaflet-control-layers-base input:checked").locator("xpath=..")
    assert checked.inner_text().strip() == "No basemap (offline)"
    legend = page.locator(".pl-legend").inner_text()
    assert "Charging stations" in legend and "service area (by road)" in legend


def test_station_popup_opens_on_click(page, injected_run):
    stations = pd.read_csv(injected_run / "stations.csv")
    # repair diamonds may sit on stations: switch that layer off in the control first
    page.locator(".leaflet-control-layers label", has_text="Repair points").locator(
        "input"
    ).uncheck()
    assert page.locator(".pl-repair").count() == 0
    try:
        k = 0
        lon, lat = stations.loc[k, "lon"], stations.loc[k, "lat"]
        xy = page.evaluate(
            "([lat, lon]) => { const p = plannerMap.state.map.latLngToContainerPoint([lat, lon]);"
            " const r = plannerMap.state.map.getContainer().getBoundingClientRect();"
            " return [p.x + r.left, p.y + r.top]; }",
            [lat, lon],
        )
        page.mouse.click(*xy)
        title = page.locator(".leaflet-popup-content .pl-popup-title")
        title.wait_for(timeout=3000)
        name = stations.loc[k, "name"]
        expected = name if isinstance(name, str) and name else stations.loc[k, "candidate_id"]
        assert title.inner_text() == expected
        rows = page.locator(".leaflet-popup-content th").all_inner_texts()
        assert rows == [
            "class",
            "township",
            "chargers",
            "kW",
            "sessions/day served",
            "capex (CNY)",
            "connection cost (CNY)",
            "substation",
        ]
        chargers = page.locator(".leaflet-popup-content td").all_inner_texts()[2]
        assert int(chargers) == stations.loc[k, "chargers"]
    finally:
        page.evaluate("void plannerMap.state.map.closePopup()")
        page.locator(".leaflet-control-layers label", has_text="Repair points").locator(
            "input"
        ).check()


def test_injected_township_name_is_text(page):
    # its tooltip, opened as on hover, shows the literal string and runs nothing
    page.evaluate(
        "(payload) => void plannerMap.layers.townships.eachLayer(l => {"
        " if (l.feature.properties.t.startsWith(payload)) l.openTooltip(); })",
        PAYLOAD,
    )
    tip = page.locator(".leaflet-tooltip").filter(has_text="onerror=alert(1)")
    tip.wait_for(timeout=3000)
    assert tip.inner_text().startswith(PAYLOAD)
    assert page.locator("img[src='x']").count() == 0
    page.wait_for_timeout(200)
    assert not any(p.startswith("dialog") for p in page.problems)
    # the raw string reaches the page only JSON-escaped inside scripts
    html = page.content()
    assert PAYLOAD not in html.split("<body")[0]
    page.evaluate("void plannerMap.layers.townships.eachLayer(l => l.closeTooltip())")


def test_gcj02_shift_reference_values(page):
    # the browser's shift against the published reference pair (see tests/test_china.py)
    lon, lat = page.evaluate("plannerMap.gcj02(116.404, 39.915)")
    assert lon == pytest.approx(116.41024449916938, abs=1e-9)
    assert lat == pytest.approx(39.91640428150164, abs=1e-9)
    # and against the Python conversion, inside and outside China
    rng = np.random.default_rng(3)
    pts = np.column_stack([rng.uniform(75, 134, 200), rng.uniform(18, 53, 200)])
    pts = np.vstack([pts, [[9.52, 47.14], [-74.0, 40.7]]])
    js = np.array(page.evaluate("pts => pts.map(p => plannerMap.gcj02(p[0], p[1]))", pts.tolist()))
    py = np.column_stack(wgs84_to_gcj02(pts[:, 0], pts[:, 1]))
    assert np.abs(js - py).max() < 1e-9


def test_gaode_basemap_shifts_overlays_for_display_only(page, injected_run):
    stations = pd.read_csv(injected_run / "stations.csv")
    lon, lat = stations.loc[0, "lon"], stations.loc[0, "lat"]
    where = (
        "(() => { const ll = plannerMap.layers.stations.getLayers()[0].getLatLng();"
        " return [ll.lng, ll.lat]; })()"
    )
    assert page.evaluate(where) == pytest.approx([lon, lat], abs=1e-6)
    page.locator(".leaflet-control-layers label", has_text="Gaode/AMap (vector").click()
    page.wait_for_timeout(300)
    glon, glat = wgs84_to_gcj02(lon, lat)
    assert page.evaluate(where) == pytest.approx([float(glon), float(glat)], abs=1e-6)
    assert page.locator(".pl-notice").is_visible()
    # the tiles were requested only now, and from Gaode's servers
    assert page.blocked and all("autonavi" in u for u in page.blocked)
    page.locator(".leaflet-control-layers label", has_text="No basemap").click()
    page.wait_for_timeout(200)
    assert page.evaluate(where) == pytest.approx([lon, lat], abs=1e-6)
    assert not page.locator(".pl-notice").is_visible()
