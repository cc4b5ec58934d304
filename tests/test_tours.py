"""Weekly repair-van tours: the periodic VRP on hand-checkable counties, and PyVRP on Solomon.

The hand-checkable county is a straight road with villages every kilometre and the repair
point at one end: a day's tour costs twice its farthest village, so the optimal week is
known by hand.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import yaml
from pydantic import ValidationError
from shapely import Point

from planner.config import ToursSection, load_config
from planner.datatypes import RoadGraph, Snap
from planner.errors import ConfigError, DataError
from planner.tours import (
    TravelMatrix,
    leg_paths,
    plan_tours,
    route_geometry,
    schedule_frame,
    tour_layers,
    travel_matrix,
    visits_per_stop,
)

ROOT = Path(__file__).resolve().parents[1]
SOLOMON = ROOT.parent / "shared" / "bench" / "vrptw"
#: 36 km/h: a kilometre takes 100 s.
SECONDS_PER_KM = 100.0


def line_matrix(km: list[float]) -> TravelMatrix:
    """Drives between points on one straight road (km from its start), both ways."""
    pos = np.asarray(km, dtype=float)
    metres = np.abs(pos[:, None] - pos[None, :]) * 1000
    n = len(pos)
    snap = Snap(node=np.arange(n), access_s=np.zeros(n), distance_m=np.zeros(n))
    return TravelMatrix(
        seconds=metres / 1000 * SECONDS_PER_KM,
        metres=metres,
        snap=snap,
        x=pos * 1000,
        y=np.zeros(n),
    )


def villages(n: int, *, evs: list[float] | None = None, kind: str = "villages") -> pd.DataFrame:
    table = pd.DataFrame(
        {
            "stop_id": [f"v{i}" for i in range(1, n + 1)],
            "name": [f"村{i}" for i in range(1, n + 1)],
            "kind": kind,
        }
    )
    if evs is not None:
        table["evs"] = evs
    return table


def tours(**values: object) -> ToursSection:
    return ToursSection.model_validate({"enabled": True, "iterations": 400, **values})


def stop_sets(plan) -> list[set[str]]:
    return sorted(({v.stop_id for v in t.visits} for t in plan.tours), key=len)


def test_line_county_gets_its_optimal_week():
    # 100 min per village: 5 fit in a 9-hour shift (500 min + at most 33 min driving), 6
    # do not. The best week is one tour to villages 1-5 (10 km) and one to 6-10 (20 km).
    stops = villages(10)
    plan = plan_tours(
        stops, line_matrix([0, *range(1, 11)]), tours(service_min=100), depot_ids=["R1"]
    )
    assert plan.objective_km == pytest.approx(30.0)
    assert len(plan.tours) == 2
    assert stop_sets(plan) == [{f"v{i}" for i in range(1, 6)}, {f"v{i}" for i in range(6, 11)}]
    far = next(t for t in plan.tours if "v10" in {v.stop_id for v in t.visits})
    assert far.km == pytest.approx(20.0)
    assert far.drive_h == pytest.approx(20 * SECONDS_PER_KM / 3600)
    assert plan.unserved == [] and plan.visits_served == plan.visits_asked == 10


def test_twice_a_week_doubles_the_week_on_separate_days():
    stops = villages(10)
    plan = plan_tours(
        stops,
        line_matrix([0, *range(1, 11)]),
        tours(service_min=100, villages={"per_week": 2}),
        depot_ids=["R1"],
    )
    assert plan.objective_km == pytest.approx(60.0)
    days = {}
    for t in plan.tours:
        for v in t.visits:
            days.setdefault(v.stop_id, []).append(t.day)
    # Mon-Fri, 2 visits at least 2 working days apart: one Mon/Tue, one Thu/Fri
    assert all(
        len(d) == 2 and d[0] in ("mon", "tue") and d[1] in ("thu", "fri") for d in days.values()
    )


def test_every_visit_is_served_as_often_as_asked():
    evs = [5, 150, 600, 20, 350, 0, 90, 1000]
    stops = villages(8, evs=evs)
    cfg = tours(villages={"per_week": 1, "per_week_by_evs": {100: 2, 300: 3, 900: 5}})
    km = [0, 3, 5, 8, 2, 13, 7, 4, 9]
    plan = plan_tours(stops, line_matrix(km), cfg, depot_ids=["R1"])
    asked = np.array([1, 2, 3, 1, 3, 1, 1, 5])
    assert visits_per_stop(plan, len(stops)).tolist() == asked.tolist()
    assert plan.visits_served == plan.visits_asked == asked.sum() and plan.unserved == []
    order = ["mon", "tue", "wed", "thu", "fri"]
    for i, k in enumerate(asked):
        sid = f"v{i + 1}"
        got = sorted(order.index(t.day) for t in plan.tours for v in t.visits if v.stop_id == sid)
        numbers = sorted(v.visit for t in plan.tours for v in t.visits if v.stop_id == sid)
        assert numbers == list(range(1, k + 1))
        assert len(set(got)) == k  # different days
        if k in (2, 3):  # these fit 2 working days apart over Mon-Fri
            assert min(np.diff(got)) >= 2


def test_shifts_lunch_and_opening_hours_are_kept():
    stops = pd.concat(
        [villages(9), villages(3, kind="stations").assign(stop_id=["s1", "s2", "s3"])],
        ignore_index=True,
    )
    km = [0, 6, 12, 18, 24, 30, 3, 9, 15, 21, 10, 20, 28]
    cfg = tours(
        stops=["villages", "stations"],
        service_min=60,
        lunch_start="12:00",
        lunch_min=60,
        days=["mon", "wed"],
        stations={"service_min": 45, "time_window": ["10:00", "15:30"]},
    )
    m = line_matrix(km)
    plan = plan_tours(stops, m, cfg, depot_ids=["R1"])
    assert plan.visits_served == 12 and plan.unserved == []
    assert any(t.lunch_min == 12 * 60 for t in plan.tours)
    check_clock(plan, m, services={"villages": 60, "stations": 45}, hours=(10 * 60, 15.5 * 60))


def check_clock(
    plan, m: TravelMatrix, *, services: dict[str, float], hours: tuple[float, float]
) -> None:
    """Every tour's times follow from its drives, the 12:00-13:00 lunch, the services,
    the stations' ``hours`` (minutes) and the 08:00-17:00 shift."""
    lunch = (12 * 60, 13 * 60)
    for t in plan.tours:
        assert t.start_min >= 8 * 60 - 1e-9 and t.end_min <= 17 * 60 + 1e-9
        clock = t.start_min
        for v in t.visits:
            drive = m.seconds[t.points[v.order - 1], t.points[v.order]] / 60
            breaks = 60 if clock <= lunch[0] < v.arrival_min else 0  # lunch on the road
            assert v.arrival_min == pytest.approx(clock + drive + breaks, abs=0.02)
            assert v.start_min >= v.arrival_min - 1e-9
            assert v.departure_min == pytest.approx(v.start_min + services[v.kind])
            # no service during lunch
            assert v.departure_min <= lunch[0] + 1e-9 or v.start_min >= lunch[1] - 1e-9
            if v.kind == "stations":
                assert v.start_min >= hours[0] - 1e-9 and v.departure_min <= hours[1] + 1e-9
            clock = v.departure_min
        back = m.seconds[t.points[-2], t.points[-1]] / 60
        breaks = 60 if clock <= lunch[0] < t.end_min else 0
        assert t.end_min == pytest.approx(clock + back + breaks, abs=0.02)


