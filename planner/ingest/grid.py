"""Grid data: the substation headroom table joined to substations."""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Iterable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.optimize import linear_sum_assignment

from planner import columns as C
from planner.crs import CrsLike
from planner.errors import check_input_file, data_error
from planner.ingest.sheets import (
    ROW_HINT,
    TABLE_ROW,
    numeric_column,
    read_table,
    require_columns,
    row_error,
    rows_alike,
)

logger = logging.getLogger(__name__)

#: Power factor turning rated kVA into kW (``stations.power_factor``'s default).
POWER_FACTOR = 0.9
#: Column of a located headroom table: the row's number in its file (the header is 1).


def read_substation_table(
    path: str | Path,
    *,
    id_field: str,
    rated_kva_field: str,
    peak_load_kw_field: str,
    encoding: str | None = None,
    sheet: str | None = None,
    keep: tuple[str, ...] = (),
) -> pd.DataFrame:
    """Read the headroom table (one row per substation).

    Parameters
    ----------
    path
        CSV or Excel (``.xlsx``, ``.xls``) file.
    id_field, rated_kva_field, peak_load_kw_field
        Column names.
    encoding
        Text encoding; UTF-8 or GBK is detected when None.
    sheet
        The Excel sheet; the first when None.
    keep
        Further columns to pass through (e.g. coordinates).

    Returns
    -------
    DataFrame
        ``substation_id``, ``rated_kva``, ``peak_load_kw``.
    """
    path = Path(path)
    check_input_file(path, "substation table", hint="check inputs.substations")
    table = read_table(path, encoding, sheet=sheet)
    require_columns(table, path, (id_field, rated_kva_field, peak_load_kw_field, *keep))
    if table.empty:
        raise data_error(path, "table has no rows")
    out = pd.DataFrame({C.SUBSTATION_ID: table[id_field].astype(str).str.strip()})
    blank = out[C.SUBSTATION_ID] == ""
    if blank.any():
        raise row_error(
            table,
            path,
            int(blank.to_numpy().nonzero()[0][0]),
            f"substation id is blank{rows_alike(int(blank.sum()))}",
            field=id_field,
            hint=f"give every row its substation's id; {ROW_HINT}",
        )
    dup = out[C.SUBSTATION_ID].duplicated()
    if dup.any():
        row = int(dup.to_numpy().nonzero()[0][0])
        problem = f"duplicate substation id {out[C.SUBSTATION_ID].iloc[row]!r}"
        raise row_error(table, path, row, problem, field=id_field)
    for field, col in ((rated_kva_field, C.RATED_KVA), (peak_load_kw_field, C.PEAK_LOAD_KW)):
        out[col] = numeric_column(table, path, field, non_negative=True)
    _check_units(out, path, rated_kva_field, peak_load_kw_field)
    for field in keep:
        out[field] = table[field].to_numpy()
    return out


#: A substation's rated capacity is at least this (kVA): smaller figures are MVA.
MIN_RATED_KVA = 100.0
#: Peak loads this small a share of the rated capacity are MW, not kW.
MIN_PEAK_SHARE = 0.005


def _check_units(out: pd.DataFrame, path: Path, rated_field: str, peak_field: str) -> None:
    """Refuse figures in MVA or MW (the table is read in kVA and kW): the plan would
    find no headroom anywhere, or a thousand times too much."""
    rated, peak = out[C.RATED_KVA], out[C.PEAK_LOAD_KW]
    given = rated[rated > 0]  # a row without a figure (0) says nothing of the unit
    if len(given) and float(given.median()) < MIN_RATED_KVA:
        raise data_error(
            path,
            f"the rated capacities look like MVA (median {given.median():g})",
            field=rated_field,
            hint="give them in kVA: 6.3 MVA is 6300 kVA",
        )
    loaded = (rated > 0) & (peak > 0)
    share = (peak[loaded] / rated[loaded]).median() if loaded.any() else np.nan
    if float(share) < MIN_PEAK_SHARE:
        raise data_error(
            path,
            f"the peak loads look like MW: their median is {100 * share:.2f}% of the rated "
            "capacity",
            field=peak_field,
            hint="give them in kW: 5.37 MW is 5370 kW",
        )


