"""Input layers from a PostGIS database: a table (``schema.name``) or a query (``SELECT``).

:func:`planner.ingest.vector.read_layer` hands a ``postgresql://`` "path" here, so the
boundaries and point tables read from a database get the same field mapping, CRS handling
and checks as files.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING

import geopandas as gpd
from pyproj import CRS

from planner.config import CHINA_SYSTEMS
from planner.errors import data_error
from planner.ingest.database import connect, parse_url, show_url

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

logger = logging.getLogger(__name__)

_QUERY = re.compile(r"^\s*(select|with)\b", re.IGNORECASE)
#: A table or schema name as written unquoted (letters of any script: 县界 too).
_NAME = re.compile(r"^[^\W\d]\w*$")


def is_query(layer: str) -> bool:
    """True for a ``SELECT ...`` (or ``WITH ...``) query, False for a table name."""
    return bool(_QUERY.match(layer))


def read_db_layer(url: str, *, layer: str | None, crs: str | None = None) -> gpd.GeoDataFrame:
    """Read a table or query with one geometry column.

    Parameters
    ----------
    url
        ``postgresql://USER@HOST:PORT/DB`` (password from PGPASSWORD or ~/.pgpass).
    layer
        ``schema.table``, ``table`` (the search path's) or a ``SELECT`` query.
    crs
        The CRS of the coordinates, replacing the SRID the column states (any pyproj input).

    Returns
    -------
    GeoDataFrame
        In the geometry column's SRID (or ``crs``).

    Raises
    ------
    DataError
        No such table, no geometry column, an SRID pyproj does not know (or 0 with no
        ``crs``), a query returning no rows, a failing query, or the connection's errors.
    """
    u = parse_url(url)
    where = show_url(u)
    if not layer:
        raise data_error(where, "name a table (table: schema.name) or a query (sql: SELECT ...)")
    with connect(u) as conn:
        sql = layer if is_query(layer) else _table_query(conn, layer, where)
        gdf = _read(conn, sql, where, layer)
    if gdf.empty:
        raise data_error(where, "the query returned no rows", layer=_short(layer))
    return _with_crs(gdf, crs, where, layer)


def _short(layer: str) -> str:
    text = " ".join(layer.split())
    return text if len(text) <= 60 else text[:57] + "..."


def _table_query(conn: object, table: str, where: str) -> str:
    from sqlalchemy import inspect
    from sqlalchemy.engine import Connection

    assert isinstance(conn, Connection)
    parts = table.split(".")
    if len(parts) > 2 or not all(_NAME.match(p) for p in parts):
        raise data_error(where, "not a table name (schema.name) nor a SELECT query", layer=table)
    schema, name = (parts[0], parts[1]) if len(parts) == 2 else (None, parts[0])
    insp = inspect(conn)
    if not (insp.has_table(name, schema=schema) or name in insp.get_view_names(schema=schema)):
        raise data_error(where, "table not found", layer=table)
    prep = conn.dialect.identifier_preparer
    quoted = f"{prep.quote_schema(schema)}.{prep.quote(name)}" if schema else prep.quote(name)
    return f"SELECT * FROM {quoted}"


def _read(conn: object, sql: str, where: str, layer: str) -> gpd.GeoDataFrame:
    """The rows of ``sql``, its one geometry column as ``geometry``; the SRID in attrs."""
    from sqlalchemy import text
    from sqlalchemy.engine import Connection
    from sqlalchemy.exc import DBAPIError

    from planner.ingest.database import mask

    assert isinstance(conn, Connection)
    try:
        found = _geometry_columns(conn, sql)
        if len(found) != 1:
            problem = "no geometry column" if not found else f"{len(found)} geometry columns"
            raise data_error(where, problem, layer=_short(layer), hint="select exactly one")
        geom = found[0]
        quoted = conn.dialect.identifier_preparer.quote(geom)
        srids = (
            conn.execute(text(f"SELECT DISTINCT ST_SRID(q.{quoted}) FROM ({sql}) AS q"))
            .scalars()
            .all()
        )
        # the CRS is set from the SRID below (_with_crs), not by geopandas, which fails on
        # an SRID only the database knows
        gdf = gpd.read_postgis(_literal(sql), conn, geom_col=geom, crs="EPSG:4326")
    except DBAPIError as err:
        detail = mask(str(getattr(err, "orig", None) or err))
        raise data_error(where, f"the query failed ({detail[:200]})", layer=_short(layer)) from None
    if len(srids) > 1:
        raise data_error(where, f"mixed SRIDs {sorted(srids)}", layer=_short(layer), field=geom)
    gdf.attrs["srid"] = int(srids[0]) if srids else 0
    return gdf.rename_geometry("geometry") if geom != "geometry" else gdf


def _geometry_columns(conn: Connection, sql: str) -> list[str]:
    """Names of the query's columns of type geometry (from the result's type oids)."""
    from sqlalchemy import text

    geo_oid = conn.execute(text("SELECT oid FROM pg_type WHERE typname = 'geometry'")).scalar()
    raw = conn.exec_driver_sql(_literal(f"SELECT * FROM ({sql}) AS q LIMIT 0"))
    desc = raw.cursor.description if raw.cursor is not None else None
    return [str(d[0]) for d in desc or [] if d[1] == geo_oid]


def _literal(sql: str) -> str:
    """``sql`` for the driver: its ``%`` doubled, since psycopg reads a lone ``%`` as a
    parameter (``LIKE '3611991%'`` is the user's text, not a placeholder)."""
    return sql.replace("%", "%%")


def _with_crs(gdf: gpd.GeoDataFrame, crs: str | None, where: str, layer: str) -> gpd.GeoDataFrame:
    srid = int(gdf.attrs.get("srid", 0))
    if crs is not None and crs.lower() in CHINA_SYSTEMS:
        # GCJ-02 / BD-09 degrees: EPSG:4326 without an SRID (the caller converts them)
        crs = "EPSG:4326" if srid == 0 else None
    if crs is not None:
        return gdf.set_crs(crs, allow_override=True)
    if srid == 0:
        raise data_error(
            where,
            "the geometries have no SRID (0)",
            layer=_short(layer),
            hint="set crs in the config, or ST_SetSRID in the table",
        )
    try:
        known = CRS.from_epsg(srid)
    except Exception:
        raise data_error(
            where, f"SRID {srid} is not a CRS pyproj knows", layer=_short(layer), hint="set crs"
        ) from None
    return gdf.set_crs(known, allow_override=True)
