"""Overlays of map.html for the county: townships, service areas, boundary, grid, demand.

Each builder returns an :class:`~planner.report.map.elements.Overlay` and appends its
legend entry (if any) to ``legend``. The sites (candidates, chargers, stations, repair
points) are in :mod:`planner.report.map.sites`.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import pandas as pd

from planner import columns as C
from planner.candidates import is_medium_voltage
from planner.datatypes import CountyData
from planner.report.map import style
from planner.report.map.elements import Overlay
from planner.report.map.encode import (
    collection,
    display_text,
    number_text,
    points,
    simplified,
)


def township_layer(
    townships_out: gpd.GeoDataFrame, simplify_m: float, legend: list[dict[str, Any]]
) -> Overlay:
    """Townships shaded by the share of sessions covered (grey: no demand)."""
    t = simplified(townships_out, simplify_m)
    props = []
    for _, r in t.iterrows():
        share = float(r[C.COVERED_SHARE])
        label = f"{display_text(r[C.TOWNSHIP_NAME])} ({display_text(r[C.TOWNSHIP_ID])}): "
        if not r[C.SESSIONS_DAY] > 0:  # nothing to cover: not "0% covered"
            label += f"no demand (population {number_text(r[C.POPULATION])}), "
            colour = style.NO_DEMAND_COLOUR
        else:
            label += f"{share:.0%} of sessions covered, "
            colour = style.share_colour(share)
        props.append({"t": f"{label}{int(r[C.STATIONS])} stations", "s": {"fillColor": colour}})
    legend.append(style.township_legend())
    return Overlay(
        "Townships (shaded by coverage share)",
        {"key": "townships", "style": style.TOWNSHIPS, "data": collection(t, props, digits=5)},
    )


def service_area_layer(
    service_areas: gpd.GeoDataFrame,
    repair_points: gpd.GeoDataFrame,
    response_min: float | None,
    simplify_m: float,
) -> Overlay:
    """The areas each repair point reaches by road within the response time."""
    sa = simplified(service_areas, simplify_m)
    rp_names = dict(zip(repair_points[C.REPAIR_ID], repair_points[C.NAME], strict=True))
    minutes = f"{response_min:g} min" if response_min is not None else "response time"
    props = [
        {
            "t": f"reached by road within {minutes} from repair point "
            f"{display_text(rp_names.get(rid)) or rid}"
        }
        for rid in sa[C.REPAIR_ID]
    ]
    return Overlay(
        f"Repair service areas ({minutes} by road)",
        {
            "key": "service_areas",
            "style": style.SERVICE_AREAS,
            # 4 decimals (~10 m): finer than the strips' simplification
            "data": collection(sa, props, digits=4),
        },
    )


def county_layer(county: CountyData, simplify_m: float) -> Overlay:
    """The county boundary."""
    return Overlay(
        "County boundary",
        {
            "key": "county",
            "style": style.COUNTY,
            "data": collection(
                simplified(county.county, simplify_m), [{"t": county.name}], digits=5
            ),
        },
    )


def grid_layer(county: CountyData, simplify_m: float, legend: list[dict[str, Any]]) -> Overlay:
    """Power lines (10 kV ones, where a site can connect, apart) and substations."""
    lines = county.power_lines.explode(index_parts=False)
    lines = simplified(lines[lines.geom_type == "LineString"], simplify_m)
    props = []
    medium = is_medium_voltage(lines["power"], lines[C.VOLTAGE_KV])  # as the model does
    for mv, (_, r) in zip(medium, lines.iterrows(), strict=True):
        kv = r[C.VOLTAGE_KV]
        tag = f"{number_text(kv)} kV" if pd.notna(kv) else "voltage not tagged"
        kind = "10 kV line: a site can connect" if mv else "high voltage: no site connection"
        props.append(
            {"t": f"{display_text(r.get('power'))}, {tag} ({kind})", "s": style.line_style(mv)}
        )
    grid = collection(lines, props, digits=5)
    props = [
        {
            "t": f"substation {display_text(r[C.NAME]) or display_text(r.get(C.SUBSTATION_ID))}: "
            f"{number_text(r[C.VOLTAGE_KV])} kV, headroom {number_text(r[C.HEADROOM_KW])} kW",
            "s": style.SUBSTATION,
        }
        for _, r in county.substations.iterrows()
    ]
    grid["features"] += collection(county.substations, props)["features"]
    legend.append(style.grid_legend())
    return Overlay(
        "Grid (substations, 10 kV lines)",
        {"key": "grid", "style": style.GRID, "data": grid},
        show=False,
    )


def demand_layers(
    d: gpd.GeoDataFrame, names: dict[str, str], legend: list[dict[str, Any]]
) -> list[Overlay]:
    """Demand sized by sessions and coloured by coverage, and the uncovered part ringed."""
    props = []
    for _, r in d.iterrows():
        share = float(r[C.COVERED_SHARE])
        township = display_text(names.get(r[C.TOWNSHIP_ID], r[C.TOWNSHIP_ID]))
        props.append(
            {
                "t": f"{number_text(r[C.POPULATION])} people, "
                f"{number_text(r[C.SESSIONS_DAY], 1)} sessions/day, "
                f"{share:.0%} covered ({township})",
                "s": {
                    "radius": style.demand_radius(r[C.SESSIONS_DAY]),
                    "fillColor": style.demand_colour(share),
                },
            }
        )
    demand = Overlay(
        "Demand (sized by sessions/day)",
        {"key": "demand", "style": style.DEMAND, "points": points(d, props)},
    )
    gap = d[d[C.COVERED_SHARE] < 0.999]
    missed = (1 - gap[C.COVERED_SHARE].clip(0, 1)) * gap[C.SESSIONS_DAY].clip(lower=0)
    props = [
        {
            "t": f"not covered: {number_text(x, 1)} sessions/day beyond the drive-time cutoff "
            f"({display_text(names.get(r[C.TOWNSHIP_ID], r[C.TOWNSHIP_ID]))})",
            "s": {"radius": style.uncovered_radius(x)},
        }
        for x, (_, r) in zip(missed, gap.iterrows(), strict=True)
    ]
    uncovered = Overlay(
        "Uncovered demand (highlighted)",
        {"key": "uncovered", "style": style.UNCOVERED, "points": points(gap, props)},
    )
    legend.append(style.demand_legend())
    return [demand, uncovered]
