"""Solve the weekly tours with PyVRP and read the routes back as tours per van and day."""

from __future__ import annotations

import itertools
import logging
import time
from collections import defaultdict
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from planner.config.tours import STOP_KINDS, WEEKDAYS, ToursSection
from planner.errors import ConfigError, DataError, SolverError
from planner.tours.matrix import RoadPoints, TravelMatrix
from planner.tours.problem import (
    STOP_ID,
    STOP_KIND,
    STOP_NAME,
    WeeklyProblem,
    build_problem,
)
from planner.tours.repair import insert_left_out
from planner.tours.result import Tour, TourPlan, Unserved, Visit, van_key, van_name
from planner.tours.timing import DAY_S, Shift, weekday_index

logger = logging.getLogger(__name__)

#: Stops named in full in an error message; the others are counted.
_NAMED = 5
#: The error of tours without repair points.
NO_REPAIR_POINTS = (
    "tours: tours.enabled is true but the plan has no repair points for the vans to start "
    "from (plan repair points, or set tours.enabled: false)"
)


def plan_tours(
    stops: pd.DataFrame,
    matrix: TravelMatrix,
    tours: ToursSection,
    *,
    depot_ids: list[str],
) -> TourPlan:
    """The vans' weekly tours: a periodic VRP solved with PyVRP.

    Parameters
    ----------
    stops
        One row per stop, in the order of the matrix's points after the repair points:
        ``stop_id``, ``name``, ``kind`` ('villages' or 'stations'), optionally ``evs``
        (for ``per_week_by_evs``).
    matrix
        Drive times and distances between the points: the repair points first
        (:func:`~planner.tours.matrix.travel_matrix`).
    tours
        The config section (fleet, days, shift, service, visits, seed, iterations).
    depot_ids
        The repair points' ids, one per matrix point before the stops.

    Returns
    -------
    TourPlan
        The tours, the visits left out and how the search ran.

    Raises
    ------
    ConfigError
        No repair points; or stops no van can serve within a shift while
        ``tours.unservable`` is 'error' (the message names them).
    DataError
        The stop table lacks a column, has an unknown kind, or does not match the matrix.
    SolverError
        PyVRP returned an infeasible plan.
    """
    check_inputs(stops, matrix, depot_ids)
    t0 = time.perf_counter()
    problem = build_problem(stops, matrix, tours, n_depots=len(depot_ids), depot_names=depot_ids)
    unserved = unservable_stops(stops, problem.unservable, problem.per_week, tours)
    build_s = time.perf_counter() - t0
    done, runtime, routes, stopped_by = search(problem, tours)
    tour_list = _decode(routes, stops, matrix, problem, tours, depot_ids)
    served = visits_per_stop_of(tour_list)
    unserved += left_out(stops, problem, tour_list)
    plan = TourPlan(
        tours=tour_list,
        unserved=sorted(unserved, key=lambda u: u.stop),
        days=list(tours.days),
        vans={d: int(n) for d, n in zip(depot_ids, problem.vans, strict=True)},
        visits_asked=int(problem.per_week.sum()),
        visits_served=int(sum(served.values())),
        objective_km=float(sum(t.km for t in tour_list)),
        seed=tours.seed,
        iterations=tours.iterations,
        iterations_done=int(done),
        time_limit_s=tours.time_limit_s,
        stopped_by=stopped_by,
        runtime_s=float(runtime),
        build_s=build_s,
    )
    log_plan(plan)
    return plan


def log_plan(plan: TourPlan) -> None:
    """Log a plan's visits, tours, km and search."""
    logger.info(
        "tours: %d visits of %d served in %d tours, %.1f km/week (%d iterations, %.1f s)",
        plan.visits_served,
        plan.visits_asked,
        len(plan.tours),
        plan.objective_km,
        plan.iterations_done,
        plan.runtime_s,
    )


def decode(
    routes: list[Any],
    stops: pd.DataFrame,
    matrix: TravelMatrix,
    problem: WeeklyProblem,
    tours: ToursSection,
    depot_ids: list[str],
) -> tuple[list[Tour], list[Unserved]]:
    """The tours of PyVRP's routes, and the servable stops' visits they leave out."""
    tour_list = _decode(routes, stops, matrix, problem, tours, depot_ids)
    return tour_list, left_out(stops, problem, tour_list)


