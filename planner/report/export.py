"""GIS hand-off of a run: its layers in the formats and CRSs asked for, the assignments
table and the data dictionary."""

from __future__ import annotations

import json
import logging
import math
import shutil
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
from planner.errors import ConfigError, DataError
from planner.generated import generated_dir
from planner.i18n import LANGUAGES, Lang, translator
from planner.paths import check_out_dir
from planner.report.dictionary import (
    WGS84_TEXT,
    data_dictionary,
    dictionary_file_table,
    projected_text,
)
from planner.report.formats import (
    FORMATS,
    check_format,
    crs_label,
    layer_order,
    resolve_crs,
    safe_table,
    write_layers,
)
from planner.report.provenance import run_note, shift_record
from planner.report.styles import KML_LAYERS
from planner.report.styling import STYLE_TABLE, write_styles
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


def _wgs84() -> CRS:
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
    wgs84 = _wgs84()
    extra = [c for c in dict.fromkeys(crss) if c != wgs84]
    out = []
    for fmt in wanted:
        for crs in [wgs84, *([] if fmt == "kml" else extra)]:
            label = crs_label(crs)
            if fmt in ("gpkg", "kml"):
                out.append((fmt, crs, "", "sites" if crs == wgs84 else f"sites_{label}"))
            elif fmt == "csv":
                out.append((fmt, crs, "" if crs == wgs84 else f"csv_{label}", "sites"))
            else:
                out.append((fmt, crs, fmt if crs == wgs84 else f"{fmt}_{label}", "sites"))
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
    crss = [_wgs84(), *extra_crs]
    others = [c for c in dict.fromkeys(extra_crs) if c.is_geographic and c != _wgs84()]
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


def read_run_layers(run_dir: str | Path) -> dict[str, gpd.GeoDataFrame]:
    """The layers of a finished run, from its ``sites.gpkg``.

    Parameters
    ----------
    run_dir
        A run folder (holds ``run.json`` and ``sites.gpkg``).

    Returns
    -------
    dict
        GeoDataFrames (EPSG:4326) keyed by layer name, in the file's order (the table of
        QGIS styles and other tables without geometry left out).

    Raises
    ------
    DataError
        When the folder is missing or not a planner run.
    """
    run = Path(run_dir)
    if not run.is_dir():
        msg = f"{run}: no such run folder"
        raise DataError(msg)
    missing = [f for f in ("run.json", RUN_GPKG) if not (run / f).is_file()]
    if missing:
        msg = f"{run}: not a planner run (no {' or '.join(missing)}); give a `planner site` output"
        raise DataError(msg)
    path = run / RUN_GPKG
    try:
        names = [str(n) for n, g in pyogrio.list_layers(path) if g and n != STYLE_TABLE]
        return {n: pyogrio.read_dataframe(path, layer=n) for n in names}
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as err:
        msg = f"{path}: cannot read the run's layers ({' '.join(str(err).split())})"
        raise DataError(msg) from None


