"""Inputs read from PostGIS tables and queries give the same plan as from the files."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

import geopandas as gpd
import pytest
import sqlalchemy as sa
import yaml

from planner.ingest.tables import read_csv_text
from tests.conftest import run_cli, site_json

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
    from_files = site_json(config, tmp_path / "files")

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
    from_db = site_json(db_config, tmp_path / "db")
    for key in ("townships_total", "existing_chargers", "stations", "repair_points"):
        assert from_db[key] == from_files[key], key
    assert from_db["objective"] == pytest.approx(from_files["objective"], rel=1e-9)
    assert from_db["capex_total"] == pytest.approx(from_files["capex_total"], rel=1e-9)


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
