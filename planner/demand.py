"""Charging demand from a population raster."""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import CRS, Transformer

from planner import columns as C
from planner.config import DemandSection
from planner.datatypes import PopulationGrid
from planner.errors import DataError

logger = logging.getLogger(__name__)


def sessions_per_person(params: DemandSection) -> float:
    """Public charging sessions per resident per day under the adoption scenario."""
    return params.vehicles_per_1000 / 1000.0 * params.ev_adoption * params.sessions_per_ev_per_day


def demand_from_raster(
    grid: PopulationGrid,
    townships: gpd.GeoDataFrame,
    crs: CRS,
    *,
    params: DemandSection,
) -> gpd.GeoDataFrame:
    """Aggregate population cells to demand points of about ``cell_size_m``.

    Each demand point sits at the population-weighted centre of the raster cells in its
    aggregation cell, so a village's point falls on the village.

    Parameters
    ----------
    grid
        The population window (cells outside the county are 0).
    townships
        Township polygons in ``crs``, with ``township_id``.
    crs
        The metric CRS.
    params
        Cell size and the EV adoption scenario.

    Returns
    -------
    GeoDataFrame
        ``demand_id``, ``population``, ``evs``, ``sessions_day``, ``kwh_day``,
        ``township_id``, points in ``crs``.
    """
    rows, cols = np.nonzero(grid.values > 0)
    pop = grid.values[rows, cols]
    a, b, c, d, e, f = tuple(grid.transform)[:6]
    xs = a * (cols + 0.5) + b * (rows + 0.5) + c
    ys = d * (cols + 0.5) + e * (rows + 0.5) + f
    to_metric = Transformer.from_crs(grid.crs, crs, always_xy=True)
    mx, my = to_metric.transform(np.asarray(xs), np.asarray(ys))
    cs = params.cell_size_m
    cells = pd.DataFrame(
        {
            "gx": np.floor(np.asarray(mx) / cs).astype(np.int64),
            "gy": np.floor(np.asarray(my) / cs).astype(np.int64),
            "p": pop,
            "px": pop * mx,
            "py": pop * my,
        }
    )
    agg = cells.groupby(["gx", "gy"], sort=True)[["p", "px", "py"]].sum()
    small = agg["p"] < params.min_population
    if small.any():
        logger.info(
            "demand: %d cells with %.0f people in all fall below min_population=%g and are "
            "left out",
            int(small.sum()),
            float(agg.loc[small, "p"].sum()),
            params.min_population,
        )
    agg = agg[~small]
    if agg.empty:
        msg = "population raster: no cell reaches demand.min_population inside the county"
        raise DataError(msg)
    pts = gpd.GeoDataFrame(
        {C.POPULATION: np.round(agg["p"].to_numpy(), 2)},
        geometry=gpd.points_from_xy(agg["px"] / agg["p"], agg["py"] / agg["p"]),
        crs=crs,
    )
    pts[C.TOWNSHIP_ID] = assign_townships(pts, townships, label="demand points")
    pts.insert(0, C.DEMAND_ID, [f"d{i:05d}" for i in range(len(pts))])
    per_person = sessions_per_person(params)
    pts[C.EVS] = pts[C.POPULATION] * params.vehicles_per_1000 / 1000.0 * params.ev_adoption
    pts[C.SESSIONS_DAY] = pts[C.POPULATION] * per_person
    pts[C.KWH_DAY] = pts[C.SESSIONS_DAY] * params.kwh_per_session
    return pts


def assign_townships(
    points: gpd.GeoDataFrame, townships: gpd.GeoDataFrame, *, label: str
) -> np.ndarray:
    """Township id of each point; points in no township take the nearest one.

    Parameters
    ----------
    points, townships
        In the same CRS; townships with ``township_id``.
    label
        What the points are, for the warning.

    Returns
    -------
    ndarray
        One township id per point.
    """
    if len(points) == 0:
        return np.array([], dtype=object)
    joined = gpd.sjoin(
        points[[points.geometry.name]],
        townships[[C.TOWNSHIP_ID, townships.geometry.name]],
        how="left",
        predicate="within",
    )
    joined = joined[~joined.index.duplicated(keep="first")]
    ids = joined[C.TOWNSHIP_ID].reindex(points.index).to_numpy(dtype=object)
    missing = pd.isna(ids)
    if missing.any():
        near = gpd.sjoin_nearest(
            points.loc[missing, [points.geometry.name]],
            townships[[C.TOWNSHIP_ID, townships.geometry.name]],
        )
        near = near[~near.index.duplicated(keep="first")]
        ids[missing] = near[C.TOWNSHIP_ID].reindex(points.index[missing]).to_numpy()
        logger.warning(
            "%d %s lie in no township polygon and take the nearest township",
            int(missing.sum()),
            label,
        )
    return ids
