"""Publishing runs to PostGIS (`planner export RUN --to postgresql://...`), on a real server."""

from __future__ import annotations

import json
import shutil
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from planner.report import read_run_layers
from tests.conftest import close_geometries, run_cli

if TYPE_CHECKING:
    from tests.pg_server import PgServer

pytest_plugins = ["tests.pg_server"]

pytestmark = pytest.mark.slow  # the demo run (session fixture) and a database


def _engine(url: str) -> sa.Engine:
    return sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))


def _schema() -> str:
    return f"t_{uuid.uuid4().hex[:10]}"


def _publish(run: Path, url: str, schema: str, *options: str):
    return run_cli("export", str(run), "--to", url, "--schema", schema, *options)


def _count(url: str, sql: str, **params: object) -> object:
    with _engine(url).connect() as c:
        return c.execute(sa.text(sql), params).scalar()


def test_publish_demo_run_in_cgcs2000_reads_back(demo_run: Path, pg_url: str) -> None:
    schema = _schema()
    r = _publish(demo_run, pg_url, schema, "--crs", "4490")
    assert r.returncode == 0, r.stderr
    assert "SRID 4490" in r.stdout
    run_id = json.loads((demo_run / "run.json").read_text(encoding="utf-8"))["run_id"]
    layers = read_run_layers(demo_run)
    eng = _engine(pg_url)
    with eng.connect() as c:
        row = c.execute(
            sa.text(f"SELECT county, status, timings, srid FROM {schema}.plan_runs")
        ).one()
        assert row.county == "青溪县" and row.srid == 4490
        assert row.timings and "optimize" in row.timings
        for name, gdf in layers.items():
            srid = c.execute(sa.text("SELECT Find_SRID(:s, :t, 'geom')"), {"s": schema, "t": name})
            assert srid.scalar() == 4490, name
            back = gpd.read_postgis(
                f"SELECT * FROM {schema}.{name} ORDER BY feature_id", c, geom_col="geom"
            )
            assert len(back) == len(gdf), name
            assert back.crs.to_epsg() == 4490
            assert (back["run_id"] == run_id).all()
            if len(back):
                st = c.execute(
                    sa.text(
                        f"SELECT DISTINCT ST_SRID(geom) FROM {schema}.{name} WHERE geom IS NOT NULL"
                    )
                )
                assert [x[0] for x in st] == [4490]
            ref = gdf.to_crs(4490).geometry.values
            assert close_geometries(back.geometry.values, ref, 1e-7), name
            # back in WGS84, the run's own geometries within 1e-7 degrees
            wgs = back.to_crs(4326).geometry.values
            assert close_geometries(wgs, gdf.geometry.values, 1e-7), name
        names = c.execute(sa.text(f"SELECT township_name FROM {schema}.townships")).scalars()
        assert set(names) == set(layers["townships"]["township_name"])
        assert any("镇" in n or "乡" in n for n in layers["townships"]["township_name"])
        comment = c.execute(
            sa.text(
                "SELECT col_description(:t ::regclass, a.attnum) FROM pg_attribute a "
                "WHERE a.attrelid = :t ::regclass AND a.attname = 'sessions_served'"
            ),
            {"t": f"{schema}.stations"},
        ).scalar()
        assert comment and comment != "(not documented)"
        pk = c.execute(
            sa.text(
                "SELECT count(*) FROM pg_index i WHERE i.indrelid = :t ::regclass AND "
                "i.indisprimary"
            ),
            {"t": f"{schema}.stations"},
        ).scalar()
        gist = c.execute(
            sa.text(
                "SELECT count(*) FROM pg_indexes WHERE schemaname = :s AND tablename = "
                "'stations' AND indexdef ILIKE '%gist%geom%'"
            ),
            {"s": schema},
        ).scalar()
        fk = c.execute(
            sa.text(
                "SELECT count(*) FROM pg_constraint WHERE conrelid = :t ::regclass AND "
                "contype = 'f' AND confrelid = :r ::regclass"
            ),
            {"t": f"{schema}.stations", "r": f"{schema}.plan_runs"},
        ).scalar()
        assert (pk, gist, fk) == (1, 1, 1)