def search(problem: WeeklyProblem, tours: ToursSection) -> tuple[int, float, list[Any], str]:
    """PyVRP's search: iterations done, seconds, the best plan's routes, what stopped it.

    The visits the search leaves out are then inserted where they still fit
    (:func:`~planner.tours.repair.insert_left_out`).
    """
    import pyvrp
    from pyvrp.stop import MaxIterations, MaxRuntime, MultipleCriteria

    data: Any = problem.data
    if not data.num_clients:
        return 0, 0.0, [], "iterations"
    stop: Any = MaxIterations(tours.iterations)
    if tours.time_limit_s is not None:
        stop = MultipleCriteria([stop, MaxRuntime(tours.time_limit_s)])
    res = pyvrp.solve(data, stop, seed=tours.seed, collect_stats=False, display=False)
    if not res.best.is_feasible():
        msg = "tours: PyVRP found no feasible weekly plan (time warp in the best routes)"
        raise SolverError(msg)
    done = int(res.num_iterations)
    stopped_by = "time_limit" if done < tours.iterations else "iterations"
    routes, inserted = insert_left_out(problem, list(res.best.routes()))
    if inserted:
        logger.info("tours: %d visits the search left out fit in after it (inserted)", inserted)
    return done, float(res.runtime), routes, stopped_by


def check_inputs(
    stops: pd.DataFrame, matrix: TravelMatrix | RoadPoints, depot_ids: list[str]
) -> None:
    if not depot_ids:
        raise ConfigError(NO_REPAIR_POINTS)
    missing = [c for c in (STOP_ID, STOP_NAME, STOP_KIND) if c not in stops]
    if missing:
        msg = f"tours: the stop table lacks the columns {', '.join(missing)}"
        raise DataError(msg)
    kinds = sorted(set(map(str, stops[STOP_KIND])) - set(STOP_KINDS))
    if kinds:
        msg = f"tours: unknown kinds of stop {kinds} (known: {', '.join(STOP_KINDS)})"
        raise DataError(msg)
    if matrix.n_points != len(depot_ids) + len(stops):
        msg = (
            f"tours: the travel matrix has {matrix.n_points} points, not the "
            f"{len(depot_ids)} repair points + {len(stops)} stops"
        )
        raise DataError(msg)


def unservable_stops(
    stops: pd.DataFrame,
    unservable: dict[int, tuple[str, str]],
    per_week: np.ndarray,
    tours: ToursSection,
) -> list[Unserved]:
    """The stops no van can serve in a shift: an error naming them, or unserved entries.

    ``unservable`` maps a row of ``stops`` to its reason code and detail; ``per_week``
    holds every row's visits per week.
    """
    if not unservable:
        return []
    rows = sorted(unservable)
    if tours.unservable == "error":
        named = [
            f"'{stops[STOP_NAME].iloc[i]}' ({stops[STOP_ID].iloc[i]}): {unservable[i][1]}"
            for i in rows[:_NAMED]
        ]
        more = f"; and {len(rows) - _NAMED} more" if len(rows) > _NAMED else ""
        msg = (
            f"tours: {len(rows)} stop(s) no van can serve within a shift "
            f"({tours.shift_start}-{tours.shift_end}): " + "; ".join(named) + more + " "
            "(lengthen the shift, shorten the service, or set tours.unservable: report)"
        )
        raise ConfigError(msg)
    logger.warning("tours: %d stops no van can serve within a shift", len(rows))
    return [_unserved(stops, i, int(per_week[i]), int(per_week[i]), *unservable[i]) for i in rows]


def _unserved(
    stops: pd.DataFrame, i: int, per_week: int, missing: int, reason: str, detail: str = ""
) -> Unserved:
    return Unserved(
        stop=i,
        stop_id=str(stops[STOP_ID].iloc[i]),
        name=str(stops[STOP_NAME].iloc[i]),
        kind=str(stops[STOP_KIND].iloc[i]),
        per_week=per_week,
        missing=missing,
        reason=reason,
        detail=detail,
    )


def left_out(stops: pd.DataFrame, problem: WeeklyProblem, tour_list: list[Tour]) -> list[Unserved]:
    """Servable stops with visits the search did not fit into the vans' week (the plan's
    caller warns about the final plan's: a decomposed plan moves some to another point).

    The reason is 'visit_days' when the repair found the visit room on a day the gap
    between the stop's visits (``tours.min_gap_days``) keeps it from
    (``problem.kept_by_gap``), else 'fleet'.
    """
    served = visits_per_stop_of(tour_list)
    out = []
    for i in range(len(stops)):
        if i in problem.unservable:
            continue
        missing = int(problem.per_week[i]) - served.get(i, 0)
        if missing <= 0:
            continue
        reason = "visit_days" if i in problem.kept_by_gap else "fleet"
        out.append(_unserved(stops, i, int(problem.per_week[i]), missing, reason))
    return out


def visits_per_stop_of(tour_list: list[Tour]) -> dict[int, int]:
    """Visits each stop (row) gets in the tours."""
    out: dict[int, int] = defaultdict(int)
    for t in tour_list:
        for v in t.visits:
            out[v.stop] += 1
    return out


