"""plan.xlsx read back with openpyxl: sheets and headers in zh and en, values equal to the
layers (rounded, no float noise), number formats, 是/否, formula-like names stored as text,
frozen headers, widths, autofilter and the print setup."""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook
from openpyxl.cell.cell import Cell
from openpyxl.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet
from pyproj import CRS
from shapely.geometry import Point, box

from planner import columns as C
from planner.config import Config
from planner.crs import CGCS2000
from planner.errors import DataError
from planner.i18n import translator
from planner.report import data_dictionary, read_run_layers, run_dictionary
from planner.report.workbook import write_run_workbook, write_workbook
from planner.report.xlsx import format_decimals, number_format, text_width

ZH, EN = translator("zh"), translator("en")
EVIL = '=HYPERLINK("http://x","y")'
ZH_SHEETS = ["概要", "充电站", "维修点", "乡镇", "假设参数", "求解过程", "数据字典", "数据来源"]
EN_SHEETS = [
    "Summary",
    "Charging stations",
    "Repair points",
    "Townships",
    "Assumptions",
    "Solver passes",
    "Data dictionary",
    "Data sources",
]
#: The sheets of a run with the repair vans' tours (the demo's).
# the demo run has a headroom table: the substations feeding its plan come after the townships
ZH_TOUR_SHEETS = [*ZH_SHEETS[:4], "变电站", "巡回计划", "维修车周汇总", *ZH_SHEETS[4:]]
EN_TOUR_SHEETS = [*EN_SHEETS[:4], "Substations", "Tour schedule", "Vans' week", *EN_SHEETS[4:]]


def _config() -> Config:
    return Config.model_validate(
        {
            "county": {"name": "青溪县"},
            "inputs": {
                "boundaries": {"path": "b.gpkg"},
                "osm": {"path": "roads.osm.pbf"},
                "population": {"path": "pop.tif"},
            },
            "stations": {"cutoff_min": 20, "budget": 5e6},
            "demand": {"ev_adoption": 0.125},
        }
    )


def _layers() -> dict[str, gpd.GeoDataFrame]:
    stations = gpd.GeoDataFrame(
        {
            C.CANDIDATE_ID: ["c1", "c2", "c3"],
            C.NAME: [EVIL, "东山加油站", "+1"],
            C.TOWNSHIP_NAME: ["@SUM(A1)", "东山乡", "-2+3"],
            C.POLICY_CLASS: ["fuel_station", "township_government", "car_park"],
            C.EXISTING_CHARGERS: [0, 2, 0],
            C.CHARGERS: [2, 6, 4],
            C.CHARGER_KW: [120.0, 360.0, 240.0],
            C.SESSIONS_SERVED: [15.623991999999999, 60.0, 5.55],
            C.STATION_CAPEX: [300359.4, 301313.0, 300000.5],
            C.CONNECTION_COST: [359.4, np.nan, 0.0],
            C.CONNECTION_BASIS: ["grid distance", "not included", "default"],
            C.CAPEX: [460359.4, 781313.0, 540000.5],
        },
        geometry=[Point(117.1234567, 28.5), Point(117.2, 28.6), Point(117.3, 28.45)],
        crs=4326,
    )
    repair = stations.iloc[:2].assign(
        **{C.REPAIR_ID: ["r1", "r0"], C.AT_STATION: [True, False], C.TARGETS_COVERED: [7, 3]}
    )
    towns = gpd.GeoDataFrame(
        {
            C.TOWNSHIP_ID: ["361199101", "361199100"],
            C.TOWNSHIP_NAME: ["+1", "城关镇"],
            C.POPULATION: [13866.47, 87030.3],
            C.EVS: [366.07480799999996, 2297.59992],
            C.SESSIONS_DAY: [54.9112212, 344.639988],
            C.COVERED_SHARE: [0.9999373781315243, 1.0],
            C.STATIONS: [1, 2],
            C.MEAN_STATION_MIN: [5.304585675075166, 7.6651436215765365],
        },
        geometry=[box(117, 28, 117.1, 28.1), box(117.1, 28, 117.2, 28.1)],
        crs=4326,
    )
    return {"stations": stations, "repair_points": repair, "townships": towns}


