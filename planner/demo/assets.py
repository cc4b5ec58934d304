"""What stands in the demo county: places, outlets, chargers and its people.

Places, outlets and chargers become OSM nodes and ways beside the roads of
:mod:`planner.demo.roads` (the grid is in :mod:`planner.demo.power`); the operator's
charger list and the population raster's values are returned for
:mod:`planner.demo.writers` to write.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import rasterio.features
import shapely
from pyproj import Transformer
from rasterio.transform import Affine, from_origin
from scipy.spatial import cKDTree

from planner.demo.layout import Settlement
from planner.demo.params import DemoParams
from planner.demo.roads import Osm
from planner.ingest.china import wgs84_to_gcj02

_OPERATOR_CHARGER_AT = (120.0, -90.0)  # metres east and north of its township seat

#: The county seat's outlets and services: (spread around the seat in metres, OSM tags),
#: in the order they are drawn; the trunk road's fuel stations come between the two lists.
_SEAT_SHOPS = [
    *(
        (900, {"shop": "supermarket", "name": f"青溪{b}超市"})
        for b in ("华联", "供销", "万家", "惠民")
    ),
    *((700, {"amenity": "marketplace", "name": f"青溪{d}农贸市场"}) for d in ("城东", "城西")),
    *(
        (1500, {"amenity": "fuel", "brand": b, "name": f"{b}青溪{k + 1}号加油站"})
        for k, b in enumerate(("中国石化", "中国石油", "中国石化"))
    ),
]
_SEAT_SERVICES = [
    (500, {"amenity": "bus_station", "name": "青溪汽车客运站"}),
    *((800, {"amenity": "parking", "name": f"青溪公共停车场{k + 1}"}) for k in range(3)),
    (300, {"amenity": "townhall", "name": "青溪县人民政府"}),
    (600, {"amenity": "post_office", "name": "青溪县邮政局"}),
    (700, {"amenity": "hospital", "name": "青溪县人民医院"}),
    (900, {"amenity": "school", "name": "青溪县第一中学"}),
    *(
        (
            900,
            {
                "amenity": "charging_station",
                "operator": op,
                "capacity": str(cap),
                "name": f"{op}青溪{k + 1}号充电站",
                "socket:gb_dc": str(cap // 2),
            },
        )
        for k, (op, cap) in enumerate(
            (("国家电网", 8), ("特来电", 6), ("星星充电", 4), ("国家电网", 10))
        )
    ),
]
#: Every township seat's outlets after its government: (spread, tags with ``{stem}``).
_TOWNSHIP_OUTLETS = [
    (300, {"amenity": "marketplace", "name": "{stem}农贸市场"}),
    (250, {"amenity": "post_office", "name": "{stem}邮政所"}),
    (400, {"amenity": "school", "name": "{stem}中心小学"}),
    (300, {"amenity": "clinic", "name": "{stem}卫生院"}),
]
#: Outlets some township seats have: (share of seats, spread, tags with ``{stem}``).
_TOWNSHIP_SOME = [
    (0.7, 300, {"shop": "supermarket", "name": "{stem}供销超市"}),
    (0.6, 900, {"amenity": "fuel", "brand": "中国石化", "name": "中国石化{stem}加油站"}),
    (0.5, 300, {"amenity": "parking", "name": "{stem}停车场"}),
    (0.3, 300, {"amenity": "bus_station", "name": "{stem}汽车站"}),
]


def build_places(
    osm: Osm,
    towns: list[Settlement],
    villages: list[Settlement],
    rng: np.random.Generator,
    *,
    params: DemoParams,
) -> None:
    """Tag the settlements' nodes as ``place=*`` with names, pinyin and (mostly) people."""
    for s in towns:
        tags = {
            "place": "town" if s.kind == "county_seat" or s.name.endswith("镇") else "village",
            "name": s.name if s.kind != "county_seat" else "青溪县城",
            "name:zh-Latn-pinyin": s.pinyin,
            "population": str(s.population),
        }
        osm.node_tags[s.node] = tags
    for v in villages:
        tags = {
            "place": "village" if v.population >= params.village_place_min_pop else "hamlet",
            "name": v.name,
            "name:zh-Latn-pinyin": v.pinyin,
        }
        if rng.random() > params.untagged_population_share:
            tags["population"] = str(v.population)
        osm.node_tags[v.node] = tags


