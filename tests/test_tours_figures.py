"""The tours' figures as every output shows them: a leg's or a tour's km and hours are the
same in tour_stops.csv / tours.csv, the workbook, the map's popups and the report.

The plan is built by hand with distances half-way between two tenths (18.95 km: numpy's
rounding made it 19.0 in the workbook, Python's 18.9 on the map), the cases where outputs
used to disagree.
"""

from __future__ import annotations

import json
import re

import geopandas as gpd
import pytest
from shapely import LineString, Point

from planner.i18n import translator
from planner.report.map.tours import tour_overlays
from planner.report.plan_tables import header
from planner.report.tour_sheets import schedule_table, van_week_table
from planner.report.tour_tables import van_view
from planner.tours import Tour, TourPlan, Visit, schedule_frame, tours_frame
from planner.tours.stage import TourOutcome

EN = translator("en")
CRS = "EPSG:4547"

#: Legs (km) of each van's Monday, and the tours' km and drive hours: half-way cases.
LEGS = {"r000-1": [18.95, 15.65, 0.85], "r000-2": [0.35, 11.35]}
TOURS = {"r000-1": (27.45, 0.25), "r000-2": (13.85, 0.03)}


def _visit(order: int, stop: int, km: float) -> Visit:
    clock = 480.0 + 60 * order
    return Visit(
        order=order,
        stop=stop,
        stop_id=f"d{stop}",
        name=f"村{stop}",
        kind="villages",
        visit=1,
        per_week=1,
        arrival_min=clock,
        start_min=clock,
        departure_min=clock + 30,
        wait_min=0.0,
        km_from_previous=km,
    )


def _plan(legs: dict[str, list[float]], tours: dict[str, tuple[float, float]]) -> TourPlan:
    tour_list, stop = [], 0
    for van, kms in legs.items():
        visits = [_visit(k, stop + k - 1, km) for k, km in enumerate(kms, 1)]
        stop += len(kms)
        km, hours = tours[van]
        points = [0, *(1 + v.stop for v in visits), 0]
        tour = Tour(van, van.split("-")[0], 0, "mon", visits, km, hours, 480, 700, None, points)
        tour_list.append(tour)
    return TourPlan(
        tours=tour_list,
        unserved=[],
        days=["mon"],
        vans={"r000": len(legs)},
        visits_asked=stop,
        visits_served=stop,
        objective_km=sum(t.km for t in tour_list),
        seed=1,
        iterations=10,
        iterations_done=10,
        time_limit_s=None,
        stopped_by="iterations",
        runtime_s=0.0,
        build_s=0.0,
    )


def _layers(plan: TourPlan) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """The ``tours`` and ``tour_stops`` layers of ``plan`` (straight lines, made-up places)."""
    x0, y0 = 500_000.0, 3_100_000.0
    stops = schedule_frame(plan)
    where = [Point(x0 + 1000 * i, y0 + 1000) for i in range(len(stops))]
    lines = [LineString([(x0, y0), (x0 + 5000, y0 + 1000), (x0, y0)]) for _ in plan.tours]
    return (
        gpd.GeoDataFrame(tours_frame(plan), geometry=lines, crs=CRS),
        gpd.GeoDataFrame(stops, geometry=where, crs=CRS),
    )


def _popups(overlays) -> tuple[list[list[str]], list[list[str]]]:
    """The routes' and the stops' popup values of the map's overlays."""
    specs = [json.loads(o.spec_json) for o in overlays]
    routes = [f["properties"]["p"]["v"] for s in specs for f in s["data"]["features"]]
    stops = [p[2]["p"]["v"] for s in specs for p in s["points"]]
    return routes, stops


def test_a_legs_km_is_the_same_figure_in_every_output():
    plan = _plan(LEGS, TOURS)
    tours, stops = _layers(plan)
    # the CSV: one decimal, as shown everywhere (not 18.95 beside 19.0 and 18.9)
    csv = [str(v) for v in stops["km_from_previous"]]
    assert all(re.fullmatch(r"\d+\.\d", text) for text in csv), csv
    assert csv == ["19.0", "15.7", "0.9", "0.4", "11.4"]  # half-way cases up
    # the workbook's schedule and the map's stop popups show that same figure
    sheet = schedule_table(stops, lang=EN)[header("km_from_previous", EN)]
    assert [f"{v:.1f}" for v in sheet] == csv
    routes, popups = _popups(tour_overlays(tours, stops, 0.0, [], lang=EN))
    assert [p[6] for p in popups] == [f"{t} km" for t in csv]
    # a tour's km and drive hours: tours.csv, its popup and the vans' week agree
    km = [str(v) for v in tours["km"]]
    hours = [str(v) for v in tours["drive_h"]]
    assert all(re.fullmatch(r"\d+\.\d", text) for text in km + hours), km + hours
    assert [(r[3], r[4]) for r in routes] == [
        (f"{k} km", f"{h} h") for k, h in zip(km, hours, strict=True)
    ]
    report = van_view(tours, None, lang=EN)
    assert report["Distance (km/week)"].tolist()[:-1] == km
    assert report["Driving (h/week)"].tolist()[:-1] == hours
    book = van_week_table(tours, None, lang=EN)
    assert [f"{v:.1f}" for v in book["Distance (km/week)"]] == km


def test_the_weeks_headline_is_the_total_of_the_vans_table():
    plan = _plan(LEGS, TOURS)
    tours, stops = _layers(plan)
    outcome = TourOutcome(plan, gpd.GeoDataFrame(geometry=[], crs=CRS), tours, stops)
    week = outcome.summary()
    total = van_view(tours, None, lang=EN).iloc[-1]
    assert total["Van"] == "Total"
    assert total["Distance (km/week)"] == f"{week['km_week']:,.1f}"
    assert total["Driving (h/week)"] == f"{week['drive_h_week']:,.1f}"
    # the search's own objective keeps its precision
    assert week["objective_km"] == pytest.approx(27.45 + 13.85)


def test_vans_sort_naturally_and_idle_vans_are_listed():
    from planner.report.tour_sheets import tour_sheets
    from planner.report.tour_tables import tour_tables
    from planner.tours import plan_tours
    from tests.test_tours import line_matrix, tours, villages

    # a stop fills a van's day: 11 villages need 11 of the point's 12 vans on Monday
    cfg = tours(days=["mon"], vans_per_point=12, service_min=400, unservable="report")
    plan = plan_tours(villages(11), line_matrix([0.0, *range(1, 12)]), cfg, depot_ids=["r000"])
    assert plan.visits_served == 11 and plan.vans == {"r000": 12}
    named = [f"r000-{k}" for k in range(1, 13)]  # r000-2 before r000-10
    assert [t.van for t in plan.tours] == named[:11]
    line, stops = _layers(plan)
    assert schedule_frame(plan)["van"].tolist() == named[:11]
    summary = {"tours": {"vans": plan.vans, "unserved": []}}
    # the report's table and the workbook's: every van of the 12, the idle one with zeros
    layers = {"tours": line, "tour_stops": stops}
    report = tour_tables(layers, summary, cfg, lang=EN).vans
    assert report["Van"].tolist() == [*named, "Total"]
    assert report.iloc[11].tolist() == ["r000-12", "r000", "0", "0", "0.0", "0.0"]
    sheets = {s.title: s.table for s in tour_sheets(summary, layers, lang=EN)}
    week = sheets["Vans' week"]
    assert week["Van"].tolist() == named
    assert week.iloc[11, 3:].tolist() == [0, 0, 0.0, 0.0]
    schedule = sheets["Tour schedule"]
    assert schedule[EN.label("van")].tolist() == named[:11]
