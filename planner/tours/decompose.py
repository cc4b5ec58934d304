"""The weekly tours one repair point at a time: counties with thousands of stops.

One periodic VRP over every stop and every van grows with the square of the stops (the
travel matrix, PyVRP's neighbourhoods): the demo county at scale 20 (7,519 stops, 37,595
client copies) spent 5 CPU minutes on the matrix, then PyVRP's neighbour lists ran out of
14 GB. Here each stop goes to the repair point whose vans can serve it with the
shortest round trip (the point :func:`~planner.tours.problem.share_fleet` counts it for),
and each point's vans get their own problem over their own stops, with the travel matrix
of those stops only. Its road searches stop at the longest drive a leg inside the point's
area can take (a stop back to the point plus the point out to the farthest stop, at most
a shift): the matrix is exact for every leg a tour there may drive.

A stop whose visits its point's vans cannot fit moves to the next point (by round trip)
that can serve it, and the problems that changed are solved again, for up to
:data:`_ROUNDS` rounds; what still does not fit is reported unserved ('fleet', or
'visit_days' when vans stand idle on days the visit-day rule keeps it from), as in one
problem. Each problem runs ``tours.iterations`` iterations with ``tours.seed``, so the
same inputs give the same tours; ``tours.time_limit_s`` stays a safety net for the whole
search (``stopped_by`` says when it fired).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from planner.config.tours import ToursSection
from planner.datatypes import RoadGraph
from planner.tours.matrix import RoadPoints, TravelMatrix, depot_times, sub_matrix
from planner.tours.problem import (
    STOP_KIND,
    WeeklyProblem,
    build_problem,
    fleet_shares,
    servable_windows,
    service_seconds,
    stop_frequencies,
    stop_hours,
)
from planner.tours.result import Tour, TourPlan, Unserved, Visit, van_key
from planner.tours.solve import check_inputs, decode, log_plan, search, unservable_stops
from planner.tours.timing import Shift, weekday_index

logger = logging.getLogger(__name__)


#: Rounds of solving: after each, the stops whose visits did not fit into their repair
#: point's week move to the next point (by round trip) that can serve them, and the
#: problems that changed are solved again.
_ROUNDS = 10


@dataclass
class _Area:
    """One repair point's problem: its stops (rows of the stop table) and matrix points."""

    depot: int
    rows: np.ndarray
    limit_s: float


def home_points(
    out_s: np.ndarray,
    back_s: np.ndarray,
    stops: pd.DataFrame,
    tours: ToursSection,
    *,
    vans: np.ndarray,
) -> np.ndarray:
    """The repair point of each stop: the one with vans and the shortest round trip that
    can serve it within a shift (the nearest with vans when none can).

    Parameters
    ----------
    out_s, back_s
        Drive seconds from each repair point to each stop and back (points x stops).
    stops
        The stop table (``kind``).
    tours
        The config section (shift, service, hours).
    vans
        Vans per repair point.

    Returns
    -------
    ndarray
        Per stop, the row of its repair point.
    """
    home = np.argmin(np.where(vans[:, None] > 0, out_s + back_s, np.inf), axis=0)
    nearest = _Nearest(out_s, back_s, stops, tours, vans)
    for i in range(len(stops)):
        d = nearest.first(i, skip=set())
        if d is not None:
            home[i] = d
    return home


@dataclass
class _Nearest:
    """The repair points with vans by round trip to each stop, and which can serve it."""

    out_s: np.ndarray
    back_s: np.ndarray
    stops: pd.DataFrame
    tours: ToursSection
    vans: np.ndarray

    def __post_init__(self) -> None:
        self.shift = Shift.from_config(self.tours)
        self.service = service_seconds(self.stops, self.tours)
        self.trip = np.where(self.vans[:, None] > 0, self.out_s + self.back_s, np.inf)

    def first(self, i: int, *, skip: set[int]) -> int | None:
        """The point with the shortest round trip to stop ``i`` that can serve it within a
        shift, ``skip`` left out (None: no such point)."""
        secs = int(self.service[i])
        hours = stop_hours(self.tours, str(self.stops[STOP_KIND].iloc[i]))
        windows = self.shift.service_windows(hours, secs)
        for d in np.argsort(self.trip[:, i], kind="stable"):
            if not np.isfinite(self.trip[d, i]):
                break
            if int(d) in skip:
                continue
            out, back = self.out_s[d : d + 1, i], self.back_s[d : d + 1, i]
            if servable_windows(out, back, windows, shift=self.shift, service=secs):
                return int(d)
        return None