def _near_road(
    osm: Osm,
    rng: np.random.Generator,
    x: float,
    y: float,
    tree: cKDTree,
    road_nodes: np.ndarray,
    spread: float,
    offset_m: tuple[float, float],
) -> tuple[float, float]:
    """A point near a road node close to (x, y): where an outlet would stand.

    The node is the nearest to a point ``spread`` (normal) around (x, y); the outlet
    stands ``offset_m`` (uniform range) from it in a random direction.
    """
    px, py = x + rng.normal(0, spread), y + rng.normal(0, spread)
    k = road_nodes[tree.query((px, py))[1]]
    rx, ry = osm.xy[k]
    ang = rng.uniform(0, 2 * np.pi)
    off = rng.uniform(*offset_m)
    return rx + off * math.cos(ang), ry + off * math.sin(ang)


def _along_trunk(osm: Osm, every_m: float) -> list[tuple[float, float]]:
    """Points every ``every_m`` along the trunk road, away from its start at the seat."""
    out = []
    for nodes, tags in osm.ways:
        if tags.get("highway") != "trunk":
            continue
        xy = np.array([osm.xy[n] for n in nodes])
        run = np.concatenate([[0], np.cumsum(np.hypot(*np.diff(xy, axis=0).T))])
        for target in np.arange(every_m, run[-1], every_m):
            out.append(tuple(xy[int(np.searchsorted(run, target))]))
    return out


def build_pois(
    osm: Osm,
    rng: np.random.Generator,
    towns: list[Settlement],
    villages: list[Settlement],
    *,
    params: DemoParams,
) -> None:
    """Outlets, services and existing chargers near the roads, as tagged OSM nodes.

    Parameters
    ----------
    osm
        Elements to add to (its roads must be built).
    rng
        Random generator.
    towns
        County seat, then township seats.
    villages
        Villages.
    params
        Generator knobs.
    """
    p = params
    road_nodes = np.array(sorted({n for w, _ in osm.ways for n in w}))
    tree = cKDTree(np.array([osm.xy[n] for n in road_nodes]))

    def put(s: Settlement, spread: float, tags: dict[str, str]) -> None:
        x, y = _near_road(osm, rng, s.x, s.y, tree, road_nodes, spread, p.outlet_offset_m)
        osm.node(x, y, dict(tags))

    seat = towns[0]
    for spread, tags in _SEAT_SHOPS:
        put(seat, spread, tags)
    # service-area fuel stations along the trunk road
    for k, (x, y) in enumerate(_along_trunk(osm, p.trunk_fuel_every_m)):
        fx, fy = x + rng.uniform(*p.trunk_fuel_offset_m), y + rng.uniform(*p.trunk_fuel_offset_m)
        osm.node(
            fx,
            fy,
            {"amenity": "fuel", "brand": "中国石化", "name": f"中国石化G320国道{k + 1}号加油站"},
        )
    for spread, tags in _SEAT_SERVICES:
        put(seat, spread, tags)
    # a car park drawn as an area (closed way), as OSM often has them
    x, y = _near_road(osm, rng, seat.x, seat.y, tree, road_nodes, 400, p.outlet_offset_m)
    ring = [osm.node(x + dx, y + dy) for dx, dy in ((-40, -30), (40, -30), (40, 30), (-40, 30))]
    osm.way(
        [*ring, ring[0]], {"amenity": "parking", "parking": "surface", "name": "青溪广场停车场"}
    )
    for t in towns[1:]:
        stem = t.name[:-1]
        gov = "人民政府" if t.name.endswith("镇") else "乡人民政府"
        put(
            t,
            150,
            {"amenity": "townhall", "name": f"{stem}{'镇' if t.name.endswith('镇') else ''}{gov}"},
        )
        for spread, tags in _TOWNSHIP_OUTLETS:
            put(t, spread, {k: v.format(stem=stem) for k, v in tags.items()})
        for share, spread, tags in _TOWNSHIP_SOME:
            if rng.random() < share:
                put(t, spread, {k: v.format(stem=stem) for k, v in tags.items()})
    for v in villages:
        if v.population > p.shop_min_pop and rng.random() < p.shop_share:
            put(v, 100, {"shop": "convenience", "name": f"{v.name[:-1]}便民店"})
        elif v.population > p.repair_min_pop and rng.random() < p.repair_share:
            put(v, 100, {"shop": "car_repair", "name": f"{v.name[:-1]}汽修店"})