def _summary() -> dict[str, Any]:
    return {
        "county": "青溪县",
        "stations": 3,
        "chargers": 12,
        "charger_kw_total": 720.0,
        "repair_points": 2,
        "capex_stations": 1781673,
        "capex_repair": 120000,
        "capex_total": 1901673,
        "budget": 5e6,
        "repair_mode": "joint",
        "sessions_day": 399.551209,
        "sessions_served_day": 81.173991999999999,
        "demand_covered_share": 0.2031612,
        "townships_total": 2,
        "townships_with_station": 2,
        "mean_travel_min": 6.702,
        "gap": 0.0045693276140490275,
        "solver": "highs",
        "substations_over_headroom": [],
        "skipped_passes": ["drive_time"],
        "solves": [
            {"pass": "coverage", "model": "two_tier_coverage", "solver": "highs",
             "status": "optimal", "objective": 1177.8011688000004, "bound": 1180.6798212,
             "gap": 0.0024440902898174607, "solve_s": 0.334},
            {"pass": "capex", "model": "two_tier_cost", "solver": "highs",
             "status": "time_limit", "objective": 1901673.0, "bound": 1880000.25,
             "gap": 0.0113, "solve_s": 9.838},
        ],
        "language": "zh",
    }  # fmt: skip


def _write(tmp_path: Path, lang: str = "zh", **kw: Any) -> Workbook:
    layers = kw.pop("layers", _layers())
    summary = kw.pop("summary", _summary())
    dictionary = data_dictionary(layers)
    path = tmp_path / f"plan_{lang}.xlsx"
    write_workbook(path, summary, layers, dictionary, _config(), lang=translator(lang), **kw)
    return load_workbook(path)


def _columns(ws: Worksheet) -> dict[str, list[Cell]]:
    """Header text -> the column's cells below it."""
    cols = list(ws.iter_cols(min_row=1, max_row=ws.max_row))
    return {str(col[0].value): list(col[1:]) for col in cols}


def _values(ws: Worksheet, header: str) -> list[Any]:
    return [c.value for c in _columns(ws)[header]]


def _summary_values(ws: Worksheet) -> dict[str, Cell]:
    return {str(row[0].value): row[1] for row in ws.iter_rows(min_row=2)}


def _numeric_cells(book: Workbook) -> list[Cell]:
    return [
        cell
        for ws in book.worksheets
        for row in ws.iter_rows(min_row=2)
        for cell in row
        if isinstance(cell.value, int | float) and not isinstance(cell.value, bool)
    ]


def test_sheet_names_headers_and_properties_in_chinese(tmp_path: Path) -> None:
    book = _write(tmp_path, "zh", run_id="20261130T040438Z-1c087f66")
    assert book.sheetnames == ZH_SHEETS
    stations = book["充电站"]
    headers = [c.value for c in stations[1]]
    assert headers[:4] == ["站址编号", "名称", "乡镇", "站址类型"]
    assert "投资额（元）" in headers and "经度（CGCS2000）" in headers
    assert [c.value for c in book["概要"][1]] == ["项目", "取值", "单位"]
    assert [c.value for c in book["数据字典"][1]][:4] == ["字段", "中文名称", "说明", "单位"]
    layers = [r[5] for r in book["数据字典"].iter_rows(min_row=2, values_only=True) if r[5]]
    assert layers and not [v for v in layers if re.search("[A-Za-z]", v.replace("CSV", ""))]
    assert book.properties.title == "青溪县充电站与维修点规划"
    assert book.properties.creator == "planner"
    assert book.properties.language == "zh-CN"
    assert book.properties.identifier == "20261130T040438Z-1c087f66"


def test_sheet_names_and_headers_in_english(tmp_path: Path) -> None:
    book = _write(tmp_path, "en")
    assert book.sheetnames == EN_SHEETS
    headers = [c.value for c in book["Charging stations"][1]]
    assert "Capital cost (CNY)" in headers and "Site id" in headers
    assert [c.value for c in book["Summary"][1]] == ["Item", "Value", "Unit"]
    assert book.properties.title == "Charging station and repair point plan: 青溪县"
    assert book.properties.language == "en"


