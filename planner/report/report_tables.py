"""The tables of the run's report, as display texts in the report's language.

Each builder gives a DataFrame of texts (numbers formatted, not yet escaped) under
translated headings; :mod:`planner.report.content` puts them in the report.
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

from planner import columns as C
from planner.i18n import Lang, N_
from planner.report.sections import (
    PASS_LABELS,
    SOLVER_NAMES,
    STAGE_LABELS,
    STATUS_LABELS,
    english,
    label_of,
    num,
    pct,
)

#: Columns of the per-township table: (key, heading).
TOWNSHIP_COLUMNS = (
    ("township", N_("Township")),
    ("code", N_("Code")),
    ("population", N_("Population")),
    ("evs", N_("EVs")),
    ("sessions", N_("Sessions/day")),
    ("covered", N_("Sessions covered")),
    ("stations", N_("Stations")),
    ("chargers", N_("Chargers")),
    ("mean_min", N_("Assigned station, mean (min)")),
    ("worst_min", N_("Worst village (min)")),
)

#: Names of the run's layers and tables, as the data dictionary lists them.
LAYER_LABELS = {
    "townships": N_("townships"),
    "demand": N_("demand points"),
    "candidates": N_("candidate sites"),
    "stations": N_("charging stations"),
    "repair_points": N_("repair points"),
    "existing_chargers": N_("existing chargers"),
    "service_areas": N_("service areas"),
    "assignments": N_("assignments"),
    "(CSV exports)": N_("(CSV exports)"),
}

_LAYER = re.compile(r"\([^)]*\)|\S+")  # a layer name, or a note in brackets


def township_table(
    townships: pd.DataFrame, *, cutoff_min: float | None, lang: Lang | None = None
) -> pd.DataFrame:
    """The per-township table of the report, as display texts.

    Parameters
    ----------
    townships
        The townships layer (from :func:`planner.report.summary.township_outcome`).
    cutoff_min
        The coverage cutoff, to say "beyond" for townships with unreached villages.
    lang
        The report's language (English when None).

    Returns
    -------
    DataFrame
        One row per township, the columns of :data:`TOWNSHIP_COLUMNS` (keys).
    """
    lang = english(lang)
    t = pd.DataFrame(townships.drop(columns=getattr(townships, "_geometry_column_name", [])))
    t = t.sort_values(C.TOWNSHIP_ID, kind="stable")
    rows = []
    beyond = f"> {num(cutoff_min, 0)}" if cutoff_min is not None else lang("beyond cutoff")
    for _, r in t.iterrows():
        unreached = int(r.get(C.POINTS_UNREACHED, 0) or 0)
        worst = num(r.get(C.WORST_STATION_MIN), 1, lang=lang)
        if unreached:
            worst = lang("{beyond} ({n} villages)", beyond=beyond, n=unreached)
        rows.append(
            {
                "township": str(r[C.TOWNSHIP_NAME]),
                "code": str(r[C.TOWNSHIP_ID]),
                "population": num(r[C.POPULATION], lang=lang),
                "evs": num(r[C.EVS], lang=lang),
                "sessions": num(r[C.SESSIONS_DAY], 1, lang=lang),
                "covered": pct(r[C.COVERED_SHARE], lang=lang),
                "stations": num(r[C.STATIONS], lang=lang),
                "chargers": num(r[C.CHARGERS], lang=lang),
                "mean_min": num(r.get(C.MEAN_STATION_MIN), 1, lang=lang),
                "worst_min": worst,
            }
        )
    return pd.DataFrame(rows, columns=[k for k, _ in TOWNSHIP_COLUMNS])


def township_view(
    summary: dict[str, Any], townships: pd.DataFrame, *, lang: Lang | None = None
) -> pd.DataFrame:
    """:func:`township_table` under the translated headings of :data:`TOWNSHIP_COLUMNS`.

    Parameters
    ----------
    summary
        The run's summary (its ``station_cutoff_min``).
    townships
        The townships layer.
    lang
        The report's language (English when None).

    Returns
    -------
    DataFrame
        One row per township, as the report shows it.
    """
    lang = english(lang)
    table = township_table(townships, cutoff_min=summary.get("station_cutoff_min"), lang=lang)
    return table.rename(columns={k: lang.gettext(h) for k, h in TOWNSHIP_COLUMNS})


def curve_table(curve: list[dict[str, Any]], *, lang: Lang | None = None) -> pd.DataFrame:
    """The coverage-vs-budget points as display texts, by budget."""
    lang = english(lang)
    repair = any("repair_points" in p for p in curve)
    rows = []
    for p in sorted(curve, key=lambda p: (p.get("budget") is None, p.get("budget") or 0)):
        budget = p.get("budget")
        row = {
            lang("Budget (CNY)"): lang("none") if budget is None else num(budget, lang=lang),
            lang("Stations"): num(p.get("stations"), lang=lang),
            lang("Chargers"): num(p.get("chargers"), lang=lang),
        }
        if repair:
            row[lang("Repair points")] = num(p.get("repair_points"), lang=lang)
        row |= {
            lang("Capital cost (CNY)"): num(p.get("capex"), lang=lang),
            lang("Sessions covered"): pct(p.get("covered_share"), lang=lang),
            lang("Status"): label_of(STATUS_LABELS, p.get("status"), lang),
            lang("Gap"): pct(p.get("gap"), 2, lang=lang),
        }
        rows.append(row)
    return pd.DataFrame(rows)


def solves_table(summary: dict[str, Any], *, lang: Lang | None = None) -> pd.DataFrame:
    """The solver passes of the run, one row each, as display texts.

    Parameters
    ----------
    summary
        The run's summary (its ``solves``).
    lang
        The report's language (English when None).

    Returns
    -------
    DataFrame
        Pass, solver, status, objective, bound, gap, size and solve time; no rows when
        the summary has no solves.
    """
    lang = english(lang)
    rows = [
        {
            lang("Pass"): label_of(PASS_LABELS, s.get("pass"), lang),
            lang("Solver"): SOLVER_NAMES.get(str(s.get("solver")), str(s.get("solver", ""))),
            lang("Status"): label_of(STATUS_LABELS, s.get("status"), lang),
            lang("Objective"): num(s.get("objective"), 2, lang=lang),
            lang("Bound"): num(s.get("bound"), 2, lang=lang),
            lang("Gap"): pct(s.get("gap"), 2, lang=lang),
            lang("Variables"): num(s.get("variables"), lang=lang),
            lang("Constraints"): num(s.get("constraints"), lang=lang),
            lang("Solve (s)"): num(s.get("solve_s"), 2, lang=lang),
        }
        for s in summary.get("solves") or []
    ]
    return pd.DataFrame(rows)


def dictionary_table(dictionary: pd.DataFrame, *, lang: Lang | None = None) -> pd.DataFrame:
    """The data dictionary with the report's headings.

    Descriptions are looked up in the catalogs; one the catalogs lack (a description made
    for the run, such as the CRS of ``lon``/``lat``) is replaced by the column's standard
    description in a language other than English.

    Parameters
    ----------
    dictionary
        From :func:`planner.report.dictionary.data_dictionary`.
    lang
        The report's language (English when None).

    Returns
    -------
    DataFrame
        Column, description, unit, Shapefile field and layers, as texts.
    """
    lang = english(lang)
    d = dictionary.fillna("")
    descriptions = []
    for column, text in zip(d["column"].astype(str), d["description"].astype(str), strict=True):
        translated = lang.gettext(text)
        if lang.code != "en" and translated == text and text.isascii():
            translated = lang.description(column)[0]
        descriptions.append(translated)
    layers = d["layers"].astype(str) if "layers" in d else pd.Series("", index=d.index)
    sep = lang.gettext(", ")
    return pd.DataFrame(
        {
            lang("Column"): d["column"].astype(str),
            lang("Description"): descriptions,
            lang("Unit"): [lang.unit(str(u)) for u in d["unit"]],
            lang("Shapefile field"): (
                d["shapefile_field"].astype(str) if "shapefile_field" in d else ""
            ),
            lang("Layers"): [
                sep.join(label_of(LAYER_LABELS, name, lang) for name in _LAYER.findall(text))
                for text in layers
            ],
        }
    )


def timings_table(timings: dict[str, float], *, lang: Lang | None = None) -> pd.DataFrame:
    """Seconds per stage of the run, as display texts.

    Parameters
    ----------
    timings
        The summary's ``timings_s``.
    lang
        The report's language (English when None).

    Returns
    -------
    DataFrame
        Stage and seconds, one row per stage.
    """
    lang = english(lang)
    return pd.DataFrame(
        {
            lang("Stage"): [label_of(STAGE_LABELS, k, lang) for k in timings],
            lang("Seconds"): [num(v, 2, lang=lang) for v in timings.values()],
        }
    )
