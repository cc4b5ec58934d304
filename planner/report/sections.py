"""The contents of the run's report: its key figures, notes, warnings and tables.

Each builder takes the summary (or a layer) and gives plain texts or a table of display
texts, not yet escaped; :mod:`planner.report.document` lays them out as report.html and
report.md.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from planner import columns as C

#: Columns of the per-township table: (key, heading).
TOWNSHIP_COLUMNS = (
    ("township", "Township"),
    ("code", "Code"),
    ("population", "Population"),
    ("evs", "EVs"),
    ("sessions", "Sessions/day"),
    ("covered", "Sessions covered"),
    ("stations", "Stations"),
    ("chargers", "Chargers"),
    ("mean_min", "Assigned station, mean (min)"),
    ("worst_min", "Worst village (min)"),
)


def _num(x: float | None, digits: int = 0) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n/a"
    return f"{float(x):,.{digits}f}"


def _pct(x: float | None, digits: int = 1) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n/a"
    return f"{100 * float(x):.{digits}f}%"


def key_figures(summary: dict[str, Any]) -> list[tuple[str, str, str]]:
    """The plan at a glance as (id, label, text) rows.

    Parameters
    ----------
    summary
        The run's summary (summary.json).

    Returns
    -------
    list of (str, str, str)
        The id names the summary key a row shows (tests and readers can find it in the
        HTML as ``id="fig-<id>"``); texts are not yet escaped.
    """
    s = summary
    over = s.get("substations_over_headroom") or []
    budget = s.get("budget")
    rows = [
        ("county", "County", str(s.get("county", ""))),
        ("stations", "Charging stations", _num(s.get("stations"))),
        ("chargers", "Chargers", _num(s.get("chargers"))),
        ("charger_kw_total", "Charging power (kW)", _num(s.get("charger_kw_total"))),
        ("repair_points", "Repair points", _num(s.get("repair_points"))),
        ("capex_total", "Capital cost (CNY)", _num(s.get("capex_total"))),
        ("capex_stations", "of which stations (CNY)", _num(s.get("capex_stations"))),
        ("capex_repair", "of which repair points (CNY)", _num(s.get("capex_repair"))),
        ("budget", "Station budget (CNY)", "none" if budget is None else _num(budget)),
        ("demand_covered_share", "Sessions covered", _pct(s.get("demand_covered_share"))),
        (
            "sessions_served_day",
            "Sessions/day covered",
            f"{_num(s.get('sessions_served_day'), 1)} of {_num(s.get('sessions_day'), 1)}",
        ),
        (
            "townships_with_station",
            "Townships with a station",
            f"{_num(s.get('townships_with_station'))} of {_num(s.get('townships_total'))}",
        ),
        ("mean_travel_min", "Mean drive time to the assigned station (min)",
         _num(s.get("mean_travel_min"), 1)),
        ("mean_nearest_min", "Mean drive time to the nearest station (min)",
         _num(s.get("mean_nearest_min"), 1)),
        ("max_travel_min", "Worst drive time of a covered point (min)",
         _num(s.get("max_travel_min"), 1)),
        ("station_cutoff_min", "Coverage cutoff (min)", _num(s.get("station_cutoff_min"), 1)),
        ("repair_response_min", "Repair response time (min)",
         _num(s.get("repair_response_min"), 1)),
        ("status", "Plan status (every pass)",
         f"{s.get('solver', '')} {s.get('status', '')}".strip()),
        ("gap", "Largest MIP gap of the passes", _pct(s.get("gap"), 2)),
        ("skipped_passes", "Passes not run (model size)",
         ", ".join(s.get("skipped_passes") or []) or "none"),
        ("repair_status", "Repair model status", str(s.get("repair_status") or "n/a")),
        (
            "villages_unreached_by_repair",
            "Villages beyond the repair response time",
            _num(s.get("villages_unreached_by_repair")),
        ),
        (
            "substations_over_headroom",
            "Substations over their headroom",
            ", ".join(str(o.get("substation_id")) for o in over) if over else "none",
        ),
    ]  # fmt: skip
    optional = [
        ("existing_chargers", "Existing public chargers (sites)", _num),
        ("repair_points_at_stations", "Repair points at a charging station", _num),
    ]
    rows += [(key, label, fmt(s[key])) for key, label, fmt in optional if key in s]
    return rows


def data_notes(summary: dict[str, Any], *, shown: int = 20) -> list[str]:
    """Sentences on gaps in the input data that the reader must know of.

    Parameters
    ----------
    summary
        The run's summary (summary.json).
    shown
        At most this many township names are listed.

    Returns
    -------
    list of str
        Plain sentences (not yet escaped), empty when the data has no such gap.
    """
    notes = []
    empty = summary.get("townships_without_demand") or []
    if empty:
        names = [f"{t.get('township_name') or t.get('township_id')}" for t in empty]
        more = f" and {len(names) - shown} more" if len(names) > shown else ""
        notes.append(
            f"{len(empty)} of {_num(summary.get('townships_total'))} townships have no "
            f"demand (population 0): {', '.join(names[:shown])}{more}; they are grey on "
            "the maps."
        )
    connection = summary.get("connection_costs")
    if connection == "not included":
        notes.append(
            "Grid connection costs are not included: the inputs hold no 10 kV lines or "
            "substations, so the capital costs leave out the connection of each site "
            "(costs.connection_default sets a cost per site)."
        )
    elif connection and connection != "included":
        notes.append(
            f"Grid connection costs are a {connection} (costs.connection_default): the "
            "inputs hold no 10 kV lines or substations to measure from."
        )
    return notes


def township_table(townships: pd.DataFrame, *, cutoff_min: float | None) -> pd.DataFrame:
    """The per-township table of the report, as display texts.

    Parameters
    ----------
    townships
        The townships layer (from :func:`planner.report.summary.township_outcome`).
    cutoff_min
        The coverage cutoff, to say "beyond" for townships with unreached villages.

    Returns
    -------
    DataFrame
        One row per township, the columns of :data:`TOWNSHIP_COLUMNS`.
    """
    t = pd.DataFrame(townships.drop(columns=getattr(townships, "_geometry_column_name", [])))
    t = t.sort_values(C.TOWNSHIP_ID, kind="stable")
    rows = []
    beyond = f"> {_num(cutoff_min, 0)}" if cutoff_min is not None else "beyond cutoff"
    for _, r in t.iterrows():
        unreached = int(r.get(C.POINTS_UNREACHED, 0) or 0)
        worst = _num(r.get(C.WORST_STATION_MIN), 1)
        if unreached:
            worst = f"{beyond} ({unreached} villages)"
        rows.append(
            {
                "township": str(r[C.TOWNSHIP_NAME]),
                "code": str(r[C.TOWNSHIP_ID]),
                "population": _num(r[C.POPULATION]),
                "evs": _num(r[C.EVS]),
                "sessions": _num(r[C.SESSIONS_DAY], 1),
                "covered": _pct(r[C.COVERED_SHARE]),
                "stations": _num(r[C.STATIONS]),
                "chargers": _num(r[C.CHARGERS]),
                "mean_min": _num(r.get(C.MEAN_STATION_MIN), 1),
                "worst_min": worst,
            }
        )
    return pd.DataFrame(rows, columns=[k for k, _ in TOWNSHIP_COLUMNS])


def curve_table(curve: list[dict[str, Any]]) -> pd.DataFrame:
    """The coverage-vs-budget points as display texts, by budget."""
    repair = any("repair_points" in p for p in curve)
    rows = []
    for p in sorted(curve, key=lambda p: (p.get("budget") is None, p.get("budget") or 0)):
        row = {
            "Budget (CNY)": "none" if p.get("budget") is None else _num(p.get("budget")),
            "Stations": _num(p.get("stations")),
            "Chargers": _num(p.get("chargers")),
        }
        if repair:
            row["Repair points"] = _num(p.get("repair_points"))
        row |= {
            "Capex (CNY)": _num(p.get("capex")),
            "Sessions covered": _pct(p.get("covered_share")),
            "Status": str(p.get("status", "")),
            "Gap": _pct(p.get("gap"), 2),
        }
        rows.append(row)
    return pd.DataFrame(rows)


#: What the solver table means, for the report.
PASSES_TEXT = (
    "The plan is solved in passes: the most sessions covered (coverage); the least capex "
    "that covers as many (capex); at that coverage and capex, the least drive time, the "
    "sites of the capex pass kept and their chargers re-chosen (drive_time); with "
    "repair.mode 'after', the cheapest repair points (repair). Each pass holds the optima "
    "of the ones before and stops when it has proved its MIP gap. The plan is 'optimal' only "
    "when every pass is; 'time_limit' means a pass was stopped by the "
    "safety-net time limit, and its plan may differ on another machine or at another load."
)


def plan_warnings(summary: dict[str, Any]) -> list[str]:
    """Warnings a reader of the plan must see first."""
    stopped = summary.get("safety_net") or []
    if not stopped:
        return []
    return [
        f"The {', '.join(stopped)} pass was stopped by the time limit "
        f"(solver.time_limit_s) before it proved its gap: this plan is not proven and may "
        "differ on another machine or at another load. Raise the limit and run again."
    ]


def solves_table(summary: dict[str, Any]) -> pd.DataFrame:
    """The solver passes of the run, one row each, as display texts.

    Parameters
    ----------
    summary
        The run's summary (its ``solves``).

    Returns
    -------
    DataFrame
        Pass, model, solver, status, objective, bound, gap, size and solve time; no rows
        when the summary has no solves.
    """
    rows = [
        {
            "Pass": str(s.get("pass") or ""),
            "Model": str(s.get("model", "")),
            "Solver": str(s.get("solver", "")),
            "Status": str(s.get("status", "")),
            "Objective": _num(s.get("objective"), 2),
            "Bound": _num(s.get("bound"), 2),
            "Gap": _pct(s.get("gap"), 2),
            "Variables": _num(s.get("variables")),
            "Constraints": _num(s.get("constraints")),
            "Solve (s)": _num(s.get("solve_s"), 2),
        }
        for s in summary.get("solves") or []
    ]
    return pd.DataFrame(rows)


def dictionary_table(dictionary: pd.DataFrame) -> pd.DataFrame:
    """The data dictionary with the report's headings.

    Parameters
    ----------
    dictionary
        From :func:`planner.report.dictionary.data_dictionary`.

    Returns
    -------
    DataFrame
        Column, description, unit, Shapefile field and layers, as texts.
    """
    d = dictionary.fillna("")
    return pd.DataFrame(
        {
            "Column": d["column"].astype(str),
            "Description": d["description"].astype(str),
            "Unit": d["unit"].astype(str),
            "Shapefile field": d["shapefile_field"].astype(str) if "shapefile_field" in d else "",
            "Layers": d["layers"].astype(str) if "layers" in d else "",
        }
    )


def timings_table(timings: dict[str, float]) -> pd.DataFrame:
    """Seconds per stage of the run, as display texts.

    Parameters
    ----------
    timings
        The summary's ``timings_s``.

    Returns
    -------
    DataFrame
        Stage and seconds, one row per stage.
    """
    return pd.DataFrame(
        {"Stage": [str(k) for k in timings], "Seconds": [_num(v, 2) for v in timings.values()]}
    )


def township_view(summary: dict[str, Any], townships: pd.DataFrame) -> pd.DataFrame:
    """:func:`township_table` under the headings of :data:`TOWNSHIP_COLUMNS`.

    Parameters
    ----------
    summary
        The run's summary (its ``station_cutoff_min``).
    townships
        The townships layer.

    Returns
    -------
    DataFrame
        One row per township, as the report shows it.
    """
    table = township_table(townships, cutoff_min=summary.get("station_cutoff_min"))
    return table.rename(columns=dict(TOWNSHIP_COLUMNS))
