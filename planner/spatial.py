"""Spatial helpers shared by the pipeline stages: which township a point lies in."""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd

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