def join_headroom(
    substations: gpd.GeoDataFrame,
    table: pd.DataFrame | None,
    *,
    label: str | Path = "headroom table",
    power_factor: float = POWER_FACTOR,
) -> gpd.GeoDataFrame:
    """Attach rated kVA, peak load and headroom (kW) to substations by ``ref``.

    Ids are compared as a grid team's tables write them: spaces around, letter case
    and full-width characters do not matter (``qx-35-01`` is ``QX-35-01``).

    Parameters
    ----------
    substations
        OSM substations with a ``ref`` column.
    table
        The headroom table, or None.
    label
        The table's file, for the messages.
    power_factor
        Rated kVA to kW: headroom is ``rated_kva * power_factor - peak_load_kw``.

    Returns
    -------
    GeoDataFrame
        Substations with ``substation_id``, ``rated_kva``, ``peak_load_kw``,
        ``headroom_kw`` (NaN where the table has no row: its headroom is unknown).

    Raises
    ------
    DataError
        The table has rows and there are substations, but no row's id is one of theirs.
    """
    subs = substations.copy()
    subs[C.SUBSTATION_ID] = subs["ref"].fillna(subs["osm_id"]).astype(str)
    if table is None:
        subs[C.RATED_KVA] = np.nan
        subs[C.PEAK_LOAD_KW] = np.nan
    else:
        figures = table[[C.SUBSTATION_ID, C.RATED_KVA, C.PEAK_LOAD_KW]]
        by_key = figures.assign(_key=figures[C.SUBSTATION_ID].map(id_key))
        if by_key["_key"].duplicated().any():
            row = int(by_key["_key"].duplicated().to_numpy().nonzero()[0][0])
            msg = f"substation id {figures[C.SUBSTATION_ID].iloc[row]!r} is given twice"
            raise data_error(label, f"{msg} (ids differing only in case or spaces)")
        subs["_key"] = subs[C.SUBSTATION_ID].map(id_key)
        subs = subs.merge(by_key.drop(columns=C.SUBSTATION_ID), on="_key", how="left")
        _check_matches(subs, by_key, label)
        subs = subs.drop(columns="_key")
    subs[C.HEADROOM_KW] = subs[C.RATED_KVA] * power_factor - subs[C.PEAK_LOAD_KW]
    _warn_overloaded(subs, label)
    return gpd.GeoDataFrame(subs, geometry="geometry", crs=substations.crs)


def _warn_overloaded(subs: pd.DataFrame, label: str | Path) -> None:
    """Name the substations whose peak load already exceeds their capacity."""
    over = subs[subs[C.HEADROOM_KW] < 0]
    if len(over):
        logger.warning(
            "%s: %d substations are already loaded beyond their capacity (peak above rated "
            "kVA x power factor), so no charger can draw on them: %s",
            label,
            len(over),
            ", ".join(
                f"{k} {v:,.0f} kW"
                for k, v in zip(over[C.SUBSTATION_ID], over[C.HEADROOM_KW], strict=True)
            ),
        )


def id_key(value: object) -> str:
    """A substation id as compared: NFKC (full-width to ASCII), no outer spaces, no case."""
    return unicodedata.normalize("NFKC", str(value)).strip().casefold()


def _check_matches(subs: pd.DataFrame, table: pd.DataFrame, label: str | Path) -> None:
    """Warn, naming them, of substations without a row and rows without a substation;
    stop when no row matches at all (the ids of the two are written differently)."""
    unmatched = subs.loc[subs[C.RATED_KVA].isna(), C.SUBSTATION_ID].tolist()
    unused = table.loc[~table["_key"].isin(set(subs["_key"])), C.SUBSTATION_ID].tolist()
    if len(subs) and len(table) and len(unmatched) == len(subs):
        raise data_error(
            label,
            f"none of its {len(table)} substation ids ({_some(table[C.SUBSTATION_ID])}) is "
            f"the id (ref) of one of the {len(subs)} substations ({_some(subs[C.SUBSTATION_ID])})",
            hint="write the ids as the substations' ref tags or the grid layer's id field, or "
            "give the table's coordinates (inputs.substations lon_field, lat_field)",
        )
    if unmatched:
        logger.warning(
            "%s: %d substations have no row, so their headroom is unknown and not checked: %s",
            label,
            len(unmatched),
            _some(unmatched),
        )
    if unused:
        logger.warning("%s: %d rows match no substation: %s", label, len(unused), _some(unused))


def _some(ids: Iterable[object], most: int = 8) -> str:
    """Up to ``most`` ids, quoted, and how many more."""
    ids = [str(i) for i in ids]
    text = ", ".join(repr(i) for i in ids[:most])
    return text + (f" and {len(ids) - most} more" if len(ids) > most else "")


