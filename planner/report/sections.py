"""The texts of the run's report: its key figures, notes, warnings and solver labels.

Each builder takes the summary and a :class:`~planner.i18n.Lang` (English when None) and
gives plain texts, not yet escaped; :mod:`planner.report.content` puts them in order and
:mod:`planner.report.html_page` / :mod:`planner.report.markdown_page` lay them out. The
tables of the report are built in :mod:`planner.report.report_tables`.
"""

from __future__ import annotations

import math
import re
from typing import Any

from planner.i18n import N_, Lang, translator
from planner.report.assumptions import pass_name, status_text
from planner.report.plan_tables import share_shown

#: Display names of the solvers.
SOLVER_NAMES = {"highs": "HiGHS", "cbc": "CBC"}

#: Labels of the run's stages (``summary["timings_s"]``).
STAGE_LABELS = {
    "ingest": N_("reading the inputs"),
    "demand": N_("demand"),
    "candidates": N_("candidate sites"),
    "network": N_("road network and drive times"),
    "optimize": N_("optimisation"),
    "tours": N_("repair vans' tours"),
    "report": N_("GIS files and map.html"),
}


def english(lang: Lang | None) -> Lang:
    """``lang``, or English when None."""
    return lang if lang is not None else translator("en")


def label_of(labels: dict[str, str], key: object, lang: Lang | None) -> str:
    """The translated label of ``key`` in ``labels``; the key itself when it has none."""
    text = str(key or "")
    return english(lang).gettext(labels[text]) if text in labels else text


def num(x: float | None, digits: int = 0, *, lang: Lang | None = None) -> str:
    """A number with thousands separators; "n/a" (translated) when missing."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return english(lang).gettext("n/a")
    return f"{float(x):,.{digits}f}"


def pct(x: float | None, digits: int = 1, *, lang: Lang | None = None) -> str:
    """A share as a percentage; "n/a" (translated) when missing. A share under 1 never
    shows as 100% (99.994% is "99.9%": a township with one village unreached is not
    fully covered)."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return english(lang).gettext("n/a")
    return f"{100 * share_shown(float(x), digits):.{digits}f}%"


def gap_text(x: float | None, digits: int = 2, *, lang: Lang | None = None) -> str:
    """A solve's gap as a percentage; when it has none (the solve stopped before it had a
    bound), says so: "n/a" could be read as "no gap"."""
    if x is None or not math.isfinite(float(x)):
        return english(lang).gettext("no bound (stopped first)")
    return pct(x, digits, lang=lang)


def plan_status(summary: dict[str, Any], *, lang: Lang | None = None) -> str:
    """The solver and the worst status of the passes, e.g. ``HiGHS: optimal``."""
    lang = english(lang)
    solver = SOLVER_NAMES.get(str(summary.get("solver", "")), str(summary.get("solver", "")))
    status = status_text(str(summary.get("status", "")), lang=lang)
    return lang("{solver}: {status}", solver=solver, status=status) if solver else status


def budget_label(summary: dict[str, Any], *, lang: Lang | None = None) -> str:
    """The budget's label: with repair.mode 'joint' it caps the repair points too."""
    lang = english(lang)
    if summary.get("repair_mode") == "joint":
        return lang("Budget, stations and repair points (CNY)")
    return lang("Station budget (CNY)")


