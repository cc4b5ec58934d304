"""Overlays of map.html for the county: townships, service areas, boundary, grid, demand.

Each builder returns an :class:`~planner.report.map.elements.Overlay` and appends its
legend entry (if any) to ``legend``; every text is in the language ``lang`` (None:
English). The sites (candidates, chargers, stations, repair points) are in
:mod:`planner.report.map.sites`, the roads in :mod:`planner.report.map.roads`.
"""

from __future__ import annotations

import math
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from planner import columns as C
from planner.candidates import is_medium_voltage
from planner.datatypes import CountyData
from planner.i18n import N_, Lang, translator
from planner.report.map import style
from planner.report.map.elements import Overlay
from planner.report.map.encode import (
    collection,
    display_text,
    number_text,
    points,
    simplified,
    unit_text,
)
from planner.report.sections import pct
from planner.squares import POINTS, display_squares, side_text

#: Row label of a popup's coordinates (map.js fills in the value).
COORDINATES = N_("Coordinates (lon, lat)")

#: OSM ``power`` values of lines, as shown in tooltips.
POWER_KINDS = {
    "line": N_("power line"),
    "minor_line": N_("minor power line"),
    "cable": N_("power cable"),
    "minor_cable": N_("minor power cable"),
}

# metres per pixel at zoom 0 on the equator (Web Mercator, 256 px tiles)
_M_PER_PX_Z0 = 156_543.034


def label_zoom(townships: gpd.GeoDataFrame, *, spacing_px: float = 90.0) -> int:
    """The lowest zoom at which township names have room: their typical spacing in pixels.

    Parameters
    ----------
    townships
        Township polygons (any CRS).
    spacing_px
        On-screen distance wanted between neighbouring names.

    Returns
    -------
    int
        A Leaflet zoom between 8 and 14.
    """
    projected = townships.crs is not None and townships.crs.is_projected
    t = townships if projected else townships.to_crs(townships.estimate_utm_crs())
    spacing_m = math.sqrt(float(t.area.sum()) / max(len(t), 1))
    lat = float(t.to_crs(4326).union_all().centroid.y)
    metres_per_px_wanted = spacing_m / spacing_px
    zoom = math.log2(_M_PER_PX_Z0 * math.cos(math.radians(lat)) / max(metres_per_px_wanted, 1e-6))
    return int(min(max(math.ceil(zoom), 8), 14))


def _label_points(townships: gpd.GeoDataFrame) -> list[list[float]]:
    """Where each township's name goes, as ``[lon, lat]``: its centroid, or a point inside
    it where the centroid is not."""
    centroid = townships.centroid
    inside = centroid.within(townships.geometry)
    at = gpd.GeoSeries(centroid.where(inside, townships.representative_point())).to_crs(4326)
    return [[round(float(x), 6), round(float(y), 6)] for x, y in zip(at.x, at.y, strict=True)]


def township_layer(
    townships_out: gpd.GeoDataFrame,
    simplify_m: float,
    legend: list[dict[str, Any]],
    *,
    lang: Lang | None = None,
) -> Overlay:
    """Townships shaded by the share of sessions covered (grey: no demand), with names."""
    lang = lang or translator("en")
    t = simplified(townships_out, simplify_m)
    anchors = _label_points(townships_out)
    props: list[dict[str, Any]] = []
    for (_, r), xy in zip(t.iterrows(), anchors, strict=True):
        name = display_text(r[C.TOWNSHIP_NAME]) or display_text(r[C.TOWNSHIP_ID])
        share, n = float(r[C.COVERED_SHARE]), int(r[C.STATIONS])
        existing = int(r.get(C.EXISTING_SITES, 0) or 0)
        if not r[C.SESSIONS_DAY] > 0:  # nothing to cover: not "0% covered"
            population = unit_text(r[C.POPULATION], "people", lang=lang)
            text = lang(
                "{name}: no demand (population {population}), {n} stations",
                name=name,
                population=population,
                n=n,
            )
            colour = style.NO_DEMAND_COLOUR
        else:
            text = lang(
                "{name}: {share} of sessions covered, {n} stations",
                name=name,
                share=pct(share),
                n=n,
            )
            colour = style.share_colour(share)
        if existing:
            text += lang(", {n} existing charging sites", n=existing)
        values = [
            display_text(r[C.TOWNSHIP_ID]),
            unit_text(r[C.POPULATION], "people", lang=lang),
            number_text(r[C.SESSIONS_DAY], 1),
            pct(share),
            str(n),
            str(existing),
        ]
        popup = {"title": name, "id": display_text(r[C.TOWNSHIP_ID]), "v": values, "xy": xy}
        props.append({"t": text, "p": popup, "s": {"fillColor": colour}})
    legend.append(style.township_legend(lang))
    return Overlay(
        lang("Townships (shaded by coverage share)"),
        {
            "key": "townships",
            "style": style.TOWNSHIPS,
            "data": collection(t, props, digits=5),
            "rows": [
                lang.label(C.TOWNSHIP_ID),
                lang.label(C.POPULATION),
                lang.label(C.SESSIONS_DAY),
                lang("Share of sessions covered"),
                lang.label(C.STATIONS),
                lang("Existing charging sites"),
            ],
            "kind": lang("township"),
            "coords": lang(COORDINATES),
            "search": lang("township"),
            "labels": {
                "minZoom": label_zoom(townships_out),
                "points": [[*xy, p["p"]["title"]] for xy, p in zip(anchors, props, strict=True)],
            },
        },
    )


