"""The weekly tours as a periodic vehicle-routing problem for PyVRP.

Formulation (times in working seconds from Monday 00:00, see :mod:`planner.tours.timing`):

- one vehicle type per (repair point, working day), with as many vehicles as the point
  has vans (identical vans at one point are interchangeable, so this is the same model as
  one type per (van, day)); its time window is that day's shift, and it starts and ends
  at its point;
- each weekly visit of a stop is a client group over *copies* of the stop: one client per
  (allowed day, part of the day), whose time window is that day's shift (or the stop's
  hours); the group is mutually exclusive, so a visit is made at most once, and the days
  of a stop's visits are blocks of the week at least ``tours.min_gap_days`` apart (one of
  the layouts of :func:`~planner.tours.timing.visit_layouts`, chosen per stop so that each
  repair point's work is spread over every working day), so its visits fall on different
  days. A copy can only be served by a van of its own day: any other day's van would
  reach it outside its window;
- the insertion repair (:mod:`planner.tours.repair`) may also put a visit the search left
  out on a day outside its block that still keeps the gap to the stop's other visits:
  those *spare* copies are only in ``WeeklyProblem.repair_data``, not in the search's;
- visits are optional with a prize far above any detour, so the solver serves every
  visit the fleet can fit and the plan stays feasible when it cannot (the visits left out
  are reported); the objective is the distance driven.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from planner.config.tours import ToursSection, clock_minutes
from planner.tours.days import DaySpread
from planner.tours.matrix import TravelMatrix
from planner.tours.timing import DAY_S, Shift, visit_gap, visit_layouts, weekday_index

logger = logging.getLogger(__name__)

#: Columns of the stop table :func:`plan_tours` takes (``evs`` and ``township_id`` optional).
STOP_ID, STOP_NAME, STOP_KIND, STOP_EVS, STOP_TOWNSHIP = (
    "stop_id",
    "name",
    "kind",
    "evs",
    "township_id",
)


@dataclass(frozen=True)
class Copy:
    """One client of the model: a visit of a stop offered on one day (and part of it)."""

    stop: int  # row of the stop table
    visit: int  # 1 .. the stop's visits per week
    weekday: int  # 0 = Monday
    group: int = -1  # the visit's client group
    spare: bool = False  # a day outside the visit's block (repair only)


@dataclass
class WeeklyProblem:
    """The model's data and what its clients and vehicle types stand for."""

    data: object  # pyvrp.ProblemData (the module imports PyVRP only when building)
    copies: list[Copy]
    vehicle_types: list[tuple[int, int]]  # (depot row, weekday) per vehicle type
    vans: np.ndarray  # vans per depot
    per_week: np.ndarray  # visits per week asked, per stop
    unservable: dict[int, tuple[str, str]] = field(default_factory=dict)  # stop -> reason
    prize: int = 0
    repair_data: object = None  # ``data`` with the spare copies appended (None: none)
    weekdays: list[int] = field(default_factory=list)  # the working days (0 = Monday)
    gaps: dict[int, int] = field(default_factory=dict)  # stop -> working days between visits
    kept_by_gap: set[int] = field(default_factory=set)  # set by the repair, see there

    @property
    def repair(self) -> Any:
        """The data the repair and the routes after it use (spare copies included)."""
        return self.repair_data if self.repair_data is not None else self.data


def stop_frequencies(stops: pd.DataFrame, tours: ToursSection) -> np.ndarray:
    """Visits per week of each stop: its kind's ``per_week``, raised by its EV count."""
    out = np.empty(len(stops), dtype=np.int64)
    evs = stops[STOP_EVS] if STOP_EVS in stops else pd.Series(np.nan, index=stops.index)
    for i, (kind, n_evs) in enumerate(zip(stops[STOP_KIND], evs, strict=True)):
        rule = tours.stop_class(str(kind))
        k = rule.per_week
        if pd.notna(n_evs):
            k = max([k, *(v for t, v in rule.per_week_by_evs.items() if n_evs >= t)])
        out[i] = k
    return out


def service_seconds(stops: pd.DataFrame, tours: ToursSection) -> np.ndarray:
    """Service seconds of each stop: its kind's ``service_min``, else ``tours.service_min``."""
    minutes = [tours.service_of(str(kind)) for kind in stops[STOP_KIND]]
    return np.round(np.asarray(minutes, dtype=float) * 60).astype(np.int64)


def stop_hours(tours: ToursSection, kind: str) -> tuple[int, int] | None:
    """The clock seconds (start, end) of a kind of stop's hours; None: the whole shift."""
    window = tours.stop_class(kind).time_window
    if window is None:
        return None
    return 60 * clock_minutes(window[0]), 60 * clock_minutes(window[1])


def share_fleet(
    tours: ToursSection, matrix: TravelMatrix, n_depots: int, visits: np.ndarray
) -> np.ndarray:
    """Vans per repair point: ``vans_per_point`` each, or ``fleet_size`` shared out.

    The fleet is shared in proportion to the weekly visits of the stops whose round trip
    is shortest from each point (largest remainders; ties to the first point).
    """
    round_trip = matrix.seconds[:n_depots, n_depots:] + matrix.seconds[n_depots:, :n_depots].T
    return fleet_shares(tours, round_trip, visits)


