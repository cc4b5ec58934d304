"""Build map.html: the page, its inlined assets, basemaps and overlays; and write it."""

from __future__ import annotations

import logging
import re
import time
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
from branca.element import Element, Figure
from folium.template import Template

from planner import columns as C
from planner.config import ReportSection
from planner.datatypes import CountyData, Plan
from planner.errors import AssetError
from planner.i18n import Lang, translator
from planner.report.assets import leaflet_assets, leaflet_version, planner_assets
from planner.report.map.basemaps import GCJ_NOTICE, basemap_specs
from planner.report.map.elements import Basemap, Call, Controls, Overlay
from planner.report.map.encode import html_text, script_safe
from planner.report.map.layers import (
    county_layer,
    demand_layers,
    grid_layer,
    service_area_layer,
    township_layer,
)
from planner.report.map.roads import road_layer
from planner.report.map.sites import candidate_layer, existing_layer, repair_layer, station_layer
from planner.report.map.tours import tour_overlays

logger = logging.getLogger(__name__)

_LEAFLET_NOTICE = (
    "Leaflet {version}, inlined: (c) 2010-2022 Vladimir Agafonkin, (c) 2010-2011 CloudMade; "
    "BSD 2-Clause licence, see https://github.com/Leaflet/Leaflet/blob/main/LICENSE"
)

#: Below this width (px) the layer control and the legend start collapsed.
SMALL_SCREEN_PX = 800

# branca's page, with the language of its text
_PAGE = (
    "<!DOCTYPE html>\n"
    '<html lang="{lang}">\n'
    "<head>\n"
    "{% if this.title %}<title>{{this.title}}</title>{% endif %}"
    "    {{this.header.render(**kwargs)}}\n"
    "</head>\n"
    "<body>\n"
    "    {{this.html.render(**kwargs)}}\n"
    "</body>\n"
    "<script>\n"
    "    {{this.script.render(**kwargs)}}\n"
    "</script>\n"
    "</html>\n"
)
_HTML_LANG = {"zh": "zh-CN", "en": "en"}

_EXTERNAL = re.compile(
    r"<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)\s*=\s*[\"']?(?:https?:)?//", re.IGNORECASE
)


