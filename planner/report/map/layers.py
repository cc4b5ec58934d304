"""The interactive map (map.html): Folium, self-contained so that it works offline.

Leaflet's script and stylesheet are inlined from an installed package
(:mod:`planner.report.assets`) and Folium's default CDN links (jQuery, Bootstrap,
Font Awesome, awesome-markers) are dropped, so the file renders with no network. Each
theme is one toggleable overlay drawn on a canvas (``prefer_canvas``), fed by compact
GeoJSON; tooltips, popups and the legend are built in the browser with ``textContent``
(``map.js``), so no text from the data is ever parsed as HTML. Basemaps are optional:
none is shown until the user picks one, and on Gaode/AMap tiles (GCJ-02) the overlays
are drawn shifted to GCJ-02 for display only.
"""

from __future__ import annotations

import html
import json
import logging
import math
import os
import re
import time
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import Element, MacroElement
from folium.map import Layer
from folium.template import Template

from planner import columns as C
from planner.candidates import is_medium_voltage
from planner.config import ReportSection
from planner.datatypes import CountyData, Plan
from planner.errors import AssetError
from planner.report.assets import leaflet_assets, leaflet_version, planner_assets

logger = logging.getLogger(__name__)

CLASS_COLOURS = {
    "commercial_outlet": "#1f77b4",
    "township_government": "#d62728",
    "fuel_station": "#ff7f0e",
    "car_park": "#7f7f7f",
    "transport_hub": "#9467bd",
    "institution": "#17becf",
}

#: Environment variable read for the Tianditu key when the config gives none.
TIANDITU_KEY_ENV = "TIANDITU_KEY"

_TIANDITU = (
    "https://t{s}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
    "&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}"
    "&TILECOL={x}&tk={key}"
)
_GAODE = "https://{host}0{{s}}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style={style}&x={{x}}&y={{y}}&z={{z}}"
_OSM_ATTR = "&copy; OpenStreetMap contributors"
_TDT_ATTR = "&copy; 天地图 Tianditu"
_GAODE_ATTR = "&copy; 高德地图 AutoNavi"

#: Basemaps: config name -> (label, tile layers (url template, options), GCJ-02 tiles).
BASEMAPS: dict[str, tuple[str, list[tuple[str, dict[str, Any]]], bool]] = {
    "osm": (
        "OpenStreetMap",
        [
            (
                "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
                {"attribution": _OSM_ATTR, "maxZoom": 19},
            )
        ],
        False,
    ),
    "tianditu_vector": (
        "天地图 Tianditu (vector)",
        [
            (_TIANDITU.replace("{layer}", "vec"), {"attribution": _TDT_ATTR}),
            (_TIANDITU.replace("{layer}", "cva"), {}),
        ],
        False,
    ),
    "tianditu_imagery": (
        "天地图 Tianditu (imagery)",
        [
            (_TIANDITU.replace("{layer}", "img"), {"attribution": _TDT_ATTR}),
            (_TIANDITU.replace("{layer}", "cia"), {}),
        ],
        False,
    ),
    "gaode_vector": (
        "高德 Gaode/AMap (vector, GCJ-02)",
        [(_GAODE.format(host="webrd", style=8), {"attribution": _GAODE_ATTR})],
        True,
    ),
    "gaode_imagery": (
        "高德 Gaode/AMap (imagery, GCJ-02)",
        [
            (_GAODE.format(host="webst", style=6), {"attribution": _GAODE_ATTR}),
            (_GAODE.format(host="webst", style=8), {}),
        ],
        True,
    ),
}
_SUBDOMAINS = {"osm": "", "tianditu": "01234567", "gaode": "1234"}

#: Label of the default basemap: no tiles at all (works offline).
NO_BASEMAP = "No basemap (offline)"
_LEAFLET_NOTICE = (
    "Leaflet {version}, inlined: (c) 2010-2022 Vladimir Agafonkin, (c) 2010-2011 CloudMade; "
    "BSD 2-Clause licence, see https://github.com/Leaflet/Leaflet/blob/main/LICENSE"
)
_GCJ_NOTICE = "Overlays shifted to GCJ-02 to match Gaode tiles (display only)"