def test_site_values_equal_the_layers_rounded(tmp_path: Path) -> None:
    layers = _layers()
    ws = _write(tmp_path, "zh")["充电站"]
    # largest station first: c2 (6 chargers), c3 (4), c1 (2)
    assert _values(ws, "站址编号") == ["c2", "c3", "c1"]
    order = layers["stations"].set_index(C.CANDIDATE_ID).loc[["c2", "c3", "c1"]]
    assert _values(ws, "充电桩数（台）") == order[C.CHARGERS].tolist()
    assert _values(ws, "投资额（元）") == [round(v) for v in order[C.CAPEX]]
    assert _values(ws, "日服务充电次数（次/日）") == [60.0, 5.6, 15.6]
    assert _values(ws, "其中电网接入费用（元）") == [None, 0, 359]  # missing stays empty
    lon = order.geometry.to_crs(CGCS2000).x
    assert _values(ws, "经度（CGCS2000）") == [round(v, 7) for v in lon]  # 1 cm
    formats = {h: {c.number_format for c in cells} for h, cells in _columns(ws).items()}
    assert formats["投资额（元）"] == {"#,##0"}
    assert formats["日服务充电次数（次/日）"] == {"#,##0.0"}
    assert formats["经度（CGCS2000）"] == {"0.0000000"}
    towns = _write(tmp_path, "en")["Townships"]
    assert _values(towns, "Township code") == ["361199100", "361199101"]  # codes stay text
    assert _values(towns, "Population (people)") == [87030, 13866]
    # 0.99994 is not fully served: 99.9, as the report prints it, not 100.0
    assert _values(towns, "Share served (%)") == [100.0, 99.9]
    assert _values(towns, "Mean drive time to station (min)") == [7.7, 5.3]


def test_no_float_noise_and_every_number_has_a_format(tmp_path: Path) -> None:
    for lang in ("zh", "en"):
        cells = _numeric_cells(_write(tmp_path, lang))
        assert len(cells) > 60
        for cell in cells:
            assert cell.number_format != "General", cell.coordinate
            decimals = format_decimals(cell.number_format)
            assert cell.value == round(cell.value, decimals), (cell.coordinate, cell.value)
            assert len(repr(cell.value)) <= 14, cell.value  # no 5.623991999999999


def test_booleans_are_yes_or_no(tmp_path: Path) -> None:
    zh = _write(tmp_path, "zh")["维修点"]
    assert _values(zh, "维修点编号") == ["r0", "r1"]
    assert _values(zh, "与充电站同址") == ["否", "是"]
    en = _write(tmp_path, "en")["Repair points"]
    assert _values(en, "At a charging station") == ["no", "yes"]


def test_formula_like_names_are_stored_as_text(tmp_path: Path) -> None:
    path = tmp_path / "plan_zh.xlsx"
    book = _write(tmp_path, "zh")
    names = _columns(book["充电站"])["名称"] + _columns(book["充电站"])["乡镇"]
    names += _columns(book["乡镇"])["乡镇"]
    by_value = {c.value: c for c in names}
    for text in (EVIL, "+1", "@SUM(A1)", "-2+3"):
        cell = by_value[text]  # kept as it is, no quote added to the text
        assert cell.data_type == "s" and cell.quotePrefix, text
    assert by_value["东山加油站"].data_type == "s" and not by_value["东山加油站"].quotePrefix
    with zipfile.ZipFile(path) as z:
        sheets = [n for n in z.namelist() if n.startswith("xl/worksheets/sheet")]
        assert sheets and not any(b"<f>" in z.read(n) or b"<f " in z.read(n) for n in sheets)