def key_figures(summary: dict[str, Any], *, lang: Lang | None = None) -> list[tuple[str, str, str]]:
    """The plan at a glance as (id, label, text) rows.

    Parameters
    ----------
    summary
        The run's summary (summary.json).
    lang
        The report's language (English when None).

    Returns
    -------
    list of (str, str, str)
        The id names the summary key a row shows (tests and readers can find it in the
        HTML as ``id="fig-<id>"``); texts are not yet escaped.
    """
    lang = english(lang)
    s = summary
    over = s.get("substations_over_headroom") or []
    budget = s.get("budget")
    none = lang("none")

    def n(key: str, digits: int = 0) -> str:
        return num(s.get(key), digits, lang=lang)

    rows = [
        ("county", lang("County"), str(s.get("county", ""))),
        ("stations", lang("Charging stations"), n("stations")),
        ("chargers", lang("Chargers"), n("chargers")),
        ("charger_kw_total", lang("Charging power (kW)"), n("charger_kw_total")),
        ("repair_points", lang("Repair points"), n("repair_points")),
        ("capex_total", lang("Capital cost (CNY)"), n("capex_total")),
        ("capex_stations", lang("of which stations (CNY)"), n("capex_stations")),
        ("capex_repair", lang("of which repair points (CNY)"), n("capex_repair")),
        ("budget", budget_label(s, lang=lang), none if budget is None else n("budget")),
        ("demand_covered_share", lang("Sessions covered"),
         pct(s.get("demand_covered_share"), lang=lang)),
        ("sessions_served_day", lang("Sessions/day covered"),
         lang("{part} of {whole}", part=n("sessions_served_day", 1), whole=n("sessions_day", 1))),
        ("townships_with_station", lang("Townships with a station, new or existing"),
         lang("{part} of {whole}", part=n("townships_with_station"), whole=n("townships_total"))),
        ("mean_travel_min", lang("Mean drive time to the assigned station (min)"),
         n("mean_travel_min", 1)),
        ("mean_nearest_min", lang("Mean drive time to the nearest station (min)"),
         n("mean_nearest_min", 1)),
        ("max_travel_min", lang("Worst drive time of a covered point (min)"),
         n("max_travel_min", 1)),
        ("station_cutoff_min", lang("Coverage cutoff (min)"), n("station_cutoff_min", 1)),
        ("repair_response_min", lang("Repair response time (min)"), n("repair_response_min", 1)),
        ("status", lang("Plan status (every pass)"), plan_status(s, lang=lang)),
        ("gap", lang("Largest optimality gap of the passes"), gap_text(s.get("gap"), lang=lang)),
        ("skipped_passes", lang("Passes not run (model size)"),
         lang.gettext(", ").join(pass_name(p, lang=lang) for p in s.get("skipped_passes") or [])
         or none),
        ("repair_status", lang("Repair model status"),
         status_text(str(s["repair_status"]), lang=lang) if s.get("repair_status")
         else lang("n/a")),
        ("villages_unreached_by_repair", lang("Villages beyond the repair response time"),
         n("villages_unreached_by_repair")),
        ("substations_over_headroom", lang("Substations over their headroom"),
         over_text(s, lang=lang) if over else none),
    ]  # fmt: skip
    unknown = unknown_loaded(s)
    if unknown:
        text = lang.gettext(", ").join(
            lang("{id} {load} kW", id=u["substation_id"], load=num(u["charger_kw"], lang=lang))
            for u in unknown
        )
        label = lang("Substations fed without a known headroom (planned kW)")
        rows.append(("substations_headroom_unknown", label, text))
    optional = [
        ("existing_chargers", lang("Existing public chargers (sites)"), 0),
        (
            "existing_sessions_served_day",
            lang("Sessions/day served at existing chargers (in those covered)"),
            1,
        ),
        ("repair_points_at_stations", lang("Repair points at a charging station"), 0),
    ]
    rows += [(key, label, n(key, digits)) for key, label, digits in optional if key in s]
    return rows


def data_notes(summary: dict[str, Any], *, shown: int = 20, lang: Lang | None = None) -> list[str]:
    """Sentences on gaps in the input data that the reader must know of.

    Parameters
    ----------
    summary
        The run's summary (summary.json).
    shown
        At most this many township names are listed.
    lang
        The report's language (English when None).

    Returns
    -------
    list of str
        Plain sentences (not yet escaped), empty when the data has no such gap.
    """
    lang = english(lang)
    notes = []
    empty = summary.get("townships_without_demand") or []
    if empty:
        names = [f"{t.get('township_name') or t.get('township_id')}" for t in empty]
        listed = lang.gettext(", ").join(names[:shown])
        if len(names) > shown:
            listed = lang("{names} and {n} more", names=listed, n=len(names) - shown)
        notes.append(
            lang(
                "{n} of {total} townships have no demand (population 0): {names}; they are "
                "grey on the maps.",
                n=len(empty),
                total=num(summary.get("townships_total"), lang=lang),
                names=listed,
            )
        )
    left = summary.get("demand_left_out") or {}
    if left.get("points") and left.get("min_population") is not None:
        notes.append(
            lang(
                "{people} people in {points} populated squares of fewer than {least} people "
                "each are left out of the demand ({share} of the county's people; "
                "demand.min_population).",
                people=num(left.get("population"), lang=lang),
                points=num(left.get("points"), lang=lang),
                least=num(left.get("min_population"), 1 if left["min_population"] % 1 else 0,
                          lang=lang),
                share=_share_text(left, summary),
            )
        )  # fmt: skip
    elif left.get("points"):  # a summary written before the threshold was recorded
        notes.append(
            lang(
                "{people} people in {points} populated squares below demand.min_population "
                "are left out of the demand ({share} of the county's people).",
                people=num(left.get("population"), lang=lang),
                points=num(left.get("points"), lang=lang),
                share=_share_text(left, summary),
            )
        )
    connection = str(summary.get("connection_costs") or "")
    default = re.fullmatch(r"default ([\d,.]+) CNY per site", connection)
    if connection == "not included":
        notes.append(
            lang(
                "Grid connection costs are not included: the inputs hold no 10 kV lines or "
                "substations, so the capital costs leave out the connection of each site "
                "(costs.connection_default sets a cost per site)."
            )
        )
    elif default:
        notes.append(
            lang(
                "Grid connection costs are a default of {cost} CNY per site "
                "(costs.connection_default): the inputs hold no 10 kV lines or substations "
                "to measure from.",
                cost=default.group(1),
            )
        )
    return notes


