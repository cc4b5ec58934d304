"""GIS file formats: one writer for GeoPackage, Shapefile, GeoJSON, CSV and KML.

Every format receives the same layers (GeoDataFrames keyed by name) and writes them in
one target CRS. The pure helpers (:func:`resolve_crs`, :func:`shapefile_names`,
:func:`~planner.report.shapefile_text.check_encodable`, :func:`csv_frame`) do the choices;
only :func:`write_layers`
touches the disk. The QGIS and SLD styles beside the files are written by
:mod:`planner.report.styling`.

Layout of one format written into a folder:

========  =============================================================================
gpkg      ``<name>.gpkg`` (GeoPackage 1.3), one layer per input layer
shp       ``<layer>.shp`` (+ .shx .dbf .prj .cpg), field names of at most 10 characters
          (:func:`shapefile_names`), text in UTF-8 or GBK as the ``.cpg`` says
geojson   ``<layer>.geojson``
csv       ``<layer>.csv`` (UTF-8 with BOM, so Excel shows Chinese): points as ``lon``/``lat``
          (geographic CRS) or ``easting`` / ``northing`` (projected CRS); polygons
          as ``wkt`` plus the ``lon``/``lat`` (or ``easting``/``northing``) of a point inside it
kml       ``<name>.kml``, one folder per layer, placemarks styled and described
          (:mod:`planner.report.kml`); always WGS84 (EPSG:4326), as KML requires
========  =============================================================================
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS

from planner import columns as C
from planner.crs import DatumShift, datum_shift, foreign_datum, gk3_zone_crs
from planner.errors import ConfigError
from planner.i18n import Lang
from planner.report.kml import kml_driver, kml_frame, style_kml
from planner.report.shapefile_text import check_encodable, shortened_texts

logger = logging.getLogger(__name__)

#: Layers of a run, in order; any other layer given (service_areas ...) is written after.
LAYERS = (
    "stations",
    "repair_points",
    "candidates",
    "demand",
    "townships",
    "existing_chargers",
    "substations",
    "service_areas",
    "tours",
    "tour_stops",
)
#: The formats, in the order a run writes them.
FORMATS: tuple[str, ...] = ("gpkg", "shp", "geojson", "csv", "kml")
#: Shapefile text encodings: config value -> GDAL/.cpg name.
SHAPEFILE_ENCODINGS = {"utf-8": "UTF-8", "gbk": "GBK", "gb18030": "GB18030"}
#: How a CSV export writes its numbers: 12 significant digits, so that binary round-off
#: (366.07480799999996) does not show in a spreadsheet; no value loses what it holds.
CSV_FLOAT_FORMAT = "%.12g"

#: GeoPackage version written: 1.3, the newest GDAL 3.3-3.6 open without a warning
#: (GDAL 3.7 and later write 1.4 by default, which GDAL 3.6 reports as only partially
#: supported).
GPKG_VERSION = "1.3"

_DRIVER = {"gpkg": "GPKG", "shp": "ESRI Shapefile", "geojson": "GeoJSON"}
_POLYGON_LAYERS = ("townships", "service_areas")


def export_shift(layers: Mapping[str, gpd.GeoDataFrame], crs: CRS) -> DatumShift | None:
    """The datum transformation into ``crs`` valid where the layers lie (see
    :class:`~planner.crs.DatumShift`), None when ``crs`` is on WGS84 or CGCS2000."""
    if not foreign_datum(crs):
        return None
    boxes = [g.to_crs(4326).total_bounds for g in layers.values() if len(g) and g.crs]
    if not boxes:
        return None
    b = np.array(boxes)
    return datum_shift(crs, (b[:, 0].min(), b[:, 1].min(), b[:, 2].max(), b[:, 3].max()))


def resolve_crs(spec: str | int, *, lonlat: tuple[float, float] | None = None) -> CRS:
    """The CRS an export is written in.

    Parameters
    ----------
    spec
        ``4326``, ``4490``, any EPSG code (``"4548"``, ``"EPSG:4548"``), any CRS text pyproj
        reads, or ``"gk"``: the county's CGCS2000 3-degree Gauss-Kruger zone.
    lonlat
        A point of the county (longitude, latitude), needed for ``"gk"``.

    Returns
    -------
    CRS
    """
    text = str(spec).strip()
    if text.lower() == "gk":
        if lonlat is None:
            msg = "crs 'gk' needs the county's position"
            raise ConfigError(msg)
        crs = gk3_zone_crs(*lonlat)
        if crs is None:
            msg = (
                f"crs 'gk': the county (lon {lonlat[0]:.2f}, lat {lonlat[1]:.2f}) lies outside "
                "China's CGCS2000 Gauss-Kruger zones; give an EPSG code instead"
            )
            raise ConfigError(msg)
        return crs
    if text.isdigit():
        text = f"EPSG:{text}"
    try:
        crs = CRS.from_user_input(text)
    except Exception:
        msg = f"crs {spec!r} is not a CRS pyproj knows (use 4326, 4490, an EPSG code or gk)"
        raise ConfigError(msg) from None
    flat = crs.is_projected or (crs.is_geographic and len(crs.axis_info) == 2)
    if not flat or crs.is_geocentric:
        msg = (
            f"crs {spec!r} ({crs.name}) is not a 2D map CRS (geocentric or 3D); use 4490 "
            "(CGCS2000 longitude/latitude), gk or another projected EPSG code"
        )
        raise ConfigError(msg)
    return crs


def crs_label(crs: CRS) -> str:
    """``EPSG4490`` for an EPSG CRS, else a short name safe in file names."""
    epsg = crs.to_epsg()
    if epsg is not None:
        return f"EPSG{epsg}"
    return re.sub(r"[^A-Za-z0-9]+", "_", crs.name).strip("_")[:40] or "crs"


def layer_order(names: Iterable[str]) -> list[str]:
    """The known layers in their usual order, then any others in the order given."""
    names = list(names)
    return [n for n in LAYERS if n in names] + [n for n in names if n not in LAYERS]


def shapefile_names(columns: Iterable[str]) -> dict[str, str]:
    """Shapefile field names (at most 10 ASCII bytes, unique ignoring case) per column.

    Columns of 10 characters or fewer keep their names; longer ones take their name from
    :data:`planner.columns.SHAPEFILE_NAMES`, else their first 10 characters, made unique
    with ``_1``, ``_2`` ... The result is the same for a column whatever layer holds it.

    Parameters
    ----------
    columns
        Column names, in the order they should claim names.

    Returns
    -------
    dict
        Column -> field name.
    """
    out: dict[str, str] = {}
    taken: set[str] = set()
    ordered = list(dict.fromkeys(columns))
    # short names and curated names claim first, so cut names never take theirs
    for col in ordered:
        short = col if _fits(col) else C.SHAPEFILE_NAMES.get(col)
        if short is not None and short.lower() not in taken:
            out[col] = short
            taken.add(short.lower())
    for col in ordered:
        if col in out:
            continue
        base = _ascii_cut(col, 10)
        name, k = base, 0
        while name.lower() in taken:
            k += 1
            suffix = f"_{k}"
            name = _ascii_cut(col, 10 - len(suffix)) + suffix
        out[col] = name
        taken.add(name.lower())
    return out


def _fits(name: str) -> bool:
    return name.isascii() and len(name) <= 10


def _ascii_cut(name: str, n: int) -> str:
    clean = re.sub(r"[^A-Za-z0-9_]", "_", name) if not name.isascii() else name
    return clean[:n] or "field"


#: First characters that make a spreadsheet read a text cell as a formula.
FORMULA_STARTS = ("=", "@", "+", "-", "\t", "\r")
_NUMBER = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")


def safe_cell(value: Any) -> Any:
    """A text value that Excel would run as a formula, neutralised; others unchanged.

    Text starting with ``=``, ``@``, ``+``, ``-`` (or a tab or carriage return) gets a
    leading single quote, as OWASP advises against CSV injection (e.g. a township named
    ``=HYPERLINK(...)``). Numbers, text that is just a number (``-12.5``) and a lone sign
    (``-`` as "no unit" in the data dictionary) are kept: none of them is a formula.

    Parameters
    ----------
    value
        A cell or header.

    Returns
    -------
    Any
        ``value``, or ``"'" + value`` for formula-like text.
    """
    formula = isinstance(value, str) and len(value) > 1 and value.startswith(FORMULA_STARTS)
    return "'" + value if formula and not _NUMBER.fullmatch(value) else value


def safe_table(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` whose text cells and headers pass :func:`safe_cell`."""
    out = df.rename(columns=lambda c: safe_cell(c) if isinstance(c, str) else c)
    for col in out.columns:
        if not pd.api.types.is_numeric_dtype(out[col]):
            out[col] = out[col].map(safe_cell)
    return out


