"""The interactive map (map.html) with Folium."""

from __future__ import annotations

import html
import math

import folium
import geopandas as gpd
import numpy as np

from planner import columns as C
from planner.datatypes import CountyData, Plan

CLASS_COLOURS = {
    "commercial_outlet": "#1f77b4",
    "township_government": "#d62728",
    "fuel_station": "#ff7f0e",
    "car_park": "#7f7f7f",
    "transport_hub": "#9467bd",
    "institution": "#17becf",
}


def _esc(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return html.escape(str(value))


def _popup(title: object, rows: list[tuple[str, object]]) -> folium.Popup:
    body = "".join(f"<tr><th>{_esc(k)}</th><td>{_esc(v)}</td></tr>" for k, v in rows)
    return folium.Popup(f"<b>{_esc(title)}</b><table>{body}</table>", max_width=320)


def _fmt(x: float, digits: int = 0) -> str:
    return "" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:,.{digits}f}"


def build_map(
    county: CountyData,
    townships_out: gpd.GeoDataFrame,
    demand_out: gpd.GeoDataFrame,
    candidates: gpd.GeoDataFrame,
    plan: Plan,
) -> folium.Map:
    """A Folium map of the plan with one toggleable layer per theme.

    Parameters
    ----------
    county
        Ingested data (boundaries, chargers, grid).
    townships_out
        Townships with ``covered_share``.
    demand_out
        Demand points with ``covered_share``.
    candidates
        Candidate sites.
    plan
        The plan.

    Returns
    -------
    folium.Map
        Every text from data is HTML-escaped.
    """
    c = county.county.to_crs(4326)
    minx, miny, maxx, maxy = c.total_bounds
    m = folium.Map(
        location=[(miny + maxy) / 2, (minx + maxx) / 2],
        zoom_start=10,
        tiles=None,
        control_scale=True,
    )
    folium.TileLayer("OpenStreetMap", name="OpenStreetMap", show=False).add_to(m)

    fg = folium.FeatureGroup(name="County boundary")
    folium.GeoJson(
        c.geometry.iloc[0].__geo_interface__,
        name="county",
        style_function=lambda _: {"color": "#222", "weight": 3, "fill": False},
    ).add_to(fg)
    fg.add_to(m)

    fg = folium.FeatureGroup(name="Townships (coverage share)")
    for _, t in townships_out.to_crs(4326).iterrows():
        share = float(t[C.COVERED_SHARE])
        colour = f"#{int(255 * (1 - share)):02x}{int(160 + 60 * share):02x}60"
        folium.GeoJson(
            t.geometry.__geo_interface__,
            style_function=lambda _, col=colour: {
                "color": "#555",
                "weight": 1,
                "fillColor": col,
                "fillOpacity": 0.25,
            },
            tooltip=folium.Tooltip(
                f"{_esc(t[C.TOWNSHIP_NAME])} ({_esc(t[C.TOWNSHIP_ID])}): "
                f"{share:.0%} of sessions covered, {int(t[C.STATIONS])} stations"
            ),
        ).add_to(fg)
    fg.add_to(m)

    fg = folium.FeatureGroup(name="Demand (red: not covered)")
    d = demand_out.to_crs(4326)
    for _, r in d.iterrows():
        share = float(r[C.COVERED_SHARE])
        folium.CircleMarker(
            [r.geometry.y, r.geometry.x],
            radius=2 + 1.5 * math.sqrt(r[C.SESSIONS_DAY]),
            color="#c0392b" if share < 0.999 else "#27ae60",
            weight=0,
            fill=True,
            fill_opacity=0.6,
            tooltip=f"{_fmt(r[C.POPULATION])} people, {_fmt(r[C.SESSIONS_DAY], 1)} sessions/day, "
            f"{share:.0%} covered",
        ).add_to(fg)
    fg.add_to(m)

    fg = folium.FeatureGroup(name="Candidates by policy class", show=False)
    for _, r in candidates.to_crs(4326).iterrows():
        folium.CircleMarker(
            [r.geometry.y, r.geometry.x],
            radius=3,
            weight=1,
            color=CLASS_COLOURS.get(r[C.POLICY_CLASS], "#333"),
            fill=True,
            tooltip=f"{_esc(r[C.NAME])} [{_esc(r[C.POLICY_CLASS])}]",
        ).add_to(fg)
    fg.add_to(m)

    names = dict(zip(townships_out[C.TOWNSHIP_ID], townships_out[C.TOWNSHIP_NAME], strict=True))
    fg = folium.FeatureGroup(name="Charging stations (planned)")
    for _, r in plan.stations.to_crs(4326).iterrows():
        folium.CircleMarker(
            [r.geometry.y, r.geometry.x],
            radius=5 + 1.2 * math.sqrt(r[C.CHARGERS]) * 2,
            color="#0b3d91",
            fill=True,
            fill_color="#2e86de",
            fill_opacity=0.9,
            weight=2,
            popup=_popup(
                r[C.NAME] or r[C.CANDIDATE_ID],
                [
                    ("class", r[C.POLICY_CLASS]),
                    ("township", names.get(r[C.TOWNSHIP_ID], r[C.TOWNSHIP_ID])),
                    ("chargers", int(r[C.CHARGERS])),
                    ("kW", _fmt(r[C.CHARGER_KW])),
                    ("sessions/day served", _fmt(r[C.SESSIONS_SERVED], 1)),
                    ("capex (CNY)", _fmt(r[C.CAPEX])),
                    ("connection cost (CNY)", _fmt(r[C.CONNECTION_COST])),
                    ("substation", r[C.SUBSTATION_ID]),
                ],
            ),
            tooltip=f"station: {_esc(r[C.NAME])}",
        ).add_to(fg)
    fg.add_to(m)

    fg = folium.FeatureGroup(name="Repair points")
    for _, r in plan.repair_points.to_crs(4326).iterrows():
        folium.RegularPolygonMarker(
            [r.geometry.y, r.geometry.x],
            number_of_sides=4,
            radius=8,
            rotation=45,
            color="#6d214f",
            fill=True,
            fill_color="#b33771",
            fill_opacity=0.9,
            popup=_popup(
                r[C.NAME] or r[C.REPAIR_ID],
                [
                    ("repair point", r[C.REPAIR_ID]),
                    ("class", r[C.POLICY_CLASS]),
                    ("township", names.get(r[C.TOWNSHIP_ID], r[C.TOWNSHIP_ID])),
                    ("villages and stations in reach", int(r[C.TARGETS_COVERED])),
                ],
            ),
            tooltip=f"repair point: {_esc(r[C.NAME])}",
        ).add_to(fg)
    fg.add_to(m)

    fg = folium.FeatureGroup(name="Existing chargers")
    for _, r in county.chargers.to_crs(4326).iterrows():
        folium.CircleMarker(
            [r.geometry.y, r.geometry.x],
            radius=5,
            color="#2d3436",
            fill=True,
            fill_color="#fdcb6e",
            fill_opacity=1.0,
            tooltip=f"existing: {_esc(r[C.NAME])} ({_esc(r['operator'])})",
        ).add_to(fg)
    fg.add_to(m)

    fg = folium.FeatureGroup(name="Grid (substations, lines)", show=False)
    lines = county.power_lines.to_crs(4326).explode(index_parts=False)
    for _, r in lines[lines.geom_type == "LineString"].iterrows():
        kv = r[C.VOLTAGE_KV]
        folium.PolyLine(
            [(y, x) for x, y in np.asarray(r.geometry.coords)],
            color="#e1b12c" if (kv or 0) <= 20 else "#c23616",
            weight=1.5,
            tooltip=f"{_esc(r['power'])} {_fmt(kv)} kV",
        ).add_to(fg)
    for _, r in county.substations.to_crs(4326).iterrows():
        folium.RegularPolygonMarker(
            [r.geometry.y, r.geometry.x],
            number_of_sides=3,
            radius=7,
            color="#c23616",
            fill=True,
            fill_opacity=0.9,
            tooltip=f"{_esc(r[C.NAME])}: {_fmt(r[C.VOLTAGE_KV])} kV, headroom "
            f"{_fmt(r[C.HEADROOM_KW])} kW",
        ).add_to(fg)
    fg.add_to(m)

    folium.LayerControl(collapsed=False).add_to(m)
    m.fit_bounds([[miny, minx], [maxy, maxx]])
    return m
