"""Spatial helpers shared by the pipeline stages: which township a point lies in, the
county's outline from its townships."""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from planner import columns as C

logger = logging.getLogger(__name__)


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


#: Gaps between townships thinner than this (m) are no part of the county's outline.
SLIVER_M = 1.0
#: Holes in the townships' union smaller than this share of its area are gaps, not
#: enclaves of another county.
HOLE_SHARE = 1e-3


def county_outline(townships: gpd.GeoSeries) -> shapely.Geometry:
    """The county as its townships' union, without the slivers and small holes that
    township layers digitised apart leave between them (metric CRS).

    Parameters
    ----------
    townships
        Township polygons in a metric CRS.

    Returns
    -------
    shapely.Geometry
        A (Multi)Polygon whose only holes are at least :data:`HOLE_SHARE` of its area.
    """
    union = shapely.union_all(shapely.make_valid(townships.to_numpy()))
    closed = shapely.buffer(
        shapely.buffer(union, SLIVER_M, join_style="mitre"), -SLIVER_M, join_style="mitre"
    )
    total = shapely.area(closed)
    parts = []
    for poly in shapely.get_parts(closed):
        if not isinstance(poly, shapely.Polygon):
            continue
        holes = [r for r in poly.interiors if shapely.Polygon(r).area >= HOLE_SHARE * total]
        parts.append(shapely.Polygon(poly.exterior, holes))
    return shapely.MultiPolygon(parts) if len(parts) > 1 else parts[0]
