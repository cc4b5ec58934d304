"""Points and lines from GIS teams' files: CSV / XLSX with coordinate columns, or layers."""

from __future__ import annotations

import logging
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from planner import columns as C
from planner.config import CHINA_SYSTEMS, LineLayerInput, PointTableInput
from planner.crs import guess_crs
from planner.errors import check_input_file, data_error
from planner.ingest.china import to_wgs84
from planner.ingest.sheets import (
    FILE_COLUMNS,
    TABLE_ROW,
    TABLE_SUFFIXES,
    numeric_column,
    read_table,
    require_columns,
)
from planner.ingest.vector import read_layer
from planner.ingest.voltage import voltage_kv

logger = logging.getLogger(__name__)


_VECTOR_SUFFIXES = (".gpkg", ".shp", ".geojson", ".json", ".fgb", ".kml", ".gml")


def _coordinates(table: pd.DataFrame, spec: PointTableInput) -> tuple[np.ndarray, np.ndarray]:
    # every column the config names at once, so that a misplaced header is seen whole
    named = (spec.operator_field, spec.sockets_field, spec.category_field, spec.id_field)
    fields = (spec.lon_field, spec.lat_field, *(f for f in named if f))
    require_columns(table, spec.where(), fields)
    return (
        numeric_column(table, spec.where(), spec.lon_field),
        numeric_column(table, spec.where(), spec.lat_field),
    )


def _check_degrees(lon: np.ndarray, lat: np.ndarray, spec: PointTableInput, rows: pd.Index) -> None:
    """Coordinates in degrees within range and not (0, 0); ``rows``: the file's rows."""
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
            row=int(rows[row]),
            hint=hint,
        )
    null = (lon == 0) & (lat == 0)
    if null.any():
        row = int(null.nonzero()[0][0])
        raise data_error(
            path,
            f"coordinates are (0, 0) in {int(null.sum())} rows: missing values?",
            field=f"{spec.lon_field}/{spec.lat_field}",
            row=int(rows[row]),
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
        gdf = _layer_points(spec.url, spec).reset_index(drop=True)
        gdf.index = gdf.index + 1
        return _finish(gdf, spec, spec.table or "sql", role=role)
    assert spec.path is not None  # checked by the config
    path = Path(spec.path)
    if not path.exists():
        raise data_error(path, f"{role} file not found")
    suffix = path.suffix.lower()
    if suffix in TABLE_SUFFIXES:
        gdf = _table_points(path, spec, role=role)
    elif suffix in _VECTOR_SUFFIXES:
        gdf = _layer_points(path, spec).reset_index(drop=True)
        gdf.index = gdf.index + 1  # features counted from 1
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
    """The points in EPSG:4326 with ``name``, ``table_row`` (the index: a table's row
    in its file, the header being row 1, or a layer's feature number) and ``source``
    (``label#row``)."""
    own = [c for c in gdf.columns if c != gdf.geometry.name]
    if spec.name_field and "name_field" in spec.model_fields_set:  # named: it must be there
        require_columns(gdf, spec.where(), (spec.name_field,))
    rows = gdf.index.to_numpy(dtype=int)
    out = gdf.to_crs(4326).reset_index(drop=True)
    _check_projected(gdf, out, spec, rows)
    out.attrs[FILE_COLUMNS] = own
    if spec.name_field and spec.name_field in out.columns and spec.name_field != C.NAME:
        out[C.NAME] = out[spec.name_field].replace("", None)
    elif C.NAME not in out.columns:
        out[C.NAME] = None
    out[TABLE_ROW] = rows
    out[C.SOURCE] = [f"{label}#{r}" for r in rows]
    logger.info("%s: %d %s read", label, len(out), role)
    return out


def _check_projected(
    gdf: gpd.GeoDataFrame, out: gpd.GeoDataFrame, spec: PointTableInput, rows: np.ndarray
) -> None:
    """Points whose coordinates the CRS cannot take (projected to infinity) are an error."""
    bad = ~np.isfinite(shapely.get_coordinates(out.geometry.to_numpy()).sum(axis=1))
    if len(bad) != len(out) or not bad.any():
        return
    first = int(bad.nonzero()[0][0])
    x, y = gdf.geometry.x.to_numpy(), gdf.geometry.y.to_numpy()
    guess = guess_crs(np.array([np.nanmin(x), np.nanmin(y), np.nanmax(x), np.nanmax(y)]))
    table = spec.path is not None and Path(spec.path).suffix.lower() in TABLE_SUFFIXES
    feature = "" if table else f" (feature {rows[first]})"
    raise data_error(
        spec.where(),
        f"{int(bad.sum())} of {len(out)} points cannot be in crs {_crs_of(spec, gdf)!r}: "
        f"the first, ({x[first]:.10g}, {y[first]:.10g}){feature}, lies outside its area",
        row=int(rows[first]) if table else None,
        hint=f"{guess}; set crs" if guess else "set crs to the coordinates' CRS",
    )


def _crs_of(spec: PointTableInput, gdf: gpd.GeoDataFrame) -> str:
    """The CRS the points were read in, as the config or the layer names it."""
    if spec.crs or gdf.crs is None:
        return spec.table_crs
    return str(CRS(gdf.crs).to_string())


def _table_points(path: Path, spec: PointTableInput, *, role: str) -> gpd.GeoDataFrame:
    """Points of a CSV or Excel table, in the table's CRS (GCJ-02, BD-09: WGS84)."""
    check_input_file(path, f"{role} table")
    table = read_table(path, spec.encoding, sheet=spec.layer)
    if table.empty:
        raise data_error(path, "table has no rows", layer=spec.layer)
    x, y = _coordinates(table, spec)
    system = spec.table_crs.lower()
    if system in CHINA_SYSTEMS:
        _check_degrees(x, y, spec, table.index)
        x, y = to_wgs84(x, y, system)
        crs: CRS = CRS.from_epsg(4326)
    else:
        try:
            crs = CRS.from_user_input(spec.table_crs)
        except Exception:
            msg = f"crs {spec.table_crs!r} is not a CRS (use e.g. EPSG:4490, gcj02 or bd09)"
            raise data_error(path, msg) from None
        if crs.is_geographic:
            _check_degrees(x, y, spec, table.index)
    return gpd.GeoDataFrame(table, geometry=gpd.points_from_xy(x, y), crs=crs)


def _layer_points(path: Path | str, spec: PointTableInput) -> gpd.GeoDataFrame:
    """Points of a GIS layer (other geometries: a point inside each; GCJ-02, BD-09: WGS84)."""
    layer = spec.database_layer() if spec.url is not None else spec.layer
    system = (spec.crs or "").lower()
    # a CRS the config gives is the layer's, as for boundaries (GCJ-02, BD-09: degrees)
    gdf = read_layer(path, layer=layer, encoding=spec.encoding, crs=spec.crs)
    if not (gdf.geom_type == "Point").all():
        gdf = gdf.set_geometry(gdf.geometry.representative_point())
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
        kv = voltage_kv(gdf[spec.voltage_field], where=f"{where}, field {spec.voltage_field!r}")
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
