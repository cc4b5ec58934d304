"""Tables and map layers of a weekly plan: the schedule, the tours along the roads, the
stops in order, and the figures per van and per township.

Column names are plain English keys (as the rest of the outputs); the day is a code
(``mon`` ... ``sun``) whose words are :data:`DAY_NAMES`; times are ``HH:MM`` of the day.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal
from itertools import pairwise

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import CRS
from shapely import LineString, Point

from planner.datatypes import RoadGraph
from planner.i18n import N_
from planner.tours.matrix import RoadPoints, TravelMatrix, leg_paths, route_geometry
from planner.tours.problem import STOP_TOWNSHIP
from planner.tours.result import TourPlan, van_key, van_name
from planner.tours.timing import clock_text

#: Day code -> its name (translated where shown).
DAY_NAMES = {
    "mon": N_("Monday"),
    "tue": N_("Tuesday"),
    "wed": N_("Wednesday"),
    "thu": N_("Thursday"),
    "fri": N_("Friday"),
    "sat": N_("Saturday"),
    "sun": N_("Sunday"),
}

#: Kind of stop -> its name (translated where shown).
KIND_NAMES = {"villages": N_("village"), "stations": N_("charging station")}

#: Columns of the layers and tables (the lead lists them in planner.columns).
VAN, REPAIR_ID, DAY, ORDER = "van", "repair_id", "day", "order"
STOP_ID, NAME, KIND, VISIT, PER_WEEK = "stop_id", "name", "kind", "visit", "per_week"
ARRIVAL, START, DEPARTURE, WAIT_MIN = "arrival", "start", "departure", "wait_min"
KM, DRIVE_H, STOPS, SEQUENCE, LUNCH = "km", "drive_h", "stops", "sequence", "lunch"
# "back", not "end": KML readers take a field named end (or begin) for a TimeSpan
END, KM_FROM_PREVIOUS, DAYS, VISITS = "back", "km_from_previous", "days", "visits"
MISSING, REASON = "missing", "reason"

#: Decimals of the distances (km) and drive times (h) in the tables and layers: every
#: output (CSV, workbook, map, report) shows them to 0.1, so they are rounded once, here,
#: and sums of them (a van's week) add up what the tables show.
SHOWN_DECIMALS = 1


def shown(value: float) -> float:
    """A distance (km) or drive time (h) as every output shows it: to 0.1, half-way
    cases up (18.95 km is 19.0, as a reader rounds it).

    Parameters
    ----------
    value
        Kilometres or hours.

    Returns
    -------
    float
        ``value`` rounded to :data:`SHOWN_DECIMALS`, from its shortest decimal text (the
        float nearest 18.95 lies below it, and rounds to 18.9 in Python); formatting the
        result with one decimal, in any output, gives the same figure.
    """
    step = Decimal(1).scaleb(-SHOWN_DECIMALS)
    return float(Decimal(repr(float(value))).quantize(step, rounding=ROUND_HALF_UP))


def schedule_frame(plan: TourPlan) -> pd.DataFrame:
    """The week's schedule (``tours.csv``): one row per visit, by day, van and order."""
    rows = [
        {
            DAY: t.day,
            VAN: t.van,
            REPAIR_ID: t.repair_id,
            ORDER: v.order,
            STOP_ID: v.stop_id,
            NAME: v.name,
            KIND: v.kind,
            VISIT: v.visit,
            PER_WEEK: v.per_week,
            ARRIVAL: clock_text(60 * v.arrival_min),
            START: clock_text(60 * v.start_min),
            DEPARTURE: clock_text(60 * v.departure_min),
            WAIT_MIN: round(v.wait_min, 1),
            LUNCH: None if v.lunch_min is None else clock_text(60 * v.lunch_min),
            KM_FROM_PREVIOUS: shown(v.km_from_previous),
        }
        for t in plan.tours
        for v in t.visits
    ]
    columns = [DAY, VAN, REPAIR_ID, ORDER, STOP_ID, NAME, KIND, VISIT, PER_WEEK]
    columns += [ARRIVAL, START, DEPARTURE, WAIT_MIN, LUNCH, KM_FROM_PREVIOUS]
    return pd.DataFrame(rows, columns=columns)