def service_area_layer(
    service_areas: gpd.GeoDataFrame,
    repair_points: gpd.GeoDataFrame,
    response_min: float | None,
    simplify_m: float,
    *,
    lang: Lang | None = None,
    legend: list[dict[str, Any]] | None = None,
) -> Overlay:
    """The areas each repair point reaches by road within the response time (off at first)."""
    lang = lang or translator("en")
    sa = simplified(service_areas, simplify_m)
    rp_names = dict(zip(repair_points[C.REPAIR_ID], repair_points[C.NAME], strict=True))
    minutes = lang("response time")
    if response_min is not None:
        n = f"{response_min:g}"
        minutes = lang("{n} min", n=n)
    props = [
        {
            "t": lang(
                "reached by road within {minutes} from repair point {name}",
                minutes=minutes,
                name=display_text(rp_names.get(rid)) or rid,
            )
        }
        for rid in sa[C.REPAIR_ID]
    ]
    if legend is not None:
        legend.append(style.service_area_legend(lang))
    return Overlay(
        lang("Repair service areas ({minutes} by road)", minutes=minutes),
        {
            "key": "service_areas",
            "style": style.SERVICE_AREAS,
            # 4 decimals (~10 m): finer than the strips' simplification
            "data": collection(sa, props, digits=4),
        },
        show=False,
    )


def county_layer(county: CountyData, simplify_m: float, *, lang: Lang | None = None) -> Overlay:
    """The county boundary."""
    lang = lang or translator("en")
    return Overlay(
        lang("County boundary"),
        {
            "key": "county",
            "style": style.COUNTY,
            "data": collection(
                simplified(county.county, simplify_m), [{"t": county.name}], digits=5
            ),
        },
    )


def _line_text(power: object, kv: float | None, medium: bool, lang: Lang) -> str:
    """Tooltip of a power line: its kind, voltage and whether a site can connect to it."""
    kind = display_text(power)
    kind = lang.gettext(POWER_KINDS[kind]) if kind in POWER_KINDS else kind
    volts = unit_text(kv, "kV", lang=lang) or lang("voltage not tagged")
    if medium:
        use = lang("10 kV line: a site can connect")
    else:
        use = lang("high voltage: no site connection")
    return lang("{kind}, {voltage} ({use})", kind=kind, voltage=volts, use=use)


def grid_layer(
    county: CountyData,
    simplify_m: float,
    legend: list[dict[str, Any]],
    *,
    lang: Lang | None = None,
    planned_kw: dict[str, float] | None = None,
) -> Overlay:
    """Power lines (10 kV ones, where a site can connect, apart) and substations (with the
    charging power the plan books on each, ``planned_kw`` by substation id)."""
    lang = lang or translator("en")
    lines = county.power_lines.explode(index_parts=False)
    lines = simplified(lines[lines.geom_type == "LineString"], simplify_m)
    medium = np.asarray(is_medium_voltage(lines["power"], lines[C.VOLTAGE_KV]))  # as the model
    props = [
        {
            "t": _line_text(r.get("power"), r[C.VOLTAGE_KV], bool(mv), lang),
            "s": style.line_style(bool(mv)),
        }
        for mv, (_, r) in zip(medium, lines.iterrows(), strict=True)
    ]
    grid = collection(lines, props, digits=5)
    props = [
        {
            "t": lang(
                "substation {name}: {voltage}, headroom {headroom}, planned {planned}",
                name=display_text(r[C.NAME]) or display_text(r.get(C.SUBSTATION_ID)),
                voltage=unit_text(r[C.VOLTAGE_KV], "kV", lang=lang) or lang("unknown"),
                headroom=unit_text(r[C.HEADROOM_KW], "kW", lang=lang)
                or lang("unknown (no row in the headroom table)"),
                planned=unit_text(
                    (planned_kw or {}).get(str(r.get(C.SUBSTATION_ID)), 0.0), "kW", lang=lang
                ),
            ),
            "s": style.SUBSTATION,
        }
        for _, r in county.substations.iterrows()
    ]
    grid["features"] += collection(county.substations, props)["features"]
    legend.append(style.grid_legend(lang))
    return Overlay(
        lang("Grid (substations, 10 kV lines)"),
        {"key": "grid", "style": style.GRID, "data": grid},
        show=False,
    )


