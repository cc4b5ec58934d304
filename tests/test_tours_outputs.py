"""The repair vans' weekly tours in a run's files, read back: tours.csv and tour_stops.csv,
the GeoPackage layers, the report's section and the workbook's schedule.

Everything comes from the session's demo run (its config plans two vans per repair point
visiting the villages with 3 EVs or more and every station once a week, Monday to Friday,
08:00-17:00).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import shapely
from openpyxl import load_workbook

from planner.config import Config
from planner.config.tours import WEEKDAYS, clock_minutes
from planner.i18n import translator
from planner.report.document import build_html
from planner.report.export import run_dictionary
from planner.report.reexport import read_run_layers
from planner.report.report_tables import report_parts
from planner.report.workbook import write_workbook
from planner.tours.layers import DAY_NAMES, KIND_NAMES
from planner.tours.result import UNSERVED_REASONS, van_key
from tests.test_report_print import ACRONYMS, data_tokens, english_words, visible_text

ZH, EN = translator("zh"), translator("en")


def _csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")


@pytest.fixture(scope="module")
def run(demo_run: Path) -> dict[str, Any]:
    """The demo run's record, tours tables (as text) and layers."""
    manifest = json.loads((demo_run / "run.json").read_text(encoding="utf-8"))
    return {
        "summary": json.loads((demo_run / "summary.json").read_text(encoding="utf-8")),
        "config": Config.model_validate(manifest["config"]),
        "tours": _csv(demo_run / "tours.csv"),
        "stops": _csv(demo_run / "tour_stops.csv"),
        "layers": read_run_layers(demo_run),
    }


def _tenth(text: str) -> str:
    """A CSV's figure to 0.1 (``18.9``; a whole one is written ``19``), with one decimal."""
    assert re.fullmatch(r"\d+(\.\d)?", text), text
    return f"{float(text):.1f}"


def _minutes(texts: pd.Series) -> pd.Series:
    return texts.map(clock_minutes)


def test_every_visit_asked_is_planned_as_often_as_asked(run, demo_run):
    cfg, stops, week = run["config"].tours, run["stops"], run["summary"]["tours"]
    assert cfg.enabled and week["visits_asked"] > 100
    # the stops asked for, from the run's own tables: villages with enough EVs, stations
    demand = pd.read_csv(demo_run / "demand.csv", encoding="utf-8-sig")
    villages = set(demand.loc[demand["evs"] >= cfg.villages.min_evs, "demand_id"])
    stations = set(pd.read_csv(demo_run / "stations.csv", encoding="utf-8-sig")["candidate_id"])
    missing = {u["stop_id"]: u["missing"] for u in week["unserved"]}
    assert set(stops["stop_id"]) | set(missing) == villages | stations
    assert set(stops.loc[stops["kind"] == "stations", "stop_id"]) <= stations
    per_week = pd.to_numeric(stops["per_week"]).groupby(stops["stop_id"]).max()
    for stop, visits in stops.groupby("stop_id"):
        asked = int(per_week[stop])
        assert len(visits) == asked - missing.get(stop, 0), stop
        assert sorted(pd.to_numeric(visits["visit"])) == list(range(1, len(visits) + 1)), stop
        assert visits["day"].is_unique, stop  # visits on different days
    asked = int(per_week.sum()) + sum(n for s, n in missing.items() if s not in per_week)
    assert week["visits_asked"] == asked
    assert week["visits_served"] == len(stops) == asked - sum(missing.values())