def fleet_shares(tours: ToursSection, round_trip: np.ndarray, visits: np.ndarray) -> np.ndarray:
    """Vans per repair point from the round trips (seconds, points x stops) to the stops.

    See :func:`share_fleet`.
    """
    n_depots = round_trip.shape[0]
    if tours.fleet_size is None:
        return np.full(n_depots, tours.vans_per_point, dtype=np.int64)
    weight = np.zeros(n_depots)
    if round_trip.shape[1]:
        np.add.at(weight, np.argmin(round_trip, axis=0), visits)
    if weight.sum() == 0:
        weight[:] = 1.0
    quota = tours.fleet_size * weight / weight.sum()
    vans = np.floor(quota).astype(np.int64)
    rest = tours.fleet_size - int(vans.sum())
    order = sorted(range(n_depots), key=lambda p: (-(quota[p] - vans[p]), p))
    vans[order[:rest]] += 1
    return vans


def servable(
    stop: int,
    matrix: TravelMatrix,
    depots: np.ndarray,
    windows: list[tuple[int, int]],
    *,
    shift: Shift,
    service: int,
) -> list[tuple[int, int]]:
    """The service windows of a stop that some van can reach and return from in a shift.

    A window is kept when a van leaving its point at the shift's start, serving the stop
    as early as the window allows, is back by the shift's end (in whole seconds, as the
    model counts).
    """
    if len(depots) == 0:
        return []
    out_s, back_s = matrix.seconds[depots, stop], matrix.seconds[stop, depots]
    return servable_windows(out_s, back_s, windows, shift=shift, service=service)


def servable_windows(
    out_s: np.ndarray,
    back_s: np.ndarray,
    windows: list[tuple[int, int]],
    *,
    shift: Shift,
    service: int,
) -> list[tuple[int, int]]:
    """:func:`servable` from the drive seconds out to a stop and back, one per depot."""
    ok = _serves(out_s, back_s, windows, shift=shift, service=service)
    return [w for w, col in zip(windows, ok.T, strict=True) if bool(col.any())]


def _serves(
    out_s: np.ndarray,
    back_s: np.ndarray,
    windows: list[tuple[int, int]],
    *,
    shift: Shift,
    service: int,
) -> np.ndarray:
    """Whether a van of each depot (rows) can serve a stop alone in each window (columns)."""
    out_s, back_s = np.rint(out_s), np.rint(back_s)
    ok = np.zeros((len(out_s), len(windows)), dtype=bool)
    for k, (lo, hi) in enumerate(windows):
        begin = np.maximum(shift.start + out_s, lo)
        ok[:, k] = (begin <= hi) & (begin + service + back_s <= shift.work_end)
    return ok


def _why_unservable(
    stop: int, matrix: TravelMatrix, depots: np.ndarray, *, shift: Shift, service: int
) -> tuple[str, str]:
    """The reason code and its detail for a stop no van can serve."""
    trip = matrix.seconds[depots, stop] + matrix.seconds[stop, depots]
    if not np.isfinite(trip).any():
        return "unreachable", "no road from any repair point with vans"
    best = float(np.min(trip)) + service
    if best > shift.work_seconds:
        return "round_trip", (
            f"the round trip from the nearest repair point plus service takes "
            f"{best / 60:.0f} min, a shift has {shift.work_seconds / 60:.0f} working min"
        )
    return "time_window", "its hours leave no time to get there and back within the shift"


