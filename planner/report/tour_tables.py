"""The repair vans' weekly tours for people: the report's section and the workbook's sheets.

Everything comes from what a run keeps: ``summary["tours"]``
(:meth:`planner.tours.stage.TourOutcome.summary`), the layers ``tours`` (one row per van
and day) and ``tour_stops`` (one row per visit), and the plan's layers that name places
(``repair_points``; ``demand`` and ``stations``, whose ``township_id`` places each stop in
its township; ``townships`` for the names). So a finished run's folder is enough
(``planner export`` writes the same workbook).

The report builders give display texts (numbers formatted, not yet escaped); the
workbook builders keep numbers as numbers (see :mod:`planner.report.xlsx`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from planner import columns as C
from planner.config.tours import ToursSection
from planner.i18n import N_, Lang
from planner.report.sections import english, num
from planner.tours.layers import DAY_NAMES, KIND_NAMES, van_totals
from planner.tours.result import reason_text

#: The layers of a run's tours.
TOUR_LAYERS = ("tours", "tour_stops")

#: Columns of :func:`township_visits`.
ASKED, PLANNED = "asked", "planned"


def day_name(code: object, *, lang: Lang | None = None) -> str:
    """The name of a day code (``mon`` -> 星期一 / Monday); other text as it is."""
    text = str(code)
    return english(lang).gettext(DAY_NAMES[text]) if text in DAY_NAMES else text


def kind_name(code: object, *, lang: Lang | None = None) -> str:
    """The name of a kind of stop (``villages`` -> 村 / village); other text as it is."""
    text = str(code)
    return english(lang).gettext(KIND_NAMES[text]) if text in KIND_NAMES else text


def layer_table(layer: pd.DataFrame | None) -> pd.DataFrame:
    """A layer's attributes (no geometry); an empty table for a missing layer."""
    if layer is None:
        return pd.DataFrame()
    geom = getattr(layer, "_geometry_column_name", None)
    return pd.DataFrame(layer.drop(columns=[geom] if geom in layer.columns else []))


def lookup(layer: pd.DataFrame | None, key: str, value: str) -> dict[str, str]:
    """``key`` -> ``value`` of a layer, both as text (empty when either is missing)."""
    table = layer_table(layer)
    if key not in table or value not in table:
        return {}
    pairs = table[[key, value]].dropna()
    return dict(zip(pairs[key].astype(str), pairs[value].astype(str), strict=True))


def stop_townships(layers: Mapping[str, pd.DataFrame]) -> dict[str, str]:
    """Stop id -> township code, from the demand points (villages) and the stations."""
    out = lookup(layers.get("demand"), C.DEMAND_ID, C.TOWNSHIP_ID)
    return out | lookup(layers.get("stations"), C.CANDIDATE_ID, C.TOWNSHIP_ID)


def township_visits(
    stops: pd.DataFrame, unserved: list[dict[str, Any]], township_of: Mapping[str, str]
) -> pd.DataFrame:
    """Per township: stops, weekly visits asked and visits planned.

    Parameters
    ----------
    stops
        The ``tour_stops`` layer (``stop_id``, ``per_week``; one row per planned visit).
    unserved
        ``summary["tours"]["unserved"]`` (``stop_id``, ``missing``).
    township_of
        Stop id -> township code (:func:`stop_townships`); stops it lacks count under "".

    Returns
    -------
    DataFrame
        ``township_id``, ``stops``, ``asked`` and ``planned``, by township code.
    """
    table = layer_table(stops)
    per_stop: dict[str, list[int]] = {}  # stop id -> [asked, planned]
    if len(table):
        ids = table[C.STOP_ID].astype(str)
        asked = pd.to_numeric(table[C.PER_WEEK]).groupby(ids).agg(["max", "size"])
        for stop, most, n in zip(asked.index, asked["max"], asked["size"], strict=True):
            per_stop[str(stop)] = [int(most), int(n)]
    for item in unserved:
        stop = str(item.get("stop_id"))
        if stop not in per_stop:  # no visit planned: all it asks is missing
            per_stop[stop] = [int(item.get("missing") or 0), 0]
    rows = [(township_of.get(s, ""), a, p) for s, (a, p) in per_stop.items()]
    frame = pd.DataFrame(rows, columns=[C.TOWNSHIP_ID, ASKED, PLANNED])
    out = frame.groupby(C.TOWNSHIP_ID).agg(
        **{C.STOPS: (ASKED, "size"), ASKED: (ASKED, "sum"), PLANNED: (PLANNED, "sum")}
    )
    return out.reset_index()


