"""Grid data: the substation headroom table joined to substations."""

from __future__ import annotations

import logging
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from planner import columns as C
from planner.crs import CrsLike
from planner.errors import check_input_file, data_error
from planner.ingest.tables import numeric_column, read_csv_text, require_columns

logger = logging.getLogger(__name__)

#: Power factor used to turn rated kVA into kW.
POWER_FACTOR = 0.9


def read_substation_table(
    path: str | Path,
    *,
    id_field: str,
    rated_kva_field: str,
    peak_load_kw_field: str,
    encoding: str | None = None,
    keep: tuple[str, ...] = (),
) -> pd.DataFrame:
    """Read the headroom table (one row per substation).

    Parameters
    ----------
    path
        CSV file.
    id_field, rated_kva_field, peak_load_kw_field
        Column names.
    encoding
        Text encoding; UTF-8 or GBK is detected when None.
    keep
        Further columns to pass through (e.g. coordinates).

    Returns
    -------
    DataFrame
        ``substation_id``, ``rated_kva``, ``peak_load_kw``.
    """
    path = Path(path)
    check_input_file(path, "substation table", hint="check inputs.substations")
    table = read_csv_text(path, encoding)
    require_columns(table, path, (id_field, rated_kva_field, peak_load_kw_field, *keep))
    if table.empty:
        raise data_error(path, "table has no rows")
    out = pd.DataFrame({C.SUBSTATION_ID: table[id_field].astype(str).str.strip()})
    dup = out[C.SUBSTATION_ID].duplicated()
    if dup.any():
        row = int(dup.to_numpy().nonzero()[0][0])
        raise data_error(
            path,
            f"duplicate substation id {out[C.SUBSTATION_ID].iloc[row]!r}",
            field=id_field,
            row=row + 2,
            hint="row numbers count the header as row 1",
        )
    for field, col in ((rated_kva_field, C.RATED_KVA), (peak_load_kw_field, C.PEAK_LOAD_KW)):
        out[col] = numeric_column(table, path, field, non_negative=True)
    for field in keep:
        out[field] = table[field].to_numpy()
    return out


def join_headroom(substations: gpd.GeoDataFrame, table: pd.DataFrame | None) -> gpd.GeoDataFrame:
    """Attach rated kVA, peak load and headroom (kW) to substations by ``ref``.

    Parameters
    ----------
    substations
        OSM substations with a ``ref`` column.
    table
        The headroom table, or None.

    Returns
    -------
    GeoDataFrame
        Substations with ``substation_id``, ``rated_kva``, ``peak_load_kw``,
        ``headroom_kw`` (NaN where the table has no row).
    """
    subs = substations.copy()
    subs[C.SUBSTATION_ID] = subs["ref"].fillna(subs["osm_id"]).astype(str)
    if table is None:
        subs[C.RATED_KVA] = np.nan
        subs[C.PEAK_LOAD_KW] = np.nan
    else:
        subs = subs.merge(table, on=C.SUBSTATION_ID, how="left")
        unmatched = int(subs[C.RATED_KVA].isna().sum())
        if unmatched:
            logger.warning("%d substations have no row in the headroom table", unmatched)
        unused = len(set(table[C.SUBSTATION_ID]) - set(subs[C.SUBSTATION_ID]))
        if unused:
            logger.warning("%d headroom table rows match no substation", unused)
    subs[C.HEADROOM_KW] = subs[C.RATED_KVA] * POWER_FACTOR - subs[C.PEAK_LOAD_KW]
    return gpd.GeoDataFrame(subs, geometry="geometry", crs=substations.crs)


def join_headroom_nearest(
    substations: gpd.GeoDataFrame,
    table: gpd.GeoDataFrame,
    crs: CrsLike,
    *,
    max_distance_m: float,
) -> gpd.GeoDataFrame:
    """Attach table rows (points) to the nearest substation within ``max_distance_m``.

    Parameters
    ----------
    substations
        Substations (any CRS) with ``osm_id`` and ``ref``.
    table
        Points with ``substation_id``, ``rated_kva``, ``peak_load_kw``.
    crs
        A metric CRS to measure distances in.
    max_distance_m
        Join radius.

    Returns
    -------
    GeoDataFrame
        Substations with the table's figures and ``headroom_kw``; table rows near no
        substation are added as substations of their own (counted in the log).
    """
    subs = substations.to_crs(crs).reset_index(drop=True)
    pts = table.to_crs(crs).reset_index(drop=True)
    subs[C.SUBSTATION_ID] = subs["ref"].fillna(subs["osm_id"]).astype(str)
    subs[C.RATED_KVA] = np.nan
    subs[C.PEAK_LOAD_KW] = np.nan
    added = []
    if len(subs):
        idx, dist = shapely.STRtree(subs.geometry.to_numpy()).query_nearest(
            pts.geometry.to_numpy(), return_distance=True, all_matches=False
        )
        nearest = np.full(len(pts), -1)
        ok = dist <= max_distance_m
        nearest[idx[0][ok]] = idx[1][ok]
    else:
        nearest = np.full(len(pts), -1)
    for k, j in enumerate(nearest):
        row = pts.iloc[k]
        if j < 0:
            added.append(row)
            continue
        subs.loc[j, C.SUBSTATION_ID] = row[C.SUBSTATION_ID]
        subs.loc[j, C.RATED_KVA] = row[C.RATED_KVA]
        subs.loc[j, C.PEAK_LOAD_KW] = row[C.PEAK_LOAD_KW]
    if added:
        extra = gpd.GeoDataFrame(added, crs=crs)
        extra["osm_id"] = extra[C.SUBSTATION_ID]
        extra["ref"] = extra[C.SUBSTATION_ID]
        subs = gpd.GeoDataFrame(pd.concat([subs, extra], ignore_index=True), crs=crs)
        logger.warning(
            "%d headroom table rows are more than %.0f m from any substation: added as "
            "substations at their own positions",
            len(added),
            max_distance_m,
        )
    unmatched = int(subs[C.RATED_KVA].isna().sum())
    if unmatched:
        logger.warning("%d substations have no row in the headroom table", unmatched)
    subs[C.HEADROOM_KW] = subs[C.RATED_KVA] * POWER_FACTOR - subs[C.PEAK_LOAD_KW]
    assert substations.crs is not None  # the to_crs(crs) above needs it
    return subs.to_crs(substations.crs)
