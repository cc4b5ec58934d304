"""Points and lines from GIS teams' files: CSV / XLSX with coordinate columns, or layers."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import CRS

from planner import columns as C
from planner.config import CHINA_SYSTEMS, LineLayerInput, PointTableInput
from planner.crs import guess_crs
from planner.errors import check_input_file, data_error
from planner.ingest.boundaries import read_layer
from planner.ingest.china import to_wgs84

logger = logging.getLogger(__name__)


_VECTOR_SUFFIXES = (".gpkg", ".shp", ".geojson", ".json", ".fgb", ".kml", ".gml")
#: Tables with a header row: text (CSV) and Excel.
TABLE_SUFFIXES = (".csv", ".txt", ".xlsx", ".xls")
_EXCEL_SUFFIXES = (".xlsx", ".xls")
#: The first bytes of an .xlsx (a zip file) and of an old .xls (an OLE2 file).
_EXCEL_MAGIC = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0")


def read_table(path: Path, encoding: str | None, *, sheet: str | None = None) -> pd.DataFrame:
    """Read a CSV or Excel table as text columns (blank cells: empty strings).

    Parameters
    ----------
    path
        ``.csv`` / ``.txt`` (UTF-8 or GBK, detected) or ``.xlsx`` / ``.xls``.
    encoding
        The CSV's text encoding; detected when None.
    sheet
        The Excel sheet; the first when None.

    Returns
    -------
    DataFrame
        Every column as text, in the file's row order.
    """
    if path.suffix.lower() in _EXCEL_SUFFIXES:
        try:
            table = pd.read_excel(path, sheet_name=sheet or 0, dtype=str)
        except ValueError as err:
            raise data_error(path, f"cannot read the sheet ({err})", layer=sheet) from None
        except ImportError:
            raise data_error(
                path, "old Excel (.xls) files cannot be read", hint="save it as .xlsx or CSV"
            ) from None
        except Exception as err:
            raise data_error(path, f"not a readable Excel file ({err})") from None
        return table.fillna("")
    with path.open("rb") as f:
        if f.read(4) in _EXCEL_MAGIC:
            raise data_error(
                path,
                "this is an Excel workbook, not a CSV",
                hint="name it .xlsx (or .xls), or save it from Excel as CSV",
            )
    return read_csv_text(path, encoding)


def read_csv_text(path: Path, encoding: str | None) -> pd.DataFrame:
    """Read a CSV as text columns, detecting UTF-8 (with or without BOM) or GBK."""
    candidates = [encoding] if encoding else ["utf-8-sig", "gb18030"]
    for enc in candidates:
        try:
            table = pd.read_csv(path, dtype=str, encoding=enc, keep_default_na=False)
        except UnicodeDecodeError:
            continue
        except LookupError:
            raise data_error(path, f"unknown encoding {enc!r}", hint="use utf-8 or gbk") from None
        except pd.errors.ParserError as err:
            raise data_error(path, f"not a readable CSV ({err})") from None
        except pd.errors.EmptyDataError:
            raise data_error(path, "file is empty") from None
        if enc == "gb18030":
            logger.info("%s: read as GBK", path)
        return table
    raise data_error(
        path,
        f"text is not {' or '.join(candidates)}",
        hint="save it as UTF-8, or set its encoding in the config",
    )


#: ``attrs`` key of a table read from a file: the file's own columns, for messages.
FILE_COLUMNS = "file_columns"


def require_columns(table: pd.DataFrame, path: str | Path, fields: Iterable[str]) -> None:
    """Raise a one-line error naming the first missing column and the ones there are.

    The columns listed are the file's own (``table.attrs["file_columns"]`` when the
    planner added some); a name that differs from the field only by spaces is pointed out.
    """
    own = [str(c) for c in table.attrs.get(FILE_COLUMNS, table.columns)]
    for field in fields:
        if field in table.columns:
            continue
        spaced = [c for c in own if c.strip() == field.strip()]
        if spaced:
            hint = f"the file has {spaced[0]!r}: remove the spaces, or name it so in the config"
        else:
            hint = "columns are: " + ", ".join(map(_shown, own))
        raise data_error(path, "column not found", field=field, hint=hint)


def _shown(name: str) -> str:
    """A column name as a message lists it: quoted when it holds spaces or commas."""
    plain = name and "," not in name and not any(ch.isspace() for ch in name)
    return name if plain else repr(name)


def numeric_column(
    table: pd.DataFrame, path: str | Path, field: str, *, non_negative: bool = False
) -> np.ndarray:
    """A column as floats; the first bad row is an error (rows count the header as 1)."""
    num = pd.to_numeric(table[field].astype(str).str.strip(), errors="coerce")
    bad = num.isna() | ~np.isfinite(num)
    if non_negative:
        bad |= num < 0
    if bad.any():
        row = int(bad.to_numpy().nonzero()[0][0])
        kind = "a non-negative number" if non_negative else "a number"
        raise data_error(
            path,
            f"not {kind}: {table[field].iloc[row]!r} ({int(bad.sum())} rows like it)",
            field=field,
            row=row + 2,
            hint="row numbers count the header as row 1",
        )
    return num.to_numpy(dtype=float)


def _coordinates(table: pd.DataFrame, spec: PointTableInput) -> tuple[np.ndarray, np.ndarray]:
    require_columns(table, spec.where(), (spec.lon_field, spec.lat_field))
    return (
        numeric_column(table, spec.where(), spec.lon_field),
        numeric_column(table, spec.where(), spec.lat_field),
    )


def _check_degrees(lon: np.ndarray, lat: np.ndarray, spec: PointTableInput) -> None:
    path = spec.where()
    bad = (np.abs(lon) > 180) | (np.abs(lat) > 90)
    if bad.any():
        row = int(bad.nonzero()[0][0])
        if (np.abs(lat) > 90).any() and (np.abs(lon) <= 90).all():
            hint = f"are {spec.lon_field} and {spec.lat_field} swapped?"
        else:
            guess = guess_crs((lon.min(), lat.min(), lon.max(), lat.max()))
            hint = f"{guess}; set crs" if guess else "set crs to the coordinates' CRS"
        raise data_error(
            path,
            f"coordinates out of range: ({lon[row]}, {lat[row]})",
            field=f"{spec.lon_field}/{spec.lat_field}",
            row=row + 2,
            hint=hint,
        )
    null = (lon == 0) & (lat == 0)
    if null.any():
        row = int(null.nonzero()[0][0])
        raise data_error(
            path,
            f"coordinates are (0, 0) in {int(null.sum())} rows: missing values?",
            field=f"{spec.lon_field}/{spec.lat_field}",
            row=row + 2,
        )


def read_points(spec: PointTableInput, *, role: str) -> gpd.GeoDataFrame:
    """Read a table or layer of points into EPSG:4326.

    Parameters
    ----------
    spec
        File, columns, CRS (EPSG code, ``gcj02`` or ``bd09``) and encoding.
    role
        What the points are, for messages.

    Returns
    -------
    GeoDataFrame
        The file's columns plus ``name`` (from ``name_field``) and ``source`` (the file
        name and row), in EPSG:4326. GCJ-02 and BD-09 are converted to WGS84.
    """
    if spec.url is not None:
        return _finish(_layer_points(spec.url, spec), spec, spec.table or "sql", role=role)
    assert spec.path is not None  # checked by the config
    path = Path(spec.path)
    if not path.exists():
        raise data_error(path, f"{role} file not found")
    suffix = path.suffix.lower()
    if suffix in TABLE_SUFFIXES:
        gdf = _table_points(path, spec, role=role)
    elif suffix in _VECTOR_SUFFIXES:
        gdf = _layer_points(path, spec)
    else:
        raise data_error(
            path,
            f"unsupported {role} file type {suffix!r}",
            hint="use CSV, XLSX, GeoPackage, Shapefile or GeoJSON",
        )
    return _finish(gdf, spec, path.name, role=role)


def _finish(
    gdf: gpd.GeoDataFrame, spec: PointTableInput, label: str, *, role: str
) -> gpd.GeoDataFrame:
    """The points in EPSG:4326 with ``name`` and ``source`` (``label#row``)."""
    own = [c for c in gdf.columns if c != gdf.geometry.name]
    out = gdf.to_crs(4326).reset_index(drop=True)
    out.attrs[FILE_COLUMNS] = own
    if spec.name_field and spec.name_field in out.columns and spec.name_field != C.NAME:
        out[C.NAME] = out[spec.name_field].replace("", None)
    elif C.NAME not in out.columns:
        out[C.NAME] = None
    out[C.SOURCE] = [f"{label}#{i + 1}" for i in range(len(out))]
    logger.info("%s: %d %s read", label, len(out), role)
    return out


def _table_points(path: Path, spec: PointTableInput, *, role: str) -> gpd.GeoDataFrame:
    """Points of a CSV or Excel table, in the table's CRS (GCJ-02, BD-09: WGS84)."""
    check_input_file(path, f"{role} table")
    table = read_table(path, spec.encoding, sheet=spec.layer)
    if table.empty:
        raise data_error(path, "table has no rows", layer=spec.layer)
    x, y = _coordinates(table, spec)
    system = spec.crs.lower()
    if system in CHINA_SYSTEMS:
        _check_degrees(x, y, spec)
        x, y = to_wgs84(x, y, system)
        crs: CRS = CRS.from_epsg(4326)
    else:
        try:
            crs = CRS.from_user_input(spec.crs)
        except Exception:
            msg = f"crs {spec.crs!r} is not a CRS (use e.g. EPSG:4490, gcj02 or bd09)"
            raise data_error(path, msg) from None
        if crs.is_geographic:
            _check_degrees(x, y, spec)
    return gpd.GeoDataFrame(table, geometry=gpd.points_from_xy(x, y), crs=crs)


def _layer_points(path: Path | str, spec: PointTableInput) -> gpd.GeoDataFrame:
    """Points of a GIS layer (other geometries: a point inside each; GCJ-02, BD-09: WGS84)."""
    layer = spec.database_layer() if spec.url is not None else spec.layer
    gdf = read_layer(path, layer=layer, encoding=spec.encoding)
    if not (gdf.geom_type == "Point").all():
        gdf = gdf.set_geometry(gdf.geometry.representative_point())
    system = spec.crs.lower()
    if system in CHINA_SYSTEMS:
        ll = gdf.to_crs(4326)
        x, y = to_wgs84(ll.geometry.x.to_numpy(), ll.geometry.y.to_numpy(), system)
        gdf = ll.set_geometry(gpd.points_from_xy(x, y, crs=4326))
    return gdf


def read_lines(spec: LineLayerInput) -> gpd.GeoDataFrame:
    """MV lines from a vector file, in EPSG:4326, with ``voltage_kv`` and ``power``."""
    source = spec.path if spec.path is not None else str(spec.url)
    layer = spec.layer if spec.path is not None else spec.database_layer()
    gdf = read_layer(source, layer=layer, encoding=spec.encoding).to_crs(4326)
    gdf = gdf.explode(index_parts=False).reset_index(drop=True)  # one line per part
    where = spec.where()
    if not (gdf.geom_type == "LineString").all():
        kinds = ", ".join(sorted(set(gdf.geom_type) - {"LineString"}))
        raise data_error(where, f"grid lines must be lines, found {kinds}", layer=layer)
    if spec.voltage_field:
        if spec.voltage_field not in gdf.columns:
            raise data_error(where, "field not found", layer=layer, field=spec.voltage_field)
        kv = pd.to_numeric(gdf[spec.voltage_field], errors="coerce")
    else:
        kv = pd.Series(spec.voltage_kv, index=gdf.index, dtype=float)
    out = gpd.GeoDataFrame(
        {
            C.OSM_ID: [f"{_source_name(spec)}#{i + 1}" for i in range(len(gdf))],
            "power": np.where(kv.fillna(0) <= 20, "minor_line", "line"),
            C.VOLTAGE_KV: kv.to_numpy(),
            C.NAME: None,
        },
        geometry=gdf.geometry.to_numpy(),
        crs=4326,
    )
    return out


def _source_name(spec: LineLayerInput) -> str:
    """The file's name, or the database table's (a query: ``sql``), for ids."""
    if spec.path is not None:
        return Path(spec.path).name
    return spec.table or "sql"