@dataclass(frozen=True)
class TourTables:
    """What the report prints of the tours beyond the summary: the config's shift and the
    tables built from the layers (display texts, headings translated)."""

    settings: list[tuple[str, str, str]]
    vans: pd.DataFrame | None = None
    townships: pd.DataFrame | None = None


def shift_rows(tours: ToursSection, *, lang: Lang | None = None) -> list[tuple[str, str, str]]:
    """The vans' shift, lunch break and service times, as (id, label, text) rows."""
    lang = english(lang)
    return [
        ("tours_shift", lang("Shift"), shift_text(tours, lang=lang)),
        ("tours_service_min", lang("Time at each stop (min)"), service_text(tours, lang=lang)),
    ]


def shift_text(tours: ToursSection, *, lang: Lang | None = None) -> str:
    """The shift, with its lunch break if any (``08:00–17:00, lunch break from ...``)."""
    lang = english(lang)
    shift = f"{tours.shift_start}–{tours.shift_end}"
    if tours.lunch_start is None:
        return shift
    return lang(
        "{shift}, lunch break from {start} ({minutes} min)",
        shift=shift,
        start=tours.lunch_start,
        minutes=num(tours.lunch_min, lang=lang),
    )


def service_text(tours: ToursSection, *, lang: Lang | None = None) -> str:
    """Minutes at each stop: one number, or one per kind of stop where they differ."""
    lang = english(lang)
    minutes = {kind: tours.service_of(kind) for kind in tours.stops}
    if len(set(minutes.values())) == 1:
        return num(next(iter(minutes.values())), lang=lang)
    return lang.gettext(", ").join(
        f"{kind_name(k, lang=lang)} {num(m, lang=lang)}" for k, m in minutes.items()
    )


def tour_tables(
    layers: Mapping[str, pd.DataFrame],
    summary: Mapping[str, Any] | None,
    tours: ToursSection | None,
    *,
    lang: Lang | None = None,
) -> TourTables | None:
    """The tables of the report's tours section (None when the run has no tours)."""
    if not all(name in layers for name in TOUR_LAYERS):
        return None
    lang = english(lang)
    week = (summary or {}).get("tours") or {}
    unserved = list(week.get("unserved") or [])
    visits = township_visits(layers["tour_stops"], unserved, stop_townships(layers))
    return TourTables(
        settings=[] if tours is None else shift_rows(tours, lang=lang),
        vans=van_view(
            layers["tours"], layers.get("repair_points"), vans=week.get("vans"), lang=lang
        ),
        townships=township_view(visits, layers.get("townships"), lang=lang),
    )


def van_view(
    tours: pd.DataFrame,
    repair_points: pd.DataFrame | None,
    *,
    vans: Mapping[str, int] | None = None,
    lang: Lang | None = None,
) -> pd.DataFrame:
    """Per van: its repair point, days out, visits, km and drive hours in the week; a
    total row last. ``vans`` (repair point id -> vans based there, as in ``summary["tours"]``)
    adds the vans without a tour all week, with zeros."""
    lang = english(lang)
    week = van_totals(layer_table(tours), vans=vans)
    names = lookup(repair_points, C.REPAIR_ID, C.NAME)
    # days out, visits, km and drive hours (with their decimals): per van, then the sums
    figures = [(week["days"], 0), (week["visits"], 0), (week[C.KM], 1), (week[C.DRIVE_H], 1)]
    texts = [[num(v, digits, lang=lang) for v in values] for values, digits in figures]
    repair = [names.get(str(r), str(r)) for r in week[C.REPAIR_ID]]
    rows = [[str(v), p, *t] for v, p, *t in zip(week[C.VAN], repair, *texts, strict=True)]
    total = [lang("Total"), "", *(num(values.sum(), d, lang=lang) for values, d in figures)]
    headings = [
        lang("Van"),
        lang("Repair point"),
        lang("Days out"),
        lang("Visits"),
        lang("Distance (km/week)"),
        lang("Driving (h/week)"),
    ]
    return pd.DataFrame([*rows, total], columns=headings)


