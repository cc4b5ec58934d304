"""Tables for people: site lists, assumptions, data sources and solver passes, zh and en."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import Point

from planner import columns as C
from planner.config import Config
from planner.i18n import translator
from planner.report.assumptions import (
    OSM_ATTRIBUTION,
    PARAMETERS,
    assumptions_table,
    attribution,
    data_sources,
    pass_status,
)
from planner.report.plan_tables import repair_list, station_list, township_list

ZH, EN = translator("zh"), translator("en")


def _config(**extra: object) -> Config:
    raw: dict = {
        "county": {"name": "青溪县"},
        "inputs": {
            "boundaries": {"path": "b.gpkg"},
            "osm": {"path": "roads.osm.pbf"},
            "population": {"path": "pop.tif"},
        },
        "stations": {"cutoff_min": 20, "budget": 5e6},
        "demand": {"ev_adoption": 0.125},
    }
    raw.update(extra)
    return Config.model_validate(raw)


def _stations() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            C.CANDIDATE_ID: ["c1", "c2"],
            C.NAME: ["=HYPERLINK(1)", "东山加油站"],
            C.TOWNSHIP_NAME: ["城关镇", "东山乡"],
            C.POLICY_CLASS: ["fuel_station", "township_government"],
            C.EXISTING_CHARGERS: [0, 2],
            C.CHARGERS: [2, 6],
            C.CHARGER_KW: [120.0, 360.0],
            C.SESSIONS_SERVED: [15.623991999999999, 60.0],
            C.STATION_CAPEX: [300359.4, 301313.0],
            C.CONNECTION_COST: [359.4, np.nan],
            C.CONNECTION_BASIS: ["grid distance", "not included"],
            C.CAPEX: [460359.4, 781313.0],
        },
        geometry=[Point(117.1234567, 28.5), Point(117.2, 28.6)],
        crs=4326,
    )


def test_station_list_in_chinese_has_units_words_and_rounded_numbers() -> None:
    table = station_list(_stations(), lang=ZH)
    assert list(table.columns[:4]) == ["站址编号", "名称", "乡镇", "站址类型"]
    assert "投资额（元）" in table.columns and "经度（CGCS2000）" in table.columns
    first = table.iloc[0]  # the larger station first
    assert first["站址编号"] == "c2" and first["站址类型"] == "乡镇政府"
    assert first["接入费用依据"] == "未计入（无电网数据）"
    assert first["投资额（元）"] == 781313
    second = table.iloc[1]
    assert second["日服务充电次数（次/日）"] == pytest.approx(15.6)
    assert second["经度（CGCS2000）"] == pytest.approx(117.1234567, abs=1e-9)  # 7 decimals: 1 cm
    assert second["站点投资（含电网接入）（元）"] == 300359


def test_station_list_in_english() -> None:
    table = station_list(_stations(), lang=EN)
    assert "Capital cost (CNY)" in table.columns
    assert table.iloc[1]["Site class"] == "fuel station"


def test_repair_and_township_lists() -> None:
    points = _stations().assign(**{C.REPAIR_ID: ["r1", "r0"], C.AT_STATION: [True, False]})
    table = repair_list(points, lang=ZH)
    assert list(table["维修点编号"]) == ["r0", "r1"]
    assert list(table["与充电站同址"]) == ["否", "是"]
    towns = gpd.GeoDataFrame(
        {C.TOWNSHIP_ID: ["2", "1"], C.TOWNSHIP_NAME: ["乙", "甲"], C.COVERED_SHARE: [0.5, 1]},
        geometry=[Point(0, 0), Point(1, 1)],
        crs=4326,
    )
    assert list(township_list(towns, lang=ZH)["充电次数覆盖率（%）"]) == [100.0, 50.0]


def test_every_parameter_is_a_config_field() -> None:
    config = _config()
    for section, name, *_ in PARAMETERS:
        assert name in type(getattr(config, section)).model_fields, f"{section}.{name}"


def test_assumptions_give_value_unit_and_source() -> None:
    table = assumptions_table(_config(), lang=ZH).set_index("参数")
    assert table.loc["电动汽车占汽车比例", "取值"] == "12.5"
    assert table.loc["电动汽车占汽车比例", "单位"] == "%"
    assert table.loc["电动汽车占汽车比例", "来源"] == "县级配置"
    assert table.loc["视为覆盖的行车时间", "取值"] == "20"
    assert table.loc["每台充电桩费用", "来源"] == "默认值"
    assert table.loc["预算", "取值"] == "5,000,000"
    assert table.loc["高速公路车速", "单位"] == "公里/小时"
    english = assumptions_table(_config(), lang=EN)
    assert list(english.columns) == ["Parameter", "Value", "Unit", "Source"]


def test_data_sources_credit_openstreetmap_unless_the_config_says_otherwise() -> None:
    table = data_sources(_config(), lang=EN)
    assert list(table["Files"]) == ["b.gpkg", "roads.osm.pbf", "pop.tif"]
    credits = list(table["Provider and licence"])
    assert credits[1] == OSM_ATTRIBUTION
    assert "not stated" in credits[0]
    inputs = {
        "boundaries": {"path": "b.gpkg"},
        "osm": {"path": "roads.osm.pbf"},
        "attribution": {"boundaries": "县自然资源局, 内部使用"},
    }
    credited = data_sources(_config(inputs=inputs), lang=ZH)
    assert list(credited["提供方与许可"]) == ["县自然资源局, 内部使用", OSM_ATTRIBUTION]
    assert "OpenStreetMap" in attribution(lang=ZH)


def test_an_unknown_input_cannot_be_credited() -> None:
    with pytest.raises(ValueError, match="attribution"):
        _config(inputs={"boundaries": {"path": "b"}, "osm": {}, "attribution": {"roads": "x"}})


def test_pass_status_names_passes_and_statuses() -> None:
    summary = {
        "solves": [
            {"pass": "coverage", "model": "two_tier_coverage", "solver": "highs",
             "status": "optimal", "objective": 10.0, "bound": 10.02, "gap": 0.002, "solve_s": 1.25},
            {"pass": "capex", "model": "stations_cost", "solver": "cbc",
             "status": "time_limit", "objective": 5e6, "bound": 4.9e6, "gap": 0.02, "solve_s": 9},
        ]
    }  # fmt: skip
    table = pass_status(summary, lang=ZH)
    assert list(table["求解轮次"]) == ["覆盖充电次数最多", "投资最小"]
    assert list(table["状态"]) == ["最优（已证明间隙）", "因时限停止"]
    assert list(table["间隙"]) == ["0.200%", "2.000%"]
    assert list(table["求解器"]) == ["HiGHS", "CBC"]