def test_same_seed_same_tours():
    stops = villages(12)
    km = [0, 4, 9, 2, 7, 12, 5, 1, 8, 3, 10, 6, 11]
    cfg = tours(service_min=45, vans_per_point=2, iterations=300, seed=7)
    depots = [0, 6]
    m = line_matrix([*(km[d] for d in depots), *km[1:]])
    first = plan_tours(stops, m, cfg, depot_ids=["R1", "R2"])
    again = plan_tours(stops, m, cfg, depot_ids=["R1", "R2"])
    pd.testing.assert_frame_equal(schedule_frame(first), schedule_frame(again))
    assert first.record()["seed"] == 7 and first.record()["stop"]["iterations"] == 300
    assert first.stopped_by == "iterations" and first.iterations_done == 300


def test_a_small_fleet_reports_the_visits_it_cannot_fit():
    # 1 van, 1 day, 100 min per village: at most 5 of the 8 fit
    plan = plan_tours(
        villages(8),
        line_matrix([0, *range(1, 9)]),
        tours(service_min=100, days=["mon"]),
        depot_ids=["R1"],
    )
    assert plan.visits_served == 5
    assert sum(u.missing for u in plan.unserved) == 3
    assert {u.reason for u in plan.unserved} == {"fleet"}


def test_fleet_size_is_shared_by_the_visits_nearest_each_point():
    stops = villages(6)
    km = [0, 20, 1, 2, 3, 4, 19, 21]  # 4 villages near R1, 2 near R2
    cfg = tours(fleet_size=3, service_min=30)
    plan = plan_tours(stops, line_matrix(km), cfg, depot_ids=["R1", "R2"])
    assert plan.vans == {"R1": 2, "R2": 1}


