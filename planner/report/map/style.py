"""How map.html looks: colours, marker sizes, Leaflet styles and legend entries.

Policy-class colours and labels come from :mod:`planner.vocab`. Styles are Leaflet
path options (``color``, ``weight``, ``fillColor``, ...); a legend entry is a title and
items of a label and a symbol (``shape``, ``color``, ``fill``, ``size``) that ``map.js``
draws.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from planner.i18n import Lang
from planner.vocab import CLASS_COLOURS

#: Fill of townships without demand (population 0): grey, not the red of "0% covered".
NO_DEMAND_COLOUR = "#b2b2b2"
#: Candidates of a class without a colour of its own.
OTHER_CLASS_COLOUR = "#333"

_MEDIUM_VOLTAGE = "#e1b12c"
_HIGH_VOLTAGE = "#c23616"
_SUBSTATION_EDGE, _SUBSTATION_FILL = "#7f1d1d", "#c23616"
_UNCOVERED = "#c0392b"
_SERVICE_AREA = "#8e44ad"
_STATION_EDGE, _STATION_FILL = "#0b3d91", "#2e86de"
_REPAIR_EDGE, _REPAIR_FILL = "#6d214f", "#b33771"
_EXISTING_EDGE, _EXISTING_FILL = "#2d3436", "#fdcb6e"

# -- Leaflet styles of the overlays --------------------------------------------------------

TOWNSHIPS = {"color": "#555", "weight": 1, "fillOpacity": 0.35}
SERVICE_AREAS = {
    "color": _SERVICE_AREA,
    "weight": 1,
    "opacity": 0.6,
    "fillColor": _SERVICE_AREA,
    "fillOpacity": 0.1,
}
COUNTY = {"color": "#222", "weight": 3, "fill": False}
GRID = {"weight": 2}
SUBSTATION = {
    "radius": 6,
    "color": _SUBSTATION_EDGE,
    "fillColor": _SUBSTATION_FILL,
    "fillOpacity": 0.9,
}
DEMAND = {"stroke": False, "fillOpacity": 0.55}
UNCOVERED = {"color": _UNCOVERED, "weight": 2, "fill": False, "dashArray": "3 2"}
CANDIDATES = {"radius": 3.5, "weight": 2, "fillColor": "#fff", "fillOpacity": 0.8}
EXISTING_CHARGERS = {
    "radius": 5,
    "color": _EXISTING_EDGE,
    "weight": 1.5,
    "fillColor": _EXISTING_FILL,
    "fillOpacity": 1,
}
STATIONS = {"color": _STATION_EDGE, "weight": 2, "fillColor": _STATION_FILL, "fillOpacity": 0.9}
REPAIR_POINTS = {"radius": 9, "color": _REPAIR_EDGE, "fillColor": _REPAIR_FILL}
ROADS = {"interactive": False, "color": "#8a8a8a", "opacity": 0.9, "fill": False}
#: The vans' routes (their colour is the van's, see :func:`van_colours`).
TOURS = {"weight": 4, "opacity": 0.85, "fill": False, "lineJoin": "round"}

#: Colours of the vans of a day: dark and saturated enough for a white number on them.
VAN_COLOURS = (
    "#e6194b",
    "#4363d8",
    "#3cb44b",
    "#f58231",
    "#911eb4",
    "#0e8fa3",
    "#f032e6",
    "#9a6324",
    "#808000",
    "#000075",
    "#800000",
    "#b8860b",
)

#: Road classes by rank (0: most important); other classes rank last.
ROAD_RANKS: dict[str, int] = {
    **dict.fromkeys(("motorway", "trunk"), 0),
    **dict.fromkeys(("primary", "secondary"), 1),
    "tertiary": 2,
    **dict.fromkeys(("unclassified", "residential", "living_street", "road"), 3),
}
#: Rank of road classes not in :data:`ROAD_RANKS` (service roads, tracks).
OTHER_ROAD_RANK = 4
#: Line style per road rank: major roads darker and thicker.
ROAD_STYLES: tuple[dict[str, Any], ...] = (
    {"color": "#4d4d4d", "weight": 3.5},
    {"color": "#5e5e5e", "weight": 2.6},
    {"color": "#767676", "weight": 1.7},
    {"color": "#939393", "weight": 1.0},
    {"color": "#a8a8a8", "weight": 0.8, "dashArray": "3 2"},
)

# -- colours and sizes of features ---------------------------------------------------------


def share_colour(share: float) -> str:
    """Red (0) through yellow to green (1)."""
    share = min(max(share, 0.0), 1.0)
    if share < 0.5:
        r, g = 215, int(48 + (215 - 48) * share * 2)
    else:
        r, g = int(215 - (215 - 26) * (share - 0.5) * 2), int(215 - (215 - 150) * (share - 0.5) * 2)
    return f"#{r:02x}{g:02x}40"


def demand_colour(share: float) -> str:
    """Green when covered, orange when partly, red when not."""
    if share >= 0.999:
        return "#27ae60"
    return "#e67e22" if share > 0.001 else "#c0392b"


def demand_radius(sessions: float) -> float:
    """Radius of a demand point of ``sessions`` a day."""
    return round(min(2 + 1.5 * math.sqrt(max(sessions, 0)), 14), 1)


def uncovered_radius(missed: float) -> float:
    """Radius of the ring of a demand point that misses ``missed`` sessions a day."""
    # sized by the sessions missed, so that a point 95% covered stays small
    return round(min(4 + 2 * math.sqrt(missed), 18), 1)


def station_radius(chargers: float) -> float:
    """Radius of a station of ``chargers`` chargers."""
    return round(5 + 2.4 * math.sqrt(chargers), 1)


def line_style(medium_voltage: bool) -> dict[str, Any]:
    """Style of a power line: one a site can connect to (10 kV) or not."""
    if medium_voltage:
        return {"color": _MEDIUM_VOLTAGE, "weight": 1.5}
    return {"color": _HIGH_VOLTAGE, "weight": 2.5}


def van_colours(days: Iterable[str], vans: Iterable[str]) -> dict[tuple[str, str], str]:
    """A colour per (day, van): each van its own all week when there are colours enough,
    else distinct within each day (in the order of the vans' ids).

    Parameters
    ----------
    days, vans
        The day and the van of each tour.

    Returns
    -------
    dict
        (day, van) -> colour of :data:`VAN_COLOURS`.
    """
    pairs = sorted(set(zip(days, vans, strict=True)))
    fleet = sorted({van for _, van in pairs})
    if len(fleet) <= len(VAN_COLOURS):
        rank = {van: i for i, van in enumerate(fleet)}
        return {(day, van): VAN_COLOURS[rank[van]] for day, van in pairs}
    out: dict[tuple[str, str], str] = {}
    for day, van in pairs:  # sorted: the vans of a day are in id order
        out[(day, van)] = VAN_COLOURS[sum(d == day for d, _ in out) % len(VAN_COLOURS)]
    return out


def class_colour(policy_class: object) -> str:
    """Colour of a candidate site of ``policy_class``."""
    if not isinstance(policy_class, str):  # a missing class (NaN, None)
        return OTHER_CLASS_COLOUR
    return CLASS_COLOURS.get(policy_class, OTHER_CLASS_COLOUR)


# -- legend entries ------------------------------------------------------------------------
# Each entry names the overlay it explains (``key``): map.js shows it while that is on. A
# section of one item with no label shows that item's symbol before its title.


def _item(label: str, shape: str, **symbol: Any) -> dict[str, Any]:
    return {"label": label, "symbol": {"shape": shape, **symbol}}


def township_legend(lang: Lang) -> dict[str, Any]:
    """Legend of the townships: coverage shares, and no demand."""
    items = [_item(f"{p:.0%}", "box", fill=share_colour(p)) for p in (0.0, 0.5, 1.0)]
    items.append(_item(lang("no demand"), "box", fill=NO_DEMAND_COLOUR))
    return {"key": "townships", "title": lang("Townships: sessions covered"), "items": items}


def road_legend(lang: Lang) -> dict[str, Any]:
    """Legend of the roads: major and other roads."""
    major, minor = ROAD_STYLES[0], ROAD_STYLES[3]
    return {
        "key": "roads",
        "title": lang("Roads"),
        "items": [
            _item(lang("major road"), "line", color=major["color"], size=major["weight"]),
            _item(lang("other road"), "line", color=minor["color"], size=minor["weight"]),
        ],
    }


def grid_legend(lang: Lang) -> dict[str, Any]:
    """Legend of the grid: substations, 10 kV lines and the others."""
    return {
        "key": "grid",
        "title": lang("Grid"),
        "items": [
            _item(lang("substation"), "circle", color=_SUBSTATION_EDGE, fill=_SUBSTATION_FILL),
            _item(lang("10 kV line"), "line", color=_MEDIUM_VOLTAGE),
            _item(lang("higher voltage, untagged line"), "line", color=_HIGH_VOLTAGE),
        ],
    }


def demand_legend(lang: Lang, *, note: str | None = None) -> dict[str, Any]:
    """Legend of demand; ``note`` is a line below it (e.g. that points are merged)."""
    sec: dict[str, Any] = {
        "key": "demand",
        "title": lang("Demand (size: sessions/day)"),
        "items": [
            _item(lang("covered"), "circle", fill=demand_colour(1)),
            _item(lang("partly covered"), "circle", fill=demand_colour(0.5)),
            _item(lang("not covered"), "circle", fill=demand_colour(0)),
        ],
    }
    if note:
        sec["note"] = note
    return sec


def uncovered_legend(lang: Lang) -> dict[str, Any]:
    """Legend of uncovered demand."""
    return {
        "key": "uncovered",
        "title": lang("Uncovered demand"),
        "items": [_item(lang("ring size: sessions missed"), "circle", color=_UNCOVERED)],
    }


def candidate_legend(classes: Iterable[object], lang: Lang) -> dict[str, Any]:
    """Legend of the candidates: the policy classes among ``classes``, in vocabulary order."""
    present = set(classes)
    return {
        "key": "candidates",
        "title": lang("Candidates by policy class"),
        "items": [
            _item(lang.policy_class(k), "circle", color=colour, fill="#fff")
            for k, colour in CLASS_COLOURS.items()
            if k in present
        ],
    }


def station_legend(chargers: Iterable[float], lang: Lang) -> dict[str, Any]:
    """Legend of the stations: the smallest and largest of ``chargers`` (chargers each)."""
    sizes = sorted({int(x) for x in chargers}) or [0]
    return {
        "key": "stations",
        "title": lang("Charging stations (size: chargers)"),
        "items": [
            _item(
                lang("{n} chargers", n=n),
                "circle",
                color=_STATION_EDGE,
                fill=_STATION_FILL,
                size=round(2 * station_radius(n)),
            )
            for n in dict.fromkeys([sizes[0], sizes[-1]])
        ],
    }


def repair_legend(lang: Lang) -> dict[str, Any]:
    """Legend of repair points."""
    return {
        "key": "repair_points",
        "title": lang("Repair points"),
        "items": [_item("", "diamond", color=_REPAIR_EDGE, fill=_REPAIR_FILL)],
    }


def service_area_legend(lang: Lang) -> dict[str, Any]:
    """Legend of the repair points' service areas."""
    return {
        "key": "service_areas",
        "title": lang("Repair service areas"),
        "items": [_item("", "box", color=_SERVICE_AREA, fill="rgba(142,68,173,0.15)")],
    }


def existing_legend(lang: Lang) -> dict[str, Any]:
    """Legend of existing chargers."""
    return {
        "key": "existing_chargers",
        "title": lang("Existing chargers"),
        "items": [_item("", "circle", color=_EXISTING_EDGE, fill=_EXISTING_FILL)],
    }


def tours_legend(keys: list[str], lang: Lang) -> dict[str, Any]:
    """Legend of the vans' tours: shown while any day's overlay (``keys``) is on."""
    return {
        "key": keys,
        "title": lang("Repair van tours"),
        "items": [
            _item(lang("route (a colour per van)"), "line", color=VAN_COLOURS[1], size=4),
            _item(
                lang("stop, numbered in visiting order"),
                "circle",
                color="#fff",
                fill=VAN_COLOURS[0],
            ),
        ],
    }
