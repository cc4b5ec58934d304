"""The embedded demo county: a deterministic, seeded, synthetic rural county in China.

:func:`build_demo` writes real files in the formats real data arrives in, so the demo
runs through exactly the ingest code real data uses:

- ``<slug>_boundaries.gpkg``: layers ``county`` and ``townships`` (EPSG:4490, CGCS2000),
  townships with Chinese names, pinyin and 9-digit codes;
- ``<slug>.osm.pbf``: roads (trunk, secondary, tertiary, unclassified, residential),
  outlets and institutions, ``place=*`` nodes with population, existing charging
  stations, substations and 10/35 kV lines, all with OSM tags;
- ``<slug>_substations.csv``: substation headroom table;
- ``<slug>_operator_chargers.csv``: an operator's charger list, GBK text with GCJ-02
  coordinates, as Chinese operators' lists arrive;
- ``<slug>_population.tif``: Cloud-Optimised GeoTIFF, 100 m cells in UTM 50N, people
  per cell, consistent with the settlements' population (neighbouring counties'
  villages lie outside the county polygon and must be clipped away);
- ``<slug>.yaml``: the run config pointing at these files.

The county is fictional (青溪县, placed around 117.3 E, 28.3 N in hilly south-east China);
nothing in it is real data.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import osmium
import pandas as pd
import rasterio
import rasterio.features
import shapely
import yaml
from osmium.osm import mutable
from pyproj import Transformer
from rasterio.transform import from_origin
from scipy.sparse.csgraph import minimum_spanning_tree
from scipy.spatial import cKDTree, distance_matrix

from planner.ingest.china import wgs84_to_gcj02
from planner.paths import atomic_dir

logger = logging.getLogger(__name__)

DEMO_SLUG = "qingxi"
DEMO_NAME = "青溪县"


@dataclass(frozen=True)
class DemoIdentity:
    """Name, codes and place of a demo county."""

    slug: str
    name: str
    pinyin: str
    code: str  # 6-digit county code; townships append 3 digits
    center: tuple[float, float]  # lon, lat


QINGXI = DemoIdentity(DEMO_SLUG, DEMO_NAME, "Qingxi Xian", "361199", (117.3, 28.3))

#: Fictional counties for ``planner demo --province N`` (the first is the usual demo).
PROVINCE_NAMES = (
    ("qingxi", "青溪县", "Qingxi Xian"),
    ("shimen", "石门县", "Shimen Xian"),
    ("yunling", "云岭县", "Yunling Xian"),
    ("taojiang", "桃江县", "Taojiang Xian"),
    ("baihe", "白河县", "Baihe Xian"),
    ("songyang", "松阳县", "Songyang Xian"),
    ("lianhua", "莲花县", "Lianhua Xian"),
    ("zhuxi", "竹溪县", "Zhuxi Xian"),
    ("jinping", "锦屏县", "Jinping Xian"),
    ("anyuan", "安远县", "Anyuan Xian"),
)
DEFAULT_SEED = 20261127
_METRIC_EPSG = 4548  # CGCS2000 / 3-degree Gauss-Kruger CM 117E
_RASTER_EPSG = 32650  # WGS 84 / UTM zone 50N
_NODE_SPACING_M = 200.0
_MAX_CHAIN_M = 5000.0
_TRUNK_FUEL_EVERY_M = 12_000.0

_TOWNSHIPS = [
    ("城关镇", "Chengguan Zhen"),
    ("石塘镇", "Shitang Zhen"),
    ("河口镇", "Hekou Zhen"),
    ("青山乡", "Qingshan Xiang"),
    ("龙门乡", "Longmen Xiang"),
    ("桃源镇", "Taoyuan Zhen"),
    ("白沙乡", "Baisha Xiang"),
    ("枫林镇", "Fenglin Zhen"),
    ("高坪乡", "Gaoping Xiang"),
    ("松溪镇", "Songxi Zhen"),
    ("梅岭乡", "Meiling Xiang"),
    ("新田镇", "Xintian Zhen"),
    ("金竹乡", "Jinzhu Xiang"),
    ("东港镇", "Donggang Zhen"),
    ("西坑乡", "Xikeng Xiang"),
    ("红岩镇", "Hongyan Zhen"),
]
_FIRST = {
    "张": "Zhang",
    "李": "Li",
    "王": "Wang",
    "陈": "Chen",
    "刘": "Liu",
    "黄": "Huang",
    "周": "Zhou",
    "吴": "Wu",
    "徐": "Xu",
    "胡": "Hu",
    "朱": "Zhu",
    "高": "Gao",
    "林": "Lin",
    "何": "He",
    "郭": "Guo",
    "罗": "Luo",
    "梁": "Liang",
    "宋": "Song",
    "上": "Shang",
    "下": "Xia",
    "东": "Dong",
    "西": "Xi",
    "南": "Nan",
    "北": "Bei",
    "大": "Da",
    "小": "Xiao",
    "新": "Xin",
    "老": "Lao",
    "石": "Shi",
    "竹": "Zhu",
    "桃": "Tao",
    "柳": "Liu",
    "杨": "Yang",
    "梅": "Mei",
    "枫": "Feng",
    "松": "Song",
    "龙": "Long",
    "凤": "Feng",
    "金": "Jin",
    "银": "Yin",
    "青": "Qing",
    "白": "Bai",
    "红": "Hong",
    "槐": "Huai",
    "茶": "Cha",
}
_SECOND = {
    "家": "jia",
    "坑": "keng",
    "坪": "ping",
    "源": "yuan",
    "岭": "ling",
    "山": "shan",
    "田": "tian",
    "塘": "tang",
    "桥": "qiao",
    "湾": "wan",
    "口": "kou",
    "坊": "fang",
    "溪": "xi",
    "垅": "long",
    "洲": "zhou",
    "港": "gang",
    "畈": "fan",
    "坞": "wu",
    "岗": "gang",
    "庄": "zhuang",
}


@dataclass
class _Osm:
    """OSM elements under construction, in metric coordinates."""

    xy: list[tuple[float, float]] = field(default_factory=list)
    node_tags: dict[int, dict[str, str]] = field(default_factory=dict)
    ways: list[tuple[list[int], dict[str, str]]] = field(default_factory=list)

    def node(self, x: float, y: float, tags: dict[str, str] | None = None) -> int:
        self.xy.append((float(x), float(y)))
        idx = len(self.xy) - 1
        if tags:
            self.node_tags[idx] = tags
        return idx

    def way(self, nodes: list[int], tags: dict[str, str]) -> None:
        self.ways.append((nodes, tags))


@dataclass
class _Settlement:
    name: str
    pinyin: str
    kind: str  # county_seat | township_seat | village
    x: float
    y: float
    population: int
    township: int
    node: int = -1


def _county_polygon(rng: np.random.Generator, radius: float) -> shapely.Polygon:
    theta = np.linspace(0, 2 * np.pi, 96, endpoint=False)
    r = np.ones_like(theta)
    for k, amp in ((2, 0.16), (3, 0.10), (5, 0.06), (8, 0.03)):
        r += amp * np.sin(k * theta + rng.uniform(0, 2 * np.pi))
    r += rng.normal(0, 0.012, size=theta.size)
    r *= radius
    return shapely.Polygon(np.column_stack([r * np.cos(theta) * 1.15, r * np.sin(theta)]))


def _sample_spaced(
    rng: np.random.Generator,
    n: int,
    region: shapely.Polygon,
    spacing: float,
    *,
    avoid: np.ndarray | None = None,
    avoid_m: float = 0.0,
    attract: np.ndarray | None = None,
    attract_sigma: float = 0.0,
    attract_share: float = 0.0,
) -> np.ndarray:
    """Points in ``region`` at least ``spacing`` apart (spacing shrinks if crowded)."""
    minx, miny, maxx, maxy = region.bounds
    pts: list[tuple[float, float]] = []
    cell = spacing  # hash grid for the spacing test; spacing only shrinks below it
    buckets: dict[tuple[int, int], list[tuple[float, float]]] = {}
    tries = 0
    shapely.prepare(region)
    avoid_tree = cKDTree(avoid) if avoid is not None and len(avoid) else None
    while len(pts) < n:
        tries += 1
        if tries % (50 * n) == 0:
            spacing *= 0.85
        if attract is not None and rng.random() < attract_share:
            cx, cy = attract[rng.integers(len(attract))]
            x, y = rng.normal(cx, attract_sigma), rng.normal(cy, attract_sigma)
        else:
            x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        if not shapely.contains_xy(region, x, y):
            continue
        if avoid_tree is not None and avoid_tree.query((x, y))[0] < avoid_m:
            continue
        gx, gy = int(x // cell), int(y // cell)
        near = (
            q
            for i in (gx - 1, gx, gx + 1)
            for j in (gy - 1, gy, gy + 1)
            for q in buckets.get((i, j), ())
        )
        if any(math.hypot(qx - x, qy - y) < spacing for qx, qy in near):
            continue
        pts.append((x, y))
        buckets.setdefault((gx, gy), []).append((x, y))
    return np.array(pts)


def _road_nodes(osm: _Osm, rng: np.random.Generator, a: int, b: int, *, wiggle: float) -> list[int]:
    """Nodes of a road from node ``a`` to node ``b`` along a smooth, irregular curve."""
    (ax, ay), (bx, by) = osm.xy[a], osm.xy[b]
    length = math.hypot(bx - ax, by - ay)
    k = max(1, int(length // _NODE_SPACING_M))
    t = np.linspace(0, 1, k + 1)[1:-1]
    nx, ny = -(by - ay) / max(length, 1e-9), (bx - ax) / max(length, 1e-9)
    offset = np.zeros_like(t)
    for harmonic in (1, 2, 3):
        offset += rng.normal(0, wiggle / harmonic) * np.sin(harmonic * np.pi * t)
    offset = np.clip(offset, -0.35 * length, 0.35 * length)
    nodes = [a]
    for ti, oi in zip(t, offset, strict=True):
        nodes.append(osm.node(ax + (bx - ax) * ti + nx * oi, ay + (by - ay) * ti + ny * oi))
    nodes.append(b)
    return nodes


def _village_name(rng: np.random.Generator, used: set[str]) -> tuple[str, str]:
    first, second = list(_FIRST), list(_SECOND)
    for _ in range(1000):
        a, b = first[rng.integers(len(first))], second[rng.integers(len(second))]
        name = f"{a}{b}村"
        if name not in used:
            used.add(name)
            return name, f"{_FIRST[a]}{_SECOND[b]} Cun"
    n = len(used)
    name = f"新建{n}村"
    used.add(name)
    return name, f"Xinjian {n} Cun"


def _settlements(
    rng: np.random.Generator, county: shapely.Polygon, scale: float, radius: float
) -> tuple[list[_Settlement], np.ndarray]:
    n_town = int(rng.integers(12, 17))
    n_town = max(n_town, round(n_town * scale))
    inner = county.buffer(-0.12 * radius)
    seats = _sample_spaced(
        rng,
        n_town - 1,
        inner,
        0.42 * radius / math.sqrt(n_town / 14),
        avoid=np.array([[0.0, 0.0]]),
        avoid_m=0.3 * radius,
    )
    seats = np.vstack([[0.0, 0.0], seats])
    total = 300_000 * scale
    seat_pop = total * 0.25
    town_pops = rng.lognormal(0, 0.35, n_town - 1)
    town_pops = town_pops / town_pops.sum() * total * 0.17
    n_vil = round(int(rng.integers(220, 281)) * scale)
    villages = _sample_spaced(
        rng,
        n_vil,
        county.buffer(-300),
        650,
        avoid=seats,
        avoid_m=1500,
        attract=seats,
        attract_sigma=0.18 * radius,
        attract_share=0.35,
    )
    vil_pops = rng.lognormal(0, 0.55, n_vil)
    vil_pops = vil_pops / vil_pops.sum() * (total - seat_pop - town_pops.sum())
    town_of = cKDTree(seats).query(villages)[1]
    out = []
    names = list(_TOWNSHIPS)
    while len(names) < n_town:  # large --scale: repeat names with a number
        base = _TOWNSHIPS[len(names) % len(_TOWNSHIPS)]
        k = len(names) // len(_TOWNSHIPS) + 1
        names.append((f"{base[0][:-1]}{k}{base[0][-1]}", f"{base[1]} {k}"))
    for i in range(n_town):
        out.append(
            _Settlement(
                name=names[i][0],
                pinyin=names[i][1],
                kind="county_seat" if i == 0 else "township_seat",
                x=seats[i, 0],
                y=seats[i, 1],
                population=round(seat_pop if i == 0 else town_pops[i - 1]),
                township=i,
            )
        )
    used: set[str] = set()
    for k in range(n_vil):
        name, pinyin = _village_name(rng, used)
        out.append(
            _Settlement(
                name=name,
                pinyin=pinyin,
                kind="village",
                x=villages[k, 0],
                y=villages[k, 1],
                population=max(40, round(vil_pops[k])),
                township=int(town_of[k]),
            )
        )
    return out, seats


def _townships(county: shapely.Polygon, seats: np.ndarray) -> list[shapely.Polygon]:
    cells = shapely.voronoi_polygons(
        shapely.MultiPoint(seats), extend_to=county.buffer(5000), ordered=True
    )
    polys = []
    for cell in shapely.get_parts(cells):
        part = cell.intersection(county)
        if part.geom_type == "MultiPolygon":
            part = max(part.geoms, key=lambda g: g.area)
        polys.append(part)
    # any sliver left by dropping a part goes to its nearest township
    rest = county.difference(shapely.union_all(polys))
    for piece in shapely.get_parts(rest):
        if piece.area > 0:
            k = int(np.argmin([p.distance(piece.centroid) for p in polys]))
            polys[k] = polys[k].union(piece)
    # drop near-duplicate vertices (Voronoi edges meet the boundary at sharp angles)
    return [shapely.make_valid(p.simplify(1.0)) for p in polys]


def _build_roads(
    osm: _Osm,
    rng: np.random.Generator,
    county: shapely.Polygon,
    towns: list[_Settlement],
    villages: list[_Settlement],
    radius: float,
) -> None:
    for s in towns:
        s.node = osm.node(s.x, s.y)
    # trunk road across the county through the seat
    angle = rng.uniform(0, np.pi)
    ends = []
    for sign in (1, -1):
        d = np.array([math.cos(angle), math.sin(angle)]) * sign
        far = shapely.LineString([(0, 0), tuple(d * radius * 3)])
        hit = far.intersection(county.exterior)
        p = shapely.get_parts(hit)[0] if not hit.is_empty else shapely.Point(d * radius)
        ends.append(osm.node(p.x + d[0] * 3000, p.y + d[1] * 3000))
    for k, end in enumerate(ends):
        nodes = _road_nodes(osm, rng, towns[0].node, end, wiggle=900)
        tags = {"highway": "trunk", "ref": "G320", "name": "G320国道"}
        if k == 0:
            tags["maxspeed"] = "80"
        osm.way(nodes, tags)
    major = [n for w, _ in osm.ways for n in w]
    # secondary county roads: spanning tree of township seats plus two loops
    xy = np.array([[s.x, s.y] for s in towns])
    dist = distance_matrix(xy, xy)
    mst = minimum_spanning_tree(dist).tocoo()
    pairs = {(min(i, j), max(i, j)) for i, j in zip(mst.row, mst.col, strict=True)}
    extra = sorted(
        (
            (dist[i, j], i, j)
            for i in range(len(towns))
            for j in range(i + 1, len(towns))
            if (i, j) not in pairs
        ),
    )
    for _, i, j in extra[: max(2, len(towns) // 6)]:
        pairs.add((i, j))
    for k, (i, j) in enumerate(sorted(pairs)):
        nodes = _road_nodes(osm, rng, towns[i].node, towns[j].node, wiggle=700)
        tags = {"highway": "secondary", "ref": f"X{101 + k}", "name": f"县道X{101 + k}"}
        if k % 3 == 0:
            tags["maxspeed"] = "60"
        osm.way(nodes, tags)
        major.extend(nodes)
    _seat_streets(osm, rng, towns[0])
    # village roads: each village joins the nearest of the major roads or a village
    # already connected, working outwards from the township seats
    major = sorted(set(major))
    major_tree = cKDTree(np.array([osm.xy[n] for n in major]))
    vxy = np.array([[v.x, v.y] for v in villages])
    vtree = cKDTree(vxy)
    seat_xy = np.array([[towns[v.township].x, towns[v.township].y] for v in villages])
    order = np.argsort(np.hypot(*(vxy - seat_xy).T))
    connected = np.zeros(len(villages), dtype=bool)
    depth = np.zeros(len(villages))  # straight-line length of the chain to a main road
    for v in villages:
        v.node = osm.node(v.x, v.y)
    for idx in order:
        v = villages[idx]
        d_major, k_major = major_tree.query((v.x, v.y))
        target, kind = major[k_major], "tertiary"
        dists, near = vtree.query((v.x, v.y), k=min(9, len(villages)))
        reach_m = d_major
        for d, j in zip(np.atleast_1d(dists)[1:], np.atleast_1d(near)[1:], strict=True):
            # chains of village roads stay short, so every village is near a main road
            if connected[j] and d < d_major * 0.8 and depth[j] + d < _MAX_CHAIN_M:
                target, kind, reach_m = villages[j].node, "unclassified", depth[j] + d
                break
        depth[idx] = reach_m
        nodes = _road_nodes(osm, rng, v.node, target, wiggle=150)
        tags = {"highway": kind, "name": f"{v.name}村道".replace("村村", "村")}
        if kind == "tertiary" and rng.random() < 0.3:
            tags["maxspeed"] = "40"
        osm.way(nodes, tags)
        connected[idx] = True
        roll = rng.random()
        if roll < 0.15:  # a second link makes loops
            for d, j in zip(np.atleast_1d(dists)[2:], np.atleast_1d(near)[2:], strict=True):
                if connected[j] and d < 3000:
                    osm.way(
                        _road_nodes(osm, rng, v.node, villages[j].node, wiggle=120),
                        {"highway": "unclassified"},
                    )
                    break
        elif roll > 0.94:  # a dead-end spur into the fields
            ang = rng.uniform(0, 2 * np.pi)
            length = rng.uniform(500, 1500)
            end = osm.node(v.x + length * math.cos(ang), v.y + length * math.sin(ang))
            osm.way(
                _road_nodes(osm, rng, v.node, end, wiggle=60),
                {"highway": "unclassified", "surface": "unpaved"},
            )


def _seat_streets(osm: _Osm, rng: np.random.Generator, seat: _Settlement) -> None:
    """An irregular street mesh in the county seat, with a one-way ring."""
    n, step = 7, 320.0
    grid = np.empty((n, n), dtype=int)
    for i in range(n):
        for j in range(n):
            if i == n // 2 and j == n // 2:
                grid[i, j] = seat.node
                continue
            jitter = rng.normal(0, 40, 2)
            grid[i, j] = osm.node(
                seat.x + (i - n // 2) * step + jitter[0], seat.y + (j - n // 2) * step + jitter[1]
            )
    street = 0
    for i in range(n):
        for j in range(n):
            for di, dj in ((1, 0), (0, 1)):
                if i + di < n and j + dj < n and rng.random() > 0.12:
                    street += 1
                    osm.way(
                        [int(grid[i, j]), int(grid[i + di, j + dj])],
                        {"highway": "residential", "name": f"城关{street}路"},
                    )
    # a one-way loop around the central block (clockwise), still strongly connected
    c = n // 2
    ring = [grid[c - 2, c - 2], grid[c - 2, c + 2], grid[c + 2, c + 2], grid[c + 2, c - 2]]
    for a, b in zip(ring, ring[1:] + ring[:1], strict=True):
        osm.way([int(a), int(b)], {"highway": "tertiary", "oneway": "yes", "name": "环城路"})


def _near_road(
    osm: _Osm,
    rng: np.random.Generator,
    x: float,
    y: float,
    tree: cKDTree,
    road_nodes: np.ndarray,
    spread: float,
) -> tuple[float, float]:
    """A point near a road node close to (x, y): where an outlet would stand."""
    px, py = x + rng.normal(0, spread), y + rng.normal(0, spread)
    k = road_nodes[tree.query((px, py))[1]]
    rx, ry = osm.xy[k]
    ang = rng.uniform(0, 2 * np.pi)
    off = rng.uniform(15, 45)
    return rx + off * math.cos(ang), ry + off * math.sin(ang)


def _along_trunk(osm: _Osm, every_m: float) -> list[tuple[float, float]]:
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


def _build_pois(
    osm: _Osm,
    rng: np.random.Generator,
    towns: list[_Settlement],
    villages: list[_Settlement],
) -> None:
    road_nodes = np.array(sorted({n for w, _ in osm.ways for n in w}))
    tree = cKDTree(np.array([osm.xy[n] for n in road_nodes]))

    def put(s: _Settlement, spread: float, tags: dict[str, str]) -> None:
        x, y = _near_road(osm, rng, s.x, s.y, tree, road_nodes, spread)
        osm.node(x, y, tags)

    seat = towns[0]
    short = seat.name[:-1]
    for k in range(4):
        put(
            seat,
            900,
            {"shop": "supermarket", "name": f"青溪{['华联', '供销', '万家', '惠民'][k]}超市"},
        )
    for k in range(2):
        put(seat, 700, {"amenity": "marketplace", "name": f"青溪{['城东', '城西'][k]}农贸市场"})
    for k, brand in enumerate(("中国石化", "中国石油", "中国石化")):
        put(seat, 1500, {"amenity": "fuel", "brand": brand, "name": f"{brand}青溪{k + 1}号加油站"})
    # service-area fuel stations along the trunk road
    for k, (x, y) in enumerate(_along_trunk(osm, _TRUNK_FUEL_EVERY_M)):
        fx, fy = x + rng.uniform(20, 50), y + rng.uniform(20, 50)
        osm.node(
            fx,
            fy,
            {"amenity": "fuel", "brand": "中国石化", "name": f"中国石化G320国道{k + 1}号加油站"},
        )
    put(seat, 500, {"amenity": "bus_station", "name": "青溪汽车客运站"})
    for k in range(3):
        put(seat, 800, {"amenity": "parking", "name": f"青溪公共停车场{k + 1}"})
    put(seat, 300, {"amenity": "townhall", "name": "青溪县人民政府"})
    put(seat, 600, {"amenity": "post_office", "name": "青溪县邮政局"})
    put(seat, 700, {"amenity": "hospital", "name": "青溪县人民医院"})
    put(seat, 900, {"amenity": "school", "name": "青溪县第一中学"})
    for k, (op, cap) in enumerate(
        (("国家电网", 8), ("特来电", 6), ("星星充电", 4), ("国家电网", 10))
    ):
        put(
            seat,
            900,
            {
                "amenity": "charging_station",
                "operator": op,
                "capacity": str(cap),
                "name": f"{op}青溪{k + 1}号充电站",
                "socket:gb_dc": str(cap // 2),
            },
        )
    # a car park drawn as an area (closed way), as OSM often has them
    x, y = _near_road(osm, rng, seat.x, seat.y, tree, road_nodes, 400)
    ring = [osm.node(x + dx, y + dy) for dx, dy in ((-40, -30), (40, -30), (40, 30), (-40, 30))]
    osm.way(
        [*ring, ring[0]], {"amenity": "parking", "parking": "surface", "name": "青溪广场停车场"}
    )
    del short
    for t in towns[1:]:
        stem = t.name[:-1]
        gov = "人民政府" if t.name.endswith("镇") else "乡人民政府"
        put(
            t,
            150,
            {"amenity": "townhall", "name": f"{stem}{'镇' if t.name.endswith('镇') else ''}{gov}"},
        )
        put(t, 300, {"amenity": "marketplace", "name": f"{stem}农贸市场"})
        put(t, 250, {"amenity": "post_office", "name": f"{stem}邮政所"})
        put(t, 400, {"amenity": "school", "name": f"{stem}中心小学"})
        put(t, 300, {"amenity": "clinic", "name": f"{stem}卫生院"})
        if rng.random() < 0.7:
            put(t, 300, {"shop": "supermarket", "name": f"{stem}供销超市"})
        if rng.random() < 0.6:
            put(t, 900, {"amenity": "fuel", "brand": "中国石化", "name": f"中国石化{stem}加油站"})
        if rng.random() < 0.5:
            put(t, 300, {"amenity": "parking", "name": f"{stem}停车场"})
        if rng.random() < 0.3:
            put(t, 300, {"amenity": "bus_station", "name": f"{stem}汽车站"})
    for v in villages:
        if v.population > 1100 and rng.random() < 0.5:
            put(v, 100, {"shop": "convenience", "name": f"{v.name[:-1]}便民店"})
        elif v.population > 1600 and rng.random() < 0.3:
            put(v, 100, {"shop": "car_repair", "name": f"{v.name[:-1]}汽修店"})


def _build_places(
    osm: _Osm, towns: list[_Settlement], villages: list[_Settlement], rng: np.random.Generator
) -> None:
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
            "place": "village" if v.population >= 300 else "hamlet",
            "name": v.name,
            "name:zh-Latn-pinyin": v.pinyin,
        }
        if rng.random() > 0.1:
            tags["population"] = str(v.population)
        osm.node_tags[v.node] = tags


def _build_grid(
    osm: _Osm,
    rng: np.random.Generator,
    towns: list[_Settlement],
) -> pd.DataFrame:
    rows = []
    seat = towns[0]
    sx, sy = seat.x + 350, seat.y - 250
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
    rows.append(("QX-110-01", "青溪110kV变电站", 110, 100_000, 61_000))
    hubs = [(seat, (sx, sy))]
    picks = [t for t in towns[1:] if rng.random() < 0.55] or towns[1:3]
    for k, t in enumerate(picks):
        ref = f"QX-35-{k + 1:02d}"
        x, y = t.x - 200, t.y + 180
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
        rated = 10_000 if rng.random() < 0.6 else 6_300
        # the power factor 0.9 leaves rated x 0.9 - peak: most have megawatts to spare,
        # the first is nearly full (300 kW: five 60 kW chargers), so the limit binds
        peak = rated * 0.9 - 300 if k == 0 else rated * rng.uniform(0.5, 0.8)
        rows.append((ref, f"{t.name[:-1]}35kV变电站", 35, rated, round(peak)))
        hubs.append((t, (x, y)))
        a = osm.node(sx, sy)
        b = osm.node(x, y)
        osm.way(
            _road_nodes(osm, rng, a, b, wiggle=400),
            {"power": "line", "voltage": "35000", "name": f"35kV青{t.name[:1]}线"},
        )
    # 10 kV feeders from each substation along the county roads to nearby township seats
    # (poles 15 m beside the road), or cross-country where no road links the two seats
    roads_between = {
        frozenset((w[0], w[-1])): w
        for w, tags in osm.ways
        if tags.get("highway") in ("secondary", "trunk")
    }
    town_xy = np.array([[t.x, t.y] for t in towns])
    tree = cKDTree(town_xy)
    for hub, (x, y) in hubs:
        _, near = tree.query((hub.x, hub.y), k=min(4, len(towns)))
        for j in np.atleast_1d(near)[1:]:
            road = roads_between.get(frozenset((hub.node, towns[j].node)))
            if road is not None:
                if road[0] != hub.node:
                    road = road[::-1]
                nodes = [osm.node(x, y)] + [
                    osm.node(osm.xy[n][0] + 15.0, osm.xy[n][1] + 15.0) for n in road[::2]
                ]
            else:
                a = osm.node(x, y)
                b = osm.node(towns[j].x + 60, towns[j].y + 60)
                nodes = _road_nodes(osm, rng, a, b, wiggle=500)
            osm.way(
                nodes,
                {
                    "power": "minor_line",
                    "voltage": "10000",
                    "name": f"10kV{hub.name[:1]}{towns[j].name[:1]}线",
                },
            )
    return pd.DataFrame(
        rows, columns=["substation_id", "name", "voltage_kv", "rated_kva", "peak_load_kw"]
    )


def _operator_chargers(towns: list[_Settlement], to_lonlat: Transformer) -> pd.DataFrame:
    """Two chargers of a private operator in township seats, listed in GCJ-02."""
    rows = []
    for k, t in enumerate(towns[1:3]):
        lon, lat = to_lonlat.transform(t.x + 120.0, t.y - 90.0)
        glon, glat = wgs84_to_gcj02(lon, lat)
        rows.append(
            (f"{t.name}充电站", "小桔充电", round(float(glon), 6), round(float(glat), 6), 4 + 2 * k)
        )
    return pd.DataFrame(rows, columns=["名称", "运营商", "经度", "纬度", "枪数"])


def _township_codes(towns: list[_Settlement], county_code: str) -> list[str]:
    """9-digit codes: county code + 1xx for towns (镇), 2xx for townships (乡).

    Large synthetic counties (``--scale``) with 100 or more of a kind number on from 100.
    """
    is_zhen = [t.name.endswith("镇") for t in towns]
    if max(sum(is_zhen), len(towns) - sum(is_zhen)) >= 100:
        return [f"{county_code}{100 + i:03d}" for i in range(len(towns))]
    counters = {True: 100, False: 200}
    codes = []
    for zhen in is_zhen:
        codes.append(f"{county_code}{counters[zhen]:03d}")
        counters[zhen] += 1
    return codes


def _write_osm(path: Path, osm: _Osm, to_lonlat: Transformer) -> None:
    xy = np.array(osm.xy)
    lon, lat = to_lonlat.transform(xy[:, 0], xy[:, 1])
    writer = osmium.SimpleWriter(str(path), overwrite=True)
    try:
        for i in range(len(xy)):
            writer.add_node(
                mutable.Node(
                    id=i + 1,
                    location=(round(float(lon[i]), 7), round(float(lat[i]), 7)),
                    tags=osm.node_tags.get(i, {}),
                    version=1,
                )
            )
        for k, (nodes, tags) in enumerate(osm.ways):
            writer.add_way(
                mutable.Way(id=k + 1, nodes=[n + 1 for n in nodes], tags=tags, version=1)
            )
    finally:
        writer.close()


def _write_population(
    path: Path,
    county: shapely.Polygon,
    settlements: list[_Settlement],
    outside: list[tuple[float, float, float]],
    to_raster: Transformer,
) -> None:
    cell = 100.0
    poly = shapely.transform(
        county, lambda a: np.column_stack(to_raster.transform(a[:, 0], a[:, 1]))
    )
    minx, miny, maxx, maxy = poly.buffer(3000).bounds
    minx, miny = math.floor(minx / cell) * cell, math.floor(miny / cell) * cell
    width, height = math.ceil((maxx - minx) / cell), math.ceil((maxy - miny) / cell)
    transform = from_origin(minx, miny + height * cell, cell, cell)
    inside = rasterio.features.geometry_mask([poly], (height, width), transform, invert=True)
    grid = np.zeros((height, width), dtype=np.float64)
    cx = minx + (np.arange(width) + 0.5) * cell
    cy = miny + height * cell - (np.arange(height) + 0.5) * cell
    sigma = {"county_seat": 1100.0, "township_seat": 320.0, "village": 110.0}
    blobs = [(s.x, s.y, s.population, sigma[s.kind], True) for s in settlements]
    blobs += [(x, y, p, 110.0, False) for x, y, p in outside]
    for x, y, pop, sg, in_county in blobs:
        rx, ry = to_raster.transform(x, y)
        c0, c1 = np.searchsorted(cx, [rx - 4 * sg, rx + 4 * sg])
        r0, r1 = np.searchsorted(-cy, [-(ry + 4 * sg), -(ry - 4 * sg)])
        c0, r0 = max(c0, 0), max(r0, 0)
        c1, r1 = min(max(c1, c0 + 1), width), min(max(r1, r0 + 1), height)
        wx = np.exp(-0.5 * ((cx[c0:c1] - rx) / sg) ** 2)
        wy = np.exp(-0.5 * ((cy[r0:r1] - ry) / sg) ** 2)
        w = np.outer(wy, wx)
        mask = inside[r0:r1, c0:c1] if in_county else ~inside[r0:r1, c0:c1]
        w = w * mask
        if w.sum() <= 0:
            continue
        grid[r0:r1, c0:c1] += pop * w / w.sum()
    profile = {
        "driver": "COG",
        "width": width,
        "height": height,
        "count": 1,
        "dtype": "float32",
        "crs": f"EPSG:{_RASTER_EPSG}",
        "transform": transform,
        "nodata": -9999.0,
        "compress": "deflate",
    }
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(grid.astype(np.float32), 1)
        dst.update_tags(units="people per cell", source="planner demo (synthetic)")


def build_demo(
    out_dir: str | Path,
    *,
    scale: float = 1.0,
    seed: int = DEFAULT_SEED,
    overwrite: bool = True,
    identity: DemoIdentity = QINGXI,
) -> Path:
    """Generate the demo county's input files and config.

    Parameters
    ----------
    out_dir
        Folder to write (replaced atomically).
    scale
        Multiplies area, townships, villages, people and roads; 1 gives ~300,000 people
        and ~4,300 road nodes, 20 about 100,000 road nodes.
    seed
        Random seed; the same seed and scale give the same files.
    overwrite
        Replace an existing folder.
    identity
        Name, codes and place of the county (default: 青溪县).

    Returns
    -------
    Path
        The config file.
    """
    ident = identity
    slug = ident.slug
    if scale <= 0 or scale > 50:
        msg = f"--scale must be in (0, 50], got {scale}"
        raise ValueError(msg)
    out_dir = Path(out_dir)
    cfg_path = out_dir / f"{slug}.yaml"
    if cfg_path.exists() and not overwrite:
        return cfg_path
    rng = np.random.default_rng(seed)
    radius = 24_000 * math.sqrt(scale)
    to_metric = Transformer.from_crs(4490, _METRIC_EPSG, always_xy=True)
    ox, oy = to_metric.transform(*ident.center)
    county = _county_polygon(rng, radius)
    settlements, seats = _settlements(rng, county, scale, radius)
    towns = [s for s in settlements if s.kind != "village"]
    villages = [s for s in settlements if s.kind == "village"]
    town_polys = _townships(county, seats)
    osm = _Osm()
    _build_roads(osm, rng, county, towns, villages, radius)
    _build_places(osm, towns, villages, rng)
    _build_pois(osm, rng, towns, villages)
    grid_table = _build_grid(osm, rng, towns)
    ring_out = county.buffer(2500).exterior
    outside = []
    for _ in range(int(25 * math.sqrt(scale))):
        p = ring_out.interpolate(rng.uniform(0, ring_out.length))
        outside.append((p.x, p.y, float(rng.integers(200, 1500))))

    # shift everything to the real location
    def shift(geom: shapely.Geometry) -> shapely.Geometry:
        return shapely.transform(geom, lambda a: a + np.array([ox, oy]))

    osm.xy = [(x + ox, y + oy) for x, y in osm.xy]
    for s in settlements:
        s.x, s.y = s.x + ox, s.y + oy
    outside = [(x + ox, y + oy, p) for x, y, p in outside]
    county_m = shift(county)
    town_gdf = gpd.GeoDataFrame(
        {
            "code": _township_codes(towns, ident.code),
            "name": [t.name for t in towns],
            "name_pinyin": [t.pinyin for t in towns],
            "kind": ["镇" if t.name.endswith("镇") else "乡" for t in towns],
        },
        geometry=[shift(p) for p in town_polys],
        crs=_METRIC_EPSG,
    ).to_crs(4490)
    # snap to 1e-7 degree (~1 cm): the precision GIS files carry, and valid polygons
    town_gdf.geometry = shapely.set_precision(
        shapely.make_valid(town_gdf.geometry.to_numpy()), 1e-7
    )
    county_gdf = gpd.GeoDataFrame(
        {"code": [ident.code], "name": [ident.name], "name_pinyin": [ident.pinyin]},
        geometry=[county_m],
        crs=_METRIC_EPSG,
    ).to_crs(4490)
    county_gdf.geometry = shapely.set_precision(county_gdf.geometry.to_numpy(), 1e-7)
    to_lonlat = Transformer.from_crs(_METRIC_EPSG, 4326, always_xy=True)
    to_raster = Transformer.from_crs(_METRIC_EPSG, _RASTER_EPSG, always_xy=True)
    with atomic_dir(out_dir, marker=f"{slug}.yaml") as tmp:
        gpkg = tmp / f"{slug}_boundaries.gpkg"
        county_gdf.to_file(gpkg, layer="county", engine="pyogrio")
        town_gdf.to_file(gpkg, layer="townships", engine="pyogrio")
        _write_osm(tmp / f"{slug}.osm.pbf", osm, to_lonlat)
        grid_table.to_csv(tmp / f"{slug}_substations.csv", index=False)
        # an operator's charger list as such lists arrive: GBK text, GCJ-02 coordinates
        _operator_chargers(towns, to_lonlat).to_csv(
            tmp / f"{slug}_operator_chargers.csv", index=False, encoding="gbk"
        )
        _write_population(tmp / f"{slug}_population.tif", county_m, settlements, outside, to_raster)
        (tmp / f"{slug}.yaml").write_text(
            demo_config_text(scale=scale, identity=ident), encoding="utf-8"
        )
    logger.info(
        "demo county written to %s: %d townships, %d villages, %d OSM nodes, %d ways",
        out_dir,
        len(towns),
        len(villages),
        len(osm.xy),
        len(osm.ways),
    )
    return cfg_path


def demo_config_text(*, scale: float = 1.0, identity: DemoIdentity = QINGXI) -> str:
    """The demo county's YAML config."""
    slug = identity.slug
    cfg = {
        "county": {"name": identity.name, "slug": slug},
        "inputs": {
            "boundaries": {
                "path": f"{slug}_boundaries.gpkg",
                "county_layer": "county",
                "township_layer": "townships",
                "township_id_field": "code",
                "township_name_field": "name",
            },
            "osm": {"path": f"{slug}.osm.pbf"},
            "population": {"path": f"{slug}_population.tif"},
            "substations": {"path": f"{slug}_substations.csv"},
            "chargers": [
                {
                    "path": f"{slug}_operator_chargers.csv",
                    "crs": "gcj02",
                    "lon_field": "经度",
                    "lat_field": "纬度",
                    "name_field": "名称",
                    "operator_field": "运营商",
                    "sockets_field": "枪数",
                }
            ],
        },
        "demand": {"ev_adoption": 0.12},
        "stations": {
            "cutoff_min": 15,
            # small counties keep enough for a station in every township
            "budget": round(16_000_000 * max(scale, 1.0)),
            "township_min": True,
        },
        # large synthetic counties have a few remote villages beyond 30 min of any site
        "repair": {"response_min": 30, "unreachable": "error" if scale <= 1 else "warn"},
        # the time limit is a safety net: every pass stops on its gap, deterministically
        "solver": {"name": "highs", "time_limit_s": 300, "mip_gap": 0.005, "threads": 1},
    }
    head = (
        "# Demo county config (generated by `planner demo`). Every key is documented in\n"
        "# planner/config.py; paths are relative to this file.\n"
    )
    return head + yaml.safe_dump(cfg, allow_unicode=True, sort_keys=False)


