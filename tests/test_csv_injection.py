"""Text that a spreadsheet would run as a formula is neutralised in every CSV written
(issue 11, item 16)."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import geopandas as gpd
import pytest
import yaml
from click.testing import CliRunner

from planner.batch import TaskResult
from planner.cli import main
from planner.report.formats import safe_cell
from planner.report.province import write_batch_outputs
from planner.report.sweep_page import write_rollout_page
from tests.conftest import latest

EVIL = '=HYPERLINK("http://x","y")'


def _cells(path: Path) -> list[str]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return [cell for row in csv.reader(fh) for cell in row]


def _assert_safe(path: Path) -> None:
    """No cell of the file would run as a formula (each is as safe_cell leaves it)."""
    bad = [c for c in _cells(path) if safe_cell(c) != c]
    assert not bad, (path.name, bad[:3])


def test_safe_cell():
    assert safe_cell(EVIL) == "'" + EVIL
    assert safe_cell("@SUM(A1)") == "'@SUM(A1)"
    assert safe_cell("+86 123") == "'+86 123"
    assert safe_cell("-2+3") == "'-2+3"
    assert safe_cell("-12.5") == "-12.5" and safe_cell(-12.5) == -12.5
    assert safe_cell("青溪镇") == "青溪镇"


@pytest.fixture(scope="module")
def evil_county(small: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small demo county with a township named like a formula (a copy)."""
    folder = shutil.copytree(small.parent, tmp_path_factory.mktemp("evil") / "qingxi")
    config = folder / small.name
    spec = yaml.safe_load(config.read_text("utf-8"))["inputs"]["boundaries"]
    gpkg = config.parent / spec["path"]
    towns = gpd.read_file(gpkg, layer=spec["township_layer"])
    towns.loc[0, spec["township_name_field"]] = EVIL
    towns.to_file(gpkg, layer=spec["township_layer"], driver="GPKG")
    return config


@pytest.mark.slow
def test_a_formula_township_name_is_neutralised_in_the_run_csvs(evil_county, tmp_path):
    out = tmp_path / "o"
    r = CliRunner().invoke(main, ["site", "--config", str(evil_county), "--out", str(out)])
    assert r.exit_code == 0, r.output
    out = latest(out)
    towns = _cells(out / "townships.csv")
    assert "'" + EVIL in towns and EVIL not in towns
    for path in out.glob("*.csv"):
        _assert_safe(path)


def test_rollout_and_batch_tables_are_neutralised(tmp_path):
    station = {"year": 2025, "candidate_id": "c1", "name": EVIL, "chargers": 2, "capex": -1.5}
    year = {
        "year": 2025,
        "status": "failed",
        "error": "-x: broken",
        "stations_open": 0,
        "demand_covered_share": 0.0,
    }
    write_rollout_page(tmp_path / "ro", [year], [station])
    assert "'" + EVIL in _cells(tmp_path / "ro" / "rollout.csv")
    assert "-1.5" in _cells(tmp_path / "ro" / "rollout.csv")
    assert "'-x: broken" in _cells(tmp_path / "ro" / "rollout_years.csv")
    failed = TaskResult("a", "base", "failed", "", error=EVIL, exit_code=2)
    write_batch_outputs(tmp_path, [failed])
    assert "'" + EVIL in _cells(tmp_path / "batch_summary.csv")
    _assert_safe(tmp_path / "batch_summary.csv")