def _decode(
    routes: list[Any],
    stops: pd.DataFrame,
    matrix: TravelMatrix,
    problem: WeeklyProblem,
    tours: ToursSection,
    depot_ids: list[str],
) -> list[Tour]:
    """Tours from PyVRP's routes, vans numbered per point and day."""
    shift = Shift.from_config(tours)
    by_type: dict[int, list[Any]] = defaultdict(list)
    for route in routes:
        by_type[route.vehicle_type()].append(route)
    tours_out: list[Tour] = []
    for vt, group in by_type.items():
        depot, weekday = problem.vehicle_types[vt]
        group.sort(key=lambda r: (r.start_time(), [a.idx for a in r if a.is_client()]))
        for k, route in enumerate(group, start=1):
            tour = _tour(route, stops, matrix, problem, shift, depot, weekday)
            tour = replace(tour, van=van_name(depot_ids[depot], k), repair_id=depot_ids[depot])
            tours_out.append(tour)
    order = {d: i for i, d in enumerate(depot_ids)}
    tours_out.sort(key=lambda t: (weekday_index(t.day), order[t.repair_id], van_key(t.van)))
    return _numbered(tours_out)


def _numbered(tour_list: list[Tour]) -> list[Tour]:
    """The tours (in the order of the week) with each stop's visits numbered in that
    order (a visit the repair put on a spare day may come before another of the stop)."""
    seen: dict[int, int] = defaultdict(int)
    out = []
    for t in tour_list:
        visits = []
        for v in t.visits:
            seen[v.stop] += 1
            visits.append(replace(v, visit=seen[v.stop]))
        out.append(replace(t, visits=visits))
    return out


def _tour(
    route: Any,
    stops: pd.DataFrame,
    matrix: TravelMatrix,
    problem: WeeklyProblem,
    shift: Shift,
    depot: int,
    weekday: int,
) -> Tour:
    """One route as a tour: its visits with clock times, distance and drive time.

    A visit's arrival is never before the van left the previous point (a leg of no
    length that starts at the lunch break arrives after it), its wait is the clock time
    from arrival to the service's start (hours or lunch), and ``lunch_min`` is the break
    when it falls between leaving the previous point and the service's start.
    """
    base = weekday * DAY_S
    n_depots = len(problem.vans)
    points = [depot]
    visits: list[Visit] = []
    left = shift.clock_start(int(route.start_time()) - base)  # clock time it left
    for act in route.schedule():
        if not act.is_client():
            continue
        copy = problem.copies[act.idx]
        point = n_depots + copy.stop
        start = int(act.start_time) - base
        arrival = max(shift.clock_end(start - int(act.wait_duration)), left)
        begin = shift.clock_start(start)
        lunch = shift.lunch if shift.lunch is not None and left <= shift.lunch < begin else None
        departure = shift.clock_end(int(act.end_time) - base)
        visits.append(
            Visit(
                order=len(visits) + 1,
                stop=copy.stop,
                stop_id=str(stops[STOP_ID].iloc[copy.stop]),
                name=str(stops[STOP_NAME].iloc[copy.stop]),
                kind=str(stops[STOP_KIND].iloc[copy.stop]),
                visit=copy.visit,
                per_week=int(problem.per_week[copy.stop]),
                arrival_min=arrival / 60,
                start_min=begin / 60,
                departure_min=departure / 60,
                wait_min=(begin - arrival) / 60,
                km_from_previous=float(matrix.metres[points[-1], point]) / 1000,
                lunch_min=None if lunch is None else lunch / 60,
            )
        )
        left = departure
        points.append(point)
    points.append(depot)
    legs = list(itertools.pairwise(points))
    begin, end = int(route.start_time()) - base, int(route.end_time()) - base
    lunch = shift.lunch if shift.lunch is not None and begin < shift.lunch < end else None
    return Tour(
        van="",
        repair_id="",
        depot=depot,
        day=WEEKDAYS[weekday],
        visits=visits,
        km=float(sum(matrix.metres[a, b] for a, b in legs)) / 1000,
        drive_h=float(sum(matrix.seconds[a, b] for a, b in legs)) / 3600,
        start_min=shift.clock_start(begin) / 60,
        end_min=shift.clock_end(end) / 60,
        lunch_min=None if lunch is None else lunch / 60,
        points=points,
    )


def visits_per_stop(plan: TourPlan, n_stops: int) -> np.ndarray:
    """Visits each stop gets in the plan's week."""
    out = np.zeros(n_stops, dtype=np.int64)
    for t in plan.tours:
        for v in t.visits:
            out[v.stop] += 1
    return out