def build_problem(
    stops: pd.DataFrame,
    matrix: TravelMatrix,
    tours: ToursSection,
    *,
    n_depots: int,
    depot_names: list[str] | None = None,
) -> WeeklyProblem:
    """The weekly problem: vehicle types per (point, day), a client group per visit.

    Parameters
    ----------
    stops
        One row per stop: ``stop_id``, ``name``, ``kind`` ('villages' or 'stations'),
        optionally ``evs``; in the order of the matrix's points after the depots.
    matrix
        Drive times and distances; points ``0 .. n_depots-1`` are the repair points.
    tours
        The config section.
    n_depots
        Number of repair points.
    depot_names
        Their names, for the vehicle types.

    Returns
    -------
    WeeklyProblem
        The PyVRP data, with the unservable stops set aside (and not in the data).
    """
    import pyvrp

    shift = Shift.from_config(tours)
    per_week = stop_frequencies(stops, tours)
    service = service_seconds(stops, tours)
    vans = share_fleet(tours, matrix, n_depots, per_week)
    depots = np.flatnonzero(vans > 0)
    names = depot_names or [str(p) for p in range(n_depots)]
    vehicle_types, vt_meta = _vehicle_types(vans, names, tours.days, shift)
    finite = matrix.metres[np.isfinite(matrix.metres)]
    prize = int(10 * (finite.max() if finite.size else 0.0)) + 1_000_000
    visits = _Visits(prize)
    weekdays = [weekday_index(d) for d in tours.days]
    unservable: dict[int, tuple[str, str]] = {}
    gaps: dict[int, int] = {}
    spread = DaySpread(matrix, depots, len(weekdays), vans[depots] * shift.work_seconds)
    for i in range(len(stops)):
        point, secs = n_depots + i, int(service[i])
        windows = shift.service_windows(stop_hours(tours, str(stops[STOP_KIND].iloc[i])), secs)
        windows = servable(point, matrix, depots, windows, shift=shift, service=secs)
        if not windows:
            unservable[i] = _why_unservable(point, matrix, depots, shift=shift, service=secs)
            continue
        n, k = len(weekdays), int(per_week[i])
        gaps[i] = visit_gap(n, k, min_gap=tours.min_gap_days)
        blocks = spread.pick(point, visit_layouts(n, k, min_gap=tours.min_gap_days), secs)
        for v, block in enumerate(blocks, start=1):
            days = [weekdays[d] for d in block]
            spare = [w for d, w in enumerate(weekdays) if d not in block]
            visits.add(Copy(stop=i, visit=v, weekday=-1), point, days, windows, secs, spare)
    # PyVRP's stubs type a matrix as np.ndarray[int], which no numpy array is
    distances: Any = _integers(matrix.metres)
    durations: Any = _integers(matrix.seconds)
    data = pyvrp.ProblemData(
        locations=[
            pyvrp.Location(x=float(x), y=float(y)) for x, y in zip(matrix.x, matrix.y, strict=True)
        ],
        clients=visits.clients,
        depots=[pyvrp.Depot(location=p, name=names[p]) for p in range(n_depots)],
        vehicle_types=vehicle_types,
        distance_matrices=[distances],
        duration_matrices=[durations],
        groups=visits.groups,
    )
    spare = visits.spare_clients
    return WeeklyProblem(
        data=data,
        copies=visits.copies + visits.spare_copies,
        vehicle_types=vt_meta,
        vans=vans,
        per_week=per_week,
        unservable=unservable,
        prize=prize,
        repair_data=data.replace(clients=visits.clients + spare) if spare else None,
        weekdays=weekdays,
        gaps=gaps,
    )


def _vehicle_types(
    vans: np.ndarray, names: list[str], days: Sequence[str], shift: Shift
) -> tuple[list[Any], list[tuple[int, int]]]:
    """One vehicle type per (repair point with vans, working day), and what each stands for."""
    import pyvrp

    types, meta = [], []
    for p in np.flatnonzero(vans > 0):
        for day in days:
            w = weekday_index(day)
            types.append(
                pyvrp.VehicleType(
                    num_available=int(vans[p]),
                    start_depot=int(p),
                    end_depot=int(p),
                    tw_early=w * DAY_S + shift.start,
                    tw_late=w * DAY_S + shift.work_end,
                    shift_duration=shift.work_seconds,
                    name=f"{names[p]}/{day}",
                )
            )
            meta.append((int(p), w))
    return types, meta


class _Visits:
    """The model's clients and groups: a group of day copies per weekly visit, and the
    spare copies of the repair (days outside the visit's block, in no group)."""

    def __init__(self, prize: int) -> None:
        self.prize = prize
        self.clients: list[Any] = []
        self.groups: list[Any] = []
        self.copies: list[Copy] = []
        self.spare_clients: list[Any] = []
        self.spare_copies: list[Copy] = []

    def add(
        self,
        visit: Copy,
        point: int,
        days: list[int],
        windows: list[tuple[int, int]],
        secs: int,
        spare: list[int] | None = None,
    ) -> None:
        """One visit: a copy per allowed day and service window, at most one served; and
        a spare copy per day of ``spare`` and window."""
        import pyvrp

        members, group = [], len(self.groups)
        for w, (lo, hi) in ((w, win) for w in days for win in windows):
            members.append(len(self.clients))
            self.clients.append(self._client(point, secs, w, lo, hi, group))
            self.copies.append(Copy(visit.stop, visit.visit, w, group))
        for w, (lo, hi) in ((w, win) for w in spare or [] for win in windows):
            self.spare_clients.append(self._client(point, secs, w, lo, hi, None))
            self.spare_copies.append(Copy(visit.stop, visit.visit, w, group, spare=True))
        self.groups.append(pyvrp.ClientGroup(members, required=False))

    def _client(self, point: int, secs: int, w: int, lo: int, hi: int, group: int | None) -> Any:
        import pyvrp

        return pyvrp.Client(
            location=point,
            service_duration=secs,
            tw_early=w * DAY_S + lo,
            tw_late=w * DAY_S + hi,
            prize=self.prize,
            required=False,
            group=group,
        )


def _integers(values: np.ndarray) -> np.ndarray:
    """A matrix rounded to integers for PyVRP, unreachable pairs at PyVRP's largest value."""
    from pyvrp.constants import MAX_VALUE

    out = np.full(values.shape, MAX_VALUE, dtype=np.int64)
    ok = np.isfinite(values)
    out[ok] = np.minimum(np.rint(values[ok]), MAX_VALUE).astype(np.int64)
    return out
