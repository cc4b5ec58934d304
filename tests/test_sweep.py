"""Scenario sweeps and the multi-year rollout on a small demo county."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from planner.errors import ConfigError
from planner.sweep import YearPlan, parse_vary, rollout, sweep
from tests.conftest import PLAN_ONLY, run_cli


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig") as fh:
        return list(csv.DictReader(fh))


def test_parse_vary():
    assert parse_vary("stations.budget=8e6,12e6") == ("stations.budget", [8e6, 12e6])
    assert parse_vary("demand.ev_adoption=0.1, 0.2") == ("demand.ev_adoption", [0.1, 0.2])
    with pytest.raises(ConfigError):
        parse_vary("stations.budget")


@pytest.mark.slow
def test_budget_sweep_shares_inputs_and_warm_starts(small, tmp_path):
    res = sweep(
        small,
        [("stations.budget", [11e6, 8e6]), ("stations.max_stations", [16, 20])],
        tmp_path / "sw",
        overrides=[*PLAN_ONLY],
    )
    rows = res.rows
    assert [(r["stations.budget"], r["stations.max_stations"]) for r in rows] == [
        (8e6, 16),
        (8e6, 20),
        (11e6, 16),
        (11e6, 20),
    ]
    assert [r["shared_inputs"] for r in rows] == [False, True, True, True]
    for r in rows:
        assert r["status"] in ("optimal", "time_limit")
        assert r["capex_total"] <= r["stations.budget"]
        assert r["stations"] <= r["stations.max_stations"]
        assert (res.out_dir / r["scenario"] / "map.html").is_file()
    # more stations allowed or more budget never covers less (to the 0.5% gap)
    share = {
        (r["stations.budget"], r["stations.max_stations"]): r["demand_covered_share"] for r in rows
    }
    assert share[(11e6, 20)] >= share[(8e6, 16)] * 0.995
    table = _csv(res.out_dir / "sweep.csv")
    assert len(table) == 4 and float(table[0]["capex_per_covered_ev"]) > 0
    page = (res.out_dir / "sweep.html").read_text("utf-8")
    assert "data:image/png;base64," in page and "capex_per_covered_ev" in page


@pytest.mark.slow
def test_rollout_keeps_earlier_stations_open(small, tmp_path):
    years = [
        YearPlan(2025, 8e6, 0.08, target=0.9),
        YearPlan(2026, 3e6, 0.12),
        YearPlan(2027, 3e6, 0.2, target=0.95),
    ]
    res = rollout(small, years, tmp_path / "ro", overrides=[*PLAN_ONLY])
    ok = [r for r in res.rows if r["status"] != "failed"]
    assert [r["year"] for r in ok] == [2025, 2026, 2027]
    opened = [r["stations_open"] for r in ok]
    assert opened == sorted(opened) and opened[0] == ok[0]["new_stations"]
    for r in ok:
        assert r["capex_total"] <= r["budget"]  # each year's budget is new spending only
        assert r["demand_covered_share"] >= (r["target"] or 0) - 1e-6
    assert ok[2]["evs"] > ok[0]["evs"]  # demand grows along the adoption path
    stations = _csv(res.out_dir / "rollout.csv")
    assert len(stations) == opened[-1]
    assert len({s["candidate_id"] for s in stations}) == len(stations)  # none sited twice
    assert {int(s["year"]) for s in stations} <= {2025, 2026, 2027}
    assert (res.out_dir / "rollout.html").is_file()


@pytest.mark.slow
def test_cli_rollout_bad_year(small, tmp_path):
    r = run_cli("rollout", "--config", str(small), "--year", "2025-8e6", "--out", str(tmp_path))
    assert r.returncode == 2 and "YEAR:BUDGET:ADOPTION[:TARGET]" in r.stderr


@pytest.mark.slow
def test_a_bad_value_stops_the_sweep_before_anything_is_written(small, tmp_path):
    out = tmp_path / "sw"
    r = run_cli(
        "sweep", "--config", str(small), "--vary", "stations.budget=9e6,abc", "--out", str(out)
    )
    assert r.returncode == 2 and "stations.budget" in r.stderr and "Traceback" not in r.stderr
    assert not out.exists()
    r = run_cli(
        "rollout",
        "--config",
        str(small),
        "--year",
        "2025:8e6:0.1",
        "--year",
        "2026:4e6:-3",
        "--out",
        str(out),
    )
    assert r.returncode == 2 and "ev_adoption" in r.stderr and not out.exists()
