"""Inputs read from PostGIS tables and queries give the same plan as from the files."""

from __future__ import annotations

import json
import shutil
import uuid
from pathlib import Path

import geopandas as gpd
import pytest
import sqlalchemy as sa
import yaml

from planner.ingest.sheets import read_csv_text
from tests.conftest import PLAN_ONLY_SETS, run_cli, site_json

pytest_plugins = ["tests.pg_server"]


def _engine(url: str) -> sa.Engine:
    return sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))


def _load_demo_tables(folder: Path, url: str, schema: str) -> None:
    """The demo's boundaries and operator chargers as PostGIS tables in ``schema``."""
    eng = _engine(url)
    with eng.begin() as c:
        c.execute(sa.text(f"CREATE SCHEMA {schema}"))
    gpkg = folder / "qingxi_boundaries.gpkg"
    for layer in ("county", "townships"):
        gdf = gpd.read_file(gpkg, layer=layer)
        gdf.rename_geometry("geom").to_postgis(layer, eng, schema=schema)
    table = read_csv_text(folder / "qingxi_operator_chargers.csv", None)  # GBK
    points = gpd.GeoDataFrame(
        table.drop(columns=["经度", "纬度"]),
        geometry=gpd.points_from_xy(table["经度"].astype(float), table["纬度"].astype(float)),
        crs=4326,  # GCJ-02 degrees, stored as such (crs: gcj02 in the config)
    )
    points.rename_geometry("geom").to_postgis("chargers", eng, schema=schema)


@pytest.mark.slow
def test_boundaries_and_chargers_from_postgis_same_plan(
    small: Path, pg_url: str, tmp_path: Path
) -> None:
    folder = tmp_path / "county"
    shutil.copytree(small.parent, folder)
    config = folder / small.name
    schema = f"in_{uuid.uuid4().hex[:8]}"
    _load_demo_tables(folder, pg_url, schema)
    from_files = site_json(config, tmp_path / "files", *PLAN_ONLY_SETS)

    cfg = yaml.safe_load(config.read_text(encoding="utf-8"))
    b = cfg["inputs"]["boundaries"]
    cfg["inputs"]["boundaries"] = {
        "url": pg_url,
        "county_layer": f"{schema}.county",
        "township_layer": f"SELECT * FROM {schema}.townships ORDER BY {b['township_id_field']}",
        "township_id_field": b["township_id_field"],
        "township_name_field": b["township_name_field"],
    }
    ch = cfg["inputs"]["chargers"][0]
    cfg["inputs"]["chargers"] = [
        {**{k: v for k, v in ch.items() if k not in ("path", "lon_field", "lat_field")}}
        | {"url": pg_url, "table": f"{schema}.chargers"}
    ]
    db_config = folder / "from_db.yaml"
    db_config.write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
    from_db = site_json(db_config, tmp_path / "db", *PLAN_ONLY_SETS)
    for key in ("townships_total", "existing_chargers", "stations", "repair_points"):
        assert from_db[key] == from_files[key], key
    assert from_db["objective"] == pytest.approx(from_files["objective"], rel=1e-9)
    assert from_db["capex_total"] == pytest.approx(from_files["capex_total"], rel=1e-9)
    # the run records what it read from the database: where, and a hash of the rows
    run = json.loads((tmp_path / "db" / "latest" / "run.json").read_text("utf-8"))
    tables = {i["role"]: i for i in run["inputs"] if str(i["path"]).startswith("postgresql://")}
    assert set(tables) == {"boundaries", "chargers"}
    assert f"{schema}.chargers" in tables["chargers"]["path"]
    assert len(tables["chargers"]["sha256"]) == 64


def test_a_database_layers_hash_follows_its_content() -> None:
    """The same rows give the same hash, a changed value or point another (the run's key
    changes with the table)."""
    from planner.ingest.database import table_input

    rows = gpd.GeoDataFrame(
        {"名称": ["甲", "乙"], "枪数": [4, 6]},
        geometry=gpd.points_from_xy([117.2, 117.3], [28.2, 28.3]),
        crs=4326,
    )
    first = table_input("chargers", "postgresql://gis@db/gis ops.chargers", rows)
    assert first == table_input("chargers", "postgresql://gis@db/gis ops.chargers", rows.copy())
    more = rows.assign(枪数=[4, 20])
    moved = rows.set_geometry(gpd.points_from_xy([117.2, 117.31], [28.2, 28.3], crs=4326))
    hashes = {table_input("chargers", "x", f).sha256 for f in (rows, more, moved)}
    assert len(hashes) == 3


def test_missing_table_is_exit_2(small: Path, pg_url: str, tmp_path: Path) -> None:
    folder = tmp_path / "county"
    shutil.copytree(small.parent, folder)
    cfg = yaml.safe_load(small.read_text(encoding="utf-8"))
    cfg["inputs"]["chargers"] = [{"url": pg_url, "table": "nowhere.chargers"}]
    path = folder / "bad.yaml"
    path.write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
    r = run_cli("site", "--config", str(path), "--out", str(tmp_path / "out"))
    assert r.returncode == 2
    assert "table not found" in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_empty_query_and_unknown_srid_are_exit_2(small: Path, pg_url: str, tmp_path: Path) -> None:
    folder = tmp_path / "county"
    shutil.copytree(small.parent, folder)
    cfg = yaml.safe_load(small.read_text(encoding="utf-8"))
    empty = "SELECT ST_SetSRID(ST_MakePoint(117, 28), 4326) AS geom WHERE false"
    nosrid = "SELECT ST_MakePoint(117, 28) AS geom, 'x' AS name"
    for sql, problem in ((empty, "no rows"), (nosrid, "no SRID")):
        cfg["inputs"]["chargers"] = [{"url": pg_url, "sql": sql}]
        path = folder / "bad.yaml"
        path.write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
        r = run_cli("site", "--config", str(path), "--out", str(tmp_path / "out"))
        assert r.returncode == 2, r.stderr
        assert problem in r.stderr and len(r.stderr.strip().splitlines()) == 1