def build_map(  # noqa: PLR0913 - the layers' data, then keyword-only options
    county: CountyData,
    townships_out: gpd.GeoDataFrame,
    demand_out: gpd.GeoDataFrame,
    candidates: gpd.GeoDataFrame,
    plan: Plan,
    *,
    service_areas: gpd.GeoDataFrame | None = None,
    response_min: float | None = None,
    settings: ReportSection | None = None,
    lang: Lang | None = None,
    roads: gpd.GeoDataFrame | None = None,
    tours: gpd.GeoDataFrame | None = None,
    tour_stops: gpd.GeoDataFrame | None = None,
    credit: str | None = None,
    warning: str | None = None,
) -> folium.Map:
    """A self-contained Folium map of the plan with one toggleable layer per theme.

    Parameters
    ----------
    county
        Ingested data (boundaries, chargers, grid).
    townships_out
        Townships with ``covered_share`` and ``stations``.
    demand_out
        Demand points with ``covered_share``.
    candidates
        Candidate sites.
    plan
        The plan.
    service_areas
        Road-network service areas of the repair points (``repair_id`` and polygons, see
        :func:`planner.isochrones.service_areas`); None leaves the layer out. Off when
        the page opens.
    response_min
        The repair response time, for the service-area layer's name.
    settings
        Basemaps, Tianditu key and simplification (the config's ``report`` section).
    lang
        Language of every text on the map (None: English); the page's ``lang``.
    roads
        Roads to draw (LineStrings in EPSG:4326, optional ``highway`` class: see
        :func:`~planner.report.map.roads.road_lines`); None leaves the layer out.
    tours
        The repair vans' routes (layer ``tours`` of a run, see
        :func:`planner.tours.tour_layers`): one overlay per working day, off when the page
        opens, each van a colour; None (or no rows) leaves them out.
    tour_stops
        The vans' stops (layer ``tour_stops``), drawn numbered in visiting order on their
        day's overlay; None draws the routes only.

    credit
        Who provides the map's data and under which licence, shown in the corner
        (:func:`planner.report.assumptions.map_credit`; None: no credit line).
    warning
        A line shown under the title (e.g. that a time limit stopped a pass).

    Returns
    -------
    folium.Map
        With Leaflet inlined and no external script or stylesheet; save it with
        :func:`write_map`, which checks that.

    Raises
    ------
    AssetError
        Leaflet or the planner's map script is not installed.
    """
    t0 = time.perf_counter()
    settings = settings or ReportSection()
    lang = lang or translator("en")
    assets = {"leaflet": leaflet_assets(), "planner": planner_assets()}
    m, bounds = _blank_map(county)
    title = lang("{county} · charging and repair plan", county=county.name)
    _inline_assets(m, assets, title=title, language=lang.code)
    m.add_child(
        Call(
            "init",
            {
                "title": title,
                "notice": lang(GCJ_NOTICE),
                "credit": lang("Data: {credit}", credit=credit) if credit else None,
                "warning": warning,
                "texts": _texts(lang),
                "small": SMALL_SCREEN_PX,
            },
        )
    )
    for i, (label, spec) in enumerate(basemap_specs(settings, lang=lang)):
        m.add_child(Basemap(label, spec, show=i == 0))
    legend: list[dict[str, Any]] = []
    layers = {
        "service_areas": service_areas,
        "roads": roads,
        "tours": tours,
        "tour_stops": tour_stops,
    }
    for overlay in _overlays(
        county,
        townships_out,
        demand_out,
        candidates,
        plan,
        layers=layers,
        response_min=response_min,
        simplify_m=settings.map_simplify_m,
        demand_points=settings.map_demand_points,
        legend=legend,
        lang=lang,
    ):
        m.add_child(overlay)
    m.add_child(Call("legend", legend))
    control = folium.LayerControl(collapsed=False)
    control.add_to(m)
    m.add_child(Controls(control, {}))
    m.fit_bounds(bounds)
    logger.info("map: layers built in %.1f s", time.perf_counter() - t0)
    return m


def _texts(lang: Lang) -> dict[str, str]:
    """The texts of the page's own controls, in ``lang``."""
    return {
        "legend": lang("Legend"),
        "layers": lang("Layers"),
        "close": lang("Close"),
        "search": lang("Search stations, repair points, townships"),
        "none": lang("No matches"),
        "zoomIn": lang("Zoom in"),
        "zoomOut": lang("Zoom out"),
        "km": lang.unit("km"),
        "m": lang.unit("m"),
    }


def _blank_map(county: CountyData) -> tuple[folium.Map, list[list[float]]]:
    """A map without tiles centred on the county, and the county's bounds (lat, lon)."""
    minx, miny, maxx, maxy = county.county.to_crs(4326).total_bounds
    m = folium.Map(
        location=[(miny + maxy) / 2, (minx + maxx) / 2],
        zoom_start=10,
        tiles=None,
        control_scale=False,  # map.js adds a metric-only one
        prefer_canvas=True,
        zoom_snap=0.25,  # the county fills the screen better than at whole zooms
    )
    return m, [[miny, minx], [maxy, maxx]]


def _inline_assets(
    m: folium.Map, assets: dict[str, tuple[str, str]], *, title: str, language: str
) -> None:
    """Title the page, set its language and inline the stylesheets and scripts."""
    (leaflet_css, leaflet_js), (own_css, own_js) = assets["leaflet"], assets["planner"]
    # no CDN: Folium's default links go, Leaflet and the planner's script come inline
    m.default_js = []
    m.default_css = []
    fig = m.get_root()
    assert isinstance(fig, Figure)  # folium puts every Map in a branca Figure
    fig.title = html_text(title)
    fig._template = Template(_PAGE.replace("{lang}", _HTML_LANG.get(language, language)))
    for name, code in (
        ("leaflet_css", f"<style>{leaflet_css}</style>"),
        ("planner_css", f"<style>{own_css}</style>"),
        ("leaflet_notice", f"<!-- {_LEAFLET_NOTICE.format(version=leaflet_version())} -->"),
        ("leaflet_js", f"<script>{script_safe(leaflet_js)}</script>"),
        ("planner_js", f"<script>{script_safe(own_js)}</script>"),
    ):
        fig.header.add_child(Element(code), name=name)