def csv_frame(gdf: gpd.GeoDataFrame, *, points: bool | None = None) -> pd.DataFrame:
    """A layer as a plain table: coordinates as columns, polygons also as WKT.

    Parameters
    ----------
    gdf
        The layer, already in the target CRS.
    points
        Whether it is a point layer; default: all its geometries are points (an empty
        layer counts as points).

    Returns
    -------
    DataFrame
        Attributes, then ``lon``/``lat`` (geographic CRS) or ``easting``/``northing``
        (projected, with the zone number or false easting the CRS defines), of the point
        itself or, for other geometries, of a point inside it (GEOS ``PointOnSurface``);
        non-point layers also get ``wkt``. Not ``x``/``y``: a GIS takes ``x`` as the
        easting, Chinese surveying as the northing.
    """
    geo = gdf.crs is None or gdf.crs.is_geographic
    digits = 7 if geo else 3
    geom = gdf.geometry
    out = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
    if points is None:
        points = bool((geom.geom_type == "Point").all())
    anchor = geom if points else geom.representative_point()
    if geo:
        out[C.LON] = anchor.x.round(digits).to_numpy()
        out[C.LAT] = anchor.y.round(digits).to_numpy()
    else:  # named for what they are: a GIS reads "x" as easting, a surveyor as northing
        out[C.EASTING] = anchor.x.round(digits).to_numpy()
        out[C.NORTHING] = anchor.y.round(digits).to_numpy()
    if not points:
        out[C.WKT] = shapely.to_wkt(geom.to_numpy(), rounding_precision=digits)
    return safe_table(out)