def _areas(
    home: np.ndarray, out_s: np.ndarray, back_s: np.ndarray, vans: np.ndarray, *, shift_s: float
) -> list[_Area]:
    """The problems, one per repair point with vans and stops, and their search limits."""
    areas = []
    for d in np.flatnonzero(vans > 0):
        rows = np.flatnonzero(home == d)
        if not len(rows):
            continue
        out, back = out_s[d, rows], back_s[d, rows]
        far = (back[np.isfinite(back)].max(initial=0.0), out[np.isfinite(out)].max(initial=0.0))
        areas.append(_Area(depot=int(d), rows=rows, limit_s=min(sum(far), shift_s) + 1.0))
    return areas


def _key(area: _Area) -> tuple[int, bytes]:
    return area.depot, area.rows.tobytes()


@dataclass
class _Solved:
    """One problem's tours and unserved visits (rows of the whole plan), and its search."""

    tours: list[Tour]
    unserved: list[Unserved]
    run: tuple[int, float, str]  # iterations done, seconds, what stopped it


@dataclass
class _Job:
    """What every problem of one plan shares."""

    stops: pd.DataFrame
    graph: RoadGraph
    points: RoadPoints
    tours: ToursSection
    depot_ids: list[str]
    vans: np.ndarray

    def build(self, area: _Area) -> tuple[pd.DataFrame, TravelMatrix, WeeklyProblem]:
        """One repair point's stops, travel matrix and problem."""
        return _build(
            area,
            self.stops,
            self.graph,
            self.points,
            self.tours,
            self.depot_ids,
            vans=int(self.vans[area.depot]),
        )

    def solve(
        self,
        area: _Area,
        built: tuple[pd.DataFrame, TravelMatrix, WeeklyProblem] | None,
        deadline: float | None,
    ) -> _Solved:
        """Search one repair point's problem and read its tours back."""
        sub_stops, matrix, problem = built if built is not None else self.build(area)
        budget = _budget(self.tours, deadline)
        done, runtime, routes, stopped_by = search(problem, budget)
        ids = [self.depot_ids[area.depot]]
        local, missing = decode(routes, sub_stops, matrix, problem, budget, ids)
        n_dep = len(self.depot_ids)
        return _Solved(
            tours=[_tour_back(t, area, n_dep) for t in local],
            unserved=[replace(u, stop=int(area.rows[u.stop])) for u in missing],
            run=(done, runtime, stopped_by),
        )


def _move(
    left: list[int],
    home: np.ndarray,
    tried: dict[int, set[int]],
    out_s: np.ndarray,
    back_s: np.ndarray,
    job: _Job,
) -> bool:
    """Move stops without van time to the next repair point that can serve them.

    Returns whether any moved. A stop goes to the point with vans and the shortest round
    trip it has not been at, among those that can serve it within a shift.
    """
    nearest = _Nearest(out_s, back_s, job.stops, job.tours, job.vans)
    moved = False
    for i in sorted(set(left)):
        d = nearest.first(i, skip=tried[i])
        if d is not None:
            home[i] = d
            tried[i].add(d)
            moved = True
    return moved