def _js_json(obj: object) -> str:
    """JSON safe to place inside a ``<script>`` element."""
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


class _Overlay(Layer):
    """An overlay built by ``plannerMap.overlay`` from a spec (see map.js)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = plannerMap.overlay({{ this.spec_json }});
        {% endmacro %}
        """
    )

    def __init__(self, name: str, spec: dict[str, Any], *, show: bool = True) -> None:
        # Leaflet's layer control shows names as HTML: escape them
        super().__init__(name=html.escape(name), overlay=True, control=True, show=show)
        self._name = "PlannerOverlay"
        self.spec_json = _js_json(spec)


class _Basemap(Layer):
    """A base layer of tile layers (none: the offline basemap)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = plannerMap.basemap({{ this.spec_json }});
        {% endmacro %}
        """
    )

    def __init__(self, name: str, spec: dict[str, Any], *, show: bool) -> None:
        super().__init__(name=html.escape(name), overlay=False, control=True, show=show)
        self._name = "PlannerBasemap"
        self.spec_json = _js_json(spec)


class _Call(MacroElement):
    """``plannerMap.<method>(map, <args>)`` once the map exists."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        plannerMap.{{ this.method }}({{ this._parent.get_name() }}, {{ this.args_json }});
        {% endmacro %}
        """
    )

    def __init__(self, method: str, args: object) -> None:
        super().__init__()
        self._name = "PlannerCall"
        self.method = method
        self.args_json = _js_json(args)


def _text(value: object) -> str:
    """A cell as display text; missing values (None, NaN, NA) as ''."""
    if value is None or (
        not isinstance(value, str) and pd.api.types.is_scalar(value) and pd.isna(value)
    ):
        return ""
    return str(value)


def _fmt(x: object, digits: int = 0) -> str:
    if x is None or pd.isna(x):  # type: ignore[arg-type]
        return ""
    return f"{float(x):,.{digits}f}"  # type: ignore[arg-type]


def _connection_text(cost: object) -> str:
    """A connection cost for a popup: empty in the data means it is not included."""
    return "not included" if cost is None or pd.isna(cost) else _fmt(cost)


def _rounded(geoms: gpd.GeoSeries, digits: int) -> np.ndarray:
    return shapely.transform(geoms.to_numpy(), lambda xy: np.round(xy, digits))


def _collection(
    gdf: gpd.GeoDataFrame, props: list[dict[str, Any]], *, digits: int = 6
) -> dict[str, Any]:
    """A GeoJSON FeatureCollection (WGS84) of ``gdf`` with the given display properties."""
    geoms = _rounded(gdf.to_crs(4326).geometry, digits)
    features = [
        {"type": "Feature", "geometry": shapely.geometry.mapping(g), "properties": p}
        for g, p in zip(geoms, props, strict=True)
        if g is not None and not g.is_empty
    ]
    return {"type": "FeatureCollection", "features": features}


def _points(gdf: gpd.GeoDataFrame, props: list[dict[str, Any]]) -> list[list[Any]]:
    """Point features as compact ``[lon, lat, properties]`` rows (WGS84, ~0.1 m)."""
    g = gdf.to_crs(4326).geometry
    ok = (~g.is_empty & g.notna()).to_numpy()
    lon, lat = np.round(g.x.to_numpy(), 6), np.round(g.y.to_numpy(), 6)
    return [[float(x), float(y), p] for x, y, p, k in zip(lon, lat, props, ok, strict=True) if k]


def _simplified(gdf: gpd.GeoDataFrame, tolerance_m: float) -> gpd.GeoDataFrame:
    if tolerance_m <= 0 or len(gdf) == 0:
        return gdf
    out = gdf.copy()
    out[out.geometry.name] = out.geometry.simplify(tolerance_m, preserve_topology=True)
    return out


