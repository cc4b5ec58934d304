"""The data dictionary: every exported column with its description, unit and field names."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

import geopandas as gpd
import pandas as pd
from pyproj import CRS

from planner import columns as C
from planner.errors import DataError
from planner.i18n import LANGUAGES, N_, Lang, translator
from planner.report.formats import layer_order, shapefile_names

#: Columns of the data dictionary table.
DICTIONARY_COLUMNS = ("column", "description", "unit", "shapefile_field", "layers")
#: Headers of the data dictionary file for people, in English (``column`` -> Column name,
#: translated: 列名, 说明, 单位, Shapefile字段, 图层).
DICTIONARY_HEADERS: dict[str, str] = {
    "column": N_("Column name"),
    "description": N_("Column description"),
    "unit": N_("Unit of the column"),
    "shapefile_field": N_("Field name in Shapefiles"),
    "layers": N_("Layers holding the column"),
}


#: The CRS of ``lon``/``lat`` in the run folder's files.
WGS84_TEXT = "WGS84 (EPSG:4326)"


def data_dictionary(
    tables: Mapping[str, pd.DataFrame],
    *,
    extra: Iterable[str] = (C.LON, C.LAT),
    lonlat_crs: str = WGS84_TEXT,
    xy_crs: str | None = None,
    lang: Lang | None = None,
) -> pd.DataFrame:
    """Describe every column of the given tables.

    Parameters
    ----------
    tables
        Tables keyed by name: GeoDataFrames (the GIS layers) and plain tables (such as the
        assignments); geometry columns are left out.
    extra
        Further columns the exports add (coordinates of CSV files, WKT).
    lonlat_crs
        The CRS ``lon``/``lat`` are given in, named in their descriptions (e.g.
        ``CGCS2000 (EPSG:4490)`` for an export in CGCS2000).
    xy_crs
        The projected CRS of ``easting``/``northing`` (see :func:`projected_text`),
        named in their descriptions.
    lang
        Language of the descriptions and units (None: English). The table's own columns
        keep the names of :data:`DICTIONARY_COLUMNS`; :func:`dictionary_file_table` gives
        them headers in the language.

    Returns
    -------
    DataFrame
        One row per column (sorted by name): ``column``, ``description`` and ``unit`` from
        :data:`planner.columns.DICTIONARY` (``(not documented)`` where missing),
        ``shapefile_field`` (the field name in Shapefiles of the GIS layers, see
        :func:`planner.report.formats.shapefile_names`; empty for columns no layer has) and
        ``layers`` (the tables that hold it, space-separated).
    """
    where: dict[str, list[str]] = {}
    for name in layer_order(tables):
        table = tables[name]
        geom = getattr(table, "_geometry_column_name", None)
        for col in table.columns:
            if col != geom:
                where.setdefault(col, []).append(name)
    lang = lang or translator("en")
    for col in extra:
        where.setdefault(col, [lang("(CSV exports)")])
    fields = shapefile_names(
        c
        for name in layer_order(tables)
        if isinstance(tables[name], gpd.GeoDataFrame)
        for c in tables[name].columns
        if c != tables[name].geometry.name
    )
    rows = []
    for col in sorted(where):
        description, unit = lang.description(col)
        if col == C.LON:
            description = lang("Longitude, {crs}", crs=lonlat_crs)
        elif col == C.LAT:
            description = lang("Latitude, {crs}", crs=lonlat_crs)
        if col in (C.EASTING, C.NORTHING) and xy_crs:
            description += lang.gettext("; ") + xy_crs
        codes = file_codes(col, lang)
        if codes:
            description += lang.gettext("; ") + codes
        rows.append(
            {
                "column": col,
                "description": description,
                "unit": unit,
                "shapefile_field": fields.get(col, ""),
                "layers": " ".join(where[col]),
            }
        )
    return pd.DataFrame(rows, columns=list(DICTIONARY_COLUMNS))


def projected_text(crs: CRS, *, lang: Lang) -> str:
    """A projected CRS as the dictionary names it: its name and EPSG code, and whether
    eastings carry the zone number in front (39521249 against 521249)."""
    epsg = crs.to_epsg()
    text = f"{crs.name} (EPSG:{epsg})" if epsg else crs.name
    op = crs.coordinate_operation
    params = {p.name.lower(): p.value for p in op.params} if op is not None else {}
    false_easting = float(params.get("false easting", 0.0))
    if false_easting >= 1_000_000:
        return text + lang.gettext(", ") + lang("eastings with the zone number in front")
    return text


def file_codes(column: str, lang: Lang) -> str | None:
    """What a coded column holds in the GIS files and CSVs (which keep the codes, for
    joins and scripts), each code with its meaning: ``fuel_station = 加油站, ...``; None
    for a column without codes. Tables for people (the workbook, the report) print the
    meanings."""
    from planner.report.plan_tables import CONNECTION_BASES
    from planner.report.substation_loads import HEADROOM_STATES
    from planner.tours.layers import DAY_NAMES, KIND_NAMES
    from planner.vocab import CLASS_LABELS, EXISTING_CLASS

    maps = {
        # a repair point can stand at an existing charging site
        C.POLICY_CLASS: {**CLASS_LABELS, EXISTING_CLASS: N_("existing charging site")},
        C.CONNECTION_BASIS: CONNECTION_BASES,
        C.AT_STATION: {"True": N_("yes"), "False": N_("no")},
        "day": DAY_NAMES,
        "kind": KIND_NAMES,
        C.HEADROOM_STATE: HEADROOM_STATES,
    }
    if column not in maps:
        return None
    pairs = ", ".join(f"{k} = {lang.gettext(v)}" for k, v in maps[column].items())
    return lang("values in the files: {pairs}", pairs=pairs)


def dictionary_file_table(dictionary: pd.DataFrame, *, lang: Lang | None = None) -> pd.DataFrame:
    """The data dictionary as ``data_dictionary.csv`` holds it.

    English keeps the column names of :data:`DICTIONARY_COLUMNS` (files read by scripts
    stay as they were); Chinese gets 列名, 说明, 单位, Shapefile字段, 图层.

    Parameters
    ----------
    dictionary
        From :func:`data_dictionary`.
    lang
        The report language (None: English).

    Returns
    -------
    DataFrame
    """
    if lang is None or lang.code == "en":
        return dictionary
    return dictionary.rename(columns={k: lang.gettext(v) for k, v in DICTIONARY_HEADERS.items()})


def read_data_dictionary(path: str | Path) -> tuple[pd.DataFrame, Lang]:
    """Read a ``data_dictionary.csv`` written in any language.

    Parameters
    ----------
    path
        The file.

    Returns
    -------
    (DataFrame, Lang)
        The table under the names of :data:`DICTIONARY_COLUMNS`, and the language its
        headers are in.
    """
    table = pd.read_csv(path, keep_default_na=False, encoding="utf-8-sig", dtype=str)
    for code in LANGUAGES:
        lang = translator(code)
        headers = {lang.gettext(v): k for k, v in DICTIONARY_HEADERS.items()}
        if code == "en":
            headers = {k: k for k in DICTIONARY_COLUMNS}
        if set(headers) <= set(table.columns):
            return table.rename(columns=headers), lang
    msg = f"{path}: not a data dictionary (headers {', '.join(map(str, table.columns))})"
    raise DataError(msg)