def tours_frame(plan: TourPlan) -> pd.DataFrame:
    """One row per tour (van and day): km, drive hours, stops, hours out."""
    rows = [
        {
            DAY: t.day,
            VAN: t.van,
            REPAIR_ID: t.repair_id,
            STOPS: len(t.visits),
            KM: shown(t.km),
            DRIVE_H: shown(t.drive_h),
            START: clock_text(60 * t.start_min),
            END: clock_text(60 * t.end_min),
            LUNCH: None if t.lunch_min is None else clock_text(60 * t.lunch_min),
            SEQUENCE: " > ".join(v.stop_id for v in t.visits),
        }
        for t in plan.tours
    ]
    columns = [DAY, VAN, REPAIR_ID, STOPS, KM, DRIVE_H, START, END, LUNCH, SEQUENCE]
    return pd.DataFrame(rows, columns=columns)


def van_week(plan: TourPlan) -> pd.DataFrame:
    """Per van: days out, visits, km and drive hours in the week (for the report); the
    vans that stay at their repair point all week too."""
    return van_totals(tours_frame(plan), vans=plan.vans)


def van_totals(tours: pd.DataFrame, *, vans: Mapping[str, int] | None = None) -> pd.DataFrame:
    """Per van, from a table of tours (:func:`tours_frame`, or the ``tours`` layer): days
    out, visits, km and drive hours in the week, by repair point and van in natural order
    (``r000-2`` before ``r000-10``).

    Parameters
    ----------
    tours
        One row per van and day.
    vans
        Repair point id -> vans based there (``summary["tours"]["vans"]``): the vans
        without a tour all week get a row of zeros. None: the vans with tours only.

    Returns
    -------
    pandas.DataFrame
        Columns ``van``, ``repair_id``, ``days``, ``visits``, ``km``, ``drive_h``.
    """
    columns = [VAN, REPAIR_ID, DAYS, VISITS, KM, DRIVE_H]
    out = pd.DataFrame(columns=columns)
    if not tours.empty:
        totals = {DAYS: (DAY, "count"), VISITS: (STOPS, "sum"), KM: (KM, "sum")}
        out = tours.groupby([VAN, REPAIR_ID], sort=False).agg(
            **totals, **{DRIVE_H: (DRIVE_H, "sum")}
        )
        out[[KM, DRIVE_H]] = out[[KM, DRIVE_H]].map(shown)  # sums of figures to 0.1
        out = out.reset_index()
    idle = _idle_vans(set(out[VAN].astype(str)), vans or {})
    if len(idle):
        out = idle if out.empty else pd.concat([out, idle], ignore_index=True)
    keys = [(van_key(r), van_key(v)) for r, v in zip(out[REPAIR_ID], out[VAN], strict=True)]
    ranks = sorted(range(len(out)), key=keys.__getitem__)
    return out.iloc[ranks].reset_index(drop=True)


def _idle_vans(busy: set[str], vans: Mapping[str, int]) -> pd.DataFrame:
    """A row of zeros for each van of ``vans`` (per repair point) not in ``busy``."""
    rows = [
        {VAN: van_name(r, k), REPAIR_ID: r, DAYS: 0, VISITS: 0, KM: 0.0, DRIVE_H: 0.0}
        for r, n in vans.items()
        for k in range(1, int(n) + 1)
        if van_name(r, k) not in busy
    ]
    return pd.DataFrame(rows, columns=[VAN, REPAIR_ID, DAYS, VISITS, KM, DRIVE_H])


