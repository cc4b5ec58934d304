"""The demo county's layout: its outline, settlements, townships and their codes.

Everything here is in metres around the county seat at (0, 0); :mod:`planner.demo.writers`
moves it to the county's real place.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import shapely
from scipy.spatial import cKDTree

from planner.demo.names import township_names, village_name
from planner.demo.params import DemoParams

_SHRINK = 0.85  # sample_spaced: spacing shrinks by this ...
_TRIES_PER_POINT = 50  # ... after this many draws per point
_VORONOI_MARGIN_M = 5000.0  # township cells reach this far beyond the county before clipping


@dataclass
class Settlement:
    """The county seat, a township seat or a village, in metric coordinates."""

    name: str
    pinyin: str
    kind: str  # county_seat | township_seat | village
    x: float
    y: float
    population: int
    township: int
    node: int = -1  # its OSM node, once roads are built


def county_polygon(
    rng: np.random.Generator, radius: float, *, params: DemoParams
) -> shapely.Polygon:
    """An irregular outline about ``radius`` metres around (0, 0), wider east-west."""
    theta = np.linspace(0, 2 * np.pi, params.outline_vertices, endpoint=False)
    r = np.ones_like(theta)
    for k, amp in params.outline_harmonics:
        r += amp * np.sin(k * theta + rng.uniform(0, 2 * np.pi))
    r += rng.normal(0, params.outline_noise, size=theta.size)
    r *= radius
    x = r * np.cos(theta) * params.outline_stretch
    return shapely.Polygon(np.column_stack([x, r * np.sin(theta)]))


def sample_spaced(  # noqa: PLR0913 - the sampler's options, keyword-only
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
    """Points in ``region`` at least ``spacing`` apart (spacing shrinks if crowded).

    Parameters
    ----------
    rng
        Random generator.
    n
        Number of points.
    region
        Polygon the points fall in.
    spacing
        Least distance between points; shrinks by 15 % after every ``50 n`` draws.
    avoid, avoid_m
        Points to keep at least ``avoid_m`` away from.
    attract, attract_sigma, attract_share
        A share ``attract_share`` of draws falls around one of ``attract``, normally
        spread with ``attract_sigma``; the rest uniformly in the region's bounds.

    Returns
    -------
    numpy.ndarray
        ``(n, 2)`` coordinates.
    """
    minx, miny, maxx, maxy = region.bounds
    pts: list[tuple[float, float]] = []
    cell = spacing  # hash grid for the spacing test; spacing only shrinks below it
    buckets: dict[tuple[int, int], list[tuple[float, float]]] = {}
    tries = 0
    shapely.prepare(region)
    avoid_tree = cKDTree(avoid) if avoid is not None and len(avoid) else None
    while len(pts) < n:
        tries += 1
        if tries % (_TRIES_PER_POINT * n) == 0:
            spacing *= _SHRINK
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


def settlements(
    rng: np.random.Generator,
    county: shapely.Polygon,
    scale: float,
    radius: float,
    *,
    params: DemoParams,
) -> tuple[list[Settlement], np.ndarray]:
    """The county seat, township seats and villages, with names and population.

    Parameters
    ----------
    rng
        Random generator.
    county
        County outline (metres, seat at the origin).
    scale
        Multiplies townships, villages and people.
    radius
        The county's radius in metres.
    params
        Generator knobs.

    Returns
    -------
    tuple of (list of Settlement, numpy.ndarray)
        Settlements (seats first, the county seat at 0) and the seats' coordinates.
    """
    p = params
    n_town = int(rng.integers(*p.townships))
    n_town = max(n_town, round(n_town * scale))
    seats = _township_seats(rng, county, n_town, radius, params=p)
    total = p.population * scale
    seat_pop = total * p.county_seat_share
    town_pops = rng.lognormal(0, p.township_pop_sigma, n_town - 1)
    town_pops = town_pops / town_pops.sum() * total * p.township_seats_share
    n_vil = round(int(rng.integers(*p.villages)) * scale)
    villages = _village_points(rng, county, seats, n_vil, radius, params=p)
    vil_pops = rng.lognormal(0, p.village_pop_sigma, n_vil)
    vil_pops = vil_pops / vil_pops.sum() * (total - seat_pop - town_pops.sum())
    town_of = np.asarray(cKDTree(seats).query(villages)[1])
    out = []
    for i, (name, pinyin) in enumerate(township_names(n_town)):
        out.append(
            Settlement(
                name=name,
                pinyin=pinyin,
                kind="county_seat" if i == 0 else "township_seat",
                x=seats[i, 0],
                y=seats[i, 1],
                population=round(seat_pop if i == 0 else town_pops[i - 1]),
                township=i,
            )
        )
    used: set[str] = set()
    for k in range(n_vil):
        name, pinyin = village_name(rng, used)
        out.append(
            Settlement(
                name=name,
                pinyin=pinyin,
                kind="village",
                x=villages[k, 0],
                y=villages[k, 1],
                population=max(p.village_min_pop, round(vil_pops[k])),
                township=int(town_of[k]),
            )
        )
    return out, seats


def _township_seats(
    rng: np.random.Generator,
    county: shapely.Polygon,
    n_town: int,
    radius: float,
    *,
    params: DemoParams,
) -> np.ndarray:
    """The county seat at the origin, then township seats spread away from it."""
    inner = county.buffer(-params.seat_margin * radius)
    seats = sample_spaced(
        rng,
        n_town - 1,
        inner,
        params.seat_spacing * radius / math.sqrt(n_town / params.seat_spacing_townships),
        avoid=np.array([[0.0, 0.0]]),
        avoid_m=params.seat_clearance * radius,
    )
    return np.vstack([[0.0, 0.0], seats])


def _village_points(
    rng: np.random.Generator,
    county: shapely.Polygon,
    seats: np.ndarray,
    n_vil: int,
    radius: float,
    *,
    params: DemoParams,
) -> np.ndarray:
    """Villages: spread out, some clustered around the seats, none right beside one."""
    return sample_spaced(
        rng,
        n_vil,
        county.buffer(-params.village_margin_m),
        params.village_spacing_m,
        avoid=seats,
        avoid_m=params.village_clearance_m,
        attract=seats,
        attract_sigma=params.village_cluster_sigma * radius,
        attract_share=params.village_cluster_share,
    )


def townships(
    county: shapely.Polygon, seats: np.ndarray, *, params: DemoParams
) -> list[shapely.Polygon]:
    """Township polygons tiling the county: the Voronoi cells of their seats."""
    cells = shapely.voronoi_polygons(
        shapely.MultiPoint(seats), extend_to=county.buffer(_VORONOI_MARGIN_M), ordered=True
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
    return [shapely.make_valid(p.simplify(params.township_simplify_m)) for p in polys]


def township_codes(towns: list[Settlement], county_code: str) -> list[str]:
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


def outside_villages(
    rng: np.random.Generator, county: shapely.Polygon, scale: float, *, params: DemoParams
) -> list[tuple[float, float, float]]:
    """Villages of the neighbouring counties just beyond the border: x, y, people.

    They are in the population raster only, so reading it must clip them away.
    """
    ring_out = county.buffer(params.outside_ring_m).exterior
    outside = []
    for _ in range(int(params.outside_villages * math.sqrt(scale))):
        p = ring_out.interpolate(rng.uniform(0, ring_out.length))
        outside.append((p.x, p.y, float(rng.integers(*params.outside_pop))))
    return outside
