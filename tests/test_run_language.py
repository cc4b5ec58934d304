"""A run speaks one language everywhere: map, report, workbook, CLI summary."""

from __future__ import annotations

import json

import openpyxl
import pytest

from tests.conftest import NO_TOURS, latest, site_proc


def _texts(run):
    report = (run / "report.html").read_text(encoding="utf-8")
    page = (run / "map.html").read_text(encoding="utf-8")
    book = openpyxl.load_workbook(run / "plan.xlsx", read_only=True)
    return report, page, book.sheetnames


@pytest.mark.slow
def test_the_demo_county_is_planned_in_chinese(demo_run):
    summary = json.loads((demo_run / "summary.json").read_text(encoding="utf-8"))
    assert summary["language"] == "zh"  # default inside China
    report, page, sheets = _texts(demo_run)
    assert '<html lang="zh-CN">' in report and "充电站" in report
    assert '<html lang="zh-CN">' in page
    assert sheets[:2] == ["概要", "充电站"]


@pytest.mark.slow
def test_report_language_en_switches_every_output(small, small_session, tmp_path):
    r = site_proc(small, tmp_path / "o", "--set", "report.language=en", *NO_TOURS)
    assert r.returncode == 0, r.stderr
    run = latest(tmp_path / "o")
    assert json.loads((run / "summary.json").read_text(encoding="utf-8"))["language"] == "en"
    report, page, sheets = _texts(run)
    assert '<html lang="en">' in report and '<html lang="en">' in page
    assert sheets[:2] == ["Summary", "Charging stations"]
    assert ": plan" in r.stdout and "stations / chargers" in r.stdout
    zh = small_session.stdout  # the same county planned in the default language
    assert "规划方案" in zh and "充电站 / 充电桩" in zh
