"""Overlays of map.html for the repair vans' weekly tours: one per working day.

Each day's overlay holds the vans' routes along the roads (a colour per van, see
:func:`~planner.report.map.style.van_colours`) and their stops as numbered circles (the
order of the visit, drawn by map.js). A route is drawn once where the van drives a road
twice (there and back), and simplified, so that a week of tours adds little to the page.
Every text is in the language ``lang`` (None: English).
"""

from __future__ import annotations

import logging
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from planner import columns as C
from planner.i18n import N_, Lang, translator
from planner.report.map import style
from planner.report.map.elements import Overlay
from planner.report.map.encode import collection, display_text, points, unit_text
from planner.report.map.layers import COORDINATES
from planner.tours import DAY_NAMES

logger = logging.getLogger(__name__)

#: Day code -> name of its overlay.
LAYER_NAMES = {
    "mon": N_("Monday tours"),
    "tue": N_("Tuesday tours"),
    "wed": N_("Wednesday tours"),
    "thu": N_("Thursday tours"),
    "fri": N_("Friday tours"),
    "sat": N_("Saturday tours"),
    "sun": N_("Sunday tours"),
}

#: Kind of stop (``kind`` of ``tour_stops``) as shown.
STOP_KINDS = {"villages": N_("village"), "stations": N_("charging station")}


def drawn_once(line: shapely.Geometry) -> shapely.Geometry:
    """The road a route covers, each stretch once: its distinct segments, merged into lines.

    Parameters
    ----------
    line
        A route (a van drives many roads there and back).

    Returns
    -------
    shapely.Geometry
        A LineString or MultiLineString covering the same segments, without repeats (its
        direction is lost: the numbered stops give the order); ``line`` itself when it
        has no segment of non-zero length.
    """
    xy = shapely.get_coordinates(line)
    if len(xy) < 2:
        return line
    a, b = xy[:-1], xy[1:]
    swap = ((a[:, 0] > b[:, 0]) | ((a[:, 0] == b[:, 0]) & (a[:, 1] > b[:, 1])))[:, None]
    lo, hi = np.where(swap, b, a), np.where(swap, a, b)
    segments = np.hstack([lo, hi])[~(lo == hi).all(axis=1)]
    if len(segments) == 0:
        return line
    segments = np.unique(segments, axis=0).reshape(-1, 2, 2)
    return shapely.line_merge(shapely.MultiLineString(list(segments)))


def route_lines(tours: gpd.GeoDataFrame, simplify_m: float) -> gpd.GeoDataFrame:
    """``tours`` with each route drawn once (:func:`drawn_once`) and simplified (metres)."""
    projected = tours.crs is not None and tours.crs.is_projected
    t = tours if projected or len(tours) == 0 else tours.to_crs(tours.estimate_utm_crs())
    geoms = np.array([drawn_once(g) for g in t.geometry], dtype=object)
    if simplify_m > 0 and len(geoms):
        geoms = shapely.simplify(geoms, simplify_m, preserve_topology=True)
    return t.set_geometry(gpd.GeoSeries(geoms, index=t.index, crs=t.crs))


def _day(code: str, lang: Lang) -> str:
    """A day code's name in ``lang`` (the code where it is not one)."""
    return lang.gettext(DAY_NAMES[code]) if code in DAY_NAMES else code


def _first_xy(line: shapely.Geometry | None) -> list[float] | None:
    """The first ``[lon, lat]`` of a line (WGS84), None for an empty or missing one."""
    xy = shapely.get_coordinates(line)[:1].round(6).tolist() if line is not None else []
    return xy[0] if xy else None


def _route(
    row: pd.Series, colour: str, place: str, base: list[float] | None, lang: Lang
) -> dict[str, Any]:
    """A route's properties: tooltip, popup (van, base, day, km, hours, stops, times);
    ``base`` is where the route starts (``[lon, lat]``)."""
    van, day = display_text(row[C.VAN]), _day(row[C.DAY], lang)
    km = unit_text(row[C.KM], "km", 1, lang=lang)
    hours = f"{display_text(row[C.START])}–{display_text(row[C.END])}"
    text = lang(
        "van {van}, {day}: {km}, {n} stops, {hours}",
        van=van,
        day=day,
        km=km,
        n=int(row[C.STOPS]),
        hours=hours,
    )
    values = [
        van,
        place,
        day,
        km,
        unit_text(row[C.DRIVE_H], "h", 1, lang=lang),
        str(int(row[C.STOPS])),
        hours,
        display_text(row.get(C.LUNCH)) or "–",
    ]
    title = lang("Van {van} · {day}", van=van, day=day)
    popup: dict[str, Any] = {"title": title, "id": van, "v": values, "r": 0}
    if base is not None:
        popup["xy"] = base  # where the search opens the popup
    return {"t": text, "p": popup, "s": {"color": colour}}