def operator_chargers(towns: list[Settlement], to_lonlat: Transformer) -> pd.DataFrame:
    """Two chargers of a private operator in township seats, listed in GCJ-02."""
    rows = []
    for k, t in enumerate(towns[1:3]):
        lon, lat = to_lonlat.transform(t.x + _OPERATOR_CHARGER_AT[0], t.y + _OPERATOR_CHARGER_AT[1])
        glon, glat = wgs84_to_gcj02(lon, lat)
        rows.append(
            (f"{t.name}充电站", "小桔充电", round(float(glon), 6), round(float(glat), 6), 4 + 2 * k)
        )
    return pd.DataFrame(rows, columns=["名称", "运营商", "经度", "纬度", "枪数"])


def population_grid(
    county: shapely.Polygon,
    settlements: list[Settlement],
    outside: list[tuple[float, float, float]],
    to_raster: Transformer,
    *,
    params: DemoParams,
) -> tuple[np.ndarray, Affine]:
    """People per cell (100 m by default) in the raster CRS, and the grid's transform.

    Each settlement's people spread as a Gaussian blob over the cells inside the county;
    each outside village's over the cells outside it.
    """
    cell = params.raster_cell_m
    poly = shapely.transform(
        county, lambda a: np.column_stack(to_raster.transform(a[:, 0], a[:, 1]))
    )
    minx, miny, maxx, maxy = poly.buffer(params.raster_margin_m).bounds
    minx, miny = math.floor(minx / cell) * cell, math.floor(miny / cell) * cell
    width, height = math.ceil((maxx - minx) / cell), math.ceil((maxy - miny) / cell)
    transform = from_origin(minx, miny + height * cell, cell, cell)
    inside = rasterio.features.geometry_mask([poly], (height, width), transform, invert=True)
    grid = np.zeros((height, width), dtype=np.float64)
    cx = minx + (np.arange(width) + 0.5) * cell
    cy = miny + height * cell - (np.arange(height) + 0.5) * cell
    sigma = {
        "county_seat": params.spread_county_seat_m,
        "township_seat": params.spread_township_seat_m,
        "village": params.spread_village_m,
    }
    blobs: list[tuple[float, float, float, float, bool]] = [
        (s.x, s.y, s.population, sigma[s.kind], True) for s in settlements
    ]
    blobs += [(x, y, p, params.spread_village_m, False) for x, y, p in outside]
    allowed = {True: inside, False: ~inside}
    for x, y, pop, sg, in_county in blobs:
        rx, ry = to_raster.transform(x, y)
        _add_blob(grid, allowed[in_county], cx, cy, (rx, ry, pop, sg), cutoff=params.spread_cutoff)
    return grid, transform


def _add_blob(
    grid: np.ndarray,
    allowed: np.ndarray,
    cx: np.ndarray,
    cy: np.ndarray,
    blob: tuple[float, float, float, float],
    *,
    cutoff: float,
) -> None:
    """Add ``pop`` people around (rx, ry), Gaussian with ``sigma`` cut at ``cutoff`` sigma,
    over the ``allowed`` cells (``blob`` is rx, ry, pop, sigma); none if none is allowed."""
    rx, ry, pop, sg = blob
    height, width = grid.shape
    reach = cutoff * sg
    c0, c1 = np.searchsorted(cx, [rx - reach, rx + reach])
    r0, r1 = np.searchsorted(-cy, [-(ry + reach), -(ry - reach)])
    c0, r0 = max(c0, 0), max(r0, 0)
    c1, r1 = min(max(c1, c0 + 1), width), min(max(r1, r0 + 1), height)
    wx = np.exp(-0.5 * ((cx[c0:c1] - rx) / sg) ** 2)
    wy = np.exp(-0.5 * ((cy[r0:r1] - ry) / sg) ** 2)
    w = np.outer(wy, wx)
    w = w * allowed[r0:r1, c0:c1]
    if w.sum() <= 0:
        return
    grid[r0:r1, c0:c1] += pop * w / w.sum()
