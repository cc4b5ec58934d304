"""The tables a run is published into: the schema, ``plan_runs``, one table per layer
(created with keys, a spatial index and comments, or checked and widened), and the
removal of a run's rows before it is published again."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import pandas as pd

from planner.errors import ConfigError, DataError
from planner.i18n import Lang
from planner.report.styles import layer_title

if TYPE_CHECKING:
    from sqlalchemy import Table
    from sqlalchemy.engine import Connection

    from planner.report.postgis import Published

#: The table of published runs.
RUNS_TABLE = "plan_runs"
#: Geometry column of every layer table.
GEOM = "geom"


def ensure_schema(conn: Connection, schema: str) -> None:
    from sqlalchemy import text

    found = conn.execute(text("SELECT 1 FROM pg_namespace WHERE nspname = :s"), {"s": schema})
    if found.scalar() is None:
        quoted = conn.dialect.identifier_preparer.quote_schema(schema)
        conn.execute(text(f"CREATE SCHEMA {quoted}"))


def runs_table(conn: Connection, schema: str, *, lang: Lang) -> Table:
    """``plan_runs`` (created when missing)."""
    import sqlalchemy as sa
    from sqlalchemy.dialects.postgresql import JSONB

    md = sa.MetaData(schema=schema)
    runs = sa.Table(
        RUNS_TABLE,
        md,
        sa.Column("run_id", sa.Text, primary_key=True, comment=lang("Run id")),
        sa.Column("county", sa.Text, comment=lang("County name")),
        sa.Column("slug", sa.Text, comment=lang("County folder name")),
        sa.Column("config_hash", sa.Text, comment=lang("SHA-256 of the run's config")),
        sa.Column("status", sa.Text, comment=lang("Solver status of the run")),
        sa.Column("timings", JSONB, comment=lang("Seconds spent in each stage of the run")),
        sa.Column("planner_version", sa.Text, comment=lang("Planner version of the run")),
        sa.Column("created_utc", sa.DateTime(timezone=True), comment=lang("When the run ran")),
        sa.Column(
            "published_utc", sa.DateTime(timezone=True), comment=lang("When it was published")
        ),
        sa.Column("srid", sa.Integer, comment=lang("SRID of the run's geometries")),
        sa.Column("layers", JSONB, comment=lang("Rows of each layer table")),
        comment=lang("Runs of the planner published here; layer rows reference them"),
    )
    md.create_all(conn, checkfirst=True)
    return runs


def clear_run(
    conn: Connection,
    runs: Table,
    run_id: str,
    *,
    if_exists: str,
    where: Published,
    layers: Iterable[str] = (),
) -> bool:
    """Delete a published run's rows: its layer rows go by ``ON DELETE CASCADE``, and by
    a ``DELETE`` of their own from tables that lost the foreign key (moved with QGIS DB
    Manager or ogr2ogr), so that a replace never leaves the old rows beside the new."""
    import sqlalchemy as sa

    found = conn.execute(sa.select(runs.c.run_id).where(runs.c.run_id == run_id)).first()
    if found is None:
        return False
    if if_exists == "fail":
        msg = (
            f"{where.url}: run {run_id} is already published in schema {where.schema}; "
            "give --if-exists replace to replace its rows"
        )
        raise ConfigError(msg)
    for table in _run_tables(conn, runs, layers):
        conn.execute(sa.delete(table).where(table.c.run_id == run_id))
    conn.execute(sa.delete(runs).where(runs.c.run_id == run_id))
    return True


def _run_tables(conn: Connection, runs: Table, layers: Iterable[str]) -> list[Table]:
    """The planner's tables ``layers`` of the schema that have a ``run_id`` column (a
    user's own tables are never touched)."""
    import sqlalchemy as sa

    meta = sa.MetaData()
    out = []
    present = set(sa.inspect(conn).get_table_names(schema=runs.schema))
    for name in layers:
        if name not in present or name == runs.name:
            continue
        table = sa.Table(name, meta, schema=runs.schema, autoload_with=conn)
        if "run_id" in table.c:
            out.append(table)
    return out


