"""Overlays of map.html for sites: candidates, existing chargers, stations, repair points.

Each builder returns an :class:`~planner.report.map.elements.Overlay` and appends its
legend entry (if any) to ``legend``. Sites with a popup carry its title and values
(``p``); the overlay's ``rows`` label the values.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import pandas as pd

from planner import columns as C
from planner.report.map import style
from planner.report.map.elements import Overlay
from planner.report.map.encode import connection_text, display_text, number_text, points


def _site(
    text: str, title: str, values: list[str], *, look: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A site's properties: its tooltip, its popup (title, values) and its own style."""
    props: dict[str, Any] = {"t": text, "p": {"title": title, "v": values}}
    if look is not None:
        props["s"] = look
    return props


def _township(row: pd.Series, names: dict[str, str]) -> str:
    """The name of the site's township (its id where it has none)."""
    return display_text(names.get(row[C.TOWNSHIP_ID], row[C.TOWNSHIP_ID]))


def candidate_layer(
    candidates: gpd.GeoDataFrame, names: dict[str, str], legend: list[dict[str, Any]]
) -> Overlay:
    """Candidate sites coloured by policy class (off when the page opens)."""
    props = [
        _site(
            f"candidate: {display_text(r[C.NAME]) or r[C.CANDIDATE_ID]} [{r[C.POLICY_CLASS]}]",
            display_text(r[C.NAME]) or display_text(r[C.CANDIDATE_ID]),
            [
                display_text(r[C.CANDIDATE_ID]),
                display_text(r[C.POLICY_CLASS]),
                _township(r, names),
                number_text(r[C.STATION_CAPEX]),
                connection_text(r[C.CONNECTION_COST]),
                number_text(r[C.GRID_DISTANCE_M]),
                display_text(r[C.SUBSTATION_ID]),
            ],
            look={"color": style.class_colour(r[C.POLICY_CLASS])},
        )
        for _, r in candidates.iterrows()
    ]
    legend.append(style.candidate_legend(candidates[C.POLICY_CLASS]))
    return Overlay(
        "Candidates by policy class",
        {
            "key": "candidates",
            "style": style.CANDIDATES,
            "rows": [
                "candidate",
                "class",
                "township",
                "station capex (CNY)",
                "connection cost (CNY)",
                "grid distance (m)",
                "substation",
            ],
            "points": points(candidates, props),
        },
        show=False,
    )


def existing_layer(chargers: gpd.GeoDataFrame) -> Overlay:
    """Existing public chargers (their legend entry is in the repair points')."""
    props = [
        {"t": f"existing charger: {display_text(r[C.NAME])} ({display_text(r.get(C.OPERATOR))})"}
        for _, r in chargers.iterrows()
    ]
    return Overlay(
        "Existing chargers",
        {
            "key": "existing_chargers",
            "style": style.EXISTING_CHARGERS,
            "points": points(chargers, props),
        },
    )


def station_layer(
    stations: gpd.GeoDataFrame, names: dict[str, str], legend: list[dict[str, Any]]
) -> Overlay:
    """Planned charging stations, sized by their chargers."""
    props = []
    for _, r in stations.iterrows():
        title = display_text(r[C.NAME]) or display_text(r[C.CANDIDATE_ID])
        values = [
            display_text(r[C.POLICY_CLASS]),
            _township(r, names),
            str(int(r[C.CHARGERS])),
            number_text(r[C.CHARGER_KW]),
            number_text(r[C.SESSIONS_SERVED], 1),
            number_text(r[C.CAPEX]),
            connection_text(r[C.CONNECTION_COST]),
            display_text(r[C.SUBSTATION_ID]),
        ]
        text = f"station: {title} ({int(r[C.CHARGERS])} chargers)"
        radius = {"radius": style.station_radius(r[C.CHARGERS])}
        props.append(_site(text, title, values, look=radius))
    legend.append(style.station_legend(stations[C.CHARGERS]))
    return Overlay(
        "Charging stations (planned, sized by chargers)",
        {
            "key": "stations",
            "style": style.STATIONS,
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
            "points": points(stations, props),
        },
    )


def repair_layer(
    rp: gpd.GeoDataFrame, names: dict[str, str], legend: list[dict[str, Any]]
) -> Overlay:
    """Repair points (diamonds)."""
    props = []
    for _, r in rp.iterrows():
        title = display_text(r[C.NAME]) or display_text(r[C.REPAIR_ID])
        values = [
            display_text(r[C.REPAIR_ID]),
            display_text(r[C.POLICY_CLASS]),
            _township(r, names),
            str(int(r[C.TARGETS_COVERED])),
            "yes" if r.get(C.AT_STATION) else "no",
            number_text(r[C.CAPEX]),
        ]
        props.append(_site(f"repair point: {title}", title, values))
    legend.append(style.repair_legend())
    return Overlay(
        "Repair points",
        {
            "key": "repair_points",
            "marker": "diamond",
            "cls": "pl-repair",
            "style": style.REPAIR_POINTS,
            "rows": [
                "repair point",
                "class",
                "township",
                "villages and stations in reach",
                "at a charging station",
                "capex (CNY)",
            ],
            "points": points(rp, props),
        },
    )