def test_tours_keep_order_and_the_shift(run):
    cfg, stops, tours = run["config"].tours, run["stops"], run["tours"]
    start, end = clock_minutes(cfg.shift_start), clock_minutes(cfg.shift_end)
    assert set(tours["day"]) <= set(cfg.days)
    assert len(tours) == len(tours[["day", "van"]].drop_duplicates())  # a tour per van-day
    by_tour = {key: t for key, t in stops.groupby(["day", "van"])}
    assert set(by_tour) == set(zip(tours["day"], tours["van"], strict=True))
    for _, tour in tours.iterrows():
        visits = by_tour[(tour["day"], tour["van"])]
        visits = visits.assign(n=pd.to_numeric(visits["order"])).sort_values("n")
        assert visits["n"].tolist() == list(range(1, len(visits) + 1))
        assert int(tour["stops"]) == len(visits)
        assert tour["sequence"] == " > ".join(visits["stop_id"])
        arrive, begin, leave = (_minutes(visits[c]) for c in ("arrival", "start", "departure"))
        assert arrive.is_monotonic_increasing and (arrive.diff().dropna() > 0).all()
        assert (arrive <= begin).all() and (begin < leave).all()
        assert (leave.iloc[:-1].to_numpy() <= arrive.iloc[1:].to_numpy()).all()
        service = (leave - begin).to_numpy()
        assert ((service >= cfg.service_min - 1) & (service <= cfg.service_min + 1)).all()
        out, back = clock_minutes(tour["start"]), clock_minutes(tour["back"])
        assert start <= out <= arrive.iloc[0] and leave.iloc[-1] <= back <= end
        legs = pd.to_numeric(visits["km_from_previous"]).sum()
        assert float(tour["km"]) >= legs - 0.05  # and the way home


def test_the_geopackage_has_the_tours_layers(run, demo_run):
    listed = dict(pyogrio.list_layers(demo_run / "sites.gpkg"))
    assert listed["tours"] == "LineString" and listed["tour_stops"] == "Point"
    layers = run["layers"]
    metric = run["summary"]["crs_metric"]
    tours = layers["tours"].to_crs(metric)
    stops = layers["tour_stops"].to_crs(metric)
    depots = layers["repair_points"].to_crs(metric).set_index("repair_id").geometry
    assert len(tours) == len(run["tours"]) and len(stops) == len(run["stops"])
    for _, tour in tours.iterrows():
        depot = depots[tour["repair_id"]]
        own = stops[(stops["day"] == tour["day"]) & (stops["van"] == tour["van"])]
        if tour.geometry is None:  # a day at its base: its stops are there, no drive
            assert tour["km"] == 0 and own.distance(depot).max() < 1, tour["van"]
            continue
        coords = shapely.get_coordinates(tour.geometry)
        first, last = shapely.points(coords[0]), shapely.points(coords[-1])
        assert depot.distance(first) < 1 and depot.distance(last) < 1, tour["van"]
        assert own.distance(tour.geometry).max() < 1  # the route passes its stops
        assert tour.geometry.length / 1000 == pytest.approx(tour["km"], rel=0.25)
    # each stop is where its village or station is
    places = pd.concat(
        [
            layers["demand"].set_index("demand_id").geometry,
            layers["stations"].set_index("candidate_id").geometry,
        ]
    )
    places = gpd.GeoSeries(places, crs=layers["demand"].crs).to_crs(metric)
    assert (stops.distance(places.loc[stops["stop_id"]], align=False) < 1).all()


def _section(page: str, anchor: str) -> str:
    match = re.search(rf'<section id="sec-{anchor}".*?</section>', page, flags=re.S)
    assert match, anchor
    return match.group(0)


