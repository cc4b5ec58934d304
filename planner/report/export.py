"""GIS hand-off of a run: its layers in the formats and CRSs asked for, the assignments
table and the data dictionary."""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyogrio.errors
from pyproj import CRS

from planner import columns as C
from planner.errors import ConfigError
from planner.i18n import Lang, translator
from planner.report.dictionary import (
    WGS84_TEXT,
    data_dictionary,
    dictionary_file_table,
    projected_text,
)
from planner.report.formats import (
    FORMATS,
    crs_label,
    layer_order,
    resolve_crs,
    safe_table,
    write_layers,
)
from planner.report.styles import KML_LAYERS
from planner.report.styling import write_styles
from planner.report.tour_tables import TOUR_LAYERS

logger = logging.getLogger(__name__)

#: The demand-to-station assignments of a run (and of its exports).
ASSIGNMENTS = "assignments.csv"
#: The GeoPackage table (no geometry) of the same split.
ASSIGNMENTS_TABLE = "assignments"

#: The run's own record of its layers, read back by ``planner export``.
RUN_GPKG = "sites.gpkg"
#: The file that marks a folder written by ``planner export``.
EXPORT_MARKER = "export.json"


def wgs84() -> CRS:
    return CRS.from_epsg(4326)


def export_targets(formats: Iterable[str], crss: Iterable[CRS]) -> list[tuple[str, CRS, str, str]]:
    """Where each format and CRS of a run goes.

    Parameters
    ----------
    formats
        Formats asked for (``gpkg`` is always written in EPSG:4326).
    crss
        Further CRSs besides EPSG:4326.

    Returns
    -------
    list of (format, crs, folder, name)
        ``folder`` relative to the run folder (``""``: the run folder itself) and ``name``
        the file name of the one-file formats: ``sites.gpkg`` and ``sites_EPSG4490.gpkg``,
        CSVs in the run folder (WGS84) or ``csv_EPSG4490/``, ``shp/`` or ``shp_EPSG4490/``,
        ``geojson/`` or ``geojson_EPSG4490/``, ``sites.kml`` (WGS84 only).
    """
    wanted = ["gpkg", *(f for f in FORMATS if f in set(formats) and f != "gpkg")]
    base = wgs84()
    extra = [c for c in dict.fromkeys(crss) if c != base]
    out = []
    for fmt in wanted:
        for crs in [base, *([] if fmt == "kml" else extra)]:
            label = crs_label(crs)
            if fmt in ("gpkg", "kml"):
                out.append((fmt, crs, "", "sites" if crs == base else f"sites_{label}"))
            elif fmt == "csv":
                out.append((fmt, crs, "" if crs == base else f"csv_{label}", "sites"))
            else:
                out.append((fmt, crs, fmt if crs == base else f"{fmt}_{label}", "sites"))
    return out


def lonlat_text(crs: CRS) -> str:
    """How the dictionary names the CRS of ``lon``/``lat`` in files written in ``crs``.

    A projected CRS's files carry ``x``/``y`` and keep ``lon``/``lat`` only in WGS84 layers.
    """
    if not crs.is_geographic:
        return WGS84_TEXT
    epsg = crs.to_epsg()
    name = "CGCS2000" if epsg == 4490 else ("WGS84" if epsg == 4326 else crs.name)
    return f"{name} (EPSG:{epsg})" if epsg else name


def coordinate_columns(formats: Iterable[str], crss: Iterable[CRS], *, polygons: bool) -> list[str]:
    """The columns the exports add: lon/lat where a CRS is geographic (the run's own files
    always are), easting/northing and wkt where CSVs carry them."""
    crss = list(crss)
    cols = [C.LON, C.LAT] if any(not c.is_projected for c in crss) else []
    if "csv" in set(formats):
        if any(c.is_projected for c in crss):
            cols += [C.EASTING, C.NORTHING]
        if polygons:
            cols.append(C.WKT)
    return cols


