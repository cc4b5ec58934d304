"""Grid data: the substation headroom table joined to substations."""

from __future__ import annotations

import logging
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from planner import columns as C
from planner.errors import data_error

logger = logging.getLogger(__name__)

#: Power factor used to turn rated kVA into kW.
POWER_FACTOR = 0.9


def read_substation_table(
    path: str | Path, *, id_field: str, rated_kva_field: str, peak_load_kw_field: str
) -> pd.DataFrame:
    """Read the headroom table (one row per substation).

    Parameters
    ----------
    path
        CSV file.
    id_field, rated_kva_field, peak_load_kw_field
        Column names.

    Returns
    -------
    DataFrame
        ``substation_id``, ``rated_kva``, ``peak_load_kw``.
    """
    path = Path(path)
    if not path.is_file():
        raise data_error(path, "substation table not found", hint="check inputs.substations")
    try:
        table = pd.read_csv(path, dtype={id_field: str}, encoding="utf-8-sig")
    except (pd.errors.ParserError, UnicodeDecodeError) as err:
        raise data_error(path, f"cannot read as UTF-8 CSV ({err})") from None
    for field in (id_field, rated_kva_field, peak_load_kw_field):
        if field not in table.columns:
            raise data_error(
                path,
                "column not found",
                field=field,
                hint=f"columns are: {', '.join(table.columns)}",
            )
    out = pd.DataFrame({C.SUBSTATION_ID: table[id_field].astype(str).str.strip()})
    for field, col in ((rated_kva_field, C.RATED_KVA), (peak_load_kw_field, C.PEAK_LOAD_KW)):
        values = pd.to_numeric(table[field], errors="coerce")
        bad = values.isna() | (values < 0)
        if bad.any():
            row = int(bad.to_numpy().nonzero()[0][0])
            raise data_error(
                path,
                f"not a non-negative number: {table[field].iloc[row]!r}",
                field=field,
                row=row + 2,
                hint="row numbers count the header as row 1",
            )
        out[col] = values.to_numpy(dtype=float)
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
