"""The batch's own outputs (batch_summary.csv, index.html, the province map) from task
results, without running counties."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

from planner.datatypes import TaskResult
from planner.report import province as batch_outputs
from planner.report.province import write_batch_outputs


def _result(home: Path, county: str, name: str, scenario: str, stations: int, capex: float):
    out = home / county / scenario / "runs" / "r1"
    out.mkdir(parents=True)
    res = TaskResult(county, scenario, "done", str(out), language="zh", code=f"9{len(county)}")
    res.figures = {"county": name, "stations": stations, "chargers": 2 * stations}
    res.figures.update(capex_total=capex, status="optimal", gap=0.001)
    return res


def _failed(county: str, name: str, scenario: str) -> TaskResult:
    res = TaskResult(county, scenario, "failed", "", error="infeasible", exit_code=3)
    res.figures = {"county": name}
    return res


@pytest.fixture
def drawn(monkeypatch) -> list[list[Path]]:
    """The run folders each province map was drawn from (no map is drawn)."""
    calls: list[list[Path]] = []
    monkeypatch.setattr(
        batch_outputs,
        "province_map",
        lambda dirs, target, lang=None: (calls.append(dirs), target.write_bytes(b"")),
    )
    return calls


def _total_row(page: str) -> str:
    found = re.search(r'<tr class="total">(.*?)</tr>', page)
    assert found is not None
    return found.group(1)


def test_the_total_is_of_the_first_scenario_and_names_a_county_left_out(tmp_path, drawn):
    home, run = tmp_path / "home", tmp_path / "home" / "runs" / "b1"
    run.mkdir(parents=True)
    qingxi_base = _result(home, "qingxi", "青溪县", "base", 5, 1_000_000.0)
    qingxi_big = _result(home, "qingxi", "青溪县", "big", 40, 9_000_000.0)
    shimen_big = _result(home, "shimen", "石门县", "big", 30, 7_000_000.0)
    results = [qingxi_base, qingxi_big, _failed("shimen", "石门县", "base"), shimen_big]
    write_batch_outputs(run, results, run_id="20261201T000000Z-abc")
    total = _total_row((run / "index.html").read_text("utf-8"))
    # qingxi's base alone: shimen's base failed, and its "big" is another scenario
    assert "合计（1/2 个县；石门县失败）、情景 base" in total
    assert ">5</td>" in total and ">10</td>" in total and ">1,000,000</td>" in total
    assert "40" not in total and "30" not in total and "8,000,000" not in total
    assert drawn == [[Path(qingxi_base.out_dir)]]
    # every scenario done: all counties, and still the first scenario only
    results[2] = _result(home, "shimen", "石门县", "base", 4, 500_000.0)
    write_batch_outputs(run, results)
    total = _total_row((run / "index.html").read_text("utf-8"))
    assert "合计（2 个县）、情景 base" in total and ">9</td>" in total
    assert ">1,500,000</td>" in total
    assert drawn[-1] == [Path(qingxi_base.out_dir), Path(results[2].out_dir)]
    with (run / "batch_summary.csv").open(encoding="utf-8-sig") as fh:
        assert len(list(csv.DictReader(fh))) == 4


def test_one_scenario_total_in_english(tmp_path, drawn):
    run = tmp_path / "runs" / "b1"
    run.mkdir(parents=True)
    done = _result(tmp_path, "a", "A", "base", 3, 10.0)
    done.language = "en"
    write_batch_outputs(run, [done, _failed("b", "B", "base"), _failed("c", "", "base")])
    total = _total_row((run / "index.html").read_text("utf-8"))
    assert "Total (1 of 3 counties; B, c failed)" in total and "scenario" not in total
    assert drawn == [[Path(done.out_dir)]]
    write_batch_outputs(run, [_failed("b", "B", "base")])
    page = (run / "index.html").read_text("utf-8")  # no run finished: Chinese by default
    assert "合计（0/1 个县；B失败）" in _total_row(page)
    assert len(drawn) == 1  # no map of nothing
