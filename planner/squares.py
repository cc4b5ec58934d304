"""Squares of demand: raster cells merged at ``demand.resolution_m``, points merged coarser.

Full-resolution demand (``demand.resolution_m: 100``, 10^5 points and more) is kept as it
is for the models and the GIS exports; the maps draw it merged into squares
(:func:`display_squares`), and the repair vans visit the 1 km squares as villages
(:func:`merge_squares` in :mod:`planner.tours.stage`). Squares are aligned on the
metric CRS's origin, as the demand's own aggregation (:func:`planner.demand.demand_from_raster`),
so 100 m points merge into exactly the 1 km squares their raster cells fall in.
:func:`demand_resolution` turns ``demand.resolution_m`` into the side of the squares a
population raster's cells are merged into.
"""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import CRS, Transformer

from planner import columns as C
from planner.config.demand import Resolution
from planner.datatypes import PopulationGrid
from planner.i18n import Lang

logger = logging.getLogger(__name__)

#: A resolution this much below the raster's cell size still counts as that size
#: (projections stretch a 100 m cell to 100.04 m, say).
_CELL_TOLERANCE = 0.005

#: Sides (m) tried in turn for a map's demand squares, finest first.
DISPLAY_SIDES_M = (250.0, 500.0, 1000.0, 2000.0, 5000.0, 10_000.0, 20_000.0, 50_000.0)

#: Columns summed over a square's points (where present).
SUMMED = (C.POPULATION, C.EVS, C.SESSIONS_DAY, C.KWH_DAY)

#: The count of demand points a merged square holds.
POINTS = "points"


