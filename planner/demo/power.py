"""The demo county's power grid: substations, 35 kV lines and 10 kV feeders.

A 110 kV substation stands at the county seat and 35 kV substations at some township
seats, linked by 35 kV lines; 10 kV feeders run from each to nearby township seats,
beside the county roads where one links the two. They become OSM nodes and ways; the
substation headroom table is returned for :mod:`planner.demo.writers` to write.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from planner.config import CostsSection
from planner.demo.layout import Settlement
from planner.demo.params import DemoParams
from planner.demo.roads import Osm, road_nodes

# where things stand, in metres east and north of their seat
_SUBSTATION_110KV_AT = (350, -250)  # its fence is 100 m x 80 m around this
_SUBSTATION_35KV_AT = (-200, 180)
_FEEDER_END_AT = 60  # cross-country feeders end this far east and north of the seat


def build_grid(
    osm: Osm, rng: np.random.Generator, towns: list[Settlement], *, params: DemoParams
) -> pd.DataFrame:
    """Substations (110 kV at the seat, 35 kV in some townships) and their lines.

    Returns
    -------
    pandas.DataFrame
        The substation headroom table: ``substation_id``, ``name``, ``voltage_kv``,
        ``rated_kva``, ``peak_load_kw``.
    """
    seat = towns[0]
    sx, sy = seat.x + _SUBSTATION_110KV_AT[0], seat.y + _SUBSTATION_110KV_AT[1]
    ring = [osm.node(sx + dx, sy + dy) for dx, dy in ((-50, -40), (50, -40), (50, 40), (-50, 40))]
    osm.way(
        [*ring, ring[0]],
        {
            "power": "substation",
            "voltage": "110000;35000;10000",
            "ref": "QX-110-01",
            "name": "青溪110kV变电站",
        },
    )
    rows = [("QX-110-01", "青溪110kV变电站", 110, *params.substation_110kv)]
    picks = [t for t in towns[1:] if rng.random() < params.substation_35kv_share] or towns[1:3]
    hubs = [(seat, (sx, sy))]
    hubs += [(t, (t.x + _SUBSTATION_35KV_AT[0], t.y + _SUBSTATION_35KV_AT[1])) for t in picks]
    spare = first_spare_kw(osm, towns, [xy for _, xy in hubs], params=params)
    for k, t in enumerate(picks):
        rows.append(_substation_35kv(osm, rng, k, t, (sx, sy), spare_kw=spare, params=params))
    _feeders(osm, rng, towns, hubs, params=params)
    return pd.DataFrame(
        rows, columns=["substation_id", "name", "voltage_kv", "rated_kva", "peak_load_kw"]
    )


def _substation_35kv(
    osm: Osm,
    rng: np.random.Generator,
    k: int,
    t: Settlement,
    source: tuple[float, float],
    *,
    spare_kw: float,
    params: DemoParams,
) -> tuple[str, str, int, int, int]:
    """The ``k``-th 35 kV substation, beside township seat ``t``, with its line from the
    110 kV substation at ``source``; returns its row of the headroom table. The first has
    ``spare_kw`` of headroom (see :func:`first_spare_kw`)."""
    ref = f"QX-35-{k + 1:02d}"
    x, y = t.x + _SUBSTATION_35KV_AT[0], t.y + _SUBSTATION_35KV_AT[1]
    osm.node(
        x,
        y,
        {
            "power": "substation",
            "voltage": "35000;10000",
            "ref": ref,
            "name": f"{t.name[:-1]}35kV变电站",
        },
    )
    large, small = params.rated_35kv_kva
    rated = large if rng.random() < params.large_35kv_share else small
    # the power factor 0.9 leaves rated x 0.9 - peak: most have megawatts to spare,
    # the first is nearly full (300 kW: five 60 kW chargers), so the limit binds
    if k == 0:
        peak = rated * params.power_factor - spare_kw
    else:
        peak = rated * rng.uniform(*params.peak_share)
    a = osm.node(*source)
    b = osm.node(x, y)
    osm.way(
        road_nodes(osm, rng, a, b, wiggle=params.line_35kv_wiggle_m, spacing=params.node_spacing_m),
        {"power": "line", "voltage": "35000", "name": f"35kV青{t.name[:1]}线"},
    )
    return (ref, f"{t.name[:-1]}35kV变电站", 35, rated, round(peak))


def first_spare_kw(
    osm: Osm, towns: list[Settlement], hubs: list[tuple[float, float]], *, params: DemoParams
) -> float:
    """Headroom of the nearly-full first 35 kV substation (``hubs[1]``), in kW.

    It is ``first_35kv_spare_kw``, raised to a smallest station (``smallest_station_kw``)
    in every township it alone can feed: one whose outlets (the planner's candidate
    sites) all lie nearest to it, within ``feeder_tie_m``, of all substations (``hubs``,
    the 110 kV one first). Else the township minimum could not be met under the grid
    limits and the county would not plan.
    """
    if len(hubs) < 2:
        return params.first_35kv_spare_kw
    outlets = [
        osm.xy[n]
        for n, tags in osm.node_tags.items()
        if ("amenity" in tags or "shop" in tags) and tags.get("amenity") != "charging_station"
    ]
    if not outlets:
        return params.first_35kv_spare_kw
    xy = np.asarray(outlets)
    township = np.asarray(cKDTree([[t.x, t.y] for t in towns]).query(xy)[1])
    dist = np.hypot(*(xy[:, None, :] - np.asarray(hubs)[None, :, :]).transpose(2, 0, 1))
    others = np.delete(dist, 1, axis=1).min(axis=1)
    elsewhere = set(township[dist[:, 1] > others + params.feeder_tie_m].tolist())
    bound = set(township.tolist()) - elsewhere
    return max(params.first_35kv_spare_kw, len(bound) * params.smallest_station_kw)


def township_budget(osm: Osm, towns: list[Settlement], *, base: float, params: DemoParams) -> float:
    """The demo config's budget: ``base``, or enough for a station in every township.

    A station in a township without a charger costs at least the default station and two
    chargers plus the grid connection from its outlet nearest to a 10 kV line or a
    substation (as the planner prices candidate sites); the county seat and the two
    township seats with an operator's charger have one. Their sum, plus a repair point
    per township, times ``budget_margin``, rounded up to a million CNY, is the least
    budget: a county whose grid is thin would else have no plan for the township minimum.
    """
    costs = CostsSection()
    grid: list[shapely.Geometry] = [
        shapely.LineString([osm.xy[n] for n in nodes])
        for nodes, tags in osm.ways
        if tags.get("power") == "minor_line"
    ]
    grid += [shapely.Point(osm.xy[n]) for n, tags in osm.node_tags.items() if tags.get("power")]
    grid += [
        shapely.Polygon([osm.xy[n] for n in nodes])
        for nodes, tags in osm.ways
        if tags.get("power") == "substation"
    ]
    outlets = [
        osm.xy[n]
        for n, tags in osm.node_tags.items()
        if ("amenity" in tags or "shop" in tags) and tags.get("amenity") != "charging_station"
    ]
    if not grid or not outlets:
        return base
    pts = shapely.points(np.asarray(outlets))
    tree = shapely.STRtree(grid)
    dist = shapely.distance(pts, np.asarray(grid, dtype=object)[tree.nearest(pts)])
    township = np.asarray(cKDTree([[t.x, t.y] for t in towns]).query(np.asarray(outlets))[1])
    cheapest = pd.Series(dist).groupby(township).min().reindex(range(len(towns)))
    fixed = costs.station_capex + 2 * costs.charger_capex
    need = (fixed + costs.connection_per_km * cheapest.fillna(0.0) / 1000.0).iloc[3:].sum()
    need = (need + len(towns) * costs.repair_point_capex) * params.budget_margin
    return max(base, math.ceil(need / 1e6) * 1e6)


def _feeders(
    osm: Osm,
    rng: np.random.Generator,
    towns: list[Settlement],
    hubs: list[tuple[Settlement, tuple[float, float]]],
    *,
    params: DemoParams,
) -> None:
    """10 kV feeders from each substation along the county roads to nearby township seats
    (poles 15 m beside the road), or cross-country where no road links the two seats."""
    roads_between = {
        frozenset((w[0], w[-1])): w
        for w, tags in osm.ways
        if tags.get("highway") in ("secondary", "trunk")
    }
    town_xy = np.array([[t.x, t.y] for t in towns])
    tree = cKDTree(town_xy)
    for hub, (x, y) in hubs:
        _, near = tree.query((hub.x, hub.y), k=min(params.feeder_neighbours + 1, len(towns)))
        for j in np.atleast_1d(near)[1:]:
            road = roads_between.get(frozenset((hub.node, towns[j].node)))
            if road is not None:
                if road[0] != hub.node:
                    road = road[::-1]
                pole = params.pole_offset_m
                nodes = [osm.node(x, y)] + [
                    osm.node(osm.xy[n][0] + pole, osm.xy[n][1] + pole) for n in road[::2]
                ]
            else:
                a = osm.node(x, y)
                b = osm.node(towns[j].x + _FEEDER_END_AT, towns[j].y + _FEEDER_END_AT)
                wiggle, spacing = params.feeder_wiggle_m, params.node_spacing_m
                nodes = road_nodes(osm, rng, a, b, wiggle=wiggle, spacing=spacing)
            osm.way(
                nodes,
                {
                    "power": "minor_line",
                    "voltage": "10000",
                    "name": f"10kV{hub.name[:1]}{towns[j].name[:1]}线",
                },
            )