def join_headroom_nearest(
    substations: gpd.GeoDataFrame,
    table: gpd.GeoDataFrame,
    crs: CrsLike,
    *,
    max_distance_m: float,
    label: str | Path = "headroom table",
    power_factor: float = POWER_FACTOR,
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
    power_factor
        Rated kVA to kW, as for :func:`join_headroom`.

    Returns
    -------
    GeoDataFrame
        Substations with the table's figures and ``headroom_kw``. Rows and substations
        within the radius are paired one to one, to the least total distance; table rows
        near no substation, or whose substations other rows took, are added as
        substations at their own positions (with a warning).
    """
    subs = substations.to_crs(crs).reset_index(drop=True)
    pts = table.to_crs(crs).reset_index(drop=True)
    if TABLE_ROW not in pts.columns:
        pts[TABLE_ROW] = np.arange(len(pts)) + 2
    subs[C.SUBSTATION_ID] = subs["ref"].fillna(subs["osm_id"]).astype(str)
    subs[C.RATED_KVA] = np.nan
    subs[C.PEAK_LOAD_KW] = np.nan
    nearest, shared = _one_to_one(subs, pts, max_distance_m)
    k_idx = np.flatnonzero(nearest >= 0)
    for col, kind in ((C.SUBSTATION_ID, object), (C.RATED_KVA, float), (C.PEAK_LOAD_KW, float)):
        values = subs[col].to_numpy().astype(kind)
        values[nearest[k_idx]] = pts[col].to_numpy()[k_idx]
        subs[col] = values
    if shared:
        logger.warning(
            "%s: %s %s %s within %.0f m of substations only that other rows of the table "
            "joined: added as substations at their own positions (give one row per "
            "substation; rows all offset the same way may need the table's crs, e.g. gcj02)",
            label,
            "row" if len(shared) == 1 else "rows",
            ", ".join(str(pts.loc[k, TABLE_ROW]) for k in sorted(shared)),
            "lies" if len(shared) == 1 else "lie",
            max_distance_m,
        )
    alone = np.flatnonzero(nearest < 0)
    if len(alone):
        extra = pts.iloc[alone].drop(columns=TABLE_ROW)
        extra["osm_id"] = extra[C.SUBSTATION_ID]
        extra["ref"] = extra[C.SUBSTATION_ID]
        subs = gpd.GeoDataFrame(pd.concat([subs, extra], ignore_index=True), crs=crs)
        far = [int(k) for k in alone if int(k) not in set(shared)]
        if far:
            logger.warning(
                "%s: %d rows are more than %.0f m from any substation: added as "
                "substations at their own positions (rows %s)",
                label,
                len(far),
                max_distance_m,
                ", ".join(str(r) for r in pts[TABLE_ROW].to_numpy()[far]),
            )
    unmatched = int(subs[C.RATED_KVA].isna().sum())
    if unmatched:
        logger.warning("%d substations have no row in the headroom table", unmatched)
    subs[C.HEADROOM_KW] = subs[C.RATED_KVA] * power_factor - subs[C.PEAK_LOAD_KW]
    _warn_overloaded(subs, label)
    assert substations.crs is not None  # the to_crs(crs) above needs it
    return subs.to_crs(substations.crs)


def _one_to_one(
    subs: gpd.GeoDataFrame, pts: gpd.GeoDataFrame, max_distance_m: float
) -> tuple[np.ndarray, list[int]]:
    """Each table row's substation (-1: none), one row per substation, within the radius.

    The rows and substations are paired to the least total distance
    (``scipy.optimize.linear_sum_assignment``), so that two rows near two substations are
    not both given the nearer one. Returns the pairing and the rows that had a substation
    within the radius but lost it to other rows.
    """
    nearest = np.full(len(pts), -1)
    if len(subs) == 0 or len(pts) == 0:
        return nearest, []
    rows, cols = shapely.STRtree(subs.geometry.to_numpy()).query(
        pts.geometry.to_numpy(), predicate="dwithin", distance=max_distance_m
    )
    if len(rows) == 0:
        return nearest, []
    dist = shapely.distance(pts.geometry.to_numpy()[rows], subs.geometry.to_numpy()[cols])
    big = 10.0 * (max_distance_m + 1.0) * (len(pts) + 1)  # "not paired" beats any pair
    cost = np.full((len(pts), len(subs)), big)
    cost[rows, cols] = dist
    r, c = linear_sum_assignment(cost)
    ok = cost[r, c] < big
    nearest[r[ok]] = c[ok]
    near_any = np.zeros(len(pts), dtype=bool)
    near_any[rows] = True
    shared = [int(k) for k in np.flatnonzero(near_any & (nearest < 0))]
    return nearest, shared
