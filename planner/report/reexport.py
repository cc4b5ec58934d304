"""``planner export``: a finished run's layers read back from its ``sites.gpkg`` and
written again in another format or CRS, without solving."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterable
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pyogrio.errors

from planner import columns as C
from planner.errors import ConfigError, DataError
from planner.generated import generated_dir
from planner.i18n import LANGUAGES, Lang, translator
from planner.paths import check_out_dir
from planner.report.dictionary import data_dictionary, dictionary_file_table, projected_text
from planner.report.export import (
    ASSIGNMENTS,
    ASSIGNMENTS_TABLE,
    EXPORT_MARKER,
    RUN_GPKG,
    add_table,
    coordinate_columns,
    kml_selection,
    lonlat_text,
    wgs84,
    write_json,
)
from planner.report.formats import check_format, crs_label, resolve_crs, safe_table, write_layers
from planner.report.provenance import run_note, shift_record
from planner.report.styles import KML_LAYERS
from planner.report.styling import STYLE_TABLE, write_styles


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
    lonlat = run_centre(layers)
    target = resolve_crs(crs, lonlat=lonlat)
    if fmt == "kml" and target != wgs84():
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


def run_centre(layers: dict[str, gpd.GeoDataFrame]) -> tuple[float, float] | None:
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
