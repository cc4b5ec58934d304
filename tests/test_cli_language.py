"""The CLI's summary table speaks the run's language."""

from __future__ import annotations

import re
from pathlib import Path

from rich.console import Console

from planner.cli.plan_table import plan_table

SUMMARY = {
    "county": "青溪县",
    "stations": 14,
    "chargers": 92,
    "charger_kw_total": 5520.0,
    "repair_points": 6,
    "demand_covered_share": 0.9731,
    "sessions_day": 1210.4,
    "townships_with_station": 15,
    "townships_total": 15,
    "mean_travel_min": 6.21,
    "mean_nearest_min": None,
    "capex_total": 14872450.0,
    "solver": "highs",
    "status": "time_limit",
    "gap": 0.0046,
    "solves": [
        {"pass": "coverage", "model": "two_tier_coverage", "status": "optimal", "gap": 0.002},
        {"pass": "capex", "model": "two_tier_cost", "status": "time_limit", "gap": 0.0046},
    ],
    "skipped_passes": ["drive_time"],
    "safety_net": ["capex"],
    "tours": {"vans_total": 12, "visits_served": 399, "visits_asked": 401, "km_week": 2924.8},
}


def _render(language: str) -> str:
    table = plan_table(
        {**SUMMARY, "language": language},
        seconds=13.7,
        out_dir=Path("/o/runs/r1"),
        home=Path("/o"),
        report=True,
    )
    console = Console(width=200, record=True, file=open("/dev/null", "w"))  # noqa: SIM115
    console.print(table)
    return console.export_text()


def test_the_chinese_table_has_no_english_words() -> None:
    text = _render("zh")
    assert "青溪县：规划方案" in text and "警告" in text and "14 / 92" in text
    assert "覆盖充电次数最多 最优（已证明间隙） 0.20%" in text
    assert "因时限停止" in text and "无" in text  # mean_nearest_min is missing
    assert "12 辆维修车：每周访问 399 / 401 次，行驶 2,925 公里" in text
    words = set(re.findall(r"[A-Za-z][A-Za-z_.]{2,}", text))
    # what stays Latin: the solver's name, config keys and paths (/o/latest, /o/runs)
    allowed = {
        "HiGHS",
        "solver.time_limit_s",
        "solver.drive_time_max_pairs",
        "report.html",
        "runs",
        "latest",
    }
    assert words <= allowed, words - allowed


def test_the_english_table() -> None:
    text = _render("en")
    assert "青溪县: plan" in text and "WARNING" in text
    assert "The pass 'least capital cost' was stopped" in " ".join(text.split())
    assert "97.3% of 1,210" in text and "n/a min to the nearest" in text
    assert "12 vans: 399 of 401 visits, 2,925 km a week" in text
    assert not re.search(r"[\u4e00-\u9fff]", text.replace("青溪县", ""))
