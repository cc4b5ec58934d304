"""One exit-code rule for the commands that run several plans (issue 11, item 10)."""

from __future__ import annotations

import shutil
from pathlib import Path

import geopandas as gpd
import pytest
import shapely
import yaml
from click.testing import CliRunner

from planner.cli import main
from planner.errors import multi_run_exit_code
from tests.conftest import PLAN_ONLY_SETS


def test_the_rule():
    assert multi_run_exit_code(3, []) == 0
    assert multi_run_exit_code(2, [3]) == 4
    assert multi_run_exit_code(0, [3, 3]) == 3
    assert multi_run_exit_code(0, [2]) == 2
    assert multi_run_exit_code(0, [2, 3]) == 4


def _cli(*args: str):
    return CliRunner().invoke(main, list(args))


@pytest.mark.slow
def test_sweep_all_infeasible_exits_3(small, tmp_path):
    r = _cli(
        "sweep",
        "--config",
        str(small),
        "--vary",
        "stations.budget=1000,2000",
        "--out",
        str(tmp_path / "sw"),
    )
    assert r.exit_code == 3, r.output
    assert "failed: budget-1000: " in r.stderr and "failed: budget-2000: " in r.stderr


@pytest.mark.slow
def test_sweep_some_failed_exits_4_listing_them(small, tmp_path):
    r = _cli(
        "sweep",
        "--config",
        str(small),
        "--vary",
        "stations.budget=1000,16e6",
        "--out",
        str(tmp_path / "sw"),
        *PLAN_ONLY_SETS,
    )
    assert r.exit_code == 4, r.output
    assert "failed: budget-1000: " in r.stderr and "budget-16000000" not in r.stderr


@pytest.mark.slow
def test_rollout_with_one_failed_year_exits_4(small, tmp_path):
    r = _cli(
        "rollout",
        "--config",
        str(small),
        "--year",
        "2025:8e6:0.08",
        "--year",
        "2026:1000:1.0:1.0",  # no new station, every session of all-EV demand: no plan
        "--out",
        str(tmp_path / "ro"),
        *PLAN_ONLY_SETS,
    )
    assert r.exit_code == 4, r.output
    assert "failed: 2026: " in r.stderr and "failed: 2025" not in r.stderr


def _no_ingest(*args, **kwargs):
    raise AssertionError("ingest ran before the output folder was checked")


@pytest.mark.parametrize("command", ["site", "sweep", "rollout", "batch"])
def test_unwritable_out_exits_2_before_ingest(small, tmp_path, monkeypatch, command):
    import planner.pipeline

    monkeypatch.setattr(planner.pipeline, "load_county", _no_ingest)
    monkeypatch.setattr("distributed.LocalCluster", _no_ingest)
    blocker = tmp_path / "file.txt"  # a file: no one, root included, can write below it
    blocker.write_text("x")
    out = blocker / "sub"
    batch = tmp_path / "batch.yaml"
    batch.write_text(f"counties:\n  - config: {small}\n", encoding="utf-8")
    args = {
        "site": ["site", "--config", str(small)],
        "sweep": ["sweep", "--config", str(small), "--vary", "stations.budget=8e6"],
        "rollout": ["rollout", "--config", str(small), "--year", "2025:8e6:0.1"],
        "batch": ["batch", str(batch)],
    }[command]
    r = _cli(*args, "--out", str(out))
    assert r.exit_code == 2, r.output
    assert r.stderr.strip() == f"error: output {out}: {blocker} is a file, not a folder; " + (
        "choose another --out"
    )


