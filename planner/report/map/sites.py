"""Overlays of map.html for sites: candidates, existing chargers, stations, repair points.

Each builder returns an :class:`~planner.report.map.elements.Overlay` and appends its
legend entry to ``legend``; every text is in the language ``lang`` (None: English).
Sites with a popup carry its title, id and values (``p``); the overlay's ``rows`` label
the values, ``coords`` labels the coordinates row that map.js adds and ``search`` names
the kind of site in the search box.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import pandas as pd

from planner import columns as C
from planner.i18n import Lang, translator
from planner.report.map import style
from planner.report.map.elements import Overlay
from planner.report.map.encode import (
    connection_text,
    display_text,
    money_text,
    number_text,
    points,
    unit_text,
)
from planner.report.map.layers import COORDINATES


def _site(
    text: str, title: str, ident: str, values: list[str], *, look: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A site's properties: its tooltip, its popup (title, id, values) and its own style."""
    props: dict[str, Any] = {"t": text, "p": {"title": title, "id": ident, "v": values}}
    if look is not None:
        props["s"] = look
    return props


def _township(row: pd.Series, names: dict[str, str]) -> str:
    """The name of the site's township (its id where it has none)."""
    return display_text(names.get(row[C.TOWNSHIP_ID], row[C.TOWNSHIP_ID]))


def _class(value: object, lang: Lang) -> str:
    """A policy class as its label in ``lang`` ('' when missing)."""
    return lang.policy_class(value) if isinstance(value, str) and value else ""


def candidate_layer(
    candidates: gpd.GeoDataFrame,
    names: dict[str, str],
    legend: list[dict[str, Any]],
    *,
    lang: Lang | None = None,
) -> Overlay:
    """Candidate sites coloured by policy class (off when the page opens)."""
    lang = lang or translator("en")
    props = []
    for _, r in candidates.iterrows():
        ident = display_text(r[C.CANDIDATE_ID])
        title = display_text(r[C.NAME]) or ident
        text = lang("candidate: {name} ({kind})", name=title, kind=_class(r[C.POLICY_CLASS], lang))
        values = [
            ident,
            _class(r[C.POLICY_CLASS], lang),
            _township(r, names),
            money_text(r[C.STATION_CAPEX], lang=lang),
            connection_text(r[C.CONNECTION_COST], lang=lang),
            unit_text(r[C.GRID_DISTANCE_M], "m", lang=lang),
            display_text(r[C.SUBSTATION_ID]),
        ]
        look = {"color": style.class_colour(r[C.POLICY_CLASS])}
        props.append(_site(text, title, ident, values, look=look))
    legend.append(style.candidate_legend(candidates[C.POLICY_CLASS], lang))
    rows = [C.CANDIDATE_ID, C.POLICY_CLASS, C.TOWNSHIP_NAME, C.STATION_CAPEX]
    rows += [C.CONNECTION_COST, C.GRID_DISTANCE_M, C.SUBSTATION_ID]
    return Overlay(
        lang("Candidates by policy class"),
        {
            "key": "candidates",
            "style": style.CANDIDATES,
            "kind": lang("candidate site"),
            "rows": [lang.label(c) for c in rows],
            "coords": lang(COORDINATES),
            "points": points(candidates, props),
        },
        show=False,
    )


def existing_layer(
    chargers: gpd.GeoDataFrame,
    legend: list[dict[str, Any]] | None = None,
    *,
    lang: Lang | None = None,
) -> Overlay:
    """Existing public chargers."""
    lang = lang or translator("en")
    props = []
    for _, r in chargers.iterrows():
        operator = display_text(r.get(C.OPERATOR))
        name = display_text(r[C.NAME])
        text = (
            lang("existing charger: {name} ({operator})", name=name, operator=operator)
            if operator
            else lang("existing charger: {name}", name=name)
        )
        props.append({"t": text})
    if legend is not None:
        legend.append(style.existing_legend(lang))
    return Overlay(
        lang("Existing chargers"),
        {
            "key": "existing_chargers",
            "style": style.EXISTING_CHARGERS,
            "points": points(chargers, props),
        },
    )


def station_layer(
    stations: gpd.GeoDataFrame,
    names: dict[str, str],
    legend: list[dict[str, Any]],
    *,
    lang: Lang | None = None,
) -> Overlay:
    """Planned charging stations, sized by their chargers."""
    lang = lang or translator("en")
    props = []
    for _, r in stations.iterrows():
        ident = display_text(r[C.CANDIDATE_ID])
        title = display_text(r[C.NAME]) or ident
        n = int(r[C.CHARGERS])
        values = [
            ident,
            _class(r[C.POLICY_CLASS], lang),
            _township(r, names),
            str(n),
            unit_text(r[C.CHARGER_KW], "kW", lang=lang),
            number_text(r[C.SESSIONS_SERVED], 1),
            money_text(r[C.CAPEX], lang=lang),
            connection_text(r[C.CONNECTION_COST], lang=lang),
            display_text(r[C.SUBSTATION_ID]),
        ]
        text = lang("station: {name} ({n} chargers)", name=title, n=n)
        props.append(_site(text, title, ident, values, look={"radius": style.station_radius(n)}))
    legend.append(style.station_legend(stations[C.CHARGERS], lang))
    rows = [C.CANDIDATE_ID, C.POLICY_CLASS, C.TOWNSHIP_NAME, C.CHARGERS, C.CHARGER_KW]
    rows += [C.SESSIONS_SERVED, C.CAPEX, C.CONNECTION_COST, C.SUBSTATION_ID]
    return Overlay(
        lang("Charging stations (planned, sized by chargers)"),
        {
            "key": "stations",
            "style": style.STATIONS,
            "kind": lang("planned charging station"),
            "search": lang("station"),
            "rows": [lang.label(c) for c in rows],
            "coords": lang(COORDINATES),
            "points": points(stations, props),
        },
    )


def repair_layer(
    rp: gpd.GeoDataFrame,
    names: dict[str, str],
    legend: list[dict[str, Any]],
    *,
    lang: Lang | None = None,
) -> Overlay:
    """Repair points (diamonds)."""
    lang = lang or translator("en")
    props = []
    for _, r in rp.iterrows():
        ident = display_text(r[C.REPAIR_ID])
        title = display_text(r[C.NAME]) or ident
        values = [
            ident,
            _class(r[C.POLICY_CLASS], lang),
            _township(r, names),
            str(int(r[C.TARGETS_COVERED])),
            lang.yes_no(bool(r.get(C.AT_STATION))),
            money_text(r[C.CAPEX], lang=lang),
        ]
        props.append(_site(lang("repair point: {name}", name=title), title, ident, values))
    legend.append(style.repair_legend(lang))
    rows = [C.REPAIR_ID, C.POLICY_CLASS, C.TOWNSHIP_NAME, C.TARGETS_COVERED, C.AT_STATION, C.CAPEX]
    return Overlay(
        lang("Repair points"),
        {
            "key": "repair_points",
            "marker": "diamond",
            "cls": "pl-repair",
            "style": style.REPAIR_POINTS,
            "kind": lang("repair point"),
            "search": lang("repair point"),
            "rows": [lang.label(c) for c in rows],
            "coords": lang(COORDINATES),
            "points": points(rp, props),
        },
    )