def export_run(
    run_dir: str | Path,
    *,
    fmt: str,
    crs: str | int = 4326,
    encoding: str = "utf-8",
    out: str | Path | None = None,
    kml_layers: Iterable[str] = KML_LAYERS,
    lang: Lang | None = None,
) -> tuple[Path, list[str]]:
    """Export a finished run's layers again, in one format and CRS, without solving.

    The files are written into a temporary sibling folder and moved into place when all
    are complete (:func:`~planner.generated.generated_dir`): they replace an earlier
    export's files, never a file the user put in the folder or edited since. It holds the
    layers, ``data_dictionary.csv`` and ``export.json`` (what was exported, from where).

    Parameters
    ----------
    run_dir
        The run folder.
    fmt
        One of :data:`planner.report.formats.FORMATS`.
    crs
        ``4326``, ``4490``, an EPSG code or ``gk`` (see
        :func:`planner.report.formats.resolve_crs`). KML is always EPSG:4326.
    encoding
        Shapefile text encoding, ``utf-8`` or ``gbk``.
    out
        Output folder; default ``<run_dir>/exports/<fmt>_<EPSGnnnn>`` (``_gbk`` or
        ``_gb18030`` added for such Shapefiles). A folder of other files is refused
        unless it holds an earlier export, whose files are replaced (the user's stay).
    kml_layers
        The layers a KML export holds (default the plan's: stations, repair points,
        townships).
    lang
        Language of the styles, KML descriptions and data dictionary (None: English; see
        :func:`saved_language` for the run's own).

    Returns
    -------
    (Path, list of str)
        The output folder and the files in it.
    """
    check_format(fmt, encoding)
    if encoding != "utf-8" and fmt != "shp":
        msg = (
            f"--encoding {encoding} applies to Shapefiles only: {fmt} files are always "
            "UTF-8; leave --encoding out"
        )
        raise ConfigError(msg)
    layers = read_run_layers(run_dir)
    lonlat = _centre(layers)
    target = resolve_crs(crs, lonlat=lonlat)
    if fmt == "kml" and target != _wgs84():
        msg = f"KML is always WGS84 (EPSG:4326); cannot write it in {target.to_string()}"
        raise ConfigError(msg)
    suffix = f"_{encoding}" if fmt == "shp" and encoding != "utf-8" else ""
    folder = (
        Path(out)
        if out is not None
        else (Path(run_dir) / "exports" / f"{fmt}_{crs_label(target)}{suffix}")
    )
    t0 = time.perf_counter()
    if fmt == "kml":
        layers = kml_selection(layers, kml_layers)
    with generated_dir(folder, marker=EXPORT_MARKER, writer="planner export", prune=True) as tmp:
        paths = write_layers(
            layers,
            tmp,
            fmt=fmt,
            crs=target,
            encoding=encoding,
            lang=lang,
            note=run_note(Path(run_dir) / RUN_GPKG),
        )
        paths += write_styles(layers, tmp, fmt=fmt, crs=target, lang=lang)
        files = [p.relative_to(tmp).as_posix() for p in paths]
        polygons = any(
            not g.empty and not g.geom_type.isin(["Point"]).all() for g in layers.values()
        )
        extra = coordinate_columns([fmt], [target], polygons=polygons) if fmt == "csv" else []
        tables: dict[str, pd.DataFrame] = dict(layers)
        assignments = Path(run_dir) / ASSIGNMENTS
        if assignments.is_file():  # the demand's split between stations, for joins
            shutil.copyfile(assignments, tmp / ASSIGNMENTS)
            files.append(ASSIGNMENTS)
            table = read_assignments(assignments)
            tables["assignments"] = table.iloc[:0]
            if fmt == "gpkg":
                note = run_note(Path(run_dir) / RUN_GPKG)
                add_table(tmp / RUN_GPKG, ASSIGNMENTS_TABLE, table, note=note)
        xy = projected_text(target, lang=lang or translator("en")) if target.is_projected else None
        dictionary = data_dictionary(
            tables, extra=extra, lonlat_crs=lonlat_text(target), xy_crs=xy, lang=lang
        )
        safe_table(dictionary_file_table(dictionary, lang=lang)).to_csv(
            tmp / "data_dictionary.csv", index=False, encoding="utf-8-sig"
        )
        files.append("data_dictionary.csv")
        write_json(
            tmp / EXPORT_MARKER,
            {
                "run": str(Path(run_dir).resolve()),
                "format": fmt,
                "crs": target.to_string(),
                "datum_transformation": shift_record(layers, target),
                "encoding": encoding if fmt == "shp" else "utf-8",
                "language": (lang or translator("en")).code,
                "layers": {n: len(g) for n, g in layers.items()},
                "files": files,
                "seconds": round(time.perf_counter() - t0, 3),
            },
        )
    return check_out_dir(folder, marker=None), [*files, EXPORT_MARKER]


def _centre(layers: dict[str, gpd.GeoDataFrame]) -> tuple[float, float] | None:
    """Longitude and latitude of the middle of the run's area (townships, else all)."""
    pick = [layers["townships"]] if "townships" in layers else list(layers.values())
    frames = [g.to_crs(4326) for g in pick if len(g) and g.crs is not None]
    if not frames:
        return None
    bounds = pd.concat([f.geometry for f in frames]).total_bounds
    return (float(bounds[0] + bounds[2]) / 2, float(bounds[1] + bounds[3]) / 2)


def saved_language(run_dir: str | Path) -> Lang:
    """The language of a finished run (``language`` in its ``summary.json``; English
    when the summary is missing or names none)."""
    path = Path(run_dir) / "summary.json"
    try:
        code = json.loads(path.read_text(encoding="utf-8")).get("language")
    except (OSError, ValueError, AttributeError):
        code = None
    return translator(code if code in LANGUAGES else "en")


def read_assignments(path: Path) -> pd.DataFrame:
    """A run's ``assignments.csv`` (ids as text, figures as numbers)."""
    ids = {C.DEMAND_ID: str, C.STATION_ID: str}
    return pd.read_csv(path, dtype=ids, keep_default_na=False, encoding="utf-8-sig")


def add_table(gpkg: Path, name: str, table: pd.DataFrame, *, note: str | None = None) -> None:
    """Add a table without geometry to a GeoPackage (read_run_layers leaves it out),
    described by ``note``; a table without columns (no assignments) is left out."""
    if len(table.columns) == 0:
        return
    options = {"layer_options": {"DESCRIPTION": note}} if note else {}
    pyogrio.write_dataframe(table, gpkg, layer=name, driver="GPKG", append=True, **options)