def plan_tours_by_point(
    stops: pd.DataFrame,
    graph: RoadGraph,
    points: RoadPoints,
    tours: ToursSection,
    *,
    depot_ids: list[str],
) -> tuple[TourPlan, RoadPoints]:
    """The vans' weekly tours, one PyVRP problem per repair point (see the module).

    Parameters
    ----------
    stops
        One row per stop, as :func:`~planner.tours.solve.plan_tours` takes them.
    graph
        The road graph.
    points
        The repair points, then the stops, snapped to the roads.
    tours
        The config section.
    depot_ids
        The repair points' ids.

    Returns
    -------
    plan, points
        The weekly plan (its tours index ``points``), and ``points`` with ``reach_s``:
        the drive a leg from each point takes at most.

    Raises
    ------
    ConfigError, DataError, SolverError
        As :func:`~planner.tours.solve.plan_tours`.
    """
    check_inputs(stops, points, depot_ids)
    t0 = time.perf_counter()
    n_dep = len(depot_ids)
    times = depot_times(graph, points, np.arange(n_dep))
    out_s, back_s = times[0][:, n_dep:], times[1][:, n_dep:]
    per_week = stop_frequencies(stops, tours)
    vans = fleet_shares(tours, out_s + back_s, per_week)
    home = home_points(out_s, back_s, stops, tours, vans=vans)
    work_s = float(Shift.from_config(tours).work_seconds)
    areas = _areas(home, out_s, back_s, vans, shift_s=work_s)
    job = _Job(stops, graph, points, tours, depot_ids, vans)
    built = {_key(a): job.build(a) for a in areas}
    unservable = {
        int(a.rows[i]): why for a in areas for i, why in built[_key(a)][2].unservable.items()
    }
    fixed = unservable_stops(stops, unservable, per_week, tours)
    build_s = time.perf_counter() - t0
    deadline = None if tours.time_limit_s is None else time.perf_counter() + tours.time_limit_s
    solved: dict[tuple[int, bytes], _Solved] = {}
    tried = {i: {int(home[i])} for i in range(len(stops))}
    for round_ in range(1, _ROUNDS + 1):
        for a in areas:
            if _key(a) not in solved:
                solved[_key(a)] = job.solve(a, built.pop(_key(a), None), deadline)
        left = [u.stop for a in areas for u in solved[_key(a)].unserved]
        if round_ == _ROUNDS or not _move(left, home, tried, out_s, back_s, job):
            break
        logger.info("tours: round %d, stops without van time moved to the next point", round_)
        areas = _areas(home, out_s, back_s, vans, shift_s=work_s)
    tour_list = [t for a in areas for t in solved[_key(a)].tours]
    unserved = fixed + [u for a in areas for u in solved[_key(a)].unserved]
    runs = [r.run for r in solved.values()]
    order = {d: i for i, d in enumerate(depot_ids)}
    tour_list.sort(key=lambda t: (weekday_index(t.day), order[t.repair_id], van_key(t.van)))
    plan = _merged(tour_list, unserved, runs, tours, depot_ids, vans, per_week, build_s)
    plan.extra["problems"] = len(areas)
    reach = np.zeros(points.n_points)
    for a in areas:
        at = np.r_[a.depot, n_dep + a.rows]
        reach[at] = np.maximum(reach[at], a.limit_s)
    return plan, replace(points, reach_s=reach)


def _build(
    area: _Area,
    stops: pd.DataFrame,
    graph: RoadGraph,
    points: RoadPoints,
    tours: ToursSection,
    depot_ids: list[str],
    *,
    vans: int,
) -> tuple[pd.DataFrame, TravelMatrix, WeeklyProblem]:
    """One repair point's stops, travel matrix and problem (its unservable stops set aside)."""
    n_dep = len(depot_ids)
    sub_stops = stops.iloc[area.rows].reset_index(drop=True)
    matrix = sub_matrix(graph, points, np.r_[area.depot, n_dep + area.rows], limit_s=area.limit_s)
    local = tours.model_copy(
        update={"vans_per_point": vans, "fleet_size": None, "unservable": "report"}
    )
    problem = build_problem(
        sub_stops, matrix, local, n_depots=1, depot_names=[depot_ids[area.depot]]
    )
    return sub_stops, matrix, problem


def _budget(tours: ToursSection, deadline: float | None) -> ToursSection:
    """The section for one problem's search: the time left before the safety net."""
    if deadline is None:
        return tours
    left = max(deadline - time.perf_counter(), 0.001)
    return tours.model_copy(update={"time_limit_s": left})


def _tour_back(tour: Tour, area: _Area, n_depots: int) -> Tour:
    """A tour of one repair point's problem with the stops and points of the whole plan."""
    stop_rows = area.rows
    points = [area.depot if p == 0 else n_depots + int(stop_rows[p - 1]) for p in tour.points]
    visits: list[Visit] = [replace(v, stop=int(stop_rows[v.stop])) for v in tour.visits]
    return replace(tour, depot=area.depot, points=points, visits=visits)


def _merged(
    tour_list: list[Tour],
    unserved: list[Unserved],
    runs: list[tuple[int, float, str]],
    tours: ToursSection,
    depot_ids: list[str],
    vans: np.ndarray,
    per_week: np.ndarray,
    build_s: float,
) -> TourPlan:
    """The week of all repair points from their problems' tours and every search run."""
    served = sum(len(t.visits) for t in tour_list)
    stopped = "time_limit" if any(r[2] == "time_limit" for r in runs) else "iterations"
    plan = TourPlan(
        tours=tour_list,
        unserved=sorted(unserved, key=lambda u: u.stop),
        days=list(tours.days),
        vans={d: int(n) for d, n in zip(depot_ids, vans, strict=True)},
        visits_asked=int(per_week.sum()),
        visits_served=int(served),
        objective_km=float(sum(t.km for t in tour_list)),
        seed=tours.seed,
        iterations=tours.iterations,
        iterations_done=min((r[0] for r in runs), default=0),
        time_limit_s=tours.time_limit_s,
        stopped_by=stopped,
        runtime_s=float(sum(r[1] for r in runs)),
        build_s=build_s,
        extra={"problems_solved": len(runs), "iterations_total": int(sum(r[0] for r in runs))},
    )
    log_plan(plan)
    return plan
