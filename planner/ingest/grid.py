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
from planner.ingest.tables import numeric_column, read_table, require_columns

logger = logging.getLogger(__name__)

#: Power factor used to turn rated kVA into kW.
POWER_FACTOR = 0.9
#: Column of a located headroom table: the row's number in its file (the header is 1).
TABLE_ROW = "table_row"


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
        CSV or Excel (``.xlsx``, ``.xls``; the first sheet) file.
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
    table = read_table(path, encoding)
    require_columns(table, path, (id_field, rated_kva_field, peak_load_kw_field, *keep))
    if table.empty:
        raise data_error(path, "table has no rows")
    out = pd.DataFrame({C.SUBSTATION_ID: table[id_field].astype(str).str.strip()})
    blank = out[C.SUBSTATION_ID] == ""
    if blank.any():
        raise data_error(
            path,
            f"substation id is blank ({int(blank.sum())} rows like it)",
            field=id_field,
            row=int(blank.to_numpy().nonzero()[0][0]) + 2,
            hint="give every row its substation's id; row numbers count the header as row 1",
        )
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
    label: str | Path = "headroom table",
) -> gpd.GeoDataFrame:
    """Attach table rows (points) to the nearest substation within ``max_distance_m``.

    Parameters
    ----------
    substations
        Substations (any CRS) with ``osm_id`` and ``ref``.
    table
        Points with ``substation_id``, ``rated_kva``, ``peak_load_kw`` and, for the
        messages, ``table_row`` (the row's number in its file).
    crs
        A metric CRS to measure distances in.
    max_distance_m
        Join radius.
    label
        The table's file, for the messages.

    Returns
    -------
    GeoDataFrame
        Substations with the table's figures and ``headroom_kw``. A substation takes the
        nearest of the rows that lie nearest it; table rows near no substation, and the
        farther rows of a substation that several rows lie nearest, are added as
        substations at their own positions (with a warning naming them).
    """
    subs = substations.to_crs(crs).reset_index(drop=True)
    pts = table.to_crs(crs).reset_index(drop=True)
    if TABLE_ROW not in pts.columns:
        pts[TABLE_ROW] = np.arange(len(pts)) + 2
    subs[C.SUBSTATION_ID] = subs["ref"].fillna(subs["osm_id"]).astype(str)
    subs[C.RATED_KVA] = np.nan
    subs[C.PEAK_LOAD_KW] = np.nan
    nearest, dist = _nearest_within(subs, pts, max_distance_m)
    taken: dict[int, int] = {}  # substation -> the table row joined to it
    shared: list[int] = []  # rows whose substation a nearer row took
    for k in np.argsort(dist, kind="stable"):
        j = int(nearest[k])
        if j < 0:
            continue
        if j in taken:
            shared.append(int(k))
            nearest[k] = -1
            continue
        taken[j] = int(k)
        for col in (C.SUBSTATION_ID, C.RATED_KVA, C.PEAK_LOAD_KW):
            subs.loc[j, col] = pts.loc[k, col]
    if shared:
        logger.warning(
            "%s: %s %s %s nearest a substation that a nearer row of the table joined: added as "
            "substations at their own positions (give one row per substation, or lower "
            "max_distance_m)",
            label,
            "row" if len(shared) == 1 else "rows",
            ", ".join(str(pts.loc[k, TABLE_ROW]) for k in sorted(shared)),
            "lies" if len(shared) == 1 else "lie",
        )
    alone = np.flatnonzero(nearest < 0)
    if len(alone):
        extra = pts.iloc[alone].drop(columns=TABLE_ROW)
        extra["osm_id"] = extra[C.SUBSTATION_ID]
        extra["ref"] = extra[C.SUBSTATION_ID]
        subs = gpd.GeoDataFrame(pd.concat([subs, extra], ignore_index=True), crs=crs)
        far = len(alone) - len(shared)
        if far:
            logger.warning(
                "%s: %d rows are more than %.0f m from any substation: added as "
                "substations at their own positions",
                label,
                far,
                max_distance_m,
            )
    unmatched = int(subs[C.RATED_KVA].isna().sum())
    if unmatched:
        logger.warning("%d substations have no row in the headroom table", unmatched)
    subs[C.HEADROOM_KW] = subs[C.RATED_KVA] * POWER_FACTOR - subs[C.PEAK_LOAD_KW]
    assert substations.crs is not None  # the to_crs(crs) above needs it
    return subs.to_crs(substations.crs)


def _nearest_within(
    subs: gpd.GeoDataFrame, pts: gpd.GeoDataFrame, max_distance_m: float
) -> tuple[np.ndarray, np.ndarray]:
    """Per point: the nearest substation within the radius (-1: none) and its distance."""
    nearest = np.full(len(pts), -1)
    dist = np.full(len(pts), np.inf)
    if len(subs) == 0 or len(pts) == 0:
        return nearest, dist
    idx, d = shapely.STRtree(subs.geometry.to_numpy()).query_nearest(
        pts.geometry.to_numpy(), return_distance=True, all_matches=False
    )
    ok = d <= max_distance_m
    nearest[idx[0][ok]] = idx[1][ok]
    dist[idx[0][ok]] = d[ok]
    return nearest, dist
