"""What the plan asks of each substation (planner.report.substation_loads)."""

from __future__ import annotations

import csv
import dataclasses
import json

import geopandas as gpd
import numpy as np
import openpyxl
import pytest
import shapely

from planner.i18n import translator
from planner.report.sections import key_figures, over_text
from planner.report.substation_loads import substation_loads, substation_table


def _subs():
    return gpd.GeoDataFrame(
        {
            "substation_id": ["A", "B", "C", "D"],
            "name": ["甲变", None, "丙变", "丁变"],
            "rated_kva": [1000.0, np.nan, 500.0, 800.0],
            "peak_load_kw": [600.0, np.nan, 350.0, 100.0],
            "headroom_kw": [300.0, np.nan, 100.0, 620.0],
        },
        geometry=[shapely.Point(i, 0) for i in range(4)],
        crs=4326,
    )


def _drawing():
    return gpd.GeoDataFrame(
        {"substation_id": ["A", "A", "B", "C", None], "charger_kw": [120.0, 120, 240, 180, 60]}
    )


def test_each_substation_s_load_headroom_and_state():
    rows = substation_loads(_drawing(), _subs())
    assert [r["substation_id"] for r in rows] == ["A", "B", "C", "D"]  # most loaded first
    a, b, c, d = rows
    assert (a["stations"], a["charger_kw"], a["remaining_kw"], a["state"]) == (2, 240, 60, "within")
    assert (b["headroom_kw"], b["remaining_kw"], b["state"]) == (None, None, "unknown")
    assert (c["charger_kw"], c["remaining_kw"], c["state"]) == (180, -80, "over")
    assert (d["stations"], d["charger_kw"], d["state"]) == (0, 0.0, "within")
    assert a["name"] == "甲变" and b["name"] is None and a["rated_kva"] == 1000


def test_the_report_names_unknown_and_overloaded_substations_with_their_kw():
    lang = translator("zh")
    summary = {
        "substation_loads": substation_loads(_drawing(), _subs()),
        "substations_over_headroom": [
            {"substation_id": "C", "charger_kw": 180.0, "headroom_kw": 100.0}
        ],
    }
    assert over_text(summary, lang=lang) == "C：180 / 100 千瓦"
    figures = {key: text for key, _, text in key_figures(summary, lang=lang)}
    assert figures["substations_headroom_unknown"] == "B：240 千瓦"
    table = substation_table(summary, lang=lang)
    assert table is not None
    assert table["可用容量"].tolist() == ["未超出", "未知（容量表中无此变电站）", "超出", "未超出"]
    assert table["剩余可用容量（千瓦）"].tolist() == ["60", "", "-80", "620"]


@pytest.mark.slow
def test_the_demo_s_substation_table_adds_up(demo_run, demo_summary):
    """Every planned kW is booked on one substation; the workbook's sheet has the figures as
    numbers; stations.csv books each station where the table says."""
    rows = demo_summary["substation_loads"]
    assert sum(r["charger_kw"] for r in rows) == pytest.approx(demo_summary["charger_kw_total"])
    assert all(r["state"] == "within" for r in rows)  # respect_headroom is on
    with (demo_run / "stations.csv").open(encoding="utf-8-sig") as f:
        stations = list(csv.DictReader(f))
    for r in rows:
        mine = [s for s in stations if s["substation_id"] == r["substation_id"]]
        assert len(mine) == r["stations"]
        assert sum(float(s["charger_kw"]) for s in mine) == pytest.approx(r["charger_kw"])
    book = openpyxl.load_workbook(demo_run / "plan.xlsx", read_only=True)
    sheet = list(book["变电站"].values)
    header = list(sheet[0])
    assert header[0] == "变电站" and "剩余可用容量（千瓦）" in header
    left = header.index("剩余可用容量（千瓦）")
    assert [row[left] for row in sheet[1:]] == pytest.approx([r["remaining_kw"] for r in rows])
    assert "为规划供电的变电站" in (demo_run / "report.md").read_text(encoding="utf-8")
    # the GIS layer: every substation, the same figures
    layer = gpd.read_file(demo_run / "sites.gpkg", layer="substations").set_index("substation_id")
    assert layer["planned_kw"].sum() == pytest.approx(demo_summary["charger_kw_total"])
    for r in rows:
        got = layer.loc[r["substation_id"]]
        assert got["stations_fed"] == r["stations"] and got["headroom_state"] == r["state"]
        assert got["headroom_left_kw"] == pytest.approx(r["remaining_kw"])


@pytest.mark.slow
def test_the_map_s_substations_say_their_headroom_and_planned_power(demo_session, demo_summary):
    from planner.report.map.build import _planned_kw
    from planner.report.map.layers import grid_layer

    county, plan = demo_session.written["county"], demo_session.written["plan"]
    lang = translator("zh")
    overlay = grid_layer(county, 0.0, [], lang=lang, planned_kw=_planned_kw(plan))
    texts = [f["properties"]["t"] for f in json.loads(overlay.spec_json)["data"]["features"]]
    for r in demo_summary["substation_loads"]:
        name = r["name"] or r["substation_id"]
        text = next(t for t in texts if t.startswith(f"变电站 {name}："))
        assert f"规划充电功率 {r['charger_kw']:,.0f} 千瓦" in text, text
    # without a headroom row the tooltip says so (it ended in "可用容量 " before)
    subs = county.substations.copy()
    subs["headroom_kw"] = np.nan
    overlay = grid_layer(dataclasses.replace(county, substations=subs), 0.0, [], lang=lang)
    texts = [f["properties"]["t"] for f in json.loads(overlay.spec_json)["data"]["features"]]
    assert any("可用容量 未知（容量表中无此变电站）" in t for t in texts)


def test_without_a_headroom_table_the_outputs_say_none_was_given(caplog):
    """No inputs.substations at all: the report does not speak of rows missing from a table."""
    from planner.report.content import _grid
    from planner.run_outputs import log_warnings

    lang = translator("zh")
    summary = {
        "substation_loads": substation_loads(_drawing(), _subs()),
        "substations_over_headroom": [],
        "headroom_table": False,
    }
    table = substation_table(summary, lang=lang)
    assert table is not None and table["可用容量"].tolist()[1] == "未知（未提供容量表）"
    texts = [b.text for b in _grid(summary, lang)[0].blocks if hasattr(b, "text")]
    assert any(t.startswith("未提供变电站可用容量表") for t in texts), texts
    assert not any("容量表中没有" in t for t in texts)
    with caplog.at_level("WARNING"):
        log_warnings(summary)
    assert "no headroom table given in inputs.substations" in caplog.text
    summary["headroom_table"] = True  # a table without B's row: as before
    texts = [b.text for b in _grid(summary, lang)[0].blocks if hasattr(b, "text")]
    assert any(t.startswith("变电站容量表中没有的变电站") for t in texts), texts