def demand_layers(
    d: gpd.GeoDataFrame,
    names: dict[str, str],
    legend: list[dict[str, Any]],
    *,
    lang: Lang | None = None,
    max_points: int | None = None,
) -> list[Overlay]:
    """Demand sized by sessions and coloured by coverage, and the uncovered part ringed.

    With more than ``max_points`` demand points (None: no limit) they are drawn merged
    into squares (:func:`planner.squares.display_squares`); the layer's name, the
    tooltips and a note in the legend say so.
    """
    lang = lang or translator("en")
    n_points = len(d)
    # the sessions a point misses: beyond the cutoff of every open station, or within
    # one's reach where the chargers are full (summed per square when merged)
    missed_all = (1 - d[C.COVERED_SHARE].clip(0, 1).fillna(0)) * d[C.SESSIONS_DAY].clip(lower=0)
    reached = (
        d[C.NEAREST_STATION_MIN].notna()
        if C.NEAREST_STATION_MIN in d
        else pd.Series(False, index=d.index)
    )
    d = d.assign(_beyond=missed_all.where(~reached, 0.0), _full=missed_all.where(reached, 0.0))
    side = None
    if max_points is not None:
        d, side = display_squares(d, max_points, also_sum=("_beyond", "_full"))
    township = [display_text(names.get(t, t)) for t in d[C.TOWNSHIP_ID].to_numpy(dtype=object)]
    sessions = d[C.SESSIONS_DAY].to_numpy(dtype=float)
    shares = d[C.COVERED_SHARE].to_numpy(dtype=float)
    texts = [
        lang(
            "{people} people, {sessions} sessions/day, {share} covered ({township})",
            people=number_text(p),
            sessions=number_text(s, 1),
            share=f"{share:.0%}",
            township=t,
        )
        for p, s, share, t in zip(d[C.POPULATION], sessions, shares, township, strict=True)
    ]
    if side is not None:
        square = side_text(side, lang)
        texts = [
            lang("{text}; demand points in this {side} square: {n}", text=t, n=n, side=square)
            for t, n in zip(texts, d[POINTS], strict=True)
        ]
    props = [
        {
            "t": t,
            "s": {"radius": style.demand_radius(s), "fillColor": style.demand_colour(share)},
        }
        for t, s, share in zip(texts, sessions, shares, strict=True)
    ]
    title = lang("Demand (sized by sessions/day)")
    if side is not None:
        title = lang("Demand in {side} squares (sized by sessions/day)", side=side_text(side, lang))
    demand = Overlay(title, {"key": "demand", "style": style.DEMAND, "points": points(d, props)})
    gap = np.flatnonzero(shares < 0.999)
    beyond, full = d["_beyond"].to_numpy(dtype=float), d["_full"].to_numpy(dtype=float)
    texts = [_uncovered_text(beyond[i], full[i], township[i], lang) for i in gap]
    if side is not None:
        texts = [
            lang("{text}; demand points in this {side} square: {n}", text=t, n=n, side=square)
            for t, n in zip(texts, d[POINTS].to_numpy()[gap], strict=True)
        ]
    props = [
        {"t": t, "s": {"radius": style.uncovered_radius(beyond[i] + full[i])}}
        for t, i in zip(texts, gap, strict=True)
    ]
    title = lang("Uncovered demand (highlighted)")
    if side is not None:
        title = lang("Uncovered demand in {side} squares (highlighted)", side=square)
    uncovered = Overlay(
        title,
        {"key": "uncovered", "style": style.UNCOVERED, "points": points(d.iloc[gap], props)},
    )
    note = None
    if side is not None:
        note = lang(
            "{n} demand points, drawn merged into {m} squares of {side}; the GIS files "
            "hold every point",
            n=f"{n_points:,}",
            m=f"{len(d):,}",
            side=side_text(side, lang),
        )
    legend += [style.demand_legend(lang, note=note), style.uncovered_legend(lang)]
    return [demand, uncovered]


def _uncovered_text(beyond: float, full: float, township: str, lang: Lang) -> str:
    """Why a point (or square) is not covered: beyond the cutoff, or full chargers."""
    if full < 0.05:
        return lang(
            "not covered: {sessions} sessions/day beyond the drive-time cutoff ({township})",
            sessions=number_text(beyond, 1),
            township=township,
        )
    if beyond < 0.05:
        return lang(
            "not covered: {sessions} sessions/day within the drive-time cutoff, but the "
            "stations in reach are full ({township})",
            sessions=number_text(full, 1),
            township=township,
        )
    return lang(
        "not covered: {beyond} sessions/day beyond the drive-time cutoff, {full} within it "
        "where the stations in reach are full ({township})",
        beyond=number_text(beyond, 1),
        full=number_text(full, 1),
        township=township,
    )
