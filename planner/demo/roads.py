"""The demo county's road network, built as OSM nodes and ways.

A trunk road crosses the county through the seat, county roads (secondary) link the
township seats, the seat has a street mesh, and village roads join each village to the
nearest main road or to a village already joined.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import shapely
from scipy.sparse.csgraph import minimum_spanning_tree
from scipy.spatial import cKDTree, distance_matrix

from planner.demo.layout import Settlement
from planner.demo.params import DemoParams

_MAX_BEND = 0.35  # a road's sideways offset stays below this share of its length


@dataclass
class Osm:
    """OSM elements under construction, in metric coordinates."""

    xy: list[tuple[float, float]] = field(default_factory=list)
    node_tags: dict[int, dict[str, str]] = field(default_factory=dict)
    ways: list[tuple[list[int], dict[str, str]]] = field(default_factory=list)

    def node(self, x: float, y: float, tags: dict[str, str] | None = None) -> int:
        """Add a node; returns its index (its OSM id less one)."""
        self.xy.append((float(x), float(y)))
        idx = len(self.xy) - 1
        if tags:
            self.node_tags[idx] = tags
        return idx

    def way(self, nodes: list[int], tags: dict[str, str]) -> None:
        """Add a way through the nodes of these indices."""
        self.ways.append((nodes, tags))


def road_nodes(
    osm: Osm, rng: np.random.Generator, a: int, b: int, *, wiggle: float, spacing: float
) -> list[int]:
    """Nodes of a road from node ``a`` to node ``b`` along a smooth, irregular curve.

    Nodes are about ``spacing`` metres apart; the curve bends sideways by about
    ``wiggle`` metres (three random harmonics).
    """
    (ax, ay), (bx, by) = osm.xy[a], osm.xy[b]
    length = math.hypot(bx - ax, by - ay)
    k = max(1, int(length // spacing))
    t = np.linspace(0, 1, k + 1)[1:-1]
    nx, ny = -(by - ay) / max(length, 1e-9), (bx - ax) / max(length, 1e-9)
    offset = np.zeros_like(t)
    for harmonic in (1, 2, 3):
        offset += rng.normal(0, wiggle / harmonic) * np.sin(harmonic * np.pi * t)
    offset = np.clip(offset, -_MAX_BEND * length, _MAX_BEND * length)
    nodes = [a]
    for ti, oi in zip(t, offset, strict=True):
        nodes.append(osm.node(ax + (bx - ax) * ti + nx * oi, ay + (by - ay) * ti + ny * oi))
    nodes.append(b)
    return nodes


def build_roads(
    osm: Osm,
    rng: np.random.Generator,
    county: shapely.Polygon,
    towns: list[Settlement],
    villages: list[Settlement],
    radius: float,
    *,
    params: DemoParams,
) -> None:
    """All roads of the county, in ``osm``; sets the settlements' ``node``.

    Parameters
    ----------
    osm
        Elements to add to.
    rng
        Random generator.
    county
        County outline (metres, seat at the origin).
    towns
        County seat, then township seats.
    villages
        Villages.
    radius
        The county's radius in metres.
    params
        Generator knobs.
    """
    for s in towns:
        s.node = osm.node(s.x, s.y)
    _trunk_road(osm, rng, county, towns[0], radius, params=params)
    major = [n for w, _ in osm.ways for n in w]
    major.extend(_county_roads(osm, rng, towns, params=params))
    seat_streets(osm, rng, towns[0], params=params)
    _village_roads(osm, rng, towns, villages, major, params=params)


def _trunk_road(
    osm: Osm,
    rng: np.random.Generator,
    county: shapely.Polygon,
    seat: Settlement,
    radius: float,
    *,
    params: DemoParams,
) -> None:
    """A trunk road across the county through the seat, ending beyond the border."""
    angle = rng.uniform(0, np.pi)
    ends = []
    for sign in (1, -1):
        d = np.array([math.cos(angle), math.sin(angle)]) * sign
        far = shapely.LineString([(0, 0), tuple(d * radius * 3)])
        hit = far.intersection(county.exterior)
        p = shapely.get_parts(hit)[0] if not hit.is_empty else shapely.Point(d * radius)
        beyond = params.trunk_overshoot_m
        ends.append(osm.node(p.x + d[0] * beyond, p.y + d[1] * beyond))
    for k, end in enumerate(ends):
        nodes = road_nodes(
            osm, rng, seat.node, end, wiggle=params.trunk_wiggle_m, spacing=params.node_spacing_m
        )
        tags = {"highway": "trunk", "ref": "G320", "name": "G320国道"}
        if k == 0:
            tags["maxspeed"] = "80"
        osm.way(nodes, tags)


def _county_roads(
    osm: Osm, rng: np.random.Generator, towns: list[Settlement], *, params: DemoParams
) -> list[int]:
    """Secondary county roads: a spanning tree of the seats plus a few loops; their nodes."""
    xy = np.array([[s.x, s.y] for s in towns])
    dist = distance_matrix(xy, xy)
    mst = minimum_spanning_tree(dist).tocoo()
    edges = zip(mst.row.tolist(), mst.col.tolist(), strict=True)
    pairs: set[tuple[int, int]] = {(min(i, j), max(i, j)) for i, j in edges}
    extra = sorted(
        (
            (dist[i, j], i, j)
            for i in range(len(towns))
            for j in range(i + 1, len(towns))
            if (i, j) not in pairs
        ),
    )
    for _, i, j in extra[: max(params.min_loops, len(towns) // params.towns_per_loop)]:
        pairs.add((i, j))
    out = []
    for k, (i, j) in enumerate(sorted(pairs)):
        nodes = road_nodes(
            osm,
            rng,
            towns[i].node,
            towns[j].node,
            wiggle=params.county_road_wiggle_m,
            spacing=params.node_spacing_m,
        )
        tags = {"highway": "secondary", "ref": f"X{101 + k}", "name": f"县道X{101 + k}"}
        if k % 3 == 0:
            tags["maxspeed"] = "60"
        osm.way(nodes, tags)
        out.extend(nodes)
    return out


def seat_streets(
    osm: Osm, rng: np.random.Generator, seat: Settlement, *, params: DemoParams
) -> None:
    """An irregular street mesh in the county seat, with a one-way ring."""
    n, step = params.seat_streets, params.seat_block_m
    grid = np.empty((n, n), dtype=int)
    for i in range(n):
        for j in range(n):
            if i == n // 2 and j == n // 2:
                grid[i, j] = seat.node
                continue
            jitter = rng.normal(0, params.seat_jitter_m, 2)
            grid[i, j] = osm.node(
                seat.x + (i - n // 2) * step + jitter[0], seat.y + (j - n // 2) * step + jitter[1]
            )
    street = 0
    for i in range(n):
        for j in range(n):
            for di, dj in ((1, 0), (0, 1)):
                if i + di < n and j + dj < n and rng.random() > params.street_gap_share:
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


def _village_roads(
    osm: Osm,
    rng: np.random.Generator,
    towns: list[Settlement],
    villages: list[Settlement],
    major: list[int],
    *,
    params: DemoParams,
) -> None:
    """Each village joins the nearest node of the ``major`` roads or a village already
    joined, working outwards from the township seats."""
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
        k_near = min(params.village_neighbours + 1, len(villages))  # itself first
        dists, near = vtree.query((v.x, v.y), k=k_near)
        dists, near = np.atleast_1d(dists), np.atleast_1d(near)
        reach_m = d_major
        for d, j in zip(dists[1:], near[1:], strict=True):
            # chains of village roads stay short, so every village is near a main road
            if (
                connected[j]
                and d < d_major * params.chain_shortcut
                and depth[j] + d < params.max_chain_m
            ):
                target, kind, reach_m = villages[j].node, "unclassified", depth[j] + d
                break
        depth[idx] = reach_m
        nodes = road_nodes(
            osm,
            rng,
            v.node,
            target,
            wiggle=params.village_road_wiggle_m,
            spacing=params.node_spacing_m,
        )
        tags = {"highway": kind, "name": f"{v.name}村道".replace("村村", "村")}
        if kind == "tertiary" and rng.random() < params.tertiary_maxspeed_share:
            tags["maxspeed"] = "40"
        osm.way(nodes, tags)
        connected[idx] = True
        joined = [
            (d, villages[j]) for d, j in zip(dists[2:], near[2:], strict=True) if connected[j]
        ]
        _loop_or_spur(osm, rng, v, joined, params=params)


def _loop_or_spur(
    osm: Osm,
    rng: np.random.Generator,
    v: Settlement,
    joined: list[tuple[float, Settlement]],
    *,
    params: DemoParams,
) -> None:
    """Sometimes a second link from village ``v`` to a neighbour already joined (nearest
    first, with its distance), making a loop; sometimes a dead-end spur into the fields."""
    roll = rng.random()
    if roll < params.village_loop_share:  # a second link makes loops
        for d, w in joined:
            if d < params.village_loop_max_m:
                wiggle = params.village_loop_wiggle_m
                nodes = road_nodes(
                    osm, rng, v.node, w.node, wiggle=wiggle, spacing=params.node_spacing_m
                )
                osm.way(nodes, {"highway": "unclassified"})
                break
    elif roll > 1 - params.spur_share:  # a dead-end spur into the fields
        ang = rng.uniform(0, 2 * np.pi)
        length = rng.uniform(*params.spur_length_m)
        end = osm.node(v.x + length * math.cos(ang), v.y + length * math.sin(ang))
        osm.way(
            road_nodes(
                osm, rng, v.node, end, wiggle=params.spur_wiggle_m, spacing=params.node_spacing_m
            ),
            {"highway": "unclassified", "surface": "unpaved"},
        )