#: Fill of townships without demand (population 0): grey, not the red of "0% covered".
NO_DEMAND_COLOUR = "#b2b2b2"


def _share_colour(share: float) -> str:
    """Red (0) through yellow to green (1)."""
    share = min(max(share, 0.0), 1.0)
    if share < 0.5:
        r, g = 215, int(48 + (215 - 48) * share * 2)
    else:
        r, g = int(215 - (215 - 26) * (share - 0.5) * 2), int(215 - (215 - 150) * (share - 0.5) * 2)
    return f"#{r:02x}{g:02x}40"


def _demand_colour(share: float) -> str:
    if share >= 0.999:
        return "#27ae60"
    return "#e67e22" if share > 0.001 else "#c0392b"


def _tianditu_key(settings: ReportSection) -> str | None:
    key = settings.tianditu_key or os.environ.get(TIANDITU_KEY_ENV) or None
    if key is not None and not re.fullmatch(r"[A-Za-z0-9]{8,64}", key):
        logger.warning("%s is not a Tianditu key (letters and digits): ignored", TIANDITU_KEY_ENV)
        return None
    return key


def _basemap_specs(settings: ReportSection) -> list[tuple[str, dict[str, Any]]]:
    """(label, spec) of each configured basemap, the offline one first."""
    out: list[tuple[str, dict[str, Any]]] = [(NO_BASEMAP, {"tiles": [], "gcj02": False})]
    key = _tianditu_key(settings)
    skipped = []
    for name in settings.basemaps:
        label, tiles, gcj = BASEMAPS[name]
        if name.startswith("tianditu") and key is None:
            skipped.append(name)
            continue
        sub = _SUBDOMAINS[name.split("_")[0]]
        specs = []
        for url, options in tiles:
            opts = {**options, "maxZoom": options.get("maxZoom", 18)}
            if sub:
                opts["subdomains"] = sub
            specs.append({"url": url.replace("{key}", key or ""), "options": opts})
        out.append((label, {"tiles": specs, "gcj02": gcj}))
    if skipped:
        logger.info(
            "map: Tianditu basemaps left out (%s): no key in report.tianditu_key or $%s",
            ", ".join(skipped),
            TIANDITU_KEY_ENV,
        )
    return out