def township_view(
    visits: pd.DataFrame, townships: pd.DataFrame | None, *, lang: Lang | None = None
) -> pd.DataFrame:
    """:func:`township_visits` as the report prints it: names, in code order."""
    lang = english(lang)
    names = lookup(townships, C.TOWNSHIP_ID, C.TOWNSHIP_NAME)
    rows = [
        [
            names.get(str(r[C.TOWNSHIP_ID]), str(r[C.TOWNSHIP_ID])) or lang("unknown"),
            str(r[C.TOWNSHIP_ID]),
            num(r[C.STOPS], lang=lang),
            num(r[ASKED], lang=lang),
            num(r[PLANNED], lang=lang),
        ]
        for _, r in visits.sort_values(C.TOWNSHIP_ID).iterrows()
    ]
    headings = [
        lang("Township"),
        lang("Code"),
        lang("Stops"),
        lang("Visits asked per week"),
        lang("Visits planned per week"),
    ]
    return pd.DataFrame(rows, columns=headings)


#: Stops named per reason in the report's table; the others are counted.
NAMED_STOPS = 10


def unserved_view(tours: Mapping[str, Any], *, lang: Lang | None = None) -> pd.DataFrame:
    """The visits left out as the report prints them: one row per reason (the reason in
    words, the stops, the visits left out, the first stops by name), most visits first;
    every stop is in the workbook."""
    lang = english(lang)
    groups: dict[str, list[Mapping[str, Any]]] = {}
    for u in tours.get("unserved") or []:
        groups.setdefault(str(u.get("reason", "")), []).append(u)
    rows = []
    for reason, items in groups.items():
        named = [f"{u.get('name', '')} ({u.get('stop_id', '')})" for u in items[:NAMED_STOPS]]
        text = lang.gettext(", ").join(named)
        if len(items) > NAMED_STOPS:
            more = num(len(items) - NAMED_STOPS, lang=lang)
            text = lang("{stops} and {more} more", stops=text, more=more)
        missing = sum(int(u.get("missing") or 0) for u in items)
        rows.append((missing, [reason_text(reason, lang=lang), num(len(items), lang=lang),
                               num(missing, lang=lang), text]))  # fmt: skip
    rows.sort(key=lambda r: -r[0])
    headings = [lang("Reason"), lang("Stops"), lang("Visits left out"), lang("Stops left out")]
    return pd.DataFrame([r for _, r in rows], columns=headings)


def tour_figures(
    tours: Mapping[str, Any],
    *,
    settings: list[tuple[str, str, str]] | None = None,
    lang: Lang | None = None,
) -> list[tuple[str, str, str]]:
    """The week at a glance as (id, label, text) rows (ids ``tours_*``).

    Parameters
    ----------
    tours
        ``summary["tours"]``.
    settings
        Rows of :func:`shift_rows`, shown after the working days.
    lang
        The report's language (English when None).
    """
    lang = english(lang)
    vans = tours.get("vans") or {}
    sep = lang.gettext(", ")
    search = {
        "version": str(tours.get("engine_version", "")),
        "seed": tours.get("seed", ""),
        "iterations": num(tours.get("iterations_done"), lang=lang),
    }
    rows = [
        ("tours_vans", lang("Repair vans"),
         lang("{vans} at {points} repair points", vans=num(tours.get("vans_total"), lang=lang),
              points=num(sum(1 for n in vans.values() if n), lang=lang))),
        ("tours_days", lang("Working days"),
         sep.join(day_name(d, lang=lang) for d in tours.get("days") or [])),
        *(settings or []),
        ("tours_visits", lang("Visits per week planned"),
         lang("{part} of {whole}", part=num(tours.get("visits_served"), lang=lang),
              whole=num(tours.get("visits_asked"), lang=lang))),
        ("tours_unserved_stops", lang("Stops with visits left out"),
         num(tours.get("unserved_stops", len(tours.get("unserved") or [])), lang=lang)),
        ("tours_km_week", lang("Road distance per week (km)"), num(tours.get("km_week"), 1,
                                                                  lang=lang)),
        ("tours_drive_h_week", lang("Driving time per week (h)"),
         num(tours.get("drive_h_week"), 1, lang=lang)),
        ("tours_km_per_van_max", lang("Longest week of a van (km)"),
         num(tours.get("km_per_van_max"), 1, lang=lang)),
        ("tours_search", lang("Route search"),
         lang("PyVRP {version}, seed {seed}, stopped by the time limit after {iterations} "
              "iterations", **search) if tours.get("stopped_by") == "time_limit"
         else lang("PyVRP {version}, seed {seed}, {iterations} iterations", **search)),
    ]  # fmt: skip
    return rows