def _overlays(  # noqa: PLR0913 - the layers' data, then keyword-only display options
    county: CountyData,
    townships_out: gpd.GeoDataFrame,
    demand_out: gpd.GeoDataFrame,
    candidates: gpd.GeoDataFrame,
    plan: Plan,
    *,
    layers: dict[str, gpd.GeoDataFrame | None],
    response_min: float | None,
    simplify_m: float,
    demand_points: int | None = None,
    legend: list[dict[str, Any]],
    lang: Lang,
) -> list[Overlay]:
    """The overlays in drawing order; their legend entries are appended to ``legend``.

    ``layers`` holds the optional ones: ``service_areas``, ``roads``, ``tours`` and
    ``tour_stops``; above ``demand_points`` demand points, demand is drawn merged into
    squares.
    """
    names = dict(zip(townships_out[C.TOWNSHIP_ID], townships_out[C.TOWNSHIP_NAME], strict=True))
    # polygons first, then lines, then points: each is drawn above the one before
    overlays = [township_layer(townships_out, simplify_m, legend, lang=lang)]
    roads, areas = layers.get("roads"), layers.get("service_areas")
    if roads is not None:
        overlays.append(road_layer(roads, county, simplify_m, legend, lang=lang))
    if areas is not None:
        overlays.append(
            service_area_layer(
                areas,
                plan.repair_points,
                response_min,
                simplify_m,
                lang=lang,
                legend=legend,
            )
        )
    overlays += [
        county_layer(county, simplify_m, lang=lang),
        grid_layer(county, simplify_m, legend, lang=lang, planned_kw=_planned_kw(plan)),
        *demand_layers(demand_out, names, legend, lang=lang, max_points=demand_points),
        candidate_layer(candidates, names, legend, lang=lang),
        existing_layer(county.chargers, legend, lang=lang),
        station_layer(plan.stations, names, legend, lang=lang),
        repair_layer(plan.repair_points, names, legend, lang=lang),
    ]
    tours = layers.get("tours")
    if tours is not None:
        rp = plan.repair_points
        overlays += tour_overlays(
            tours,
            layers.get("tour_stops"),
            simplify_m,
            legend,
            places=dict(zip(rp[C.REPAIR_ID], rp[C.NAME], strict=True)),
            lang=lang,
        )
    return overlays


def write_map(m: folium.Map, path: str | Path) -> int:
    """Save the map as one self-contained HTML file.

    Parameters
    ----------
    m
        A map from :func:`build_map`.
    path
        The file to write (UTF-8).

    Returns
    -------
    int
        The file's size in bytes.

    Raises
    ------
    AssetError
        The page would load a script, stylesheet or image from the network (a Folium
        default that was not removed): it would render blank offline.
    """
    t0 = time.perf_counter()
    text = m.get_root().render()
    bad = _EXTERNAL.search(text)
    if bad:
        msg = f"map.html would load {bad.group(0)!r}... from the network; it must be self-contained"
        raise AssetError(msg)
    path = Path(path)
    path.write_text(text, encoding="utf-8")
    size = path.stat().st_size
    logger.info(
        "map: %s, %.1f MB, rendered in %.1f s", path.name, size / 1e6, time.perf_counter() - t0
    )
    return size


def _planned_kw(plan: Plan) -> dict[str, float]:
    """The charging power of the plan's new stations by the substation feeding them."""
    st = plan.stations
    if len(st) == 0 or C.SUBSTATION_ID not in st.columns:
        return {}
    kw = st.groupby(st[C.SUBSTATION_ID].astype(str))[C.CHARGER_KW].sum()
    return {str(k): float(v) for k, v in kw.items()}