def export_crss(specs: Iterable[str], county: gpd.GeoDataFrame) -> list[CRS]:
    """The run's further export CRSs (``report.extra_crs``), ``gk`` resolved for the county.

    Parameters
    ----------
    specs
        CRS texts (see :func:`planner.report.formats.resolve_crs`).
    county
        The county polygon, any CRS.

    Returns
    -------
    list of CRS
    """
    c = county.to_crs(4326).union_all().centroid
    return [resolve_crs(s, lonlat=(c.x, c.y)) for s in specs]


def run_dictionary(
    layers: dict[str, gpd.GeoDataFrame],
    assignments: pd.DataFrame,
    *,
    formats: Iterable[str],
    extra_crs: Iterable[CRS],
    lang: Lang | None = None,
) -> pd.DataFrame:
    """The data dictionary of a run's exports (layers, assignments, CSV coordinates), its
    descriptions in ``lang`` (None: English)."""
    lang = lang or translator("en")
    polygons = any(not g.empty and not g.geom_type.isin(["Point"]).all() for g in layers.values())
    crss = [wgs84(), *extra_crs]
    others = [c for c in dict.fromkeys(extra_crs) if c.is_geographic and c != wgs84()]
    separator = "；" if lang.code == "zh" else "; "
    lonlat = separator.join(
        [lang("{crs} in the run folder's files", crs=WGS84_TEXT)]
        + [
            lang("{crs} in the *_{label} files", crs=lonlat_text(c), label=crs_label(c))
            for c in others
        ]
    )
    projected = [c for c in dict.fromkeys(extra_crs) if c.is_projected]
    xy = separator.join(
        lang("{crs} in the *_{label} files", crs=projected_text(c, lang=lang), label=crs_label(c))
        for c in projected
    )
    return data_dictionary(
        {**layers, "assignments": assignments},
        extra=coordinate_columns(formats, crss, polygons=polygons),
        lonlat_crs=lonlat if others else WGS84_TEXT,
        xy_crs=xy or None,
        lang=lang,
    )


def kml_selection(
    layers: dict[str, gpd.GeoDataFrame], kml_layers: Iterable[str]
) -> dict[str, gpd.GeoDataFrame]:
    """The layers a KML file holds: those of ``kml_layers`` the run has, in layer order.

    The tours' layers (:data:`planner.report.tour_tables.TOUR_LAYERS`) are left out of a
    run without tours (a run has them only when its config plans the vans' tours).

    Raises
    ------
    ConfigError
        For a name that is no layer of the run.
    """
    wanted = list(kml_layers)
    unknown = [n for n in wanted if n not in layers and n not in TOUR_LAYERS]
    if unknown:
        msg = (
            f"KML layers {', '.join(map(repr, unknown))}: no such layer (choose from "
            f"{', '.join(layer_order(layers))})"
        )
        raise ConfigError(msg)
    return {n: layers[n] for n in layer_order(layers) if n in wanted}