_PASSES_TEXT = N_(
    "The plan is solved in passes: the most sessions covered; the least capital cost that "
    "covers as many; at that coverage and cost, the least drive time, the sites of the "
    "cost pass kept and their chargers re-chosen; when repair points are planned after "
    "the stations, the cheapest repair points. Each pass holds the optima of the ones "
    "before and stops when it has proved its optimality gap: how much better than its "
    "plan the best possible plan can at most be, in the pass's own figure. The first pass "
    "also stops once it has searched solver.first_stall_nodes nodes without a better plan, "
    "a pass after it once it has searched solver.stall_nodes, and on a large county the "
    "capex pass keeps the coverage plan's sites; such a "
    "pass is 'stopped by the work limit', and its gap says how much better its figure "
    "might still be (for the capex pass: how much less a plan covering as many sessions "
    "might cost). The plan's capital cost is that of the last pass, at most the capex "
    "pass's objective. The plan is optimal only when every pass is; a pass stopped at the "
    "time limit (solver.time_limit_s) leaves a plan that may differ on another machine "
    "or at another load."
)

#: What the solver table means, in English (see :func:`passes_text`).
PASSES_TEXT = _PASSES_TEXT


def passes_text(*, lang: Lang | None = None) -> str:
    """What the solver passes are, for the report."""
    return english(lang).gettext(_PASSES_TEXT)


def plan_warnings(summary: dict[str, Any], *, lang: Lang | None = None) -> list[str]:
    """Warnings a reader of the plan must see first: what a time limit stopped."""
    stopped = summary.get("safety_net") or []
    lang = english(lang)
    passes = [p for p in stopped if p != "tours"]
    out = []
    if passes:
        out.append(
            lang(
                "The pass '{passes}' was stopped by the time limit (solver.time_limit_s) before "
                "it proved its gap: this plan is not proven and may differ on another machine "
                "or at another load. Raise the limit and run again.",
                passes=lang.gettext(", ").join(pass_name(p, lang=lang) for p in passes),
            )
        )
    if "tours" in stopped:
        tours = summary.get("tours") or {}
        out.append(
            lang(
                "The repair vans' route search was stopped by its time limit "
                "(tours.time_limit_s) after {done} of {asked} iterations: the tours and their "
                "distances depend on the machine's speed and load. Raise the limit and run "
                "again.",
                done=num(tours.get("iterations_done"), lang=lang),
                asked=num((tours.get("stop") or {}).get("iterations"), lang=lang),
            )
        )
    return out


def stopped_note(summary: dict[str, Any], *, lang: Lang | None = None) -> str | None:
    """One short line for the maps when a time limit stopped a pass or the tours."""
    stopped = summary.get("safety_net") or []
    if not stopped:
        return None
    lang = english(lang)
    names = [lang("repair tours") if p == "tours" else pass_name(p, lang=lang) for p in stopped]
    return lang(
        "Stopped by the time limit, not proven: {what}", what=lang.gettext(", ").join(names)
    )


def _share_text(left: dict[str, Any], summary: dict[str, Any]) -> str:
    """The left-out people as a share of all the raster's (those counted plus those not)."""
    lost = float(left.get("population") or 0.0)
    total = lost + float(summary.get("population") or 0.0)
    share = 100 * lost / total if total > 0 else 0.0
    return "<0.1%" if 0 < share < 0.05 else f"{share:.1f}%"


def over_text(summary: dict[str, Any], *, lang: Lang | None = None) -> str:
    """The substations over their headroom with both figures (``QX-35-01 720 / 300 kW``)."""
    lang = english(lang)
    return lang.gettext(", ").join(
        lang(
            "{id} {load} / {headroom} kW",
            id=o.get("substation_id"),
            load=num(o.get("charger_kw"), lang=lang),
            headroom=num(o.get("headroom_kw"), lang=lang),
        )
        for o in summary.get("substations_over_headroom") or []
    )


def unknown_loaded(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """The substations the plan draws on whose headroom is unknown (``state`` of
    :func:`planner.report.substation_loads.substation_loads`)."""
    rows = summary.get("substation_loads") or []
    return [r for r in rows if r.get("state") == "unknown" and (r.get("charger_kw") or 0) > 0]