def township_visits(plan: TourPlan, stops: pd.DataFrame) -> pd.DataFrame:
    """Per township: stops, weekly visits asked and made (``stops`` has ``township_id``)."""
    made = np.zeros(len(stops), dtype=np.int64)
    asked = np.zeros(len(stops), dtype=np.int64)
    for t in plan.tours:
        for v in t.visits:
            made[v.stop] += 1
            asked[v.stop] = v.per_week
    for u in plan.unserved:
        asked[u.stop] = u.per_week
    table = pd.DataFrame(
        {STOP_TOWNSHIP: stops[STOP_TOWNSHIP].to_numpy(), "asked": asked, VISITS: made}
    )
    out = table.groupby(STOP_TOWNSHIP).agg(
        **{STOPS: ("asked", "size"), "asked": ("asked", "sum"), VISITS: (VISITS, "sum")}
    )
    return out.reset_index()


def unserved_frame(plan: TourPlan) -> pd.DataFrame:
    """The stops with visits left out, and why (reason codes of ``UNSERVED_REASONS``)."""
    rows = [
        {
            STOP_ID: u.stop_id,
            NAME: u.name,
            KIND: u.kind,
            PER_WEEK: u.per_week,
            MISSING: u.missing,
            REASON: u.reason,
        }
        for u in plan.unserved
    ]
    return pd.DataFrame(rows, columns=[STOP_ID, NAME, KIND, PER_WEEK, MISSING, REASON])


def tour_layers(
    plan: TourPlan, graph: RoadGraph, matrix: TravelMatrix | RoadPoints, *, crs: CRS | str
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """The ``tours`` layer (one line along the roads per van-day) and ``tour_stops``.

    Parameters
    ----------
    plan
        The weekly plan.
    graph
        The road graph the matrix was computed on.
    matrix
        The plan's travel matrix, or its points on the roads (their road nodes; with
        ``reach_s``, the road searches of the legs stop there).
    crs
        The graph's metric CRS.

    Returns
    -------
    tours, tour_stops
        LineStrings with the columns of :func:`tours_frame` (no geometry for a tour
        that stays at its base); points at the stops with
        the columns of :func:`schedule_frame`.
    """
    node = matrix.snap.node
    wanted = {(int(node[a]), int(node[b])) for t in plan.tours for a, b in pairwise(t.points)}
    limit: dict[int, float] | None = None
    if isinstance(matrix, RoadPoints) and matrix.reach_s is not None:
        limit = {}
        for p, secs in enumerate(matrix.reach_s):
            limit[int(node[p])] = max(limit.get(int(node[p]), 0.0), float(secs))
    paths = leg_paths(graph, wanted, limit_s=limit)
    lines = []
    for t in plan.tours:
        coords: list[tuple[float, float]] = []
        for a, b in pairwise(t.points):
            here = (float(matrix.x[a]), float(matrix.y[a]))
            if here == (float(matrix.x[b]), float(matrix.y[b])):  # same place: no drive
                coords += [] if coords and coords[-1] == here else [here]
                continue
            leg = route_geometry(
                graph,
                paths[(int(node[a]), int(node[b]))],
                start=(float(matrix.x[a]), float(matrix.y[a])),
                end=(float(matrix.x[b]), float(matrix.y[b])),
            )
            part = [(float(x), float(y)) for x, y in leg.coords]
            coords += part[1:] if coords and part[0] == coords[-1] else part
        # a tour that stays at its base (its one stop is there) drives no line
        lines.append(LineString(coords) if len(coords) > 1 else None)
    tours = gpd.GeoDataFrame(tours_frame(plan), geometry=np.array(lines, dtype=object), crs=crs)
    # a tour's points are its repair point, its stops in order, its repair point
    points = [
        Point(float(matrix.x[p]), float(matrix.y[p])) for t in plan.tours for p in t.points[1:-1]
    ]
    stops = gpd.GeoDataFrame(schedule_frame(plan), geometry=points, crs=crs)
    return tours, stops
