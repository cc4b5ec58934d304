"""The insertion repair after PyVRP's search: visits left out go where they still fit.

Checked three ways: a hand-solved line county (which visit fits, which cannot), visits
taken out of a searched week and put back (the week is whole again and no longer), and
random counties with lunch, station hours and visits 1-3 a week, where every visit still
left out is tried by brute force at every place of its days and fits nowhere, and every
tour keeps the clock (drive, lunch, service, hours, shift).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import planner.tours.solve as solve_module
from planner.datatypes import Snap
from planner.tours import TravelMatrix, plan_tours
from planner.tours.problem import build_problem
from planner.tours.repair import insert_left_out
from planner.tours.solve import search
from tests.test_tours import check_clock, line_matrix, tours, villages


def clients_of(routes) -> list[list[int]]:
    return [[a.idx for a in r.schedule() if a.is_client()] for r in routes]


def test_a_line_county_takes_the_one_visit_that_fits():
    # 1 van, 1 day, 100 min per village: 5 fit in the 540-min shift with 10 km of driving
    # (516.7 min), a 6th does not; the week given has villages 1-4 only
    import pyvrp

    cfg = tours(service_min=100, days=["mon"])
    problem = build_problem(villages(8), line_matrix([0, *range(1, 9)]), cfg, n_depots=1)
    data = problem.data
    route = pyvrp.Route(data, [0, 1, 2, 3], 0)
    routes, inserted = insert_left_out(problem, [route])
    assert inserted == 1
    assert [sorted(v) for v in clients_of(routes)] == [[0, 1, 2, 3, 4]]
    assert routes[0].distance() == 10_000 and routes[0].is_feasible()


def test_the_work_limit_stops_the_repair_with_the_best_insertion_tried(caplog):
    import pyvrp

    cfg = tours(service_min=100, days=["mon"])
    problem = build_problem(villages(8), line_matrix([0, *range(1, 9)]), cfg, n_depots=1)
    route = pyvrp.Route(problem.data, [0, 1, 2, 3], 0)
    # 2 tours tried: village 5 first (16 km), then second (14 km); the 10 km places untried
    routes, inserted = insert_left_out(problem, [route], max_tries=2)
    assert inserted == 1 and clients_of(routes) == [[0, 4, 1, 2, 3]]
    assert routes[0].distance() == 14_000
    assert "stopped at its limit of 2 tours" in caplog.text
    routes, inserted = insert_left_out(problem, [route], max_tries=0)
    assert inserted == 0 and clients_of(routes) == [[0, 1, 2, 3]]


def plane_matrix(xy: np.ndarray) -> TravelMatrix:
    """Roads 1.3x the straight line at 36 km/h between points in km."""
    d = np.sqrt(((xy[:, None, :] - xy[None, :, :]) ** 2).sum(-1)) * 1.3
    n = len(xy)
    snap = Snap(node=np.arange(n), access_s=np.zeros(n), distance_m=np.zeros(n))
    return TravelMatrix(
        seconds=d * 100, metres=d * 1000, snap=snap, x=xy[:, 0] * 1000, y=xy[:, 1] * 1000
    )


def county(seed: int, n: int = 40):
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 30, (2 + n, 2))
    kinds = np.where(rng.random(n) < 0.25, "stations", "villages")
    stops = pd.DataFrame(
        {
            "stop_id": [f"s{i}" for i in range(n)],
            "name": [f"点{i}" for i in range(n)],
            "kind": kinds,
            "evs": rng.integers(0, 80, n).astype(float),
        }
    )
    cfg = tours(
        stops=["villages", "stations"],
        service_min=30,
        lunch_start="12:00",
        lunch_min=60,
        iterations=150,
        stations={"time_window": ["13:00", "16:00"], "service_min": 45},
        villages={"per_week_by_evs": {20: 2, 60: 3}},
    )
    return stops, plane_matrix(xy), cfg


@pytest.mark.parametrize("seed", [0, 3])
def test_visits_taken_out_of_a_week_are_put_back(seed):
    stops, matrix, cfg = county(seed)
    problem = build_problem(stops, matrix, cfg, n_depots=2)
    _, _, routes, _ = search(problem, cfg)
    full = clients_of(routes)
    # take the second visit out of every tour with two or more
    import pyvrp

    cut = [
        pyvrp.Route(problem.data, [c for k, c in enumerate(v) if k != 1], r.vehicle_type())
        for v, r in zip(full, routes, strict=True)
    ]
    taken = sum(len(v) > 1 for v in full)
    assert taken > 5
    fixed, inserted = insert_left_out(problem, cut)
    assert inserted == taken
    assert pyvrp.Solution(problem.data, fixed).is_feasible()
    assert sum(r.distance() for r in fixed) <= sum(r.distance() for r in routes)


def fits_somewhere(problem, routes, group: int) -> bool:
    """Brute force: does any copy of the group (its block's days, or a spare day) on a day
    that keeps the gap to its stop's visits fit at any place of a tour or spare van?"""
    import pyvrp

    data = problem.repair
    stop = problem.copies[data.groups()[group].clients[0]].stop
    days = [problem.copies[c].weekday for v in clients_of(routes) for c in v]
    days = [d for d, c in zip(days, [c for v in clients_of(routes) for c in v], strict=True)
            if problem.copies[c].stop == stop]  # fmt: skip
    gap = problem.gaps[stop]
    members = [
        c
        for c, copy in enumerate(problem.copies)
        if copy.group == group
        and all(
            abs(problem.weekdays.index(copy.weekday) - problem.weekdays.index(d)) >= gap
            for d in days
        )
    ]
    used = [r.vehicle_type() for r in routes]
    for c in members:
        day = problem.copies[c].weekday
        for vt, (_, weekday) in enumerate(problem.vehicle_types):
            if weekday != day:
                continue
            tours_of = [
                v for v, r in zip(clients_of(routes), routes, strict=True) if r.vehicle_type() == vt
            ]
            if used.count(vt) < data.vehicle_type(vt).num_available:
                tours_of.append([])
            for v in tours_of:
                for pos in range(len(v) + 1):
                    if pyvrp.Route(data, [*v[:pos], c, *v[pos:]], vt).is_feasible():
                        return True
    return False


@pytest.mark.parametrize("seed", range(4))
def test_no_visit_left_out_fits_anywhere_and_tours_keep_the_clock(seed, monkeypatch):
    stops, matrix, cfg = county(seed, n=70)
    cfg = cfg.model_copy(update={"vans_per_point": 1})
    searched = {}

    def keep(problem, routes, **kw):
        fixed, n = insert_left_out(problem, routes, **kw)
        searched.update(problem=problem, routes=fixed, inserted=n)
        return fixed, n

    monkeypatch.setattr(solve_module, "insert_left_out", keep)
    plan = plan_tours(stops, matrix, cfg, depot_ids=["R1", "R2"])
    assert 0 < plan.visits_served < plan.visits_asked  # the week is too small
    check_clock(plan, matrix, services={"villages": 30, "stations": 45}, hours=(780, 960))
    problem, routes = searched["problem"], searched["routes"]
    served = {problem.copies[a.idx].group for r in routes for a in r.schedule() if a.is_client()}
    left = [g for g in range(len(problem.data.groups())) if g not in served]
    assert len(left) == sum(u.missing for u in plan.unserved) > 0
    assert {u.reason for u in plan.unserved} <= {"fleet", "visit_days"}
    assert not any(fits_somewhere(problem, routes, g) for g in left)
