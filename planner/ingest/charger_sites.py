"""Existing chargers listed twice: an operator table's rows at the place of an OSM charger
or of an earlier row are the same site, counted once."""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from planner import columns as C
from planner.errors import counted

logger = logging.getLogger(__name__)

#: Sites listed in a warning before "and N more".
_SHOWN = 10


def add_chargers(
    known: gpd.GeoDataFrame,
    rows: gpd.GeoDataFrame,
    *,
    crs: CRS,
    within_m: float,
    label: str,
) -> gpd.GeoDataFrame:
    """The chargers ``known`` (OSM's, earlier tables') with a table's ``rows`` added, each
    site once.

    A row within ``within_m`` of an earlier row of the same table repeats it and is left
    out; a known charger within ``within_m`` of a row is the same site and is replaced by
    the row (the operator's table knows its sockets). Both are warnings naming the rows
    and sites, so that two stations that really stand that close can be told apart (set
    ``inputs.chargers_same_site_m`` lower).

    Parameters
    ----------
    known
        Chargers so far (``osm_id``, ``name``, ``operator``, ``sockets``), any CRS.
    rows
        The table's chargers, in its order, ``osm_id`` being ``file#row``.
    crs
        A metric CRS for the distances.
    within_m
        Chargers closer than this are one site (0: every row is kept).
    label
        The table, for the warnings.

    Returns
    -------
    geopandas.GeoDataFrame
        ``known`` without the replaced chargers, then the rows kept, in ``known``'s CRS.
    """
    assert known.crs is not None
    rows = rows.to_crs(known.crs)
    if rows.geometry.name != known.geometry.name:
        rows = rows.rename_geometry(known.geometry.name)
    if within_m > 0 and len(rows):
        here = rows.to_crs(crs).geometry.to_numpy()
        repeat = _repeats(here, within_m)
        _warn_repeats(rows, repeat, within_m, label)
        rows, here = rows[~repeat], here[~repeat]
        if len(known):
            tree = shapely.STRtree(here)
            old, new = tree.query(
                known.to_crs(crs).geometry.to_numpy(), predicate="dwithin", distance=within_m
            )
            if len(old):
                _warn_replaced(known, rows, old, new, within_m, label)
                known = known.drop(index=known.index[np.unique(old)])
    both = pd.concat([known, rows], ignore_index=True)
    return gpd.GeoDataFrame(both, geometry=known.geometry.name, crs=known.crs)


def _repeats(points: np.ndarray, within_m: float) -> np.ndarray:
    """Per point: whether it lies within ``within_m`` of an earlier point that is kept."""
    a, b = shapely.STRtree(points).query(points, predicate="dwithin", distance=within_m)
    earlier = a > b  # pairs (later, earlier)
    repeat = np.zeros(len(points), dtype=bool)
    for later, first in sorted(zip(a[earlier].tolist(), b[earlier].tolist(), strict=True)):
        if not repeat[first]:
            repeat[later] = True
    return repeat


def _row_names(table: gpd.GeoDataFrame, at: np.ndarray) -> list[str]:
    out = []
    for i in at.tolist():
        ident, name = table[C.OSM_ID].iloc[i], table[C.NAME].iloc[i]
        out.append(f"{ident} ({name})" if isinstance(name, str) and name else str(ident))
    return out


def _listed(items: list[str]) -> str:
    more = len(items) - _SHOWN
    return ", ".join(items[:_SHOWN]) + (f" and {more} more" if more > 0 else "")


def _warn_repeats(rows: gpd.GeoDataFrame, repeat: np.ndarray, within_m: float, label: str) -> None:
    if not repeat.any():
        return
    logger.warning(
        "%s: %s within %g m of an earlier row, counted once (the same site listed again): %s",
        label,
        counted(int(repeat.sum()), "charger row"),
        within_m,
        _listed(_row_names(rows, np.flatnonzero(repeat))),
    )


def _warn_replaced(
    known: gpd.GeoDataFrame,
    rows: gpd.GeoDataFrame,
    old: np.ndarray,
    new: np.ndarray,
    within_m: float,
    label: str,
) -> None:
    first: dict[int, int] = {}
    for o, n in zip(old.tolist(), new.tolist(), strict=True):
        first.setdefault(o, n)
    pairs = [
        f"{a} by {b}"
        for a, b in zip(
            _row_names(known, np.array(list(first))),
            _row_names(rows, np.array(list(first.values()))),
            strict=True,
        )
    ]
    logger.warning(
        "%s: %s within %g m of a row of the table, taken as the same site and replaced by "
        "the row: %s",
        label,
        counted(len(first), "charger listed earlier", "chargers listed earlier"),
        within_m,
        _listed(pairs),
    )
