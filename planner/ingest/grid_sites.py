"""The grid company's substations added to OSM's, each substation once.

A grid team's layer of substations is the authority on them: an OSM substation at the
same site (within ``inputs.substations_same_site_m``) or with the same id is the same
substation and gives way to the layer's row, so that one substation is not drawn twice,
fed twice or given two headrooms. Two rows of the layer with one id are an error.
"""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from planner import columns as C
from planner.errors import data_error
from planner.ingest.grid import id_key

logger = logging.getLogger(__name__)

#: Replaced substations named in a warning, at most.
_SHOWN = 8


def add_substations(
    known: gpd.GeoDataFrame,
    rows: gpd.GeoDataFrame,
    *,
    crs: CRS,
    within_m: float,
    label: str,
) -> gpd.GeoDataFrame:
    """The substations ``known`` (OSM's, earlier layers') with a grid layer's ``rows``.

    Parameters
    ----------
    known
        Substations so far (``osm_id``, ``ref``, ``name``, ``voltage_kv``), any CRS.
    rows
        The layer's substations, ``osm_id`` being ``file#row``, ``ref`` their id.
    crs
        A metric CRS for the distances.
    within_m
        A known substation this close to a row is the same one (0: only the same id).
    label
        The layer, for the messages.

    Returns
    -------
    geopandas.GeoDataFrame
        ``known`` without the substations the rows replace, then the rows, in
        ``known``'s CRS.

    Raises
    ------
    DataError
        Two rows of the layer have the same id.
    """
    assert known.crs is not None
    rows = rows.to_crs(known.crs)
    if rows.geometry.name != known.geometry.name:
        rows = rows.rename_geometry(known.geometry.name)
    keys = rows["ref"].map(lambda v: id_key(v) if isinstance(v, str) and v else None)
    twice = keys.notna() & keys.duplicated(keep=False)
    if twice.any():
        first = keys[twice].iloc[0]
        at = rows.loc[twice & (keys == first), C.OSM_ID].tolist()
        raise data_error(
            label,
            f"substation id {rows.loc[twice, 'ref'].iloc[0]!r} is given to {len(at)} "
            f"substations ({', '.join(map(str, at))})",
            hint="give each substation its own id: one headroom row is one substation",
        )
    same = np.zeros(len(known), dtype=bool)
    by = np.full(len(known), -1)
    if len(known) and len(rows):
        own = known["ref"].fillna(known[C.OSM_ID]).map(id_key).to_numpy()
        lookup = {k: i for i, k in enumerate(keys.tolist()) if k is not None}
        for i, k in enumerate(own):
            if k in lookup:
                same[i], by[i] = True, lookup[k]
        if within_m > 0:
            old, new = shapely.STRtree(rows.to_crs(crs).geometry.to_numpy()).query(
                known.to_crs(crs).geometry.to_numpy(), predicate="dwithin", distance=within_m
            )
            for o, n in zip(old.tolist(), new.tolist(), strict=True):
                if not same[o]:
                    same[o], by[o] = True, n
    if same.any():
        _warn_replaced(known, rows, np.flatnonzero(same), by, within_m, label)
    both = pd.concat([known[~same], rows], ignore_index=True)
    return gpd.GeoDataFrame(both, geometry=known.geometry.name, crs=known.crs)


def _name(table: gpd.GeoDataFrame, i: int) -> str:
    ident = table["ref"].iloc[i]
    if not isinstance(ident, str) or not ident:
        ident = table[C.OSM_ID].iloc[i]
    name = table[C.NAME].iloc[i] if C.NAME in table.columns else None
    return f"{ident} ({name})" if isinstance(name, str) and name and name != ident else str(ident)


def _warn_replaced(
    known: gpd.GeoDataFrame,
    rows: gpd.GeoDataFrame,
    replaced: np.ndarray,
    by: np.ndarray,
    within_m: float,
    label: str,
) -> None:
    pairs = [f"{_name(known, int(i))} by {_name(rows, int(by[i]))}" for i in replaced]
    more = len(pairs) - _SHOWN
    logger.warning(
        "%s: %d substations listed earlier (OSM's) have the id of a row of the layer or lie "
        "within %g m of one: taken as the same substation and replaced by the row: %s",
        label,
        len(pairs),
        within_m,
        ", ".join(pairs[:_SHOWN]) + (f" and {more} more" if more > 0 else ""),
    )