def _sql_type(dtype: Any) -> Any:
    import sqlalchemy as sa

    if pd.api.types.is_bool_dtype(dtype):
        return sa.Boolean()
    if pd.api.types.is_integer_dtype(dtype):
        return sa.BigInteger()
    if pd.api.types.is_float_dtype(dtype):
        return sa.Float(precision=53)
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return sa.DateTime(timezone=True)
    return sa.Text()


def _geometry_type(frame: gpd.GeoDataFrame) -> str:
    kinds = {g.geom_type for g in frame.geometry if g is not None}
    return kinds.pop().upper() if len(kinds) == 1 else "GEOMETRY"


def _comment(column: str, lang: Lang) -> str:
    description, unit = lang.description(column)
    return f"{description} ({unit})" if unit else description


def layer_table(
    conn: Connection,
    schema: str,
    name: str,
    frame: pd.DataFrame,
    *,
    srid: int | None,
    lang: Lang,
) -> None:
    """Create the layer's table, or add the columns it lacks; check its SRID (a table
    without geometry: ``srid`` None)."""
    import sqlalchemy as sa
    from geoalchemy2 import Geometry

    insp = sa.inspect(conn)
    attrs = [c for c in frame.columns if c not in ("run_id", "feature_id", GEOM)]
    if not insp.has_table(name, schema=schema):
        md = sa.MetaData(schema=schema)
        cols: list[sa.Column[Any]] = [
            sa.Column(
                "run_id",
                sa.Text,
                sa.ForeignKey(f"{schema}.{RUNS_TABLE}.run_id", ondelete="CASCADE"),
                primary_key=True,
                comment=lang("Run id (plan_runs)"),
            ),
            sa.Column(
                "feature_id", sa.Integer, primary_key=True, comment=lang("Row number in the run")
            ),
            *(sa.Column(c, _sql_type(frame[c].dtype), comment=_comment(c, lang)) for c in attrs),
        ]
        if srid is not None:
            assert isinstance(frame, gpd.GeoDataFrame)  # a table with an SRID has geometry
            kind = _geometry_type(frame)
            cols.append(
                sa.Column(
                    GEOM,
                    Geometry(kind, srid=srid, spatial_index=True),
                    comment=lang("Geometry"),
                )
            )
        sa.Table(RUNS_TABLE, md, sa.Column("run_id", sa.Text, primary_key=True))
        sa.Table(name, md, *cols, comment=layer_title(name, lang=lang))
        md.tables[f"{schema}.{name}"].create(conn)
        return
    have = {c["name"] for c in insp.get_columns(name, schema=schema)}
    if not {"run_id", "feature_id", *([GEOM] if srid is not None else [])} <= have:
        msg = (
            f"table {schema}.{name} exists but is not a planner layer table (no run_id, "
            "feature_id or geom); publish to another --schema"
        )
        raise DataError(msg)
    table_srid = (
        None
        if srid is None
        else conn.execute(
            sa.text("SELECT Find_SRID(:s, :t, :g)"), {"s": schema, "t": name, "g": GEOM}
        ).scalar()
    )
    if table_srid != srid:
        msg = (
            f"table {schema}.{name} holds SRID {table_srid}, not {srid}: publish with "
            f"--crs {table_srid} or to another --schema"
        )
        raise DataError(msg)
    prep = conn.dialect.identifier_preparer
    for c in (c for c in attrs if c not in have):
        col_type = _sql_type(frame[c].dtype).compile(dialect=conn.dialect)
        table = f"{prep.quote_schema(schema)}.{prep.quote(name)}"
        conn.execute(sa.text(f"ALTER TABLE {table} ADD COLUMN {prep.quote(c)} {col_type}"))
        comment = _comment(c, lang).replace("'", "''")
        conn.execute(sa.text(f"COMMENT ON COLUMN {table}.{prep.quote(c)} IS '{comment}'"))