def test_summary_figures_with_units_and_passes(tmp_path: Path) -> None:
    zh = _summary_values(_write(tmp_path, "zh", run_id="r-1")["概要"])
    assert zh["县"].value == "青溪县" and zh["运行编号"].value == "r-1"
    assert zh["语言"].value == "简体中文"
    assert zh["充电站"].value == 3 and zh["充电站"].number_format == "#,##0"
    assert zh["总投资"].value == 1901673
    spent = zh["预算使用比例"]  # joint mode: the budget covers the repair points too
    assert spent.value == round(1901673 / 5e6, 3) and spent.number_format == "0.0%"
    assert zh["全县日公共充电需求"].value == 399.6
    assert zh["充电次数覆盖率"].value == 0.203
    assert zh["各轮求解的最大最优性间隙"].value == 0.0046
    assert zh["求解状态：覆盖充电次数最多"].value == "最优（已证明间隙）"
    assert zh["求解状态：投资最小"].value == "因时限停止"
    assert (
        zh["未运行的求解轮次（模型过大）"].value == "行车时间最短"
    )  # the pass by its name, not its key
    rows = list(_write(tmp_path, "en")["Summary"].iter_rows(min_row=2, values_only=True))
    units = {r[0]: r[2] for r in rows}
    assert units["Capital cost, total"] == "CNY" and units["Chargers"] == "chargers"
    no_budget = {**_summary(), "budget": None}
    en = _summary_values(_write(tmp_path, "en", summary=no_budget)["Summary"])
    assert en["Budget"].value == "none" and "Share of the budget spent" not in en
    assert not any(k.startswith("People left out") for k in en)  # none were left out
    left = {**_summary(), "demand_left_out": {"points": 312, "population": 79.4}}
    zh = _summary_values(_write(tmp_path, "zh", summary=left)["概要"])
    cell = zh["未计入需求的人口（低于 demand.min_population）"]
    assert cell.value == 79 and cell.number_format == "#,##0"


def test_assumptions_and_solver_numbers_are_numbers(tmp_path: Path) -> None:
    book = _write(tmp_path, "zh")
    rows = {r[0].value: r for r in book["假设参数"].iter_rows(min_row=2)}
    assert rows["预算"][1].value == 5000000 and rows["预算"][1].number_format == "#,##0"
    assert rows["电动汽车占汽车比例"][1].value == 12.5
    assert rows["视为覆盖的行车时间"][1].value == 20
    assert rows["充电站规划目标"][1].data_type == "s"  # words stay words
    passes = _columns(book["求解过程"])
    assert [c.value for c in passes["间隙"]] == [0.00244, 0.0113]
    assert {c.number_format for c in passes["间隙"]} == {"0.000%"}
    assert [c.value for c in passes["目标值"]] == [1177.8, 1901673.0]


def test_data_dictionary_is_translated(tmp_path: Path) -> None:
    layers = _layers()
    crs = [CRS.from_epsg(4490)]
    dictionary = run_dictionary(layers, pd.DataFrame(), formats=["gpkg"], extra_crs=crs)
    path = tmp_path / "d.xlsx"
    write_workbook(path, _summary(), layers, dictionary, _config(), lang=ZH)
    rows = {r[0]: r for r in load_workbook(path)["数据字典"].iter_rows(min_row=2, values_only=True)}
    assert rows[C.CAPEX][1:4] == ("投资额", "站址总投资（站点、充电桩、电网接入）", "元")
    assert rows[C.AT_STATION][3] == "是/否"
    assert rows[C.CANDIDATE_ID][3] is None  # no unit
    assert rows[C.LON][2] == (
        "经度，运行文件夹中的文件为WGS84 (EPSG:4326)；*_EPSG4490 文件为CGCS2000 (EPSG:4490)"
    )
    path = tmp_path / "e.xlsx"
    write_workbook(path, _summary(), layers, dictionary, _config(), lang=EN)
    sheet = load_workbook(path)["Data dictionary"]
    english = [r[2] for r in sheet.iter_rows(min_row=2, values_only=True)]
    assert english == dictionary["description"].tolist()  # the same texts in English


def test_header_rows_widths_filter_and_print_setup(tmp_path: Path) -> None:
    book = _write(tmp_path, "zh")
    for ws in book.worksheets:
        assert ws.freeze_panes == "A2", ws.title
        assert ws.auto_filter.ref == ws.dimensions, ws.title
        assert all(c.font.bold and c.fill.fgColor.rgb.endswith("DDEBF7") for c in ws[1])
        assert ws.page_setup.orientation == "landscape" and ws.page_setup.paperSize == 9
        assert ws.page_setup.fitToWidth == 1 and ws.sheet_properties.pageSetUpPr.fitToPage
        assert ws.print_title_rows == "$1:$1"
        for header, cells in _columns(ws).items():
            letter = cells[0].column_letter if cells else "A"
            width = ws.column_dimensions[letter].width
            texts = [header, *(str(c.value) for c in cells if isinstance(c.value, str))]
            assert width >= min(max(text_width(t) for t in texts), 58), (ws.title, header)
    name = book["充电站"].column_dimensions["B"].width  # 名称: 东山加油站 and the header
    assert name >= text_width(EVIL) and book["乡镇"].column_dimensions["B"].width >= 8