def test_the_report_has_the_tours_section_in_chinese(run, demo_run):
    week, tours = run["summary"]["tours"], run["tours"]
    page = (demo_run / "report.html").read_text(encoding="utf-8")
    section = _section(page, "tours")
    assert "<h2>维修车每周巡回</h2>" in section
    rows = re.findall(r'<tr class="van">(.*?)</tr>', section)
    cells = [re.findall(r"<td[^>]*>(.*?)</td>", r) for r in rows]
    vans = sorted(tours["van"].unique(), key=van_key)  # r000-2 before r000-10
    assert [c[0] for c in cells] == [*vans, "合计"]
    assert len(vans) == week["vans_total"]  # the demo's vans all drive (idle ones: zeros)
    km = pd.to_numeric(tours["km"]).groupby(tours["van"]).sum()
    assert [c[4] for c in cells[:-1]] == [f"{km[v]:,.1f}" for v in vans]
    assert cells[-1][4] == f"{week['km_week']:,.1f}"  # the headline is the table's total
    assert cells[-1][3] == f"{len(run['stops']):,}"  # every visit, by the vans
    figure = re.search(r'id="fig-tours_visits">([^<]*)<', section).group(1)
    assert figure == f"{week['visits_served']:,} / {week['visits_asked']:,}"
    assert "星期一、星期二、星期三、星期四、星期五" in section
    assert "随机种子 1" in section and "迭代 2,000 次" in section
    towns = re.findall(r'<tr class="tour-township">(.*?)</tr>', section)
    planned = [int(re.findall(r"<td[^>]*>(.*?)</td>", r)[4].replace(",", "")) for r in towns]
    assert sum(planned) == week["visits_served"]
    # no English word: only ids, names and file names from the run
    allowed = {*tours["van"], *run["stops"]["stop_id"], *run["stops"]["name"]}
    # Latin letters inside the data's own names (a station named after road G320)
    allowed |= data_tokens([*run["stops"]["name"], *run["layers"]["repair_points"]["name"]])
    allowed |= {"tour_stops.csv", "plan.xlsx"} | ACRONYMS
    assert english_words(visible_text(section), allowed) == set()
    assert "要求的每一次服务均已排入计划" in section  # the demo's week serves every visit


def _report(run, lang, summary=None):
    summary = summary or run["summary"]
    layers = run["layers"]
    dictionary = run_dictionary(layers, pd.DataFrame(), formats=["gpkg"], extra_crs=[])
    parts = report_parts(layers, run["config"], lang=lang, summary=summary)
    return build_html(summary, layers["townships"], dictionary, parts=parts, lang=lang)


def test_the_english_report_and_stops_left_out(run, tmp_path):
    section = _section(_report(run, EN), "tours")
    assert "<h2>Repair vans&#x27; weekly tours</h2>" in section
    assert "Monday, Tuesday, Wednesday, Thursday, Friday" in section
    # a stop no van can serve is listed with its reason, in words of the language
    summary = json.loads(json.dumps(run["summary"]))
    week = summary["tours"]
    week["unserved"] = [
        {"stop_id": "d99999", "name": "远山村", "missing": 2, "reason": "round_trip"}
    ]
    week["unserved_stops"], week["visits_asked"] = 1, week["visits_asked"] + 2
    zh = _section(_report(run, ZH, summary), "tours")
    row = re.search(r'<tr class="unserved">(.*?)</tr>', zh).group(1)
    assert re.findall(r"<td[^>]*>(.*?)</td>", row) == [
        ZH.gettext(UNSERVED_REASONS["round_trip"]), "1", "2", "远山村 (d99999)"
    ]  # fmt: skip
    assert "往返车程加服务时间超过一个班次" in row
    assert 'id="fig-tours_unserved_stops">1<' in zh
    en = _section(_report(run, EN, summary), "tours")
    assert UNSERVED_REASONS["round_trip"] in en
    path = tmp_path / "plan.xlsx"
    dictionary = run_dictionary(run["layers"], pd.DataFrame(), formats=["gpkg"], extra_crs=[])
    write_workbook(path, summary, run["layers"], dictionary, run["config"], lang=ZH)
    sheet = load_workbook(path)["有服务未安排的站点"]
    assert list(sheet.iter_rows(values_only=True)) == [
        ("站点", "名称", "未安排次数", "原因"),
        ("d99999", "远山村", 2, "往返车程加服务时间超过一个班次"),
    ]