def build_map(
    county: CountyData,
    townships_out: gpd.GeoDataFrame,
    demand_out: gpd.GeoDataFrame,
    candidates: gpd.GeoDataFrame,
    plan: Plan,
    *,
    service_areas: gpd.GeoDataFrame | None = None,
    response_min: float | None = None,
    settings: ReportSection | None = None,
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
        :func:`planner.isochrones.service_areas`); None leaves the layer out.
    response_min
        The repair response time, for the service-area layer's name.
    settings
        Basemaps, Tianditu key and simplification (the config's ``report`` section).

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
    leaflet_css, leaflet_js = leaflet_assets()
    own_css, own_js = planner_assets()

    c = county.county.to_crs(4326)
    minx, miny, maxx, maxy = c.total_bounds
    m = folium.Map(
        location=[(miny + maxy) / 2, (minx + maxx) / 2],
        zoom_start=10,
        tiles=None,
        control_scale=True,
        prefer_canvas=True,
    )
    # no CDN: Folium's default links go, Leaflet and the planner's script come inline
    m.default_js = []
    m.default_css = []
    fig = m.get_root()
    fig.title = html.escape(f"{county.name}: charging and repair plan")
    for name, code in (
        ("leaflet_css", f"<style>{leaflet_css}</style>"),
        ("planner_css", f"<style>{own_css}</style>"),
        ("leaflet_notice", f"<!-- {_LEAFLET_NOTICE.format(version=leaflet_version())} -->"),
        ("leaflet_js", f"<script>{_script_safe(leaflet_js)}</script>"),
        ("planner_js", f"<script>{_script_safe(own_js)}</script>"),
    ):
        fig.header.add_child(Element(code), name=name)

    m.add_child(
        _Call("init", {"title": f"{county.name} · charging and repair plan", "notice": _GCJ_NOTICE})
    )
    for i, (label, spec) in enumerate(_basemap_specs(settings)):
        m.add_child(_Basemap(label, spec, show=i == 0))

    simplify_m = settings.map_simplify_m
    names = dict(zip(townships_out[C.TOWNSHIP_ID], townships_out[C.TOWNSHIP_NAME], strict=True))
    legend: list[dict[str, Any]] = []
    # polygons first, then lines, then points: each is drawn above the one before
    overlays = [_township_layer(townships_out, simplify_m, legend)]
    if service_areas is not None:
        overlays.append(
            _service_area_layer(service_areas, plan.repair_points, response_min, simplify_m)
        )
    overlays += [
        _county_layer(county, simplify_m),
        _grid_layer(county, simplify_m, legend),
        *_demand_layers(demand_out, names, legend),
        _candidate_layer(candidates, names, legend),
        _existing_layer(county.chargers),
        _station_layer(plan.stations, names, legend),
        _repair_layer(plan.repair_points, names, legend),
    ]
    for overlay in overlays:
        m.add_child(overlay)
    m.add_child(_Call("legend", legend))
    folium.LayerControl(collapsed=False).add_to(m)
    m.fit_bounds([[miny, minx], [maxy, maxx]])
    logger.info("map: layers built in %.1f s", time.perf_counter() - t0)
    return m


def _township_layer(
    townships_out: gpd.GeoDataFrame, simplify_m: float, legend: list[dict[str, Any]]
) -> _Overlay:
    t = _simplified(townships_out, simplify_m)
    props = []
    for _, r in t.iterrows():
        share = float(r[C.COVERED_SHARE])
        label = f"{_text(r[C.TOWNSHIP_NAME])} ({_text(r[C.TOWNSHIP_ID])}): "
        if not r[C.SESSIONS_DAY] > 0:  # nothing to cover: not "0% covered"
            label += f"no demand (population {_fmt(r[C.POPULATION])}), "
            colour = NO_DEMAND_COLOUR
        else:
            label += f"{share:.0%} of sessions covered, "
            colour = _share_colour(share)
        props.append({"t": f"{label}{int(r[C.STATIONS])} stations", "s": {"fillColor": colour}})
    items = [
        {"label": f"{p:.0%}", "symbol": {"shape": "box", "fill": _share_colour(p)}}
        for p in (0.0, 0.5, 1.0)
    ]
    items.append({"label": "no demand", "symbol": {"shape": "box", "fill": NO_DEMAND_COLOUR}})
    legend.append({"title": "Townships: sessions covered", "items": items})
    return _Overlay(
        "Townships (shaded by coverage share)",
        {
            "key": "townships",
            "style": {"color": "#555", "weight": 1, "fillOpacity": 0.35},
            "data": _collection(t, props, digits=5),
        },
    )


def _service_area_layer(
    service_areas: gpd.GeoDataFrame,
    repair_points: gpd.GeoDataFrame,
    response_min: float | None,
    simplify_m: float,
) -> _Overlay:
    sa = _simplified(service_areas, simplify_m)
    rp_names = dict(zip(repair_points[C.REPAIR_ID], repair_points[C.NAME], strict=True))
    minutes = f"{response_min:g} min" if response_min is not None else "response time"
    props = [
        {
            "t": f"reached by road within {minutes} from repair point "
            f"{_text(rp_names.get(rid)) or rid}"
        }
        for rid in sa[C.REPAIR_ID]
    ]
    return _Overlay(
        f"Repair service areas ({minutes} by road)",
        {
            "key": "service_areas",
            "style": {
                "color": "#8e44ad",
                "weight": 1,
                "opacity": 0.6,
                "fillColor": "#8e44ad",
                "fillOpacity": 0.1,
            },
            # 4 decimals (~10 m): finer than the strips' simplification
            "data": _collection(sa, props, digits=4),
        },
    )


def _county_layer(county: CountyData, simplify_m: float) -> _Overlay:
    return _Overlay(
        "County boundary",
        {
            "key": "county",
            "style": {"color": "#222", "weight": 3, "fill": False},
            "data": _collection(
                _simplified(county.county, simplify_m), [{"t": county.name}], digits=5
            ),
        },
    )


def _grid_layer(county: CountyData, simplify_m: float, legend: list[dict[str, Any]]) -> _Overlay:
    lines = county.power_lines.explode(index_parts=False)
    lines = _simplified(lines[lines.geom_type == "LineString"], simplify_m)
    props = []
    medium = is_medium_voltage(lines["power"], lines[C.VOLTAGE_KV])  # as the model does
    for mv, (_, r) in zip(medium, lines.iterrows(), strict=True):
        kv = r[C.VOLTAGE_KV]
        tag = f"{_fmt(kv)} kV" if pd.notna(kv) else "voltage not tagged"
        kind = "10 kV line: a site can connect" if mv else "high voltage: no site connection"
        props.append(
            {
                "t": f"{_text(r.get('power'))}, {tag} ({kind})",
                "s": {"color": "#e1b12c" if mv else "#c23616", "weight": 1.5 if mv else 2.5},
            }
        )
    grid = _collection(lines, props, digits=5)
    props = [
        {
            "t": f"substation {_text(r[C.NAME]) or _text(r.get(C.SUBSTATION_ID))}: "
            f"{_fmt(r[C.VOLTAGE_KV])} kV, headroom {_fmt(r[C.HEADROOM_KW])} kW",
            "s": {"radius": 6, "color": "#7f1d1d", "fillColor": "#c23616", "fillOpacity": 0.9},
        }
        for _, r in county.substations.iterrows()
    ]
    grid["features"] += _collection(county.substations, props)["features"]
    legend.append(
        {
            "title": "Grid",
            "items": [
                {
                    "label": "substation",
                    "symbol": {"shape": "circle", "color": "#7f1d1d", "fill": "#c23616"},
                },
                {"label": "10 kV line", "symbol": {"shape": "line", "color": "#e1b12c"}},
                {
                    "label": "higher voltage, untagged line",
                    "symbol": {"shape": "line", "color": "#c23616"},
                },
            ],
        }
    )
    return _Overlay(
        "Grid (substations, 10 kV lines)",
        {"key": "grid", "style": {"weight": 2}, "data": grid},
        show=False,
    )


def _demand_layers(
    d: gpd.GeoDataFrame, names: dict[str, str], legend: list[dict[str, Any]]
) -> list[_Overlay]:
    """Demand sized by sessions and coloured by coverage, and the uncovered part ringed."""
    props = []
    for _, r in d.iterrows():
        share = float(r[C.COVERED_SHARE])
        props.append(
            {
                "t": f"{_fmt(r[C.POPULATION])} people, {_fmt(r[C.SESSIONS_DAY], 1)} sessions/day, "
                f"{share:.0%} covered ({_text(names.get(r[C.TOWNSHIP_ID], r[C.TOWNSHIP_ID]))})",
                "s": {
                    "radius": round(min(2 + 1.5 * math.sqrt(max(r[C.SESSIONS_DAY], 0)), 14), 1),
                    "fillColor": _demand_colour(share),
                },
            }
        )
    demand = _Overlay(
        "Demand (sized by sessions/day)",
        {
            "key": "demand",
            "style": {"stroke": False, "fillOpacity": 0.55},
            "points": _points(d, props),
        },
    )
    gap = d[d[C.COVERED_SHARE] < 0.999]
    missed = (1 - gap[C.COVERED_SHARE].clip(0, 1)) * gap[C.SESSIONS_DAY].clip(lower=0)
    props = [
        {
            "t": f"not covered: {_fmt(x, 1)} sessions/day beyond the drive-time cutoff "
            f"({_text(names.get(r[C.TOWNSHIP_ID], r[C.TOWNSHIP_ID]))})",
            # sized by the sessions missed, so that a point 95% covered stays small
            "s": {"radius": round(min(4 + 2 * math.sqrt(x), 18), 1)},
        }
        for x, (_, r) in zip(missed, gap.iterrows(), strict=True)
    ]
    uncovered = _Overlay(
        "Uncovered demand (highlighted)",
        {
            "key": "uncovered",
            "style": {"color": "#c0392b", "weight": 2, "fill": False, "dashArray": "3 2"},
            "points": _points(gap, props),
        },
    )
    legend.append(
        {
            "title": "Demand (size: sessions/day)",
            "items": [
                {"label": "covered", "symbol": {"shape": "circle", "fill": _demand_colour(1)}},
                {
                    "label": "partly covered",
                    "symbol": {"shape": "circle", "fill": _demand_colour(0.5)},
                },
                {"label": "not covered", "symbol": {"shape": "circle", "fill": _demand_colour(0)}},
                {
                    "label": "uncovered (ring size: sessions missed)",
                    "symbol": {"shape": "circle", "color": "#c0392b"},
                },
            ],
        }
    )
    return [demand, uncovered]


def _candidate_layer(
    candidates: gpd.GeoDataFrame, names: dict[str, str], legend: list[dict[str, Any]]
) -> _Overlay:
    props = [
        {
            "t": f"candidate: {_text(r[C.NAME]) or r[C.CANDIDATE_ID]} [{r[C.POLICY_CLASS]}]",
            "p": {
                "title": _text(r[C.NAME]) or _text(r[C.CANDIDATE_ID]),
                "v": [
                    _text(r[C.CANDIDATE_ID]),
                    _text(r[C.POLICY_CLASS]),
                    _text(names.get(r[C.TOWNSHIP_ID], r[C.TOWNSHIP_ID])),
                    _fmt(r[C.STATION_CAPEX]),
                    _connection_text(r[C.CONNECTION_COST]),
                    _fmt(r[C.GRID_DISTANCE_M]),
                    _text(r[C.SUBSTATION_ID]),
                ],
            },
            "s": {"color": CLASS_COLOURS.get(r[C.POLICY_CLASS], "#333")},
        }
        for _, r in candidates.iterrows()
    ]
    present = [k for k in CLASS_COLOURS if k in set(candidates[C.POLICY_CLASS])]
    legend.append(
        {
            "title": "Candidates by policy class",
            "items": [
                {
                    "label": k.replace("_", " "),
                    "symbol": {"shape": "circle", "color": CLASS_COLOURS[k], "fill": "#fff"},
                }
                for k in present
            ],
        }
    )
    return _Overlay(
        "Candidates by policy class",
        {
            "key": "candidates",
            "style": {"radius": 3.5, "weight": 2, "fillColor": "#fff", "fillOpacity": 0.8},
            "rows": [
                "candidate",
                "class",
                "township",
                "station capex (CNY)",
                "connection cost (CNY)",
                "grid distance (m)",
                "substation",
            ],
            "points": _points(candidates, props),
        },
        show=False,
    )


def _existing_layer(chargers: gpd.GeoDataFrame) -> _Overlay:
    props = [
        {"t": f"existing charger: {_text(r[C.NAME])} ({_text(r.get(C.OPERATOR))})"}
        for _, r in chargers.iterrows()
    ]
    return _Overlay(
        "Existing chargers",
        {
            "key": "existing_chargers",
            "style": {
                "radius": 5,
                "color": "#2d3436",
                "weight": 1.5,
                "fillColor": "#fdcb6e",
                "fillOpacity": 1,
            },
            "points": _points(chargers, props),
        },
    )


def _station_radius(chargers: float) -> float:
    return round(5 + 2.4 * math.sqrt(chargers), 1)


def _station_layer(
    stations: gpd.GeoDataFrame, names: dict[str, str], legend: list[dict[str, Any]]
) -> _Overlay:
    props = []
    for _, r in stations.iterrows():
        title = _text(r[C.NAME]) or _text(r[C.CANDIDATE_ID])
        props.append(
            {
                "t": f"station: {title} ({int(r[C.CHARGERS])} chargers)",
                "p": {
                    "title": title,
                    "v": [
                        _text(r[C.POLICY_CLASS]),
                        _text(names.get(r[C.TOWNSHIP_ID], r[C.TOWNSHIP_ID])),
                        str(int(r[C.CHARGERS])),
                        _fmt(r[C.CHARGER_KW]),
                        _fmt(r[C.SESSIONS_SERVED], 1),
                        _fmt(r[C.CAPEX]),
                        _connection_text(r[C.CONNECTION_COST]),
                        _text(r[C.SUBSTATION_ID]),
                    ],
                },
                "s": {"radius": _station_radius(r[C.CHARGERS])},
            }
        )
    sizes = sorted({int(x) for x in stations[C.CHARGERS]}) or [0]
    legend.append(
        {
            "title": "Charging stations (size: chargers)",
            "items": [
                {
                    "label": f"{n} chargers",
                    "symbol": {
                        "shape": "circle",
                        "color": "#0b3d91",
                        "fill": "#2e86de",
                        "size": round(2 * _station_radius(n)),
                    },
                }
                for n in dict.fromkeys([sizes[0], sizes[-1]])
            ],
        }
    )
    return _Overlay(
        "Charging stations (planned, sized by chargers)",
        {
            "key": "stations",
            "style": {"color": "#0b3d91", "weight": 2, "fillColor": "#2e86de", "fillOpacity": 0.9},
            "rows": [
                "class",
                "township",
                "chargers",
                "kW",
                "sessions/day served",
                "capex (CNY)",
                "connection cost (CNY)",
                "substation",
            ],
            "points": _points(stations, props),
        },
    )


def _repair_layer(
    rp: gpd.GeoDataFrame, names: dict[str, str], legend: list[dict[str, Any]]
) -> _Overlay:
    props = []
    for _, r in rp.iterrows():
        title = _text(r[C.NAME]) or _text(r[C.REPAIR_ID])
        props.append(
            {
                "t": f"repair point: {title}",
                "p": {
                    "title": title,
                    "v": [
                        _text(r[C.REPAIR_ID]),
                        _text(r[C.POLICY_CLASS]),
                        _text(names.get(r[C.TOWNSHIP_ID], r[C.TOWNSHIP_ID])),
                        str(int(r[C.TARGETS_COVERED])),
                        "yes" if r.get(C.AT_STATION) else "no",
                        _fmt(r[C.CAPEX]),
                    ],
                },
            }
        )
    legend.append(
        {
            "title": "Repair",
            "items": [
                {
                    "label": "repair point",
                    "symbol": {"shape": "diamond", "color": "#6d214f", "fill": "#b33771"},
                },
                {
                    "label": "service area (by road)",
                    "symbol": {"shape": "box", "color": "#8e44ad", "fill": "rgba(142,68,173,0.15)"},
                },
                {
                    "label": "existing charger",
                    "symbol": {"shape": "circle", "color": "#2d3436", "fill": "#fdcb6e"},
                },
            ],
        }
    )
    return _Overlay(
        "Repair points",
        {
            "key": "repair_points",
            "marker": "diamond",
            "cls": "pl-repair",
            "style": {"radius": 9, "color": "#6d214f", "fillColor": "#b33771"},
            "rows": [
                "repair point",
                "class",
                "township",
                "villages and stations in reach",
                "at a charging station",
                "capex (CNY)",
            ],
            "points": _points(rp, props),
        },
    )


def _script_safe(code: str) -> str:
    """Script text that cannot close its ``<script>`` element early."""
    return re.sub(r"</(script)", r"<\\/\1", code, flags=re.IGNORECASE)


_EXTERNAL = re.compile(
    r"<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)\s*=\s*[\"']?(?:https?:)?//", re.IGNORECASE
)


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
