"""The repair vans' weekly tours in ``plan.xlsx``: the schedule, the vans' week and the
stops left out, plus the week's figures for the summary sheet.

- 巡回计划 / Tour schedule: every visit of the week (``tour_stops``): day, van, order,
  stop, arrival, service start, departure, wait (hours or lunch), the lunch break taken
  on the way or there, km from the previous stop;
- 维修车周汇总 / Vans' week: per van, its repair point, days out, visits, km and driving
  hours in the week;
- 有服务未安排的站点 / Stops with visits left out: the stops and why (only when there
  are any).

Days and kinds of stop are words in the workbook's language; times stay ``HH:MM`` text.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import geopandas as gpd
import pandas as pd

from planner import columns as C
from planner.config.tours import WEEKDAYS
from planner.i18n import Lang
from planner.report.plan_tables import Spec, header, people_table, with_coordinates
from planner.report.tour_tables import (
    day_name,
    kind_name,
    layer_table,
    lookup,
)
from planner.report.xlsx import Sheet, number_format
from planner.tours.layers import van_totals
from planner.tours.result import reason_text, van_key

#: The schedule's columns, in order: (column, decimals); None keeps text.
SCHEDULE_COLUMNS: Spec = (
    (C.DAY, None),
    (C.VAN, None),
    (C.ORDER, 0),
    (C.STOP_ID, None),
    (C.NAME, None),
    (C.TOWNSHIP_NAME, None),
    (C.KIND, None),
    (C.ARRIVAL, None),
    (C.START, None),
    (C.DEPARTURE, None),
    (C.WAIT_MIN, 0),
    (C.LUNCH, None),
    (C.KM_FROM_PREVIOUS, 1),
    (C.LON, 7),
    (C.LAT, 7),
)


def schedule_table(stops: pd.DataFrame, *, lang: Lang) -> pd.DataFrame:
    """The ``tour_stops`` layer as the workbook prints it: by day, van and order, days
    and kinds as words, headers with units."""
    table = layer_table(stops)
    if not table.empty and isinstance(stops, gpd.GeoDataFrame):
        table = with_coordinates(stops)  # where to find a stop the name does not tell
    if table.empty:
        empty = pd.DataFrame(columns=[c for c, _ in SCHEDULE_COLUMNS])
        return people_table(empty, SCHEDULE_COLUMNS, lang=lang)
    day = table[C.DAY].astype(str)
    rank = day.map({d: i for i, d in enumerate(WEEKDAYS)}).fillna(len(WEEKDAYS))
    vans = sorted(set(table[C.VAN].astype(str)), key=van_key)  # r000-2 before r000-10
    van = table[C.VAN].astype(str).map({v: i for i, v in enumerate(vans)})
    table = table.assign(_rank=rank, _van=van)
    table = table.sort_values(["_rank", "_van", C.ORDER], kind="stable")
    table[C.DAY] = table[C.DAY].map(lambda d: day_name(d, lang=lang))
    table[C.KIND] = table[C.KIND].map(lambda k: kind_name(k, lang=lang))
    return people_table(table, SCHEDULE_COLUMNS, lang=lang)


def van_week_table(
    tours: pd.DataFrame,
    repair_points: pd.DataFrame | None,
    *,
    vans: Mapping[str, int] | None = None,
    lang: Lang,
) -> pd.DataFrame:
    """Per van: its repair point, days out, visits, km and driving hours in the week;
    with ``vans`` (repair point id -> vans), the vans without a tour all week too."""
    week = van_totals(layer_table(tours), vans=vans)
    names = lookup(repair_points, C.REPAIR_ID, C.NAME)
    return pd.DataFrame(
        {
            lang.label(C.VAN): week[C.VAN].astype(str),
            lang.label(C.REPAIR_ID): week[C.REPAIR_ID].astype(str),
            lang("Repair point"): [names.get(str(r), "") for r in week[C.REPAIR_ID]],
            lang("Days out"): week["days"].astype(int),
            lang("Visits"): week["visits"].astype(int),
            # Python's rounding, as the report's texts round (numpy's half-way cases differ:
            # a sum of 251.05000000000001 is 251.0 in numpy, 251.1 in the report)
            lang("Distance (km/week)"): week[C.KM].astype(float).map(lambda v: round(v, 1)),
            lang("Driving (h/week)"): week[C.DRIVE_H].astype(float).map(lambda v: round(v, 1)),
        }
    )


def unserved_table(tours: Mapping[str, Any], *, lang: Lang) -> pd.DataFrame:
    """The stops with visits left out: stop, name, visits left out, reason in words."""
    rows = [
        (
            str(u.get("stop_id", "")),
            str(u.get("name", "")),
            int(u.get("missing") or 0),
            reason_text(u.get("reason", ""), lang=lang),
        )
        for u in tours.get("unserved") or []
    ]
    headers = [lang.label(C.STOP_ID), lang.label(C.NAME), lang("Visits left out"), lang("Reason")]
    return pd.DataFrame(rows, columns=headers)


def tour_sheets(
    summary: Mapping[str, Any], layers: Mapping[str, pd.DataFrame], *, lang: Lang
) -> list[Sheet]:
    """The tours' sheets (none when the run has no tours)."""
    if "tour_stops" not in layers or "tours" not in layers:
        return []
    schedule = schedule_table(layers["tour_stops"], lang=lang)
    formats = {
        header(column, lang): number_format(decimals)
        for column, decimals in SCHEDULE_COLUMNS
        if decimals is not None
    }
    week = van_week_table(
        layers["tours"],
        layers.get("repair_points"),
        vans=(summary.get("tours") or {}).get("vans"),
        lang=lang,
    )
    one = number_format(1)
    sheets = [
        Sheet(lang("Tour schedule"), schedule, formats),
        Sheet(
            lang("Vans' week"),
            week,
            {lang("Distance (km/week)"): one, lang("Driving (h/week)"): one},
        ),
    ]
    unserved = unserved_table(summary.get("tours") or {}, lang=lang)
    if len(unserved):
        sheets.append(Sheet(lang("Stops with visits left out"), unserved))
    return sheets


def tour_headlines(tours: Mapping[str, Any], *, lang: Lang) -> list[tuple[str, Any, str, int]]:
    """The week's figures for the summary sheet: (label, value, unit, decimals)."""
    rows = [
        (lang("Repair vans"), tours.get("vans_total"), lang.unit("vehicles"), 0),
        (lang("Visits asked per week"), tours.get("visits_asked"), lang.unit("visits/week"), 0),
        (lang("Visits per week planned"), tours.get("visits_served"), lang.unit("visits/week"), 0),
        (lang("Stops with visits left out"), tours.get("unserved_stops"), lang.unit("count"), 0),
        (lang("Road distance of the vans per week"), tours.get("km_week"), lang.unit("km"), 1),
        (lang("Driving time of the vans per week"), tours.get("drive_h_week"), lang.unit("h"), 1),
        (lang("Seed of the route search"), tours.get("seed"), "", 0),
        (lang("Iterations of the route search"), tours.get("iterations_done"), "", 0),
    ]
    return [r for r in rows if r[1] is not None]
