"""Checks that the inputs cover the county: townships in it, roads to them, points near it.

A layer that does not fit the county is bad input: said here, naming the file, rather
than found later as an infeasible model or a repair point sited beside a stray row.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from planner.datatypes import RoadWays
from planner.errors import counted, data_error
from planner.ingest.boundaries import town_label
from planner.ingest.sheets import TABLE_ROW

logger = logging.getLogger(__name__)

#: A township with less of its area than this inside the county polygon stops the run.
TOWNSHIP_INSIDE_MIN = 0.5
#: Townships (or rows) named in a message; the rest are counted.
NAMED = 5


def check_townships_inside(
    county: gpd.GeoDataFrame,
    townships: gpd.GeoDataFrame,
    source: str | Path,
    *,
    layer: str | None = None,
) -> None:
    """Stop on townships that lie mostly outside the county polygon.

    Parameters
    ----------
    county, townships
        In one metric CRS; townships with ``township_id`` and ``township_name``.
    source, layer
        The boundary file and its township layer, for the message.

    Raises
    ------
    DataError
        A township has less than :data:`TOWNSHIP_INSIDE_MIN` of its area in the county.
    """
    geoms = shapely.make_valid(townships.geometry.to_numpy())
    inside = shapely.area(shapely.intersection(geoms, county.geometry.iloc[0]))
    share = inside / np.maximum(shapely.area(geoms), 1e-9)
    out = np.flatnonzero(share < TOWNSHIP_INSIDE_MIN)
    if len(out) == 0:
        return
    names = [f"{town_label(townships, i)}, {share[i]:.0%} inside" for i in out[:NAMED]]
    more = f" and {len(out) - NAMED} more" if len(out) > NAMED else ""
    raise data_error(
        source,
        f"{counted(len(out), 'township')} {'lies' if len(out) == 1 else 'lie'} outside the "
        f"county polygon: {'; '.join(names)}{more}",
        layer=layer,
        hint="is the township layer the county's? Remove the townships of other counties",
    )


def check_extract_covers(
    roads: RoadWays,
    townships: gpd.GeoDataFrame,
    source: str | Path,
    *,
    layers: Sequence[gpd.GeoDataFrame] = (),
) -> None:
    """Stop on townships that lie wholly outside the area the OSM extract holds data for.

    The extract's extent is the box around its roads and its other layers (settlements,
    outlets, power assets). A township outside it is not in the extract (a partial or
    wrong extract); a township inside it without roads is mapped without roads, left to
    the later warnings and the model's diagnosis.

    Parameters
    ----------
    roads
        The drivable ways read (lon/lat).
    townships
        In EPSG:4326, with ``township_id`` and ``township_name``.
    source
        The extract, for the message.
    layers
        The extract's other layers, in EPSG:4326.

    Raises
    ------
    DataError
        Some townships lie outside the extract's extent.
    """
    boxes = [
        b for b in (layer.total_bounds for layer in layers if len(layer)) if np.isfinite(b).all()
    ]
    if len(roads.lon):
        boxes.append(np.array([roads.lon.min(), roads.lat.min(), roads.lon.max(), roads.lat.max()]))
    if not boxes:
        return  # the reader already refuses an extract without roads
    b = np.vstack(boxes)
    w, s, e, n = b[:, 0].min(), b[:, 1].min(), b[:, 2].max(), b[:, 3].max()
    out = np.flatnonzero(
        ~shapely.intersects(townships.geometry.to_numpy(), shapely.box(w, s, e, n))
    )
    if len(out) == 0:
        return
    names = ", ".join(town_label(townships, i) for i in out[:NAMED])
    more = f" and {len(out) - NAMED} more" if len(out) > NAMED else ""
    raise data_error(
        source,
        f"the extract does not cover the county: {len(out)} of its townships "
        f"{'lies' if len(out) == 1 else 'lie'} outside "
        f"the extract's data (lon {w:.3f}-{e:.3f}, lat {s:.3f}-{n:.3f}): {names}{more}",
        hint="use an extract that covers the whole county",
    )


def keep_near(
    points: gpd.GeoDataFrame,
    area: BaseGeometry,
    *,
    label: str | Path,
    role: str,
    distance_m: float,
    header: bool,
) -> gpd.GeoDataFrame:
    """The rows of a table of points that lie in ``area`` (the county and a margin).

    Parameters
    ----------
    points
        In EPSG:4326, in the file's row order.
    area
        The county polygon widened by ``distance_m``, in EPSG:4326.
    label, role
        The file and what its rows are, for the messages.
    distance_m
        The margin, for the messages.
    header
        Whether the file has a header row (a table) or counts features (a layer).

    Returns
    -------
    GeoDataFrame
        The rows near the county; the others are left out with a warning naming them.

    Raises
    ------
    DataError
        No row lies near the county (wrong coordinates or CRS).
    """
    if len(points) == 0:
        return points
    near = shapely.intersects(points.geometry.to_numpy(), area)
    if near.all():
        return points
    far = np.flatnonzero(~near)
    unit, note = ("row", "the header is row 1") if header else ("feature", "counted from 1")
    unit += "s" if len(far) > 1 else ""
    if TABLE_ROW in points.columns:
        numbers = points[TABLE_ROW].to_numpy()[far[:NAMED]]
    else:
        numbers = far[:NAMED] + (2 if header else 1)
    rows = ", ".join(str(n) for n in numbers)
    more = f" and {len(far) - NAMED} more" if len(far) > NAMED else ""
    if not near.any():
        x, y = shapely.get_x(points.geometry.iloc[0]), shapely.get_y(points.geometry.iloc[0])
        raise data_error(
            label,
            f"none of the {len(points)} {role} lies within {distance_m:.0f} m of the county "
            f"(the first is at lon {x:.5f}, lat {y:.5f})",
            hint="check the coordinate columns and the crs",
        )
    logger.warning(
        "%s: %d of %d %s lie more than %.0f m outside the county and are left out: %s %s%s "
        "(%s; check their coordinates)",
        label,
        len(far),
        len(points),
        role,
        distance_m,
        unit,
        rows,
        more,
        note,
    )
    return points[near].reset_index(drop=True)