def test_a_folder_that_refuses_new_entries_is_named(tmp_path, monkeypatch):
    from planner import paths
    from planner.errors import ConfigError

    def refuse(**kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(paths.tempfile, "mkdtemp", refuse)
    with pytest.raises(ConfigError, match=r"cannot write in .* \(Permission denied\)"):
        paths.check_out_dir(tmp_path / "a" / "b", marker="run.json")


@pytest.mark.parametrize(
    ("key", "value", "hint"),
    [
        ("inputs.outlets", "[{{path: '{d}', lon_field: x, lat_field: y}}]", "outlets table"),
        ("inputs.substations", "{{path: '{d}'}}", "check inputs.substations"),
        ("inputs.population", "{{path: '{d}'}}", "check inputs.population"),
    ],
)
def test_an_input_that_is_a_folder_exits_2_with_one_line(small, tmp_path, key, value, hint):
    folder = tmp_path / "网点.csv"
    folder.mkdir()
    r = _cli(
        "site",
        "--config",
        str(small),
        "--out",
        str(tmp_path / "o"),
        "--set",
        f"{key}={value.format(d=folder)}",
    )
    assert r.exit_code == 2, r.output
    assert r.stderr.startswith(f"error: {folder}: is a folder, not a file (")
    assert hint in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_a_config_that_is_a_folder_exits_2(tmp_path):
    r = _cli("site", "--config", str(tmp_path), "--out", str(tmp_path / "o"))
    assert r.exit_code == 2
    assert r.stderr.strip() == f"error: config {tmp_path}: is a folder, not a file"


def _with_towns(small: Path, tmp_path: Path, change) -> Path:
    """A copy of the small county whose township polygons ``change`` edits."""
    folder = shutil.copytree(small.parent, tmp_path / "county")
    config = folder / small.name
    spec = yaml.safe_load(config.read_text("utf-8"))["inputs"]["boundaries"]
    gpkg = folder / spec["path"]
    towns = gpd.read_file(gpkg, layer=spec["township_layer"])
    change(towns, spec)
    towns.to_file(gpkg, layer=spec["township_layer"], driver="GPKG")
    return config


def test_overlapping_townships_exit_2_naming_both(small, tmp_path):
    names = {}

    def overlap(towns, spec):
        metric = towns.to_crs(towns.estimate_utm_crs())
        grown = metric.geometry.iloc[0].buffer(1500)  # well into its neighbours
        towns.loc[0, "geometry"] = gpd.GeoSeries([grown], crs=metric.crs).to_crs(towns.crs)[0]
        names["first"] = towns.loc[0, spec["township_name_field"]]

    config = _with_towns(small, tmp_path, overlap)
    r = _cli("site", "--config", str(config), "--out", str(tmp_path / "o"))
    assert r.exit_code == 2, r.output
    assert f"townships {names['first']} (" in r.stderr and "overlap by" in r.stderr
    assert "of the smaller one" in r.stderr and "township_min" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_a_sliver_of_overlap_is_a_warning(caplog):
    from planner.ingest.boundaries import check_overlaps

    towns = gpd.GeoDataFrame(
        {"township_id": ["1", "2"], "township_name": ["东乡", "西乡"]},
        geometry=[shapely.box(0, 0, 1000, 1000), shapely.box(999.5, 0, 2000, 1000)],
        crs=3857,
    )
    check_overlaps(towns, "towns.gpkg")  # 0.05% of the smaller one
    assert "1 pairs of townships overlap slightly (largest: 东乡 (1) and 西乡 (2)" in caplog.text
    towns.geometry = [shapely.box(0, 0, 1000, 1000), shapely.box(900, 0, 2000, 1000)]
    with pytest.raises(ValueError, match=r"东乡 \(1\) and 西乡 \(2\) overlap by 0.10 km2"):
        check_overlaps(towns, "towns.gpkg")


def test_a_polygon_invalid_once_projected_does_not_break_the_check(caplog):
    """A self-touching polygon (as reprojection can make one) is checked, not a GEOS error."""
    from planner.ingest.boundaries import check_overlaps

    bow_tie = shapely.Polygon([(0, 0), (1000, 1000), (1000, 0), (0, 1000), (0, 0)])
    assert not bow_tie.is_valid
    towns = gpd.GeoDataFrame(
        {"township_id": ["1", "2"], "township_name": ["东乡", "西乡"]},
        geometry=[bow_tie, shapely.box(999.9, 0, 2000, 1000)],
        crs=3857,
    )
    check_overlaps(towns, "towns.gpkg")  # raised GEOSException: TopologyException before
    assert "overlap slightly (largest: 东乡 (1) and 西乡 (2)" in caplog.text


def test_polygons_made_invalid_by_projection_are_repaired():
    from planner.crs import to_crs_valid

    bow_tie = shapely.Polygon([(0, 0), (1000, 1000), (1000, 0), (0, 1000), (0, 0)])
    towns = gpd.GeoDataFrame({"name": ["a", "b"]}, geometry=[bow_tie, shapely.box(0, 0, 1, 1)])
    towns = towns.set_crs(3857)
    out = to_crs_valid(towns, 3857)
    assert out.is_valid.all() and out.geometry.iloc[1].equals(towns.geometry.iloc[1])
    assert abs(out.geometry.iloc[0].area - 500_000) < 1e-6  # both triangles kept
    out.union_all()  # GEOS TopologyException before the repair


def test_a_home_folder_that_refuses_its_latest_link_is_refused_first(tmp_path, monkeypatch):
    """runs/ writable but not the county folder (where `latest` goes): refused before
    anything is solved, not after the run is in place."""
    from planner import paths
    from planner.errors import ConfigError
    from planner.runs import RUNS, check_home

    home = tmp_path / "county"
    (home / RUNS).mkdir(parents=True)
    made = paths.tempfile.mkdtemp

    def refuse_in_home(**kwargs):
        if Path(kwargs["dir"]) == home:
            raise PermissionError(1, "Operation not permitted")
        return made(**kwargs)

    monkeypatch.setattr(paths.tempfile, "mkdtemp", refuse_in_home)
    with pytest.raises(ConfigError, match=rf"cannot write in {home} \(Operation not permitted\)"):
        check_home(home)
    monkeypatch.setattr(paths.tempfile, "mkdtemp", made)
    assert check_home(home) == home.resolve()


@pytest.mark.parametrize(
    "error",
    [
        OSError(28, "No space left on device", "sites.gpkg"),
        # what pyogrio raises when GDAL's SQLite cannot grow the GeoPackage
        RuntimeError(
            "Could not add feature to layer at index 0: sqlite3_exec(INSERT INTO "
            "gpkg_contents ...) failed: database or disk is full"
        ),
    ],
    ids=["oserror", "gdal"],
)
def test_a_full_disk_is_one_line_and_keeps_the_previous_run(small, tmp_path, monkeypatch, error):
    import pyogrio

    out = tmp_path / "out"
    first = _cli("site", "--config", str(small), "--out", str(out), *PLAN_ONLY_SETS)
    assert first.exit_code == 0, first.output
    before = sorted(p.relative_to(out) for p in out.rglob("*"))
    latest = (out / "latest").resolve()

    def full(*args, **kwargs):
        raise error

    monkeypatch.setattr(pyogrio, "write_dataframe", full)
    r = _cli("site", "--config", str(small), "--out", str(out), *PLAN_ONLY_SETS)
    assert r.exit_code == 2, r.output
    errors = [line for line in r.stderr.splitlines() if "error" in line.lower()]
    assert errors == [r.stderr.strip().splitlines()[-1]], r.stderr  # one line, the last
    assert errors[0].startswith("error: the disk is full"), r.stderr
    assert "nothing was written; the previous outputs are intact" in errors[0]
    assert "Traceback" not in r.output
    assert sorted(p.relative_to(out) for p in out.rglob("*")) == before
    assert (out / "latest").resolve() == latest
