"""The plan's sites and townships as tables for people: the report and the workbook.

Each table has headers in the report language with their units (``投资额（元）``,
``Capital cost (CNY)``), values rounded to what a reader needs (whole yuan, minutes to
0.1, coordinates in CGCS2000 to 6 decimals), booleans as 是/否 and policy classes and
connection bases as words. Numbers stay numbers, so the workbook can format them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd

from planner import columns as C
from planner.crs import CGCS2000
from planner.i18n import N_, Lang, translator

#: The CRS coordinates are given in: CGCS2000, the national datum of China.

#: connection_basis value -> printed words.
CONNECTION_BASES = {
    "grid distance": N_("by distance to the grid"),
    "default": N_("default cost (no grid data)"),
    "not included": N_("not included (no grid data)"),
    "existing site": N_("existing site"),
}

#: (column, decimals): None keeps text; 0 gives whole numbers.
Spec = Sequence[tuple[str, int | None]]

STATION_COLUMNS: Spec = (
    (C.CANDIDATE_ID, None),
    (C.NAME, None),
    (C.TOWNSHIP_NAME, None),
    (C.POLICY_CLASS, None),
    (C.EXISTING_CHARGERS, 0),
    (C.CHARGERS, 0),
    (C.CHARGER_KW, 0),
    (C.SESSIONS_SERVED, 1),
    (C.STATION_CAPEX, 0),
    (C.CONNECTION_COST, 0),
    (C.CONNECTION_BASIS, None),
    (C.GRID_DISTANCE_M, 0),
    (C.SUBSTATION_ID, None),
    (C.CAPEX, 0),
    (C.LON, 7),
    (C.LAT, 7),
)

EXISTING_COLUMNS: Spec = (
    (C.STATION_ID, None),
    (C.NAME, None),
    (C.OPERATOR, None),
    (C.OPENED_YEAR, 0),
    (C.TOWNSHIP_NAME, None),
    (C.SOCKETS, 0),
    (C.SESSIONS_SERVED, 1),
    (C.LON, 7),
    (C.LAT, 7),
)

REPAIR_COLUMNS: Spec = (
    (C.REPAIR_ID, None),
    (C.CANDIDATE_ID, None),
    (C.NAME, None),
    (C.TOWNSHIP_NAME, None),
    (C.POLICY_CLASS, None),
    (C.AT_STATION, None),
    (C.TARGETS_COVERED, 0),
    (C.CAPEX, 0),
    (C.LON, 7),
    (C.LAT, 7),
)

TOWNSHIP_COLUMNS: Spec = (
    (C.TOWNSHIP_ID, None),
    (C.TOWNSHIP_NAME, None),
    (C.POPULATION, 0),
    (C.EVS, 0),
    (C.SESSIONS_DAY, 1),
    (C.COVERED_SHARE, 1),
    (C.STATIONS, 0),
    (C.CHARGERS, 0),
    (C.EXISTING_SITES, 0),
    (C.MEAN_STATION_MIN, 1),
    (C.WORST_STATION_MIN, 1),
    (C.POINTS_UNREACHED, 0),
)


def header(column: str, lang: Lang) -> str:
    """A column's header: its label and, where it has one, its unit."""
    label = lang.label(column)
    if column in (C.LON, C.LAT):
        return f"{label}（CGCS2000）" if lang.code == "zh" else f"{label} (CGCS2000)"
    unit = "%" if column == C.COVERED_SHARE else lang.description(column)[1]
    if not unit or unit in ("-", "0-1") or column == C.AT_STATION:
        return label
    return f"{label}（{unit}）" if lang.code == "zh" else f"{label} ({unit})"


def share_shown(share: float, digits: int) -> float:
    """A share (0-1) as a per cent with ``digits`` decimals shows it, except that one
    under 1 never reaches 100 % (0.99996 is 99.9 %: a township with one village unreached
    is not fully covered). Returned as a share, for tables that format it themselves."""
    value = 100 * float(share)
    shown = round(value, digits)
    if float(share) < 1 and shown >= 100:
        shown = math.floor(value * 10**digits) / 10**digits
    return round(shown / 100, digits + 2)