def test_no_repair_points_is_an_error():
    with pytest.raises(ConfigError, match="no repair points"):
        plan_tours(villages(2), line_matrix([1, 2]), tours(), depot_ids=[])


def test_a_stop_beyond_the_shift_is_named_or_reported():
    stops = villages(3)
    stops.loc[2, ["stop_id", "name"]] = ["far", "远村"]
    m = line_matrix([0, 1, 2, 170])  # 170 km: 4.7 h each way, 9.9 h with service
    with pytest.raises(ConfigError, match=r"'远村' \(far\).*round trip.*597 min.*540"):
        plan_tours(stops, m, tours(), depot_ids=["R1"])
    plan = plan_tours(stops, m, tours(unservable="report"), depot_ids=["R1"])
    assert [(u.stop_id, u.reason, u.missing) for u in plan.unserved] == [("far", "round_trip", 1)]
    assert plan.visits_served == 2


def test_opening_hours_outside_every_shift_are_reported():
    stops = villages(2, kind="stations")
    cfg = tours(stops=["stations"], stations={"time_window": ["18:00", "20:00"]})
    with pytest.raises(ConfigError, match=r"村1.*hours"):
        plan_tours(stops, line_matrix([0, 1, 2]), cfg, depot_ids=["R1"])


def test_bad_stop_tables_are_data_errors():
    with pytest.raises(DataError, match="kind"):
        plan_tours(
            villages(2).drop(columns="kind"), line_matrix([0, 1, 2]), tours(), depot_ids=["R"]
        )
    with pytest.raises(DataError, match="unknown kinds"):
        plan_tours(villages(2, kind="shops"), line_matrix([0, 1, 2]), tours(), depot_ids=["R"])
    with pytest.raises(DataError, match="3 points"):
        plan_tours(villages(3), line_matrix([0, 1, 2]), tours(), depot_ids=["R"])


MINIMAL = {
    "county": {"name": "测试县"},
    "inputs": {"boundaries": {"path": "b.gpkg"}, "osm": {"path": "roads.osm.pbf"}},
    "stations": {"max_stations": 5},
}


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"enabled": True, "vans_per_point": 0}, r"'tours.vans_per_point'"),
        ({"enabled": True, "fleet_size": 0}, r"'tours.fleet_size'"),
        (
            {"enabled": True, "days": ["mon", "tue"], "villages": {"per_week": 3}},
            r"villages get up to 3 visits per week but the vans work 2 days",
        ),
        (
            {"enabled": True, "villages": {"per_week_by_evs": {100: 6}}},
            r"villages get up to 6 visits per week but the vans work 5 days",
        ),
        (
            {"enabled": True, "min_gap_days": 3, "villages": {"per_week_by_evs": {50: 3}}},
            r"3 visits per week at least 3 working days apart need 7 working days",
        ),
        (
            {
                "enabled": True,
                "stops": ["stations"],
                "stations": {"time_window": ["09:00", "09:20"]},
            },
            r"stations' time window 09:00-09:20 is shorter than their service time \(30 min\)",
        ),
        ({"enabled": True, "shift_start": "17:00", "shift_end": "08:00"}, "not before"),
        ({"enabled": True, "lunch_start": "16:30"}, "lunch break"),
        ({"enabled": True, "days": ["mon", "mon"]}, "once each"),
    ],
)
def test_bad_tour_config_is_a_config_error(tmp_path, section, message):
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump({**MINIMAL, "tours": section}, allow_unicode=True))
    with pytest.raises(ConfigError, match=message) as err:
        load_config(path)
    assert err.value.exit_code == 2


def test_tours_need_repair_points_in_the_config(tmp_path):
    path = tmp_path / "c.yaml"
    raw = {**MINIMAL, "tours": {"enabled": True}, "repair": {"enabled": False}}
    path.write_text(yaml.safe_dump(raw, allow_unicode=True))
    with pytest.raises(ConfigError, match=r"repair\.enabled is false"):
        load_config(path)