def test_publish_twice_replaces_not_duplicates(demo_run: Path, pg_url: str) -> None:
    schema = _schema()
    assert _publish(demo_run, pg_url, schema).returncode == 0
    n = _count(pg_url, f"SELECT count(*) FROM {schema}.demand")
    again = _publish(demo_run, pg_url, schema)
    assert again.returncode == 2
    assert "already published" in again.stderr and "--if-exists replace" in again.stderr
    r = _publish(demo_run, pg_url, schema, "--if-exists", "replace")
    assert r.returncode == 0, r.stderr
    assert "replaced" in r.stdout
    assert _count(pg_url, f"SELECT count(*) FROM {schema}.demand") == n
    assert _count(pg_url, f"SELECT count(*) FROM {schema}.plan_runs") == 1
    # a layer table that lost its foreign key (moved with QGIS DB Manager) is replaced
    # too, and a user's own table with a run_id column is never touched
    stations = _count(pg_url, f"SELECT count(*) FROM {schema}.stations")
    with _engine(pg_url).begin() as conn:
        for fk in conn.execute(
            sa.text(
                "SELECT conname FROM pg_constraint WHERE contype = 'f' "
                f"AND conrelid = '{schema}.stations'::regclass"
            )
        ).scalars():
            conn.execute(sa.text(f"ALTER TABLE {schema}.stations DROP CONSTRAINT {fk}"))
        conn.execute(
            sa.text(f"CREATE TABLE {schema}.notes AS SELECT run_id FROM {schema}.plan_runs")
        )
    r = _publish(demo_run, pg_url, schema, "--if-exists", "replace")
    assert r.returncode == 0, r.stderr
    assert _count(pg_url, f"SELECT count(*) FROM {schema}.stations") == stations
    assert _count(pg_url, f"SELECT count(*) FROM {schema}.notes") == 1
    # options of file exports are refused with --to, not ignored
    for extra in (("--encoding", "gbk"), ("--kml-layers", "stations")):
        r = _publish(demo_run, pg_url, schema, "--if-exists", "replace", *extra)
        assert r.returncode == 2 and f"{extra[0]} applies to --format only" in r.stderr


def test_two_runs_side_by_side(demo_run: Path, pg_url: str, tmp_path: Path) -> None:
    schema = _schema()
    other = tmp_path / "other"
    shutil.copytree(demo_run, other)
    info = json.loads((other / "run.json").read_text(encoding="utf-8"))
    info["run_id"] = "20260101T000000Z-other"
    (other / "run.json").write_text(json.dumps(info, ensure_ascii=False), encoding="utf-8")
    assert _publish(demo_run, pg_url, schema).returncode == 0
    assert _publish(other, pg_url, schema).returncode == 0
    n = len(read_run_layers(demo_run)["demand"])
    by_run = "SELECT count(*) FROM {s}.demand WHERE run_id = :r"
    assert _count(pg_url, by_run.format(s=schema), r=info["run_id"]) == n
    assert _count(pg_url, f"SELECT count(*) FROM {schema}.demand") == 2 * n
    # replacing one run leaves the other's rows
    assert _publish(other, pg_url, schema, "--if-exists", "replace").returncode == 0
    assert _count(pg_url, f"SELECT count(*) FROM {schema}.demand") == 2 * n
    assert _count(pg_url, f"SELECT count(*) FROM {schema}.plan_runs") == 2


def test_a_table_that_does_not_fit_is_exit_2_and_nothing_is_published(
    demo_run: Path, pg_url: str, tmp_path: Path
) -> None:
    """A layer table an earlier run made, whose column types differ (here changed by
    hand), refuses the rows: one line naming the table and what to do, exit 2, and the
    publish's transaction rolled back (no record of the second run)."""
    schema = _schema()
    assert _publish(demo_run, pg_url, schema).returncode == 0
    with _engine(pg_url).begin() as conn:
        conn.execute(
            sa.text(f"ALTER TABLE {schema}.demand ALTER COLUMN demand_id TYPE integer USING 0")
        )
    other = tmp_path / "other"
    shutil.copytree(demo_run, other)
    info = json.loads((other / "run.json").read_text(encoding="utf-8"))
    info["run_id"] = "20260101T000000Z-other"
    (other / "run.json").write_text(json.dumps(info, ensure_ascii=False), encoding="utf-8")
    r = _publish(other, pg_url, schema)
    assert r.returncode == 2, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr
    assert f"table {schema}.demand" in r.stderr and "nothing was published" in r.stderr
    assert _count(pg_url, f"SELECT count(*) FROM {schema}.plan_runs") == 1
    # the same for the table without geometry (pandas wraps its error with every row)
    with _engine(pg_url).begin() as conn:
        conn.execute(
            sa.text(f"ALTER TABLE {schema}.demand ALTER COLUMN demand_id TYPE text USING ''")
        )
        conn.execute(
            sa.text(f"ALTER TABLE {schema}.assignments ALTER COLUMN demand_id TYPE integer USING 0")
        )
    r = _publish(other, pg_url, schema)
    assert r.returncode == 2, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and len(r.stderr) < 600, r.stderr
    assert f"table {schema}.assignments" in r.stderr and "nothing was published" in r.stderr
    assert _count(pg_url, f"SELECT count(*) FROM {schema}.plan_runs") == 1