def _column(table: pd.DataFrame, column: str, decimals: int | None, lang: Lang) -> pd.Series:
    """One column as printed: rounded numbers, words for codes, 是/否 for booleans."""
    values = table[column]
    if column == C.POLICY_CLASS:
        return values.map(lambda v: lang.policy_class(str(v)) if pd.notna(v) else "")
    if column == C.CONNECTION_BASIS:
        return values.map(lambda v: lang.gettext(CONNECTION_BASES.get(str(v), str(v))))
    if column == C.AT_STATION or pd.api.types.is_bool_dtype(values):
        return values.map(lang.yes_no)
    if decimals is None:
        return values.astype(object).where(values.notna(), "")
    numbers = pd.to_numeric(values, errors="coerce")
    if column == C.COVERED_SHARE:
        digits = decimals or 0
        numbers = numbers.map(lambda v: 100 * share_shown(v, digits) if pd.notna(v) else v)
    if decimals == 0:
        return numbers.round(0).astype("Int64")
    return numbers.round(decimals)


def with_coordinates(layer: gpd.GeoDataFrame) -> pd.DataFrame:
    """The layer's attributes with lon/lat of its points in CGCS2000."""
    table = pd.DataFrame(layer.drop(columns=layer.geometry.name))
    if layer.empty or layer.crs is None:
        return table.assign(**{C.LON: np.nan, C.LAT: np.nan})
    points = layer.geometry.to_crs(CGCS2000)
    return table.assign(**{C.LON: points.x.to_numpy(), C.LAT: points.y.to_numpy()})


def people_table(table: pd.DataFrame, spec: Spec, *, lang: Lang | None = None) -> pd.DataFrame:
    """The columns of ``spec`` that ``table`` has, printed for people (see module doc)."""
    lang = lang if lang is not None else translator("en")
    out = {
        header(column, lang): _column(table, column, decimals, lang)
        for column, decimals in spec
        if column in table.columns
    }
    return pd.DataFrame(out, index=table.index).reset_index(drop=True)


def station_list(stations: gpd.GeoDataFrame, *, lang: Lang | None = None) -> pd.DataFrame:
    """The chosen charging stations, largest first (by chargers, then capex)."""
    table = with_coordinates(stations)
    if not table.empty:
        table = table.sort_values(
            [C.CHARGERS, C.CAPEX, C.CANDIDATE_ID], ascending=[False] * 2 + [True]
        )
    return people_table(table, STATION_COLUMNS, lang=lang)


def existing_list(chargers: gpd.GeoDataFrame, *, lang: Lang | None = None) -> pd.DataFrame:
    """The existing public chargers the plan counts on, in id order."""
    table = with_coordinates(chargers)
    if not table.empty and C.STATION_ID in table.columns:
        table = table.sort_values(C.STATION_ID)
    lang = lang if lang is not None else translator("en")
    out = people_table(table, EXISTING_COLUMNS, lang=lang)
    # station_id's label is "serving station" (in the demand layer); here it is the id
    return out.rename(columns={header(C.STATION_ID, lang): lang("Site id")})


def repair_list(repair_points: gpd.GeoDataFrame, *, lang: Lang | None = None) -> pd.DataFrame:
    """The chosen repair points, in id order."""
    table = with_coordinates(repair_points)
    if not table.empty and C.REPAIR_ID in table.columns:
        table = table.sort_values(C.REPAIR_ID)
    return people_table(table, REPAIR_COLUMNS, lang=lang)


def township_list(townships: pd.DataFrame, *, lang: Lang | None = None) -> pd.DataFrame:
    """The townships' outcomes, in code order."""
    table = pd.DataFrame(townships.drop(columns="geometry", errors="ignore"))
    if not table.empty and C.TOWNSHIP_ID in table.columns:
        table = table.sort_values(C.TOWNSHIP_ID)
    return people_table(table, TOWNSHIP_COLUMNS, lang=lang)
