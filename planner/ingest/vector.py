"""Vector layers as the GIS team hands them over: Shapefile text encodings, the CRS a
config declares, features without geometry and invalid geometries."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS

from planner.config import CHINA_SYSTEMS
from planner.crs import guess_crs
from planner.errors import data_error
from planner.ingest.database import is_database_url

logger = logging.getLogger(__name__)


def shapefile_encoding(path: str | Path, declared: str | None = None) -> str | None:
    """The text encoding of a Shapefile's attribute table (.dbf).

    Chinese GIS teams often hand over GBK-encoded Shapefiles, with or without a ``.cpg``
    file saying so. The attribute bytes are checked: a ``.cpg`` or ``declared`` encoding
    must decode them; without either, UTF-8 is tried, then GBK (as GB18030, its superset).

    Parameters
    ----------
    path
        The ``.shp`` (its ``.dbf`` and ``.cpg`` sit beside it).
    declared
        The encoding the config gives, if any.

    Returns
    -------
    str or None
        The encoding to read with; None for pure ASCII text.
    """
    path = Path(path)
    dbf = path.with_suffix(".dbf")
    if not dbf.is_file():
        dbf = path.with_suffix(".DBF")
    if not dbf.is_file():
        return declared
    raw = dbf.read_bytes()
    header_len = int.from_bytes(raw[8:10], "little") if len(raw) >= 10 else len(raw)
    body = raw[header_len:]
    cpg = path.with_suffix(".cpg")
    stated = declared or (
        cpg.read_text(encoding="ascii", errors="replace").strip() if cpg.is_file() else None
    )
    if stated:
        norm = {"utf8": "utf-8", "65001": "utf-8", "936": "gbk", "cp936": "gbk"}.get(
            stated.lower().replace("-", ""), stated
        )
        try:
            body.decode(norm)
        except LookupError:
            raise data_error(
                path, f"unknown encoding {stated!r}", hint="use e.g. utf-8 or gbk"
            ) from None
        except UnicodeDecodeError:
            source = "the config" if declared else f"{cpg.name}"
            wider = norm.lower() == "gbk" and _decodes(body, "gb18030")
            raise data_error(
                path,
                f"attribute text is not valid {stated} as {source} says",
                hint="it reads as GB18030, GBK's superset: set encoding: gb18030"
                if wider
                else "set inputs...encoding (GBK files are common from Chinese GIS teams)",
            ) from None
        return norm
    if body.isascii():
        return None
    for candidate in ("utf-8", "gb18030"):
        try:
            body.decode(candidate)
        except UnicodeDecodeError:
            continue
        if candidate == "gb18030" and _decodes(body, "gbk"):
            candidate = "gbk"  # the common name; GB18030 only for what GBK lacks
        logger.info("%s: no .cpg file; attribute text reads as %s", path, candidate)
        return candidate
    raise data_error(
        path,
        "cannot tell the attribute text encoding (neither UTF-8 nor GBK)",
        hint="set the encoding in the config",
    )


def _decodes(raw: bytes, encoding: str) -> bool:
    try:
        raw.decode(encoding)
    except UnicodeDecodeError:
        return False
    return True


def read_layer(
    path: str | Path,
    *,
    layer: str | None = None,
    encoding: str | None = None,
    crs: str | None = None,
    names: tuple[str, ...] = (),
) -> gpd.GeoDataFrame:
    """Read one vector layer, with errors that name the file and layer.

    Parameters
    ----------
    path
        A GeoPackage, Shapefile, GeoJSON or other OGR-readable file.
    layer
        The layer name; the first layer when None.
    encoding
        Text encoding of a Shapefile's attributes; detected when None
        (see :func:`shapefile_encoding`).
    crs
        The CRS the coordinates are in (any pyproj input): supplies a missing one, or
        replaces the file's own with a warning naming both. ``gcj02`` / ``bd09``: degrees,
        EPSG:4326 when the layer states no CRS (the caller converts them).
    names
        Fields that name a feature (code, name) in the warning about repaired geometries.

    Returns
    -------
    GeoDataFrame
        The layer, with its CRS (an error when it has none) and repaired geometries.
        A ``postgresql://`` URL as ``path`` reads the table or query ``layer`` from the
        database (see :func:`planner.ingest.postgis.read_db_layer`).
    """
    if is_database_url(path):
        from planner.ingest.postgis import read_db_layer

        return _repaired(read_db_layer(str(path), layer=layer, crs=crs), str(path), layer, names)
    path = Path(path)
    if not path.exists():
        raise data_error(path, "file not found", layer=layer)
    try:
        layers = [name for name, _ in pyogrio.list_layers(path)]
    except Exception as err:  # pyogrio raises DataSourceError and friends
        raise data_error(path, f"cannot open as a GIS file ({err})", layer=layer) from None
    if layer is not None and layer not in layers:
        raise data_error(
            path, "layer not found", layer=layer, hint=f"layers are: {', '.join(layers)}"
        )
    kwargs: dict[str, Any] = {}  # read_file's options, passed on to pyogrio
    if path.suffix.lower() == ".shp":
        enc = shapefile_encoding(path, encoding)
        if enc:
            kwargs["encoding"] = enc
    try:
        gdf = gpd.read_file(path, layer=layer, engine="pyogrio", **kwargs)
    except Exception as err:
        raise data_error(path, f"cannot read ({err})", layer=layer) from None
    if len(gdf) == 0:
        raise data_error(path, "layer is empty", layer=layer or layers[0])
    if crs is not None and crs.lower() in CHINA_SYSTEMS:
        if gdf.crs is None:  # GCJ-02 / BD-09 are degrees: converted by the caller
            gdf = gdf.set_crs(4326)
    elif crs is not None:
        gdf = _declare_crs(gdf, crs, path, layer or layers[0])
    if gdf.crs is None:
        guess = guess_crs(gdf.total_bounds) if gdf.geometry.notna().any() else None
        raise data_error(
            path,
            "layer has no CRS",
            layer=layer or layers[0],
            hint=f"{guess + '; ' if guess else ''}define it in the file (a .prj for Shapefiles) "
            "or set this input's crs in the config",
        )
    return _repaired(gdf, path, layer, names)


#: Repaired features a warning names before "and N more".
_SHOWN = 5


def _named(gdf: gpd.GeoDataFrame, i: int, names: tuple[str, ...]) -> str:
    """`` (code name)`` of feature ``i`` from the fields ``names`` it has, or nothing."""
    parts = [str(gdf[f].iloc[i]) for f in names if f in gdf.columns and pd.notna(gdf[f].iloc[i])]
    return f" ({' '.join(parts)})" if parts else ""


def _repaired(
    gdf: gpd.GeoDataFrame, path: str | Path, layer: str | None, names: tuple[str, ...] = ()
) -> gpd.GeoDataFrame:
    """Refuse features without geometry; repair invalid geometries (with a warning naming
    each feature by its number, the fields ``names`` and what is wrong where)."""
    missing = gdf.geometry.isna() | gdf.geometry.is_empty
    if missing.any():
        row = int(missing.to_numpy().nonzero()[0][0]) + 1
        raise data_error(
            path,
            "feature without geometry",
            layer=layer,
            row=row,
            hint="features are counted from 1",
        )
    geoms = np.asarray(gdf.geometry.to_numpy(), dtype=object)
    invalid = ~shapely.is_valid(geoms)
    if invalid.any():
        at = np.flatnonzero(invalid)
        listed = "; ".join(
            f"feature {i + 1}{_named(gdf, i, names)}: {shapely.is_valid_reason(geoms[i])}"
            for i in at[:_SHOWN].tolist()
        )
        more = f"; and {len(at) - _SHOWN} more" if len(at) > _SHOWN else ""
        where = f"{path}, layer '{layer}'" if layer else str(path)
        logger.warning(
            "%s: %d invalid %s repaired by GEOS make_valid, which may change %s: %s%s "
            "(fix them in the file to be sure of the shapes)",
            where,
            len(at),
            "geometry" if len(at) == 1 else "geometries",
            "its area" if len(at) == 1 else "their areas",
            listed,
            more,
        )
        geoms[invalid] = shapely.make_valid(geoms[invalid])
        gdf[gdf.geometry.name] = gpd.GeoSeries(geoms, index=gdf.index, crs=gdf.crs)
    return gdf


def _declare_crs(gdf: gpd.GeoDataFrame, crs: str, path: Path, layer: str) -> gpd.GeoDataFrame:
    """The layer in the CRS the config declares (a warning when the file states another)."""
    declared = CRS.from_user_input(crs)
    if gdf.crs is not None and not gdf.crs.equals(declared):
        logger.warning(
            "%s layer %s: the file states %s; the config's crs %s is used instead",
            path,
            layer,
            gdf.crs.to_string(),
            crs,
        )
    return gdf.set_crs(declared, allow_override=True)