def test_the_workbook_schedule_equals_tour_stops(run, demo_run):
    book = load_workbook(demo_run / "plan.xlsx")
    assert book.sheetnames[5:7] == ["巡回计划", "维修车周汇总"]  # after the substations
    rows = list(book["巡回计划"].iter_rows(values_only=True))
    assert rows[0] == (
        "星期", "维修车", "顺序", "站点", "名称", "乡镇", "站点类型", "到达（时:分）",
        "开始（时:分）", "离开（时:分）", "等待（分钟）", "午休（时:分）",
        "距上一站里程（公里）", "经度（CGCS2000）", "纬度（CGCS2000）",
    )  # fmt: skip
    stops = run["stops"].assign(
        rank=run["stops"]["day"].map(WEEKDAYS.index), n=pd.to_numeric(run["stops"]["order"])
    )
    stops = stops.sort_values(["rank", "van", "n"], kind="stable")
    expected = [
        (
            ZH.gettext(DAY_NAMES[r.day]),
            r.van,
            r.n,
            r.stop_id,
            r.name,
            r.township_name,  # where a village named only by its id is
            ZH.gettext(KIND_NAMES[r.kind]),
            r.arrival,
            r.start,
            r.departure,
            round(float(r.wait_min)),
            r.lunch if isinstance(r.lunch, str) and r.lunch else None,
        )
        for r in stops.itertuples()
    ]
    assert [row[:-3] for row in rows[1:]] == expected
    # the stop's place in CGCS2000 (within a metre of the WGS84 CSV's)
    for k, column in ((-2, "lon"), (-1, "lat")):
        got = [row[k] for row in rows[1:]]
        assert got == pytest.approx(pd.to_numeric(stops[column]).tolist(), abs=1e-5), column
    # km to 0.1, the figure of tour_stops.csv (rounded once, where the tours are written)
    km = [row[-3] for row in rows[1:]]
    assert [f"{k:.1f}" for k in km] == stops["km_from_previous"].map(_tenth).tolist()
    week = list(book["维修车周汇总"].iter_rows(values_only=True))
    tours = run["tours"]
    km = pd.to_numeric(tours["km"]).groupby(tours["van"]).sum()
    days = tours.groupby("van").size()
    assert [(r[0], r[3], r[5]) for r in week[1:]] == [
        (v, int(days[v]), round(float(km[v]), 1))
        for v in sorted(km.index, key=van_key)  # as the report
    ]
    summary = {r[0]: r[1] for r in book["概要"].iter_rows(min_row=2, values_only=True)}
    assert summary["维修车"] == run["summary"]["tours"]["vans_total"]
    assert summary["维修车每周行驶里程"] == run["summary"]["tours"]["km_week"]


def test_a_stop_at_its_repair_point_costs_no_drive(run):
    """A repair point at a station: the van's visit there, first of its day, drives 0 km
    (not two access legs to the road and back)."""
    metric = run["summary"]["crs_metric"]
    stops = run["layers"]["tour_stops"].to_crs(metric)
    depots = run["layers"]["repair_points"].to_crs(metric).set_index("repair_id").geometry
    at_depot = stops[stops.geometry.distance(depots.loc[stops["repair_id"]], align=False) < 1e-6]
    first = at_depot[pd.to_numeric(at_depot["order"]) == 1]
    assert len(first) > 0  # the demo's repair points are at stations the vans visit
    assert (pd.to_numeric(first["km_from_previous"]) == 0).all()


def test_a_legs_km_on_the_map_is_the_csvs(run, demo_run):
    """Every stop's popup shows the km of tour_stops.csv (not 18.9 beside 18.95 and 19.0)."""
    page = (demo_run / "map.html").read_text(encoding="utf-8")
    days = {ZH.gettext(name): code for code, name in DAY_NAMES.items()}
    # a stop's popup values: id, kind, van, day, order, arrival-departure, km, visit
    found = re.findall(
        r'"v":\["([^"]*)","[^"]*","([^"]*)","([^"]*)","(\d+)","[^"]*","([^"]*) 公里"', page
    )
    shown = {(days[day], van, order): km for _, van, day, order, km in found}
    stops = run["stops"]
    assert len(shown) == len(stops)
    for r in stops.itertuples():
        assert shown[(r.day, r.van, r.order)] == _tenth(r.km_from_previous), r
