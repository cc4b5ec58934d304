"""No silent data problems (issue 10, item 5): each check on real files written here."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import rasterio
import rasterio.windows
import shapely

from planner.errors import DataError
from planner.ingest.crs import reproject
from planner.ingest.population import read_population
from tests.test_ingest import write_raster


def run_site(config, out, *options):
    """`planner site` in a subprocess, as a user runs it."""
    cmd = [sys.executable, "-m", "planner", "site", "--config", str(config), "--out", str(out)]
    return subprocess.run(
        [*cmd, *options],
        capture_output=True,
        text=True,
        timeout=300,
    )


# -- 1. a population raster that covers part of the county -----------------------------


def test_raster_covering_a_quarter_of_the_county_is_an_error(tmp_path):
    path = write_raster(tmp_path / "pop.tif", np.ones((10, 10)))  # 1 km x 1 km
    # the county is 2 km x 2 km with the raster in its north-west quarter
    box = shapely.box(500_000, 3_130_000 - 1000, 502_000, 3_131_000)
    county = reproject(box, 32650, 4326)
    with pytest.raises(DataError) as err:
        read_population(path, county, min_coverage=0.95)
    msg = str(err.value)
    assert msg.startswith(str(path))
    assert "covers 25.0% of the county's area (demand.min_raster_coverage=0.95)" in msg
    # a lower threshold accepts it: the cells the raster lacks count for nothing
    grid = read_population(path, county, min_coverage=0.2)
    assert grid.values.sum() == pytest.approx(100)


def test_raster_in_degrees_is_measured_in_metres(tmp_path):
    # a raster in EPSG:4326 covering the southern half of a county 0.2 x 0.2 degrees
    values = np.ones((10, 20))
    path = write_raster(
        tmp_path / "deg.tif", values, crs="EPSG:4326", origin=(117.0, 28.1), cell=0.01
    )
    county = shapely.box(117.0, 28.0, 117.2, 28.2)
    with pytest.raises(DataError, match=r"covers 50\.\d% of the county's area"):
        read_population(path, county, min_coverage=0.95)


def test_nodata_cells_are_counted_in_a_warning(tmp_path, caplog):
    values = np.ones((10, 10))
    values[:5, :] = -1.0  # nodata over half the county
    path = write_raster(tmp_path / "pop.tif", values)
    county = reproject(shapely.box(500_000, 3_130_000, 501_000, 3_131_000), 32650, 4326)
    grid = read_population(path, county, min_coverage=0.95)  # the extent covers it all
    assert grid.values.sum() == pytest.approx(50)
    assert "50 of the county's 100 cells (50.0%) are nodata" in caplog.text


def _crop_quarter(src_path, dst_path):
    """Write the south-west quarter of a raster as a raster of its own."""
    with rasterio.open(src_path) as src:
        w, h = src.width // 2, src.height // 2
        window = rasterio.windows.Window(0, src.height - h, w, h)
        profile = src.profile | {
            "driver": "GTiff",
            "width": w,
            "height": h,
            "transform": src.window_transform(window),
        }
        data = src.read(1, window=window)
    with rasterio.open(dst_path, "w", **profile) as dst:
        dst.write(data, 1)


def test_cli_refuses_a_partial_raster_with_one_line(tmp_path, demo_dir, demo_config):
    part = tmp_path / "quarter.tif"
    _crop_quarter(demo_dir / "qingxi_population.tif", part)
    r = run_site(demo_config, tmp_path / "o", "--set", f"inputs.population.path={part}")
    assert r.returncode == 2, r.stderr
    assert "Traceback" not in r.stderr
    line = r.stderr.strip().splitlines()[-1]
    assert str(part) in line and "of the county's area" in line
    share = float(line.split("covers ")[1].split("%")[0])
    assert 5 < share < 50
    assert not (tmp_path / "o").exists()


def test_demo_raster_covers_the_demo_county(demo_dir):
    import geopandas as gpd

    county = gpd.read_file(demo_dir / "qingxi_boundaries.gpkg", layer="county").to_crs(4326)
    grid = read_population(
        demo_dir / "qingxi_population.tif", county.union_all(), min_coverage=0.95
    )
    assert grid.values.sum() > 0


# -- 2. townships without demand ---------------------------------------------------------


def test_townships_without_demand_are_named_in_a_warning(caplog):
    import geopandas as gpd
    from rasterio.transform import from_origin

    from planner.config import DemandSection
    from planner.datatypes import PopulationGrid
    from planner.demand import demand_from_raster

    values = np.zeros((10, 30))
    values[:, :10] = 5.0  # people in the western third only
    grid = PopulationGrid(
        values=values,
        transform=from_origin(500_000, 3_131_000, 100, 100),
        crs=rasterio.crs.CRS.from_epsg(32650),
        source_total=float(values.sum()),
    )
    towns = gpd.GeoDataFrame(
        {"township_id": ["A", "B", "C"], "township_name": ["城关镇", "青山乡", "白水乡"]},
        geometry=[
            shapely.box(500_000 + k * 1000, 3_130_000, 501_000 + k * 1000, 3_131_000)
            for k in range(3)
        ],
        crs=32650,
    )
    d = demand_from_raster(grid, towns, towns.crs, params=DemandSection(cell_size_m=500))
    assert set(d["township_id"]) == {"A"}
    assert "2 of 3 townships have no demand" in caplog.text
    assert "青山乡 (B), 白水乡 (C)" in caplog.text


def _raster_without(township_code, demo_dir, dst):
    """The demo raster with no people in one township."""
    import geopandas as gpd
    import rasterio.features

    towns = gpd.read_file(demo_dir / "qingxi_boundaries.gpkg", layer="townships")
    with rasterio.open(demo_dir / "qingxi_population.tif") as src:
        profile = src.profile | {"driver": "GTiff"}
        data = src.read(1)
        shape = towns[towns["code"] == township_code].to_crs(src.crs).geometry.iloc[0]
        inside = rasterio.features.geometry_mask(
            [shape], data.shape, src.transform, invert=True, all_touched=True
        )
    data[inside] = 0.0
    with rasterio.open(dst, "w", **profile) as out:
        out.write(data, 1)
    return towns[towns["code"] == township_code]["name"].iloc[0]


@pytest.fixture(scope="module")
def empty_township_run(demo_dir, demo_config, tmp_path_factory):
    """A demo run whose raster has no people in one township: (output folder, code, name)."""
    import geopandas as gpd

    tmp = tmp_path_factory.mktemp("empty")
    code = gpd.read_file(demo_dir / "qingxi_boundaries.gpkg", layer="townships")["code"].iloc[-1]
    name = _raster_without(code, demo_dir, tmp / "pop.tif")
    r = run_site(demo_config, tmp / "o", "--set", f"inputs.population.path={tmp / 'pop.tif'}")
    assert r.returncode == 0, r.stderr
    assert (
        f"1 of 15 townships have no demand (population 0 or no charging sessions): {name}"
        in " ".join(r.stderr.split())  # rich wraps log lines
    )
    return tmp / "o", code, name


def test_township_without_demand_in_summary_report_and_maps(empty_township_run):
    import json

    out, code, name = empty_township_run
    s = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert s["townships_without_demand"] == [{"township_id": code, "township_name": name}]
    sentence = f"1 of 15 townships have no demand (population 0): {name}"
    assert sentence in (out / "report.html").read_text(encoding="utf-8")
    md = (out / "report.md").read_text(encoding="utf-8")
    assert sentence.replace("(", "\\(").replace(")", "\\)") in md  # Markdown-escaped
    text = (out / "map.html").read_text(encoding="utf-8")
    assert f"{name} ({code}): no demand (population 0)" in text
    assert f"{name} ({code}): 0% of sessions covered" not in text


def test_static_map_draws_townships_without_demand_grey(empty_township_run):
    import geopandas as gpd
    from matplotlib.colors import to_rgba

    from planner.report.static_map import _NO_DEMAND, plot_plan

    gpkg = empty_township_run[0] / "sites.gpkg"
    layers = {k: gpd.read_file(gpkg, layer=k) for k in ("townships", "demand", "stations")}
    fig = plot_plan(layers, title="qingxi")
    ax = fig.axes[0]
    grey = to_rgba(_NO_DEMAND, 0.55)
    faces = [tuple(np.round(f, 3)) for c in ax.collections for f in c.get_facecolor()]
    assert faces.count(tuple(np.round(grey, 3))) == 1  # the one empty township
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "township: no demand" in labels