def tour_assumptions(
    tours: ToursSection, *, lang: Lang | None = None
) -> list[tuple[str, str, str, bool]]:
    """The tours' parameters the plan used: (label, value, unit, set by the county).

    Per kind of stop the vans visit: its service time, visits per week (and by EVs),
    hours and the EVs a stop needs; then the gap between visits, the fleet, days, shift
    and the route search.
    """
    lang = english(lang)
    given = tours.model_fields_set

    def kind_set(kind: str, *names: str) -> bool:
        own = kind in given and bool(set(names) & tours.stop_class(kind).model_fields_set)
        return own or ("service_min" in names and "service_min" in given)

    if tours.fleet_size is not None:
        rows = [(lang("Repair vans in all"), num(tours.fleet_size, lang=lang),
                 lang.unit("vehicles"), True)]  # fmt: skip
    else:
        rows = [(lang("Repair vans per repair point"), num(tours.vans_per_point, lang=lang),
                 lang.unit("vehicles"), "vans_per_point" in given)]  # fmt: skip
    days = lang.gettext(", ").join(day_name(d, lang=lang) for d in tours.days)
    rows += [
        (lang("Working days of the vans"), days, "-", "days" in given),
        (lang("Shift"), shift_text(tours, lang=lang), "-",
         bool({"shift_start", "shift_end", "lunch_start", "lunch_min"} & given)),
    ]  # fmt: skip
    for kind in tours.stops:
        rows += _kind_rows(tours, kind, kind_set, lang)
    gap = (
        num(tours.min_gap_days, lang=lang)
        if tours.min_gap_days is not None
        else lang("2 where the visits fit, else 1")
    )
    rows += [
        (lang("Gap between two visits to a stop, at least"), gap, lang.unit(N_("working days")),
         "min_gap_days" in given),
        (lang("Stops no van can serve"), lang.gettext(UNSERVABLE[tours.unservable]), "-",
         "unservable" in given),
        (lang("Route search: seed"), num(tours.seed, lang=lang), "-", "seed" in given),
        (lang("Route search: iterations"), num(tours.iterations, lang=lang), "-",
         "iterations" in given),
    ]  # fmt: skip
    return rows


#: ``tours.unservable`` in words.
UNSERVABLE = {
    "error": N_("stop the run and name them"),
    "report": N_("plan the others, list them"),
}


def _kind_rows(
    tours: ToursSection, kind: str, kind_set: Any, lang: Lang
) -> list[tuple[str, str, str, bool]]:
    """The rows of one kind of stop: service, visits per week, hours, EVs needed."""
    cls = tours.stop_class(kind)
    name = kind_name(kind, lang=lang)
    visits = num(cls.per_week, lang=lang)
    if cls.per_week_by_evs:
        more = lang.gettext(", ").join(
            lang("{n} from {evs} EVs", n=num(v, lang=lang), evs=num(k, lang=lang))
            for k, v in cls.per_week_by_evs.items()
        )
        visits = f"{visits} ({more})"
    hours = "–".join(cls.time_window) if cls.time_window else lang("the whole shift")
    return [
        (lang("Time at each stop: {kind}", kind=name), num(tours.service_of(kind), lang=lang),
         lang.unit("min"), kind_set(kind, "service_min")),
        (lang("Visits per week: {kind}", kind=name), visits, lang.unit("visits/week"),
         kind_set(kind, "per_week", "per_week_by_evs")),
        (lang("Hours of the stops: {kind}", kind=name), hours, "-",
         kind_set(kind, "time_window")),
        (lang("EVs a stop needs, at least: {kind}", kind=name), num(cls.min_evs, lang=lang),
         lang.unit("vehicles"), kind_set(kind, "min_evs")),
    ]  # fmt: skip