def test_unreachable_server_is_exit_2_one_line(demo_run: Path) -> None:
    r = run_cli("export", str(demo_run), "--to", "postgresql://postgres@127.0.0.1:1/none")
    assert r.returncode == 2
    assert len(r.stderr.strip().splitlines()) == 1
    assert "cannot reach the server" in r.stderr


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://postgres:hunter2@127.0.0.1:1/db",
        "postgresql://postgres@127.0.0.1:1/db?password=hunter2",  # libpq reads it there too
        "postgresql://postgres@127.0.0.1:1/db?sslmode=disable&PassWord=hunter2",
    ],
)
def test_password_in_url_is_refused(demo_run: Path, url: str) -> None:
    r = run_cli("export", str(demo_run), "--to", url)
    assert r.returncode == 2
    assert len(r.stderr.strip().splitlines()) == 1
    assert "PGPASSWORD" in r.stderr and "hunter2" not in r.stderr + r.stdout


def test_password_in_an_input_url_is_refused_by_the_config(tmp_path: Path) -> None:
    """An input database URL with ``?password=`` never reaches a run (or run.json)."""
    from planner.config import load_config
    from planner.errors import ConfigError

    cfg = tmp_path / "c.yaml"
    cfg.write_text(
        "county: {name: x}\ninputs:\n  boundaries:\n"
        "    url: postgresql://gis@127.0.0.1:5432/gis?password=hunter2\n",
        "utf-8",
    )
    with pytest.raises(ConfigError, match="PGPASSWORD") as err:
        load_config(cfg)
    assert "hunter2" not in str(err.value)


def test_authentication_failure_and_pgpassword(
    demo_run: Path, pg_server: PgServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.pg_server import PASSWORD, PASSWORD_ROLE

    if not pg_server.own:
        pytest.skip("the password role exists only on the fixture's own cluster")
    url = f"postgresql://{PASSWORD_ROLE}@127.0.0.1:{pg_server.port}/{pg_server.database}"
    monkeypatch.setenv("PGPASSWORD", "wrong-" + PASSWORD)
    r = run_cli("export", str(demo_run), "--to", url, "--schema", _schema())
    assert r.returncode == 2
    assert len(r.stderr.strip().splitlines()) == 1
    assert "authentication failed" in r.stderr and PASSWORD not in r.stderr
    monkeypatch.setenv("PGPASSWORD", PASSWORD)
    schema = _schema()
    r = run_cli("export", str(demo_run), "--to", url, "--schema", schema)
    assert r.returncode == 0, r.stderr
    assert PASSWORD not in r.stdout + r.stderr
    assert _count(pg_server.url, f"SELECT count(*) FROM {schema}.plan_runs") == 1


def test_an_unknown_user_is_named_not_called_unreachable(
    demo_run: Path, pg_server: PgServer
) -> None:
    url = f"postgresql://nobody_{uuid.uuid4().hex[:6]}@127.0.0.1:{pg_server.port}/x"
    r = run_cli("export", str(demo_run), "--to", url)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1
    assert "cannot reach" not in r.stderr
    assert "has no user" in r.stderr or "authentication failed" in r.stderr


def test_missing_postgis_is_exit_2(demo_run: Path, pg_server: PgServer) -> None:
    bare = f"bare_{uuid.uuid4().hex[:8]}"
    eng = _engine(pg_server.url).execution_options(isolation_level="AUTOCOMMIT")
    with eng.connect() as c:
        c.execute(sa.text(f"CREATE DATABASE {bare}"))
    try:
        url = pg_server.url.rsplit("/", 1)[0] + f"/{bare}"
        r = run_cli("export", str(demo_run), "--to", url)
        assert r.returncode == 2
        assert len(r.stderr.strip().splitlines()) == 1
        assert "no PostGIS extension" in r.stderr
    finally:
        with eng.connect() as c:
            c.execute(sa.text(f"DROP DATABASE {bare}"))


def test_the_demands_split_between_stations_is_published(demo_run: Path, pg_url: str) -> None:
    schema = _schema()
    r = _publish(demo_run, pg_url, schema)
    assert r.returncode == 0, r.stderr
    csv = pd.read_csv(demo_run / "assignments.csv", dtype={"demand_id": str}, encoding="utf-8-sig")
    with _engine(pg_url).connect() as c:
        back = pd.read_sql(sa.text(f"SELECT * FROM {schema}.assignments ORDER BY feature_id"), c)
        stations = pd.read_sql(
            sa.text(f"SELECT candidate_id, sessions_served FROM {schema}.stations"), c
        )
    assert len(back) == len(csv) and set(back["run_id"]) == {demo_run.resolve().name}
    assert back["demand_id"].tolist() == csv["demand_id"].tolist()
    # the split sums to each station's load: a join GIS teams can make in the database
    load = back.groupby("station_id")["sessions_served"].sum()
    served = stations.set_index("candidate_id")["sessions_served"]
    shared = served.index.intersection(load.index)
    assert len(shared) > 0
    assert np.allclose(load[shared], served[shared], atol=0.05)