def _stop(row: pd.Series, colour: str, lang: Lang) -> dict[str, Any]:
    """A stop's properties: its number and colour, tooltip, popup (name, van, times...)."""
    ident = display_text(row[C.STOP_ID])
    name = display_text(row[C.NAME]) or ident
    order = int(row[C.ORDER])
    times = f"{display_text(row[C.ARRIVAL])}–{display_text(row[C.DEPARTURE])}"
    kind = display_text(row[C.KIND])
    values = [
        ident,
        lang.gettext(STOP_KINDS[kind]) if kind in STOP_KINDS else kind,
        display_text(row[C.VAN]),
        _day(row[C.DAY], lang),
        str(order),
        times,
        unit_text(row[C.KM_FROM_PREVIOUS], "km", 1, lang=lang),
        lang("{visit} of {n} this week", visit=int(row[C.VISIT]), n=int(row[C.PER_WEEK])),
    ]
    return {
        "t": lang("stop {order}: {name}, {times}", order=order, name=name, times=times),
        "p": {"title": name, "id": ident, "v": values, "r": 1},
        "n": order,
        "c": colour,
    }


def _row_sets(lang: Lang) -> list[dict[str, Any]]:
    """The popups' kinds and row labels: routes (``r`` 0) and stops (``r`` 1)."""
    route = [C.DAY, C.KM, C.DRIVE_H, C.STOPS]
    stop = [C.STOP_ID, C.KIND, C.VAN, C.DAY, C.ORDER]
    return [
        {
            "kind": lang("repair van tour"),
            "search": lang("van tour"),
            "rows": [
                lang.label(C.VAN),
                lang("Base (repair point)"),
                *(lang.label(c) for c in route),
                lang("Out of the base"),
                lang.label(C.LUNCH),
            ],
        },
        {
            "kind": lang("tour stop"),
            "rows": [
                *(lang.label(c) for c in stop),
                lang("Arrival–departure"),
                lang.label(C.KM_FROM_PREVIOUS),
                lang.label(C.VISIT),
            ],
            "coords": lang(COORDINATES),
        },
    ]


def tour_overlays(
    tours: gpd.GeoDataFrame,
    tour_stops: gpd.GeoDataFrame | None,
    simplify_m: float,
    legend: list[dict[str, Any]],
    *,
    places: dict[str, str] | None = None,
    lang: Lang | None = None,
) -> list[Overlay]:
    """One overlay per working day with tours (off when the page opens), in week order.

    Parameters
    ----------
    tours
        Layer ``tours`` (see :func:`planner.tours.tour_layers`): a line per van and day.
    tour_stops
        Layer ``tour_stops``: the visits; None draws the routes only.
    simplify_m
        Tolerance of the routes' simplification (m).
    legend
        Gets the tours' entry (shown while any day is on) when there is a tour.
    places
        Repair point id -> its name, for the routes' popups.
    lang
        Language of the texts (None: English).

    Returns
    -------
    list of Overlay
        Keys ``tours_<day>`` (``tours_mon`` ...); none without tours.
    """
    lang = lang or translator("en")
    places = places or {}
    if len(tours) == 0:
        return []
    lines = route_lines(tours, simplify_m)
    bases = {i: _first_xy(g) for i, g in tours.to_crs(4326).geometry.items()}
    colours = style.van_colours(tours[C.DAY], tours[C.VAN])
    days = [d for d in DAY_NAMES if d in set(tours[C.DAY])]
    days += sorted(set(tours[C.DAY]) - set(days))
    sets = _row_sets(lang)
    overlays = []
    for day in days:
        today = lines[lines[C.DAY] == day]
        routes = [
            _route(r, colours[(day, r[C.VAN])], _place(r[C.REPAIR_ID], places), bases[i], lang)
            for i, r in today.iterrows()
        ]
        spec: dict[str, Any] = {
            "key": f"tours_{day}",
            "style": style.TOURS,
            "data": collection(today, routes, digits=5),
            "sets": sets,
            "search": sets[0]["search"],
            "points": [],
        }
        if tour_stops is not None:
            stops = tour_stops[tour_stops[C.DAY] == day]
            stops = stops[[(day, v) in colours for v in stops[C.VAN]]]
            props = [_stop(r, colours[(day, r[C.VAN])], lang) for _, r in stops.iterrows()]
            spec["points"] = points(stops, props)
        name = lang.gettext(LAYER_NAMES[day]) if day in LAYER_NAMES else day
        overlays.append(Overlay(name, spec, show=False))
    legend.append(style.tours_legend([f"tours_{d}" for d in days], lang))
    return overlays


def _place(repair_id: object, places: dict[str, str]) -> str:
    """A repair point as ``name (id)``, or its id where it has no name."""
    ident = display_text(repair_id)
    name = display_text(places.get(ident))
    return f"{name} ({ident})" if name and name != ident else ident