def cell_xy(
    grid: PopulationGrid, cols: np.ndarray, rows: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Raster coordinates of (fractional) column and row positions of ``grid``."""
    a, b, c, d, e, f = tuple(grid.transform)[:6]
    return a * cols + b * rows + c, d * cols + e * rows + f


def raster_cell_m(grid: PopulationGrid, crs: CRS) -> tuple[float, float]:
    """Width and height in metres of a raster cell at the window's centre, in ``crs``.

    Parameters
    ----------
    grid
        The population window (any CRS, degrees too).
    crs
        The metric CRS.

    Returns
    -------
    tuple of float
        The lengths of a cell's column and row steps.
    """
    n_rows, n_cols = grid.values.shape
    col, row = n_cols / 2.0, n_rows / 2.0
    xs, ys = cell_xy(grid, np.array([col, col + 1, col]), np.array([row, row, row + 1]))
    to_metric = Transformer.from_crs(grid.crs, crs, always_xy=True)
    mx, my = (np.asarray(v, dtype=float) for v in to_metric.transform(xs, ys))
    width = float(np.hypot(mx[1] - mx[0], my[1] - my[0]))
    height = float(np.hypot(mx[2] - mx[0], my[2] - my[0]))
    return width, height


def resolution_text(resolution: Resolution) -> str:
    """``demand.resolution_m`` as written in messages: ``100`` or ``native``."""
    return resolution if isinstance(resolution, str) else f"{resolution:g}"


def demand_resolution(grid: PopulationGrid, crs: CRS, resolution: Resolution) -> float | None:
    """The side (m) of the squares demand is aggregated to; None for the raster's cells.

    Parameters
    ----------
    grid
        The population window.
    crs
        The metric CRS.
    resolution
        ``demand.resolution_m``: metres, or ``"native"``.

    Returns
    -------
    float or None
        ``resolution`` in metres; None for ``"native"`` and for a resolution finer than
        the raster's cells (a warning names both; the raster's cells are used).
    """
    if resolution == "native":
        return None
    side = float(resolution)
    width, height = raster_cell_m(grid, crs)
    if side < max(width, height) * (1.0 - _CELL_TOLERANCE):
        logger.warning(
            "demand.resolution_m=%g is finer than the population raster's cells (about "
            "%.0f x %.0f m): one demand point per raster cell is used instead (as with "
            "'native'); set resolution_m to %.0f or more, or 'native', to silence this",
            side,
            width,
            height,
            np.ceil(max(width, height)),
        )
        return None
    return side


def square_keys(points: gpd.GeoDataFrame, side: float) -> np.ndarray:
    """The square of side ``side`` (m) each point falls in, as one int64 key per point.

    Parameters
    ----------
    points
        Points in a metric CRS.
    side
        The squares' side in the CRS's units (metres).

    Returns
    -------
    ndarray
        Equal keys for points in the same square.
    """
    gx = np.floor(points.geometry.x.to_numpy() / side).astype(np.int64)
    gy = np.floor(points.geometry.y.to_numpy() / side).astype(np.int64)
    return gx * (1 << 31) + gy  # counties span far fewer than 2**31 squares a side


def merge_squares(
    points: gpd.GeoDataFrame, side: float, *, also_sum: tuple[str, ...] = ()
) -> gpd.GeoDataFrame:
    """Demand points merged into squares of side ``side`` (m), one row per square.

    Parameters
    ----------
    points
        Demand points in a metric CRS with ``demand_id``, ``population`` and
        ``township_id``; ``evs``, ``sessions_day``, ``kwh_day`` and ``covered_share``
        when present.

    side
        The squares' side (m).
    also_sum
        Further columns summed per square.

    Returns
    -------
    GeoDataFrame
        Per square: the sums of ``population``, ``evs``, ``sessions_day`` and
        ``kwh_day``; ``covered_share`` as the share of the square's sessions covered;
        ``demand_id``, ``township_id`` (and ``name``) of its most populous point;
        ``points``, how many points it holds; the geometry at the population-weighted
        centre (the plain centre where nobody lives). Ordered by square.
    """
    keys = square_keys(points, side)
    order = np.lexsort((-points[C.POPULATION].to_numpy(dtype=float), keys))
    sorted_keys = keys[order]
    first = np.flatnonzero(np.r_[True, sorted_keys[1:] != sorted_keys[:-1]])
    counts = np.diff(np.r_[first, len(keys)])
    head = points.iloc[order[first]]  # each square's most populous point
    pop = points[C.POPULATION].to_numpy(dtype=float)[order]
    x, y = points.geometry.x.to_numpy()[order], points.geometry.y.to_numpy()[order]
    people = np.add.reduceat(pop, first)
    with np.errstate(invalid="ignore", divide="ignore"):
        cx = np.where(people > 0, np.add.reduceat(pop * x, first) / people, 0.0)
        cy = np.where(people > 0, np.add.reduceat(pop * y, first) / people, 0.0)
    plain = people <= 0
    cx[plain] = np.add.reduceat(x, first)[plain] / counts[plain]
    cy[plain] = np.add.reduceat(y, first)[plain] / counts[plain]
    out = pd.DataFrame({C.DEMAND_ID: head[C.DEMAND_ID].to_numpy()})
    for col in (*SUMMED, *also_sum):
        if col in points:
            out[col] = np.add.reduceat(points[col].to_numpy(dtype=float)[order], first)
    if C.COVERED_SHARE in points and C.SESSIONS_DAY in points:
        out[C.COVERED_SHARE] = _covered_share(points, order, first)
    for col in (C.TOWNSHIP_ID, C.NAME):
        if col in points:
            out[col] = head[col].to_numpy()
    out[POINTS] = counts
    return gpd.GeoDataFrame(out, geometry=gpd.points_from_xy(cx, cy), crs=points.crs)


def _covered_share(points: gpd.GeoDataFrame, order: np.ndarray, first: np.ndarray) -> np.ndarray:
    """Share of each square's sessions covered (the points' mean share without sessions)."""
    sessions = points[C.SESSIONS_DAY].to_numpy(dtype=float)[order]
    share = points[C.COVERED_SHARE].to_numpy(dtype=float)[order]
    share = np.nan_to_num(share, nan=0.0)
    total = np.add.reduceat(sessions, first)
    counts = np.diff(np.r_[first, len(order)])
    mean = np.add.reduceat(share, first) / counts
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, np.add.reduceat(sessions * share, first) / total, mean)


def display_side(points: gpd.GeoDataFrame, max_points: int) -> float | None:
    """The side of the squares a map draws ``points`` merged into; None to draw them all.

    Parameters
    ----------
    points
        Demand points in a metric CRS.
    max_points
        The most points a map draws one by one.

    Returns
    -------
    float or None
        None when there are at most ``max_points`` points; else the finest side of
        :data:`DISPLAY_SIDES_M` that leaves at most ``max_points`` squares (the coarsest
        when none does).
    """
    if len(points) <= max_points:
        return None
    for side in DISPLAY_SIDES_M:
        if len(np.unique(square_keys(points, side))) <= max_points:
            return side
    return DISPLAY_SIDES_M[-1]


def display_squares(
    points: gpd.GeoDataFrame, max_points: int, *, also_sum: tuple[str, ...] = ()
) -> tuple[gpd.GeoDataFrame, float | None]:
    """Demand as a map draws it: every point, or squares when there are too many.

    Parameters
    ----------
    points
        Demand points in a metric CRS (see :func:`merge_squares`).
    max_points
        The most points a map draws one by one (``report.map_demand_points``).
    also_sum
        Further columns summed per square (see :func:`merge_squares`).

    Returns
    -------
    GeoDataFrame, float or None
        The points or the squares (with ``points``), and the squares' side (None: the
        points as they are).
    """
    side = display_side(points, max_points)
    if side is None:
        return points, None
    merged = merge_squares(points, side, also_sum=also_sum)
    logger.info(
        "maps: %d demand points drawn as %d squares of %g m (the exports keep every point)",
        len(points),
        len(merged),
        side,
    )
    return merged, side


def side_text(side: float, lang: Lang) -> str:
    """A square's side as printed in ``lang``: ``500 m``, ``1 km``, ``2.5 km``."""
    if side >= 1000:
        return lang("{n} km", n=f"{side / 1000:g}")
    return lang("{n} m", n=f"{side:g}")