def test_helpers() -> None:
    assert text_width("青溪镇") == 6 and text_width("abc") == 3 and text_width("（元）") == 6
    assert number_format(0) == "#,##0" and number_format(6, grouped=False) == "0.000000"
    assert number_format(1, percent=True) == "0.0%"
    assert format_decimals("0.0%") == 3 and format_decimals("#,##0") == 0


def test_a_missing_site_layer_leaves_its_sheet_out(tmp_path: Path) -> None:
    layers = {k: v for k, v in _layers().items() if k != "repair_points"}
    book = _write(tmp_path, "en", layers=layers)
    assert "Repair points" not in book.sheetnames and "Townships" in book.sheetnames


@pytest.mark.slow
def test_the_demo_run_as_a_workbook(demo_run: Path, tmp_path: Path) -> None:
    layers = read_run_layers(demo_run)
    summary = json.loads((demo_run / "summary.json").read_text("utf-8"))
    manifest = json.loads((demo_run / "run.json").read_text("utf-8"))
    config = Config.model_validate(manifest["config"])
    dictionary = run_dictionary(
        layers, pd.read_csv(demo_run / "assignments.csv"), formats=["gpkg", "csv"], extra_crs=[]
    )
    path = tmp_path / "plan.xlsx"
    lang = translator(summary["language"])
    write_workbook(path, summary, layers, dictionary, config, lang=lang, run_id=manifest["run_id"])
    book = load_workbook(path)
    assert book.sheetnames == ZH_TOUR_SHEETS
    stations = layers["stations"].set_index(C.CANDIDATE_ID)
    ws = book["充电站"]
    ids = _values(ws, "站址编号")
    assert sorted(ids) == sorted(stations.index) and len(ids) == summary["stations"]
    assert _values(ws, "充电桩数（台）") == stations.loc[ids, C.CHARGERS].tolist()
    assert _values(ws, "投资额（元）") == [round(v) for v in stations.loc[ids, C.CAPEX]]
    towns = layers["townships"].set_index(C.TOWNSHIP_ID)
    ws = book["乡镇"]
    codes = [type(towns.index[0])(c) for c in _values(ws, "乡镇代码")]
    assert _values(ws, "人口（人）") == [round(v) for v in towns.loc[codes, C.POPULATION]]
    expected = [round(v, 1) for v in towns.loc[codes, C.MEAN_STATION_MIN]]
    got = _values(ws, "至充电站平均行车时间（分钟）")
    assert [g if g is not None else np.nan for g in got] == pytest.approx(expected, nan_ok=True)
    figures = _summary_values(book["概要"])
    assert figures["总投资"].value == summary["capex_total"]
    assert figures["运行编号"].value == manifest["run_id"]
    for cell in _numeric_cells(book):
        assert cell.value == round(cell.value, format_decimals(cell.number_format))
    # the same workbook from the run folder alone (planner export)
    again = load_workbook(write_run_workbook(demo_run, tmp_path / "again.xlsx"))
    assert again.sheetnames == ZH_TOUR_SHEETS
    for ws in book.worksheets:
        assert list(ws.values) == list(again[ws.title].values), ws.title
    english = load_workbook(write_run_workbook(demo_run, tmp_path / "en.xlsx", lang=EN))
    assert english.sheetnames == EN_TOUR_SHEETS


def test_a_folder_that_is_not_a_run_has_no_workbook(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="not a planner run"):
        write_run_workbook(tmp_path)
    assert not (tmp_path / "plan.xlsx").exists()


def test_a_share_under_one_is_never_shown_as_all() -> None:
    from planner.report.plan_tables import share_shown
    from planner.report.sections import pct

    for share in (0.99951, 0.99996, 0.9999999):
        assert share_shown(share, 1) == 0.999 and pct(share) == "99.9%"
        assert share_shown(share, 2) < 1
    assert share_shown(1.0, 1) == 1.0 and pct(1.0) == "100.0%"
    for share in (0.0, 0.12345, 0.5, 0.99949, 0.998):
        assert share_shown(share, 1) == round(round(100 * share, 1) / 100, 3)
