"""The report's and the workbook's assumptions list the tours' parameters the plan used."""

from __future__ import annotations

import yaml

from planner.config import load_config
from planner.i18n import translator
from planner.report.assumptions import assumptions_table
from planner.report.tour_tables import shift_rows
from tests.test_tours import MINIMAL

EN, ZH = translator("en"), translator("zh")


def _config(tmp_path, tours: dict):
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump({**MINIMAL, "tours": tours}, allow_unicode=True))
    return load_config(path)


def _rows(config, lang=EN) -> dict[str, list[str]]:
    table = assumptions_table(config, lang=lang)
    return {str(r.iloc[0]): [str(v) for v in r.iloc[1:]] for _, r in table.iterrows()}


def test_every_tour_setting_used_is_an_assumption(tmp_path):
    config = _config(
        tmp_path,
        {
            "enabled": True,
            "stops": ["villages", "stations"],
            "lunch_start": "12:00",
            "villages": {"per_week": 2, "per_week_by_evs": {200: 3}, "min_evs": 3},
            "stations": {"service_min": 45, "time_window": ["09:00", "16:00"]},
            "fleet_size": 7,
        },
    )
    rows = _rows(config)
    assert rows["Time at each stop: village"] == ["30", "min", "planner default"]
    assert rows["Time at each stop: charging station"] == ["45", "min", "county config"]
    assert rows["Hours of the stops: charging station"][0] == "09:00–16:00"
    assert rows["Hours of the stops: village"][0] == "the whole shift"
    assert rows["Visits per week: village"][:2] == ["2 (3 from 200 EVs)", "visits/week"]
    assert rows["Visits per week: charging station"][0] == "1"
    assert rows["EVs a stop needs, at least: village"] == ["3", "vehicles", "county config"]
    assert rows["Repair vans in all"][:2] == ["7", "vehicles"]
    assert "Repair vans per repair point" not in rows  # the fleet replaces it
    assert rows["Shift"][0] == "08:00–17:00, lunch break from 12:00 (60 min)"
    assert rows["Gap between two visits to a stop, at least"][0] == "2 where the visits fit, else 1"
    assert rows["Route search: iterations"][0] == "10,000"
    # the tours section's key figures give each kind its own service time
    settings = dict((label, text) for _, label, text in shift_rows(config.tours, lang=EN))
    assert settings["Time at each stop (min)"] == "village 30, charging station 45"
    zh = _rows(config, ZH)
    assert zh["每站服务时间：充电站"][:2] == ["45", "分钟"]


def test_tours_off_have_no_tour_assumptions(tmp_path):
    rows = _rows(_config(tmp_path, {"enabled": False, "min_gap_days": 1}))
    assert not any("Gap between" in k or "Repair vans" in k for k in rows)
    on = _rows(_config(tmp_path, {"enabled": True, "min_gap_days": 1, "vans_per_point": 3}))
    assert on["Gap between two visits to a stop, at least"] == [
        "1", "working days", "county config"
    ]  # fmt: skip
    assert on["Repair vans per repair point"][0] == "3"
    # one kind of stop: one service time
    assert not any(k.endswith("charging station") for k in on)