def test_yaml_times_and_defaults(tmp_path):
    path = tmp_path / "c.yaml"
    text = yaml.safe_dump(MINIMAL, allow_unicode=True)
    text += "tours:\n  enabled: true\n  shift_start: 07:30\n  lunch_start: 12:00\n"
    path.write_text(text)
    cfg = load_config(path).tours
    assert (cfg.shift_start, cfg.lunch_start, cfg.shift_end) == ("07:30", "12:00", "17:00")
    assert cfg.shift_minutes == 510 and cfg.days == ["mon", "tue", "wed", "thu", "fri"]
    assert ToursSection().enabled is False
    with pytest.raises(ValidationError, match="HH:MM"):
        ToursSection(shift_start="8h")


def line_graph(n_km: int) -> RoadGraph:
    """A straight two-way road, a node every km, plus a slow shortcut from node 0 to 2."""
    x = np.arange(n_km + 1) * 1000.0
    tail = np.r_[np.arange(n_km), np.arange(1, n_km + 1), 0]
    head = np.r_[np.arange(1, n_km + 1), np.arange(n_km), 2]
    length = np.r_[np.full(2 * n_km, 1000.0), 1900.0]
    time_s = np.r_[np.full(2 * n_km, SECONDS_PER_KM), 600.0]
    return RoadGraph(
        x=x,
        y=np.zeros(n_km + 1),
        osm_ids=np.arange(n_km + 1),
        tail=tail,
        head=head,
        length_m=length,
        time_s=time_s,
    )


def test_travel_matrix_follows_the_fastest_roads_and_draws_them():
    graph = line_graph(10)
    pts = gpd.GeoSeries([Point(0, 0), Point(2000, 0), Point(10000, 150)])
    m = travel_matrix(graph, pts, access_speed_kmh=15)
    # 0 -> 2 km: the road via node 1 (200 s, 2000 m), not the slow shortcut (600 s, 1900 m)
    assert m.seconds[0, 1] == pytest.approx(200) and m.metres[0, 1] == pytest.approx(2000)
    # the third point is 150 m off the road: its access leg at 15 km/h counts both ways
    assert m.metres[0, 2] == pytest.approx(10150) and m.metres[2, 0] == pytest.approx(10150)
    assert m.seconds[2, 1] == pytest.approx(800 + 150 / (15 / 3.6))
    paths = leg_paths(graph, [(0, 2), (10, 0), (3, 3)])
    assert paths[(0, 2)] == [0, 1, 2] and paths[(10, 0)] == list(range(10, -1, -1))
    line = route_geometry(graph, paths[(10, 0)], start=(10000, 150), end=(0, 0))
    assert line.length == pytest.approx(10150)
    assert route_geometry(graph, paths[(3, 3)]).length == 0


def test_tour_layers_are_drawn_along_the_roads():
    graph = line_graph(10)
    pts = gpd.GeoSeries([Point(0, 0), *(Point(1000 * k, 0) for k in (3, 7, 10))])
    m = travel_matrix(graph, pts, access_speed_kmh=15)
    plan = plan_tours(villages(3), m, tours(), depot_ids=["R1"])
    lines, stops = tour_layers(plan, graph, m, crs="EPSG:4547")
    assert len(lines) == len(plan.tours) == 1 and len(stops) == 3
    assert lines.geometry.iloc[0].length == pytest.approx(plan.objective_km * 1000) == 20000
    # out and back along one road: either direction is as short
    assert stops["order"].tolist() == [1, 2, 3]
    assert stops["stop_id"].tolist() in (["v1", "v2", "v3"], ["v3", "v2", "v1"])
    assert sorted(stops.geometry.x) == [3000, 7000, 10000]
    assert {"van", "day", "km", "drive_h", "stops"} <= set(lines.columns)
    assert {"arrival", "departure"} <= set(stops.columns)


needs_solomon = pytest.mark.skipif(not SOLOMON.is_dir(), reason="../shared/bench is missing")


@needs_solomon
def test_pyvrp_solves_solomon_c101_near_its_best_known():
    sys.path.insert(0, str(ROOT))
    from benchmarks.vrptw import check_routes, read_solomon, route_distance, solve_solomon

    inst = read_solomon(SOLOMON / "solomon" / "C101.txt")
    assert (inst.vehicles, inst.capacity, len(inst.x)) == (25, 200, 101)
    routes, _ = solve_solomon(inst, iterations=300, seed=1)
    assert routes is not None and check_routes(inst, routes) is None
    assert route_distance(inst, routes) == pytest.approx(828.94, rel=0.03)