def _lines() -> gpd.GeoDataFrame:
    from shapely.geometry import LineString

    return gpd.GeoDataFrame(
        {"kv": [10.0, 35.0, 10.0], "线路名称": ["青山线", "城关线", "枫林线"]},
        geometry=[
            LineString([(117.10, 28.30), (117.20, 28.31)]),
            LineString([(117.20, 28.31), (117.30, 28.25), (117.35, 28.20)]),
            LineString([(117.05, 28.40), (117.06, 28.45)]),
        ],
        crs=4490,
    )


def test_grid_lines_from_postgis_as_from_a_file(pg_url: str, tmp_path: Path) -> None:
    from planner.config.inputs import LineLayerInput
    from planner.errors import DataError
    from planner.ingest.tables import read_lines

    schema = f"gl_{uuid.uuid4().hex[:8]}"
    eng = _engine(pg_url)
    with eng.begin() as c:
        c.execute(sa.text(f"CREATE SCHEMA {schema}"))
    _lines().rename_geometry("geom").to_postgis("feeders", eng, schema=schema)
    _lines().to_file(tmp_path / "feeders.gpkg", layer="feeders")
    from_file = read_lines(LineLayerInput(path=tmp_path / "feeders.gpkg", voltage_field="kv"))
    from_db = read_lines(LineLayerInput(url=pg_url, table=f"{schema}.feeders", voltage_field="kv"))
    query = read_lines(
        LineLayerInput(
            url=pg_url, sql=f"SELECT * FROM {schema}.feeders WHERE kv < 20", voltage_kv=10
        )
    )
    assert list(from_db["voltage_kv"]) == list(from_file["voltage_kv"]) == [10.0, 35.0, 10.0]
    assert list(from_db["power"]) == ["minor_line", "line", "minor_line"]
    assert from_db.geom_equals_exact(from_file.geometry, tolerance=1e-9).all()
    assert list(from_db["osm_id"]) == [f"{schema}.feeders#{i}" for i in (1, 2, 3)]
    assert len(query) == 2 and (query["voltage_kv"] == 10).all()
    with pytest.raises(DataError, match="field not found"):
        read_lines(LineLayerInput(url=pg_url, table=f"{schema}.feeders", voltage_field="volts"))
    with pytest.raises(ValueError, match=r"a path \(a file\) or a url"):
        LineLayerInput()


def _points_table(url: str, schema: str, name: str, *, srid: int) -> None:
    """Two named points (lon/lat degrees) as ``schema.name`` with geometries of ``srid``."""
    eng = _engine(url)
    with eng.begin() as c:
        c.execute(sa.text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
        c.execute(
            sa.text(f'CREATE TABLE "{schema}"."{name}" (名称 text, code text, geom geometry)')
        )
        c.execute(
            sa.text(
                f'INSERT INTO "{schema}"."{name}" VALUES '
                f"('甲', '3611991', ST_SetSRID(ST_MakePoint(117.2, 28.2), {srid})), "
                f"('乙', '3611992', ST_SetSRID(ST_MakePoint(117.3, 28.3), {srid}))"
            )
        )


def test_database_layers_read_as_a_gis_team_writes_them(pg_url: str) -> None:
    """GCJ-02 points with SRID 0 read as the config's crs says; a query with LIKE '...%';
    a table with a Chinese name; an SRID only the database knows, with and without crs."""
    from planner.errors import DataError
    from planner.ingest.postgis import read_db_layer
    from planner.ingest.vector import read_layer

    schema = f"gis_{uuid.uuid4().hex[:8]}"
    _points_table(pg_url, schema, "chargers", srid=0)
    got = read_layer(pg_url, layer=f"{schema}.chargers", crs="gcj02")
    assert got.crs.to_epsg() == 4326 and len(got) == 2  # degrees, converted later
    like = f"SELECT *, '5%' AS share FROM {schema}.chargers WHERE code LIKE '3611991%'"
    got = read_db_layer(pg_url, layer=like, crs="EPSG:4490")
    assert got["名称"].tolist() == ["甲"] and got["share"].tolist() == ["5%"]  # as written
    _points_table(pg_url, schema, "充电站", srid=4490)
    assert len(read_db_layer(pg_url, layer=f"{schema}.充电站")) == 2
    eng = _engine(pg_url)
    with eng.begin() as c:
        c.execute(
            sa.text(
                "INSERT INTO spatial_ref_sys (srid, auth_name, auth_srid, srtext, proj4text) "
                "SELECT 990001, 'LOCAL', 990001, srtext, proj4text FROM spatial_ref_sys "
                "WHERE srid = 4548 ON CONFLICT (srid) DO NOTHING"
            )
        )
    _points_table(pg_url, schema, "local", srid=990001)
    with pytest.raises(DataError, match=r"SRID 990001 is not a CRS pyproj knows \(set crs\)"):
        read_db_layer(pg_url, layer=f"{schema}.local")
    assert read_db_layer(pg_url, layer=f"{schema}.local", crs="EPSG:4548").crs.to_epsg() == 4548