def build_province(
    out_dir: str | Path, n: int, *, scale: float = 1.0, seed: int = DEFAULT_SEED
) -> Path:
    """Generate ``n`` different demo counties side by side, and a batch config for them.

    Parameters
    ----------
    out_dir
        Folder to write: one sub-folder per county and ``batch.yaml``.
    n
        Number of counties (1 to 10).
    scale
        Scale of each county (see :func:`build_demo`).
    seed
        Base seed; county ``k`` uses ``seed + k``.

    Returns
    -------
    Path
        The batch config (see :mod:`planner.batch`).
    """
    if not 1 <= n <= len(PROVINCE_NAMES):
        msg = f"--province must be between 1 and {len(PROVINCE_NAMES)}, got {n}"
        raise ValueError(msg)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    step = 0.7 * math.sqrt(scale)  # degrees between county centres, about 70 km
    counties = []
    for k in range(n):
        slug, name, pinyin = PROVINCE_NAMES[k]
        row, col = divmod(k, 4)
        centre = (QINGXI.center[0] + col * step, QINGXI.center[1] - row * step)
        ident = DemoIdentity(slug, name, pinyin, f"3611{99 - k:02d}", centre)
        build_demo(out_dir / slug, scale=scale, seed=seed + k, identity=ident)
        counties.append({"config": f"{slug}/{slug}.yaml"})
    batch = {"output": "runs", "counties": counties}
    path = out_dir / "batch.yaml"
    head = "# Batch config (generated by `planner demo --province N`); see planner/batch.py.\n"
    path.write_text(head + yaml.safe_dump(batch, allow_unicode=True, sort_keys=False), "utf-8")
    return path