@needs_solomon
def test_the_vrptw_benchmark_prints_its_csv_and_mean_gap():
    sys.path.insert(0, str(ROOT))
    from benchmarks.vrptw import run_vrptw

    out = io.StringIO()
    rows = run_vrptw([SOLOMON / "solomon" / "C101.txt"], time_limit_s=0.5, out=out)
    lines = out.getvalue().splitlines()
    assert lines[0] == "instance,method,objective,best_known,gap,seconds"
    assert lines[1].startswith("C101,pyvrp,") and lines[-1].startswith("mean_gap: ")
    assert rows[0]["best_known"] == 828.94 and -1e-4 <= float(rows[0]["gap"]) < 0.05
    assert "feasible: 1/1" in lines


def test_stops_from_the_plan_and_the_stage_in_one_call():
    from planner.config import NetworkSection
    from planner.tours import stop_table, township_visits, unserved_frame, van_week, weekly_tours

    crs = "EPSG:4547"
    demand = gpd.GeoDataFrame(
        {
            "demand_id": ["d1", "d2", "d3", "d4"],
            "evs": [12.0, 0.0, 3.0, 40.0],
            "township_id": ["t1", "t1", "t2", "t2"],
        },
        geometry=[Point(2000, 0), Point(3000, 0), Point(6000, 0), Point(9000, 0)],
        crs=crs,
    )
    stations = gpd.GeoDataFrame(
        {"candidate_id": ["c7"], "name": ["加油站"], "township_id": ["t2"]},
        geometry=[Point(5000, 0)],
        crs=crs,
    )
    cfg = tours(stops=["villages", "stations"], villages={"min_evs": 2, "per_week_by_evs": {30: 2}})
    stops = stop_table(cfg, demand=demand, stations=stations)
    assert stops["stop_id"].tolist() == ["d1", "d3", "d4", "c7"]  # d2 has no EVs
    assert stops["name"].tolist() == ["d1", "d3", "d4", "加油站"]
    assert stops["kind"].tolist() == ["villages"] * 3 + ["stations"]
    repair = gpd.GeoDataFrame({"repair_id": ["r000"]}, geometry=[Point(0, 0)], crs=crs)
    plan, matrix = weekly_tours(line_graph(10), repair, stops, cfg, network=NetworkSection())
    assert matrix.n_points == 5 and plan.visits_served == plan.visits_asked == 5
    per_van = van_week(plan)
    assert per_van["van"].tolist() == ["r000-1"] and per_van["visits"].tolist() == [5]
    assert per_van["km"].sum() == pytest.approx(plan.objective_km, abs=0.01)
    towns = township_visits(plan, stops).set_index("township_id")
    assert towns.loc["t2", "asked"] == 4 and towns.loc["t2", "visits"] == 4  # d4 twice
    assert unserved_frame(plan).empty
    with pytest.raises(ConfigError, match="no repair points"):
        weekly_tours(line_graph(10), repair.iloc[0:0], stops, cfg, network=NetworkSection())


def test_a_tour_that_stays_at_its_base_has_no_line(tmp_path):
    from planner.config import NetworkSection
    from planner.tours import stop_table, weekly_tours

    crs = "EPSG:4547"
    stations = gpd.GeoDataFrame(
        {"candidate_id": ["c7"], "name": ["加油站"], "township_id": ["t2"]},
        geometry=[Point(5000, 0)],
        crs=crs,
    )
    cfg = tours(stops=["stations"])
    stops = stop_table(cfg, stations=stations)
    repair = gpd.GeoDataFrame({"repair_id": ["r000"]}, geometry=[Point(5000, 0)], crs=crs)
    graph = line_graph(10)
    plan, matrix = weekly_tours(graph, repair, stops, cfg, network=NetworkSection())
    lines, points = tour_layers(plan, graph, matrix, crs=crs)
    assert len(lines) >= 1 and lines.geometry.isna().all()  # no two-point line in one place
    assert points["stop_id"].tolist() == ["c7"] * len(points)
    lines.to_file(tmp_path / "t.gpkg", layer="tours")
    back = gpd.read_file(tmp_path / "t.gpkg", layer="tours")
    assert len(back) == len(lines) and back.geometry.isna().all()
