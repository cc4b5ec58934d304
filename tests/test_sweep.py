"""Scenario sweeps and the multi-year rollout on a small demo county."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import openpyxl
import pyogrio
import pytest

from planner.errors import ConfigError
from planner.rollout import YearPlan, rollout
from planner.sweep import parse_vary, sweep
from tests.conftest import PLAN_ONLY, PLAN_ONLY_SETS, run_cli


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
    assert "data:image/png;base64," in page and "每辆被覆盖电动汽车的投资（元）" in page
    # the small county plans its repair points jointly: the budget pays for both
    assert "<title>方案比较：预算：充电站与维修点合计（元）、充电站数量上限</title>" in page
    assert "size:A4 landscape" in page and "optimal" not in page and "1.1e+07" not in page
    assert "11,000,000" in page and (res.out_dir / "budget-11000000_max_stations-20").is_dir()
    # what every scenario shares is on the page and in run.json, the varied fields not
    shared = page.split("各方案共同的设定", 1)[1]
    assert "配置文件" in shared and str(small) in shared and "tours.enabled=false" in shared
    assert "电动汽车占汽车比例" in shared and "新建充电站数上限" not in shared
    run = json.loads((res.out_dir / "run.json").read_text("utf-8"))
    assert run["config_path"] == str(small) and run["set"] == [*PLAN_ONLY]
    assert run["vary"] == {"stations.max_stations": [16, 20], "stations.budget": [11e6, 8e6]}
    # the same table for Excel: headers in Chinese, figures as numbers with formats
    book = openpyxl.load_workbook(res.out_dir / "sweep.xlsx")
    assert book.sheetnames == ["方案", "各方案共同的设定"]
    ws = book["方案"]
    heads = [c.value for c in ws[1]]
    assert heads[:3] == ["预算：充电站与维修点合计（元）", "充电站数量上限", "求解器"]
    col = {h: i for i, h in enumerate(heads)}
    for r, row in zip(rows, ws.iter_rows(min_row=2, values_only=True), strict=True):
        assert row[col["投资额（元）"]] == pytest.approx(r["capex_total"])
        assert row[col["充电次数覆盖率"]] == pytest.approx(r["demand_covered_share"], abs=1e-4)
        assert "最大间隙" in row[col["求解器"]]
    assert ws.cell(2, col["充电次数覆盖率"] + 1).number_format == "0.0%"
    assert ws.freeze_panes == "A2"


@pytest.mark.slow
def test_a_sweep_keeps_the_users_field_order_on_its_page_and_table(small, tmp_path):
    vary = [("stations.budget", [9e6]), ("demand.ev_adoption", [0.1, 0.2])]
    res = sweep(small, vary, tmp_path / "sw", overrides=[*PLAN_ONLY])
    with (res.out_dir / "sweep.csv").open(encoding="utf-8-sig") as fh:
        header = next(csv.reader(fh))
    assert header[:3] == ["stations.budget", "demand.ev_adoption", "scenario"]
    page = (res.out_dir / "sweep.html").read_text("utf-8")
    assert "方案比较：预算：充电站与维修点合计（元）、电动汽车渗透率" in page


def test_a_field_or_value_given_twice_is_refused(small, tmp_path):
    twice = [("stations.budget", [1e7]), ("stations.budget", [2e7])]
    with pytest.raises(ConfigError, match=r"stations\.budget is given twice"):
        sweep(small, twice, tmp_path / "a")
    with pytest.raises(ConfigError, match="10,000,000 is given twice"):
        sweep(small, [("stations.budget", [1e7, 10_000_000])], tmp_path / "b")
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


@pytest.mark.slow
def test_rollout_keeps_earlier_stations_open(small, tmp_path):
    years = [
        YearPlan(2025, 8e6, 0.08, target=0.9),
        YearPlan(2026, 3e6, 0.12),
        YearPlan(2027, 3e6, 0.3, target=0.95),  # demand the 2025 stations cannot carry
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
    spent = [r["capex_total"] for r in ok]
    assert [r["capex_cumulative"] for r in ok] == pytest.approx(
        [sum(spent[: k + 1]) for k in range(len(ok))]
    )
    chargers = [r["chargers_new"] for r in ok]
    assert [r["chargers_open"] for r in ok] == [sum(chargers[: k + 1]) for k in range(len(ok))]
    page = (res.out_dir / "rollout.html").read_text("utf-8")
    assert f"{sum(spent):,.0f}" in page and "合计（3 年中已规划 3 年）" in page
    years_sheet = openpyxl.load_workbook(res.out_dir / "rollout.xlsx")["逐年"]
    year_cells = [c.value for c in years_sheet["A"]][1:]
    assert year_cells == ["2025", "2026", "2027"]
    # a year's files name its rollout, not only the year (the GeoPackage's note here)
    info = pyogrio.read_info(res.out_dir / "2026" / "sites.gpkg", layer="stations")
    assert f"{res.out_dir.name}/2026" in info["layer_metadata"]["DESCRIPTION"]
    rows = _csv(res.out_dir / "rollout.csv")
    stations = [s for s in rows if s["opened_year"] == s["year"]]
    grown = [s for s in rows if s["opened_year"] != s["year"]]  # chargers added to one
    assert len(stations) == opened[-1]
    assert len({s["candidate_id"] for s in stations}) == len(stations)  # none sited twice
    assert {int(s["year"]) for s in rows} <= {2025, 2026, 2027}
    assert all(s["township_name"] and 115 < float(s["lon"]) < 120 for s in rows)
    first = {s["candidate_id"]: int(s["year"]) for s in stations}
    assert grown  # the stations of 2025 get more chargers as demand grows
    assert all(first[s["candidate_id"]] == int(s["opened_year"]) < int(s["year"]) for s in grown)
    assert all(float(s["capex"]) == 80_000 * int(s["chargers"]) > 0 for s in grown)
    for r in ok:  # a year's rows: its new stations and its expansions, adding up
        mine = [s for s in rows if int(s["year"]) == r["year"]]
        assert sum(float(s["capex"]) for s in mine) == pytest.approx(r["capex_total"], abs=1)
        assert sum(int(s["chargers"]) for s in mine) == r["chargers_new"]
        assert r["stations_expanded"] == sum(s["opened_year"] != s["year"] for s in mine)
    assert (res.out_dir / "rollout.html").is_file()
    # the last year lists the operators' chargers and every station opened before it,
    # with the chargers it had by then
    last = ok[-1]["year"]
    layer = _csv(res.out_dir / str(last) / "existing_chargers.csv")
    earlier = {c: y for c, y in first.items() if y < last}
    had = {
        c: sum(int(s["chargers"]) for s in rows if s["candidate_id"] == c and int(s["year"]) < last)
        for c in earlier
    }
    mine = {r["station_id"]: r for r in layer if r["opened_year"]}
    assert set(mine) == set(earlier)
    assert all(int(mine[c]["opened_year"]) == earlier[c] for c in mine)
    assert all(int(mine[c]["sockets"]) == had[c] for c in mine)
    summary = json.loads((res.out_dir / str(last) / "summary.json").read_text("utf-8"))
    assert summary["chargers_added"] == ok[-1]["chargers_added"] > 0
    assert summary["capex_expansions"] == 80_000 * summary["chargers_added"]
    assert len(summary["expansions"]) == ok[-1]["stations_expanded"]
    assert summary["substations_over_headroom"] == []  # the chargers added count too
    served = sum(float(r["sessions_served"]) for r in layer)
    assert served == pytest.approx(summary["existing_sessions_served_day"], abs=0.05)
    assert summary["existing_chargers"] == len(layer)


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


def test_stations_opened_before_take_their_power_from_the_substation(small):
    from planner.columns import CANDIDATE_ID, EXISTING_CHARGERS, HEADROOM_KW, SUBSTATION_ID
    from planner.config import load_config
    from planner.pipeline import prepare
    from planner.rollout import Opened, with_opened

    inputs = prepare(load_config(small, overrides=["tours.enabled=false"]))
    sites = inputs.sites
    known = sites[sites[HEADROOM_KW].notna()]
    a, b = known[SUBSTATION_ID].unique()[:2]
    one = known[known[SUBSTATION_ID] == a][CANDIDATE_ID].iloc[:2].tolist()
    two = known[known[SUBSTATION_ID] == b][CANDIDATE_ID].iloc[0]
    opened = {
        one[0]: Opened(2025, 4, 240.0),
        one[1]: Opened(2026, 2, 120.0),
        two: Opened(2025, 3, 180.0),
    }
    out = with_opened(inputs, opened)
    for frame, before in ((out.sites, sites), (out.candidates, inputs.candidates)):
        drop = (before[HEADROOM_KW] - frame[HEADROOM_KW]).fillna(0.0)
        expected = before[SUBSTATION_ID].map({a: 360.0, b: 180.0}).fillna(0.0)
        assert drop.tolist() == pytest.approx(expected.tolist())
        assert frame[HEADROOM_KW].isna().equals(before[HEADROOM_KW].isna())
    chargers = out.sites.set_index(CANDIDATE_ID)[EXISTING_CHARGERS]
    assert [chargers[c] for c in (*one, two)] == [4, 2, 3]
    assert (
        int((out.sites[EXISTING_CHARGERS] > 0).sum())
        == int((sites[EXISTING_CHARGERS] > 0).sum()) + 3
    )
    rows = out.county.chargers
    assert len(rows) == len(inputs.county.chargers) + 3
    added = rows.iloc[len(inputs.county.chargers) :]
    assert added["station_id"].tolist() == [*one, two]
    assert added["opened_year"].tolist() == [2025, 2026, 2025]
    assert added["sockets"].tolist() == [4, 2, 3]
    assert out.left_out == inputs.left_out and with_opened(inputs, {}) is inputs


@pytest.mark.slow
def test_years_after_a_failed_one_are_listed_as_not_run(small, tmp_path):
    years = [YearPlan(2025, 1e6, 0.08), YearPlan(2026, 3e6, 0.12), YearPlan(2027, 3e6, 0.2)]
    res = rollout(small, years, tmp_path / "ro", overrides=[*PLAN_ONLY])
    assert [(r["year"], r["status"]) for r in res.rows] == [
        (2025, "failed"),
        (2026, "not_run"),
        (2027, "not_run"),
    ]
    table = _csv(res.out_dir / "rollout_years.csv")
    assert [t["status"] for t in table] == ["failed", "not_run", "not_run"]
    with (res.out_dir / "rollout.csv").open(encoding="utf-8-sig") as fh:
        assert fh.read().startswith("year,opened_year,candidate_id,name,township_id,township_name")
    page = (res.out_dir / "rollout.html").read_text("utf-8")
    assert page.count("未运行：此前的年份未能规划") == 2 and "失败：" in page


def test_the_terminal_table_speaks_the_runs_language():
    from rich.console import Console

    from planner.cli.multi_table import rows_table
    from planner.i18n import translator

    rows = [
        {"year": 2025, "status": "optimal", "new_stations": 12, "stations_open": 12,
         "capex_total": 8999732.0, "demand_covered_share": 0.909191, "error": ""},
        {"year": 2026, "status": "failed", "error": "station model infeasible"},
        {"year": 2027, "status": "not_run", "error": "not run: year 2026 could not be planned"},
    ]  # fmt: skip
    keys = ["year", "status", "new_stations", "stations_open", "capex_total"]
    keys += ["demand_covered_share", "error"]
    console = Console(width=200, record=True)
    console.print(rows_table(rows, keys, lang=translator("zh")))
    text = console.export_text()
    for word in (
        "年份",
        "求解器",
        "新建充电站",
        "投资额（元）",
        "8,999,732",
        "90.9%",
        "失败",
        "未运行",
    ):
        assert word in text
    assert "optimal" not in text and "not_run" not in text
    console = Console(width=200, record=True)
    console.print(rows_table(rows[:1], ["stations.budget", "status"], lang=translator("en")))
    assert "Station budget (CNY)" in console.export_text()


def _chart_rows() -> list[dict]:
    base = {"demand_covered_share": 0.8, "capex_per_covered_ev": 900.0, "gap": 0.001}
    return [
        {**base, "repair.mode": "joint", "status": "optimal"},
        {**base, "repair.mode": "after", "status": "time_limit", "gap": 0.04},
        {"repair.mode": "none", "status": "failed", "error": "x"},
    ]


def test_a_sweep_over_a_text_field_is_charted_in_the_order_given():
    """Text values stand one step apart in their order; numbers at their values."""
    from planner.report.sweep_charts import axis_positions

    at, ticks, labels = axis_positions(["joint", "after", "joint"])
    assert at == {"joint": 0.0, "after": 1.0} and labels == ["joint", "after"]
    at, ticks, labels = axis_positions([12e6, 8e6])
    assert ticks == [8e6, 12e6] and labels == ["8,000,000", "12,000,000"]


def test_the_chart_marks_unproven_and_failed_points(monkeypatch):
    """A plan a limit stopped is hollow, a scenario without a plan an x on the axis, and
    the legend says which is which."""
    from matplotlib.figure import Figure

    from planner.i18n import translator
    from planner.report import sweep_charts

    drawn: list[Figure] = []
    monkeypatch.setattr(sweep_charts, "figure_png", lambda fig, dpi: drawn.append(fig) or b"")
    sweep_charts.sweep_chart(_chart_rows(), ["repair.mode"], lang=translator("en"))
    (fig,) = drawn
    ax = fig.axes[0]
    marks = [(ln.get_marker(), ln.get_markerfacecolor(), tuple(ln.get_xdata())) for ln in ax.lines]
    faces = {x: face for mark, face, (x, *_) in marks if mark == "o" and len(_) == 0}
    assert faces[1.0] == "white" and faces[0.0] != "white"  # 'after' hit its limit
    assert ("x", "#c0392b", (2.0,)) in [(m, ln.get_color(), x) for (m, _, x), ln in
                                         zip(marks, ax.lines, strict=True)]  # fmt: skip
    texts = [t.get_text() for t in ax.get_legend().get_texts()]
    assert texts == [
        "hollow: not proven optimal (a limit stopped the solve)",
        "x: no plan (failed or not run)",
    ]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["joint", "after", "none"]


def test_the_budget_is_named_as_the_runs_reports_name_it():
    """With repair.mode 'joint' the budget pays for the repair points too, and the sweep's
    page, chart and table say so as each scenario's report does."""
    from planner.i18n import translator
    from planner.report.sections import budget_label
    from planner.report.sweep_charts import field_name

    zh = translator("zh")
    joint = [{"repair_mode": "joint"}, {"status": "failed"}]
    assert field_name("stations.budget", zh, joint) == budget_label(joint[0], lang=zh)
    assert "维修点" in field_name("stations.budget", zh, joint)
    after = [{"repair_mode": "after"}]
    assert field_name("stations.budget", zh, after) == budget_label(after[0], lang=zh)