def _geometry_type(gdf: gpd.GeoDataFrame, layer: str) -> str:
    types = set(gdf.geom_type.dropna())
    if not types:
        return "MultiPolygon" if layer in _POLYGON_LAYERS else "Point"
    if types <= {"Polygon", "MultiPolygon"}:
        return "MultiPolygon" if "MultiPolygon" in types else "Polygon"
    if len(types) == 1:
        return types.pop()
    return "Unknown"


def write_layers(
    layers: dict[str, gpd.GeoDataFrame],
    folder: Path,
    *,
    fmt: str,
    crs: CRS,
    encoding: str = "utf-8",
    name: str = "sites",
    lang: Lang | None = None,
    note: str | None = None,
) -> list[Path]:
    """Write every layer in one format and CRS into ``folder``.

    Parameters
    ----------
    layers
        GeoDataFrames keyed by layer name, any CRS (empty layers are written too).
    folder
        Existing folder to write into; files of the same names are replaced.
    fmt
        One of :data:`FORMATS`.
    crs
        Target CRS (KML is always written in EPSG:4326).
    encoding
        Shapefile text encoding: ``utf-8`` or ``gbk`` (other formats are UTF-8).
    name
        File name (without extension) of the one-file formats, gpkg and kml.
    lang
        Language of the KML descriptions and folder names (None: English; the folders
        keep the layer names).
    note
        Where the layers come from (run, county, data credit): each GeoPackage layer's
        description says it, with the layer's CRS.

    Returns
    -------
    list of Path
        The files written (for a Shapefile, its ``.shp``).
    """
    check_format(fmt, encoding)
    names = layer_order(layers)
    written: list[Path] = []
    frames: dict[str, gpd.GeoDataFrame] = {}
    if fmt == "shp":
        fields = shapefile_names(
            c for n in names for c in layers[n].columns if c != layers[n].geometry.name
        )
        for n in names:  # check all before writing any
            check_encodable(layers[n], layer=n, encoding=encoding)
    shift = export_shift(layers, crs) if fmt != "kml" else None
    if shift is not None and shift.warning:
        logger.warning("%s", shift.warning)
    for n in names:
        if fmt == "kml":
            gdf = kml_frame(layers[n], layer=n, lang=lang)
        else:
            gdf = shift.apply(layers[n]) if shift is not None else layers[n].to_crs(crs)
        frames[n] = gdf
        if fmt == "csv":
            path = folder / f"{n}.csv"
            points = _geometry_type(gdf, n) in ("Point", "MultiPoint")
            csv_frame(gdf, points=points).to_csv(
                path, index=False, encoding="utf-8-sig", float_format=CSV_FLOAT_FORMAT
            )
        elif fmt in ("gpkg", "kml"):
            path = folder / f"{name}.{fmt}"
            if n == names[0]:
                path.unlink(missing_ok=True)  # a new file, not layers added to an old one
            driver = _DRIVER.get(fmt) or kml_driver()
            new = fmt == "gpkg" and not path.exists()
            new_kind = fmt == "gpkg"  # a GeoPackage layer has a description
            pyogrio.write_dataframe(
                gdf,
                path,
                layer=n,
                driver=driver,
                append=path.exists(),
                geometry_type=_geometry_type(gdf, n),
                **({"dataset_options": {"VERSION": GPKG_VERSION}} if new else {}),
                **(
                    {"layer_options": {"DESCRIPTION": _described(note, gdf)}}
                    if note and new_kind
                    else {}
                ),
            )
        elif fmt == "shp":
            path = folder / f"{n}.shp"
            gdf = shortened_texts(gdf, layer=n, encoding=encoding)
            renamed = gdf.rename(columns={c: fields[c] for c in gdf.columns if c in fields})
            renamed = renamed.set_geometry(gdf.geometry.name)
            pyogrio.write_dataframe(
                renamed,
                path,
                driver=_DRIVER[fmt],
                encoding=SHAPEFILE_ENCODINGS[encoding],
                geometry_type=_geometry_type(gdf, n),
            )
        else:
            path = folder / f"{n}.geojson"
            pyogrio.write_dataframe(
                gdf, path, driver=_DRIVER[fmt], geometry_type=_geometry_type(gdf, n)
            )
        if path not in written:
            written.append(path)
    if fmt == "kml" and written:
        style_kml(written[0], frames, lang=lang)
    logger.debug("wrote %s in %s: %s", fmt, crs.to_string(), [p.name for p in written])
    return written


def check_format(fmt: str, encoding: str) -> None:
    """Raise :class:`ConfigError` for an unknown format or Shapefile encoding."""
    if fmt not in FORMATS:
        msg = f"unknown export format {fmt!r} (choose from {', '.join(FORMATS)})"
        raise ConfigError(msg)
    if encoding not in SHAPEFILE_ENCODINGS:
        msg = f"unknown Shapefile encoding {encoding!r} (choose utf-8, gbk or gb18030)"
        raise ConfigError(msg)


def _described(note: str, gdf: gpd.GeoDataFrame) -> str:
    """A layer's description: the run's note and the layer's CRS."""
    crs = gdf.crs
    name = f"{crs.name} ({crs.to_string()})" if crs is not None else "?"
    return f"{note} CRS: {name}."
