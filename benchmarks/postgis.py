"""PostGIS throughput: publish a run of N points (``planner export --to``) and read them
back as a database input, on a real server."""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import TextIO

import geopandas as gpd
import numpy as np


def fake_run(folder: Path, points: int, *, seed: int = 1) -> Path:
    """A run folder whose ``sites.gpkg`` holds one ``demand`` layer of ``points`` points."""
    rng = np.random.default_rng(seed)
    lon = 117.0 + rng.random(points) * 0.5
    lat = 28.0 + rng.random(points) * 0.5
    gdf = gpd.GeoDataFrame(
        {
            "demand_id": np.arange(points),
            "population": rng.integers(1, 500, points),
            "township_id": [f"T{i % 15:02d}" for i in range(points)],
            "evs": rng.random(points) * 10,
            "sessions_day": rng.random(points),
        },
        geometry=gpd.points_from_xy(lon, lat),
        crs=4326,
    )
    folder.mkdir(parents=True, exist_ok=True)
    gdf.to_file(folder / "sites.gpkg", layer="demand", engine="pyogrio")
    info = {"run_id": f"bench-{uuid.uuid4().hex[:8]}", "status": "optimal", "config": {}}
    (folder / "run.json").write_text(json.dumps(info), encoding="utf-8")
    (folder / "summary.json").write_text(json.dumps({"county": "bench"}), encoding="utf-8")
    return folder


def run_postgis(points: int, *, url: str | None = None, out: TextIO = sys.stdout) -> float:
    """Publish ``points`` points to PostGIS and read them back; print a CSV row.

    Parameters
    ----------
    points
        How many points the run's layer holds.
    url
        ``postgresql://USER@HOST:PORT/DB`` with PostGIS (default ``PLANNER_TEST_PG_URL``).
    out
        Where the CSV goes.

    Returns
    -------
    float
        Seconds to publish (read the run's GeoPackage, write the table in one transaction).
    """
    from planner.ingest.postgis import read_db_layer
    from planner.report.postgis import publish_run

    url = url or os.environ.get("PLANNER_TEST_PG_URL")
    if not url:
        msg = "give --url postgresql://USER@HOST:PORT/DB (or set PLANNER_TEST_PG_URL)"
        raise SystemExit(msg)
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    with tempfile.TemporaryDirectory() as tmp:
        run = fake_run(Path(tmp) / "run", points)
        t0 = time.perf_counter()
        res = publish_run(run, url, schema=schema, crs=4490)
        write_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    back = read_db_layer(url, layer=f"{schema}.demand")
    read_s = time.perf_counter() - t0
    assert len(back) == points == res.layers["demand"]
    out.write("points,write_s,write_points_per_s,read_s,read_points_per_s\n")
    out.write(f"{points},{write_s:.2f},{points / write_s:.0f},{read_s:.2f},{points / read_s:.0f}\n")
    _drop(url, schema)
    return write_s


def _drop(url: str, schema: str) -> None:
    from sqlalchemy import text

    from planner.ingest.database import connect

    with connect(url, postgis=False) as conn:
        conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
