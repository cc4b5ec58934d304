"""The weekly tours one repair point at a time (tours.decompose_above), on a straight road.

The county is one two-way road with a node every kilometre (100 s each) and a repair
point at each end, so the best tours are known by hand: a day's tour from a point costs
twice its farthest stop.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from shapely import Point

from planner.config import NetworkSection, ToursSection
from planner.datatypes import RoadGraph
from planner.errors import ConfigError
from planner.tours import tour_layers, visits_per_stop, weekly_tours

CRS = "EPSG:4547"


def road(n_km: int) -> RoadGraph:
    """A straight two-way road from 0 to ``n_km`` km, a node every km, 100 s per km."""
    tail = np.r_[np.arange(n_km), np.arange(1, n_km + 1)]
    head = np.r_[np.arange(1, n_km + 1), np.arange(n_km)]
    return RoadGraph(
        x=np.arange(n_km + 1) * 1000.0,
        y=np.zeros(n_km + 1),
        osm_ids=np.arange(n_km + 1),
        tail=tail,
        head=head,
        length_m=np.full(2 * n_km, 1000.0),
        time_s=np.full(2 * n_km, 100.0),
    )


def county(km: list[int], points_km: list[int], evs: list[float] | None = None):
    """Stops (villages) at ``km`` and repair points at ``points_km`` along the road."""
    stops = gpd.GeoDataFrame(
        {
            "stop_id": [f"v{k}" for k in km],
            "name": [f"村{k}" for k in km],
            "kind": "villages",
            "evs": evs if evs is not None else [1.0] * len(km),
            "township_id": "t1",
        },
        geometry=[Point(1000 * k, 0) for k in km],
        crs=CRS,
    )
    repair = gpd.GeoDataFrame(
        {"repair_id": [f"R{k}" for k in points_km]},
        geometry=[Point(1000 * k, 0) for k in points_km],
        crs=CRS,
    )
    return stops, repair


def section(**values: object) -> ToursSection:
    return ToursSection.model_validate({"enabled": True, "iterations": 300, **values})


def week(stops, repair, cfg, n_km=60):
    return weekly_tours(road(n_km), repair, stops, cfg, network=NetworkSection())


def signature(plan) -> list[tuple]:
    return [(t.van, t.day, round(t.km, 6), [v.stop_id for v in t.visits]) for t in plan.tours]


def test_disjoint_points_give_the_whole_problems_optimum():
    # stops 1-10 km from R0 and 50-59 km (1-10 from R60): one tour a side, 2 x 10 km each
    stops, repair = county([*range(1, 11), *range(50, 60)], [0, 60])
    cfg = section(service_min=20)
    whole, _ = week(stops, repair, cfg.model_copy(update={"decompose_above": None}))
    split, points = week(stops, repair, cfg.model_copy(update={"decompose_above": 0}))
    assert whole.objective_km == pytest.approx(40.0)
    assert split.objective_km == pytest.approx(whole.objective_km)
    assert split.visits_served == split.visits_asked == 20 and split.unserved == []
    assert split.extra["problems"] == 2 and whole.extra == {}
    assert {t.repair_id for t in split.tours} == {"R0", "R60"}
    for t in split.tours:  # each point's vans serve their own side
        assert all(
            abs(1000 * int(v.stop_id[1:]) - 60000 * (t.repair_id == "R60")) <= 10000
            for v in t.visits
        )
    lines, tour_stops = tour_layers(split, road(60), points, crs=CRS)
    assert lines.geometry.length.sum() == pytest.approx(1000 * split.objective_km)
    assert sorted(tour_stops["stop_id"]) == sorted(stops["stop_id"])


def test_every_visit_on_different_days_or_unserved_and_the_same_twice():
    # 2 or 3 visits a week for the larger villages; 100 min service: a van serves at most
    # 5 stops a day, so R0's one van cannot fit its side and stops move to R60
    km = [*range(1, 31), *range(50, 60)]
    evs = [300.0 if k % 4 == 0 else 150.0 if k % 3 == 0 else 5.0 for k in km]
    stops, repair = county(km, [0, 60], evs)
    cfg = section(
        service_min=100, decompose_above=0, villages={"per_week_by_evs": {100: 2, 250: 3}}
    )
    plan, _ = week(stops, repair, cfg)
    again, _ = week(stops, repair, cfg)
    assert signature(plan) == signature(again) and plan.objective_km == again.objective_km
    asked = np.array([3 if e >= 250 else 2 if e >= 100 else 1 for e in evs])
    got = visits_per_stop(plan, len(stops))
    missing = {stops["stop_id"].iloc[u.stop]: u.missing for u in plan.unserved}
    for i, sid in enumerate(stops["stop_id"]):
        assert got[i] + missing.get(sid, 0) == asked[i]
        days = [t.day for t in plan.tours for v in t.visits if v.stop_id == sid]
        assert len(days) == len(set(days)) == got[i]
    assert plan.visits_served + sum(missing.values()) == plan.visits_asked == asked.sum()
    assert all(u.reason == "fleet" for u in plan.unserved)
    # R0's van has 5 x 5 = 25 service slots for 53 visits on its side: some moved to R60
    assert plan.extra["problems_solved"] > plan.extra["problems"] == 2
    served_from_r60 = {v.stop_id for t in plan.tours if t.repair_id == "R60" for v in t.visits}
    assert any(int(s[1:]) <= 30 for s in served_from_r60)
    # each van at most one tour a day, each within its shift
    per_day = [(t.van, t.day) for t in plan.tours]
    assert len(per_day) == len(set(per_day))
    assert all(t.start_min >= 480 and t.end_min <= 1020 for t in plan.tours)


def test_a_stop_beyond_every_shift_is_listed_unserved_with_its_reason():
    # 300 km out and back at 36 km/h is 16.7 h: no shift gets there and back
    stops, repair = county([2, 3, 300], [0])
    cfg = section(decompose_above=0, unservable="report")
    plan, _ = week(stops, repair, cfg, n_km=300)
    assert [(u.stop_id, u.reason, u.missing) for u in plan.unserved] == [("v300", "round_trip", 1)]
    assert plan.visits_served == 2 and plan.visits_asked == 3
    with pytest.raises(ConfigError, match="v300"):
        week(stops, repair, cfg.model_copy(update={"unservable": "error"}), n_km=300)


def test_the_time_limit_is_a_safety_net_that_says_it_fired():
    stops, repair = county([*range(1, 31), *range(50, 60)], [0, 60])
    cfg = section(decompose_above=0, iterations=10**9, time_limit_s=0.2)
    plan, _ = week(stops, repair, cfg)
    assert plan.stopped_by == "time_limit" and plan.iterations_done < 10**9
    missing = sum(u.missing for u in plan.unserved)
    assert plan.visits_served + missing == plan.visits_asked == 40
    assert plan.record()["problems"] == 2


def test_a_shared_fleet_serves_the_stops_of_points_without_vans():
    # one van for two points with 10 visits nearest each: the first point gets it (ties go
    # to the first) and its problem takes every stop
    stops, repair = county([*range(1, 11), *range(50, 60)], [0, 60])
    plan, _ = week(stops, repair, section(service_min=20, fleet_size=1, decompose_above=0))
    assert plan.vans == {"R0": 1, "R60": 0} and plan.extra["problems"] == 1
    assert {t.repair_id for t in plan.tours} == {"R0"}
    assert plan.visits_served == plan.visits_asked == 20 and plan.unserved == []