def write_exports(  # noqa: PLR0913 - the layers' data, then keyword-only options
    out_dir: Path,
    layers: dict[str, gpd.GeoDataFrame],
    assignments: pd.DataFrame,
    *,
    formats: Iterable[str] = ("gpkg", "csv"),
    extra_crs: Iterable[CRS | str] = (),
    shapefile_encoding: str = "utf-8",
    kml_layers: Iterable[str] = KML_LAYERS,
    lang: Lang | None = None,
    note: str | None = None,
) -> list[str]:
    """Write the GIS layers in every format and CRS asked for, ``assignments.csv`` and
    ``data_dictionary.csv``.

    Parameters
    ----------
    out_dir
        The run folder (being written).
    layers
        GeoDataFrames keyed by layer name (:data:`LAYERS`, and any other), any CRS.
    assignments
        Demand-to-station assignments.
    formats
        Formats from :data:`planner.report.formats.FORMATS`; ``sites.gpkg`` (EPSG:4326) is
        always written: it is the run's record that ``planner export`` reads.
    extra_crs
        Further CRSs (resolved, or text pyproj reads): each format is also written in each
        (see :func:`export_targets`).
    shapefile_encoding
        ``utf-8``, ``gbk`` or ``gb18030``.
    kml_layers
        The layers ``sites.kml`` holds (default the plan's: stations, repair points,
        townships).
    lang
        The report language: field aliases, legends and layer titles of the styles, KML
        descriptions, the data dictionary (None: English).
    note
        Where the layers come from, for the GeoPackage layers' descriptions.

    Returns
    -------
    list of str
        The files written, relative to ``out_dir`` (with ``plan.qgs`` beside each
        GeoPackage).
    """
    formats = list(formats)
    crss = [c if isinstance(c, CRS) else resolve_crs(c) for c in extra_crs]
    kml = kml_selection(layers, kml_layers) if "kml" in formats else {}
    files: list[str] = []
    for fmt, crs, folder, name in export_targets(formats, crss):
        where = out_dir / folder
        where.mkdir(exist_ok=True)
        t0 = time.perf_counter()
        chosen = kml if fmt == "kml" else layers
        paths = write_layers(
            chosen,
            where,
            fmt=fmt,
            crs=crs,
            encoding=shapefile_encoding,
            name=name,
            lang=lang,
            note=note,
        )
        paths += write_styles(chosen, where, fmt=fmt, crs=crs, name=name, lang=lang)
        logger.info("%s in %s: %.2f s", fmt, crs.to_string(), time.perf_counter() - t0)
        files += [p.relative_to(out_dir).as_posix() for p in paths]
    assignments = with_sessions(assignments, layers.get("demand"))
    safe_table(assignments).to_csv(out_dir / ASSIGNMENTS, index=False, encoding="utf-8-sig")
    for fmt, _, folder, name in export_targets(formats, crss):
        if fmt == "gpkg":  # the demand's split between stations, beside the layers
            add_table(out_dir / folder / f"{name}.gpkg", ASSIGNMENTS_TABLE, assignments, note=note)
    dictionary = run_dictionary(layers, assignments, formats=formats, extra_crs=crss, lang=lang)
    safe_table(dictionary_file_table(dictionary, lang=lang)).to_csv(
        out_dir / "data_dictionary.csv", index=False, encoding="utf-8-sig"
    )
    return [*files, ASSIGNMENTS, "data_dictionary.csv"]


def with_sessions(assignments: pd.DataFrame, demand: pd.DataFrame | None) -> pd.DataFrame:
    """The assignments with the sessions per day each station serves of each point
    (``covered_share`` of the point's sessions): summed by ``station_id`` they are the
    stations' ``sessions_served``, with no join to make."""
    if demand is None or C.SESSIONS_DAY not in demand or C.COVERED_SHARE not in assignments:
        return assignments
    sessions = assignments[C.DEMAND_ID].map(demand.set_index(C.DEMAND_ID)[C.SESSIONS_DAY])
    return assignments.assign(
        **{C.SESSIONS_SERVED: (assignments[C.COVERED_SHARE] * sessions).round(4)}
    )


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Write JSON as UTF-8 (Chinese text kept readable); a number that is not finite is
    written as ``null`` (``NaN`` and ``Infinity`` are not JSON: strict readers refuse
    them)."""
    text = json.dumps(_plain(data), ensure_ascii=False, indent=2, default=_default, allow_nan=False)
    path.write_text(text + "\n", encoding="utf-8")


def _plain(obj: Any) -> Any:
    """``obj`` with every float that is not finite replaced by None."""
    if isinstance(obj, dict):
        return {k: _plain(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_plain(v) for v in obj]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def _default(obj: Any) -> Any:
    if hasattr(obj, "item"):
        return obj.item()
    return str(obj)


def add_table(gpkg: Path, name: str, table: pd.DataFrame, *, note: str | None = None) -> None:
    """Add a table without geometry to a GeoPackage (read_run_layers leaves it out),
    described by ``note``; a table without columns (no assignments) is left out."""
    if len(table.columns) == 0:
        return
    options = {"layer_options": {"DESCRIPTION": note}} if note else {}
    pyogrio.write_dataframe(table, gpkg, layer=name, driver="GPKG", append=True, **options)