def test_a_failure_is_told_in_the_pages_language_before_its_details():
    from planner.i18n import translator
    from planner.report.sweep_page import failure_text

    row = {"status": "failed", "exit_code": 3, "error": "station model infeasible: x"}
    text = failure_text(row, translator("zh"))
    assert text.startswith("失败：没有满足设定条件的方案（原因如下）。详细信息（英文）：station")
    row["exit_code"] = 2
    assert "输入数据或参数设置无法使用" in failure_text(row, translator("zh"))
    assert failure_text(row, translator("en")).startswith(
        "failed: an input or setting cannot be used; details: station"
    )


@pytest.mark.slow
def test_a_sweep_into_a_county_output_folder_is_refused(small, tmp_path):
    """A sweep would take the site run's ``latest`` (its map and exports): refused before
    anything runs, the folder as it was."""
    home = tmp_path / "out"
    r = run_cli("site", "--config", str(small), "--out", str(home), *PLAN_ONLY_SETS)
    assert r.returncode == 0, r.stderr
    before = sorted(p.relative_to(home) for p in home.rglob("*"))
    r = run_cli("sweep", "--config", str(small), "--vary", "stations.budget=9e6",
                "--out", str(home), *PLAN_ONLY_SETS)  # fmt: skip
    assert r.returncode == 2
    assert "its runs are `planner site` runs" in r.stderr and "a sweep" in r.stderr
    assert sorted(p.relative_to(home) for p in home.rglob("*")) == before


def test_a_bad_vary_or_year_value_is_blamed_on_its_option(small, tmp_path):
    """The message names --vary or the --year it came from, not --set."""
    with pytest.raises(ConfigError, match=r"\(set by --vary: stations\.budgt\)"):
        sweep(small, [("stations.budgt", [8e6])], tmp_path / "sw")
    years = [YearPlan(2025, 9e6, 0.08), YearPlan(2026, 8e6, 1.5)]
    with pytest.raises(ConfigError, match=r"\(set by --year 2026: demand\.ev_adoption\)"):
        rollout(small, years, tmp_path / "ro", overrides=[*PLAN_ONLY])
    assert not (tmp_path / "sw" / "runs").exists() and not (tmp_path / "ro" / "runs").exists()
