"""The data dictionary: every exported column with its description, unit and field names."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import geopandas as gpd
import pandas as pd

from planner import columns as C
from planner.report.formats import layer_order, shapefile_names

#: Columns of the data dictionary table.
DICTIONARY_COLUMNS = ("column", "description", "unit", "shapefile_field", "layers")


#: The CRS of ``lon``/``lat`` in the run folder's files.
WGS84_TEXT = "WGS84 (EPSG:4326)"


def data_dictionary(
    tables: Mapping[str, pd.DataFrame],
    *,
    extra: Iterable[str] = (C.LON, C.LAT),
    lonlat_crs: str = WGS84_TEXT,
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
    for col in extra:
        where.setdefault(col, ["(CSV exports)"])
    fields = shapefile_names(
        c
        for name in layer_order(tables)
        if isinstance(tables[name], gpd.GeoDataFrame)
        for c in tables[name].columns
        if c != tables[name].geometry.name
    )
    rows = []
    for col in sorted(where):
        description, unit = C.DICTIONARY.get(col, ("(not documented)", ""))
        if col in (C.LON, C.LAT):
            description = f"{'Longitude' if col == C.LON else 'Latitude'}, {lonlat_crs}"
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
