"""Publish a finished run to PostGIS: every layer, one transaction, many runs side by side.

Each layer of the run (:func:`planner.report.read_run_layers`) goes to a table of the same
name in the chosen schema, with ``run_id`` (a foreign key to ``plan_runs``) and
``feature_id`` as its primary key, a GiST index on ``geom`` (in the SRID of the chosen CRS)
and the data dictionary's descriptions as column comments. ``plan_runs`` holds one row per
published run. Publishing a run again replaces that run's rows (``--if-exists replace``)
and leaves the other runs' rows alone.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from planner.errors import ConfigError, DataError
from planner.i18n import Lang
from planner.ingest.china import in_china
from planner.ingest.database import connect, mask, parse_url, show_url, srid_known
from planner.report.export import ASSIGNMENTS, ASSIGNMENTS_TABLE
from planner.report.formats import resolve_crs
from planner.report.postgis_tables import (
    GEOM,
    clear_run,
    ensure_schema,
    layer_table,
    runs_table,
)
from planner.report.reexport import (
    read_assignments,
    read_run_layers,
    run_centre,
    saved_language,
)

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

logger = logging.getLogger(__name__)

#: What to do when the run is already in the database.
IF_EXISTS = ("fail", "replace")
#: Default schema of the published tables.
DEFAULT_SCHEMA = "planner"


@dataclass
class Published:
    """What :func:`publish_run` wrote."""

    url: str  # without password
    schema: str
    run_id: str
    srid: int
    layers: dict[str, int] = field(default_factory=dict)  # table -> rows
    replaced: bool = False
    seconds: float = 0.0


def default_crs(layers: dict[str, gpd.GeoDataFrame]) -> CRS:
    """EPSG:4490 (CGCS2000) for a county in China, else EPSG:4326."""
    centre = run_centre(layers)
    if centre is not None and bool(in_china(centre[0], centre[1])):
        return CRS.from_epsg(4490)
    return CRS.from_epsg(4326)


def run_record(run_dir: Path) -> dict[str, Any]:
    """The ``plan_runs`` row of a run, from its ``run.json`` and ``summary.json``."""
    info = _read_json(run_dir / "run.json")
    summary = _read_json(run_dir / "summary.json")
    config = info.get("config") or {}
    county = (config.get("county") or {}) if isinstance(config, dict) else {}
    digest = hashlib.sha256(
        json.dumps(config, sort_keys=True, ensure_ascii=False, default=str).encode("utf-8")
    ).hexdigest()
    return {
        "run_id": str(info.get("run_id") or run_dir.name),
        "county": str(summary.get("county") or county.get("name") or ""),
        "slug": str(summary.get("slug") or county.get("slug") or ""),
        "config_hash": digest,
        "status": str(info.get("status") or summary.get("status") or ""),
        "timings": info.get("timings_s") or summary.get("timings_s") or {},
        "planner_version": str(info.get("planner_version") or ""),
        "created_utc": _when(info.get("created_utc")),
    }


def _when(text: object) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(str(text)) if text else None
    except ValueError:
        return None


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def publish_run(
    run_dir: str | Path,
    url: str,
    *,
    schema: str = DEFAULT_SCHEMA,
    crs: str | int | None = None,
    if_exists: str = "fail",
    lang: Lang | None = None,
) -> Published:
    """Write every layer of a finished run to a PostGIS database, in one transaction.

    Parameters
    ----------
    run_dir
        The run folder.
    url
        ``postgresql://USER@HOST:PORT/DB``; the password comes from ``PGPASSWORD`` or
        ``~/.pgpass`` (a URL with a password is refused).
    schema
        The schema of the tables (created when missing, which needs CREATE on the database).
    crs
        The CRS of the geometries (an EPSG code, ``gk``); default EPSG:4490 (CGCS2000) for a
        county in China, else EPSG:4326.
    if_exists
        ``fail`` (default): refuse a run already published in ``schema``; ``replace``:
        replace that run's rows. Other runs' rows are never touched.
    lang
        Language of the column comments (None: the run's own, see
        :func:`planner.report.reexport.saved_language`).

    Returns
    -------
    Published

    Raises
    ------
    ConfigError
        A bad URL, option or CRS; the run is already published and ``if_exists`` is fail.
    DataError
        The server is unreachable, authentication failed, PostGIS is missing, or a table
        of the schema does not fit the run's layers.
    """
    t0 = time.perf_counter()
    if if_exists not in IF_EXISTS:
        msg = f"--if-exists {if_exists!r}: use fail or replace"
        raise ConfigError(msg)
    u = parse_url(url)
    run = Path(run_dir)
    layers = read_run_layers(run)
    lang = lang or saved_language(run)
    target = resolve_crs(crs, lonlat=run_centre(layers)) if crs is not None else default_crs(layers)
    srid = target.to_epsg()
    if srid is None:
        msg = f"crs {target.to_string()!r} has no EPSG code: give one (e.g. 4490)"
        raise ConfigError(msg)
    record = run_record(run)
    frames: dict[str, pd.DataFrame] = {
        name: _layer_frame(g, target, record["run_id"]) for name, g in layers.items()
    }
    if (run / ASSIGNMENTS).is_file():  # the demand's split between stations, for joins
        frames[ASSIGNMENTS_TABLE] = _rows(read_assignments(run / ASSIGNMENTS), record["run_id"])
    out = Published(show_url(u), schema, record["run_id"], srid)
    with connect(u) as conn:
        if not srid_known(conn, srid):
            msg = f"{show_url(u)}: SRID {srid} is not in the database's spatial_ref_sys"
            raise DataError(msg)
        ensure_schema(conn, schema)
        runs = runs_table(conn, schema, lang=lang)
        out.replaced = clear_run(
            conn, runs, record["run_id"], if_exists=if_exists, where=out, layers=list(frames)
        )
        record = {**record, "srid": srid, "published_utc": dt.datetime.now(dt.UTC)}
        conn.execute(runs.insert().values(**record, layers={n: len(f) for n, f in frames.items()}))
        for name, frame in frames.items():
            spatial = isinstance(frame, gpd.GeoDataFrame)
            layer_table(conn, schema, name, frame, srid=srid if spatial else None, lang=lang)
            _append(conn, frame, schema, name, where=out.url)
            out.layers[name] = len(frame)
    out.seconds = time.perf_counter() - t0
    logger.info(
        "published run %s to %s schema %s (SRID %d): %d layers in %.2f s",
        out.run_id,
        out.url,
        schema,
        srid,
        len(out.layers),
        out.seconds,
    )
    return out


def _append(conn: Connection, frame: pd.DataFrame, schema: str, name: str, *, where: str) -> None:
    """Insert a layer's rows; a database error names the table and what to do (the
    publish's transaction is then rolled back: nothing is written)."""
    import psycopg
    from pandas.errors import DatabaseError
    from sqlalchemy.exc import DBAPIError

    try:
        if isinstance(frame, gpd.GeoDataFrame):
            frame.to_postgis(name, conn, schema=schema, if_exists="append", index=False)
        else:
            frame.to_sql(name, conn, schema=schema, if_exists="append", index=False)
    except (DBAPIError, psycopg.Error, DatabaseError) as err:
        # pandas wraps the driver's error with the statement and its rows: name the cause
        cause = err.__cause__ if isinstance(err, DatabaseError) and err.__cause__ else err
        # psycopg then warns that it ended the failed pipeline: this line says it all
        logging.getLogger("psycopg").setLevel(logging.ERROR)
        detail = " ".join(mask(str(getattr(cause, "orig", None) or cause)).split())[:240]
        msg = (
            f"{where}: table {schema}.{name}: {detail}; nothing was published. A table an "
            "earlier run made may have other column types or rights: publish into another "
            "schema (--schema) or ask the database's owner"
        )
        raise DataError(msg) from None


def _layer_frame(gdf: gpd.GeoDataFrame, crs: CRS, run_id: str) -> gpd.GeoDataFrame:
    """The rows of a layer table: ``run_id``, ``feature_id``, the columns, ``geom``."""
    geo = gdf.to_crs(crs) if gdf.crs is not None else gdf.set_crs(crs)
    # Polygon -> MultiPolygon: one geometry type per table, whatever the run
    geoms = np.array(
        [shapely.MultiPolygon([g]) if isinstance(g, shapely.Polygon) else g for g in geo.geometry],
        dtype=object,
    )
    attrs = _rows(pd.DataFrame(geo.drop(columns=geo.geometry.name)), run_id)
    out = gpd.GeoDataFrame(attrs, geometry=gpd.GeoSeries(geoms, index=geo.index), crs=crs)
    return out.rename_geometry(GEOM)


def _rows(table: pd.DataFrame, run_id: str) -> pd.DataFrame:
    """A table's rows with ``run_id`` and ``feature_id`` (from 1) in front."""
    out = table.copy()
    out.insert(0, "feature_id", range(1, len(out) + 1))
    out.insert(0, "run_id", run_id)
    return out
