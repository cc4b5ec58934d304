"""The tables of the run's report, as display texts in the report's language.

Each builder gives a DataFrame of texts (numbers formatted, not yet escaped) under
translated headings; :mod:`planner.report.content` puts them in the report.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import pandas as pd

from planner import columns as C
from planner.config import Config
from planner.i18n import N_, Lang
from planner.report.assumptions import (
    assumptions_table,
    data_sources,
    map_credit,
    objective_text,
    pass_name,
    status_text,
)
from planner.report.plan_tables import (
    EXISTING_COLUMNS,
    REPAIR_COLUMNS,
    STATION_COLUMNS,
    Spec,
    existing_list,
    header,
    repair_list,
    station_list,
)
from planner.report.sections import (
    SOLVER_NAMES,
    STAGE_LABELS,
    english,
    gap_text,
    label_of,
    num,
    pct,
)
from planner.report.tour_tables import TourTables, tour_tables

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
    ("existing", N_("Existing charging sites")),
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
    "substations": N_("substations"),
    "service_areas": N_("service areas"),
    "tours": N_("repair van tours"),
    "tour_stops": N_("tour stops"),
    "assignments": N_("assignments"),
    "(CSV exports)": N_("(CSV exports)"),
}

_LAYER = re.compile(r"\([^)]*\)|\S+")  # a layer name, or a note in brackets


def layer_names_text(text: str, lang: Lang) -> str:
    """The dictionary's layer list (``stations repair_points``) in words of ``lang``."""
    names = _LAYER.findall(text)
    return lang.gettext(", ").join(label_of(LAYER_LABELS, name, lang) for name in names)


def township_table(
    townships: pd.DataFrame, *, cutoff_min: float | None, lang: Lang | None = None
) -> pd.DataFrame:
    """The per-township table of the report, as display texts.

    Parameters
    ----------
    townships
        The townships layer (from :func:`planner.report.outcomes.township_outcome`).
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
            worst = lang("{beyond} ({n} demand points)", beyond=beyond, n=unreached)
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
                "existing": num(r.get(C.EXISTING_SITES, 0), lang=lang),
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
            lang("Status"): status_text(str(p.get("status", "")), lang=lang),
            lang("Gap"): gap_text(p.get("gap"), lang=lang),
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
            lang("Pass"): pass_name(str(s.get("pass") or ""), lang=lang),
            lang("Solver"): SOLVER_NAMES.get(str(s.get("solver")), str(s.get("solver", ""))),
            lang("Status"): status_text(str(s.get("status", "")), lang=lang),
            lang("Objective"): objective_text(
                str(s.get("pass") or ""), s.get("objective"), lang=lang
            )
            or lang("n/a"),
            lang("Bound"): objective_text(str(s.get("pass") or ""), s.get("bound"), lang=lang)
            or lang("n/a"),
            lang("Gap"): gap_text(s.get("gap"), lang=lang),
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
    return pd.DataFrame(
        {
            lang("Column"): d["column"].astype(str),
            lang("Description"): descriptions,
            lang("Unit"): [lang.unit(str(u)) for u in d["unit"]],
            lang("Shapefile field"): (
                d["shapefile_field"].astype(str) if "shapefile_field" in d else ""
            ),
            lang("Layers"): [layer_names_text(text, lang) for text in layers],
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


@dataclass(frozen=True)
class ReportParts:
    """What the report prints from the layers, the config and the run folder (each
    optional): the site lists, the assumptions, the data sources, the run's files and the
    tables of the vans' tours.

    Built by :func:`report_parts`; the station list comes in
    parts (each with the station id) that fit the width of a page.
    """

    stations: list[pd.DataFrame] | None = None
    repair_points: pd.DataFrame | None = None
    existing: pd.DataFrame | None = None
    assumptions: pd.DataFrame | None = None
    sources: pd.DataFrame | None = None
    files: list[str] | None = None
    tours: TourTables | None = None
    run_id: str | None = None  # the run folder's name: named in the lead and page footers
    credit: str | None = None  # the map's data credit (the OSM input's attribution)


#: The station list in two parts that each fit the width of an A4 page: where the
#: stations are, and what they are made of and cost.
STATION_PARTS = (
    (C.CANDIDATE_ID, C.NAME, C.TOWNSHIP_NAME, C.POLICY_CLASS, C.SUBSTATION_ID, C.LON, C.LAT),
    (
        C.CANDIDATE_ID,
        C.NAME,  # again: a printed page shows what it costs by name, not only by code
        C.EXISTING_CHARGERS,
        C.CHARGERS,
        C.CHARGER_KW,
        C.SESSIONS_SERVED,
        C.STATION_CAPEX,
        C.CONNECTION_COST,
        C.CONNECTION_BASIS,
        C.CAPEX,
    ),
)


def display_texts(table: pd.DataFrame, spec: Spec, *, lang: Lang) -> pd.DataFrame:
    """A table of :mod:`planner.report.plan_tables` as texts: numbers with thousands
    separators and the decimals of ``spec``, missing values empty."""
    decimals = {header(column, lang): d for column, d in spec}
    out: dict[str, list[str]] = {}
    for name in table.columns:
        digits = decimals.get(name)
        values = table[name]
        number = digits is not None and pd.api.types.is_numeric_dtype(values)
        out[name] = [
            "" if pd.isna(v) else f"{float(v):,.{digits}f}" if number else str(v)
            for v in values.astype(object)
        ]
    return pd.DataFrame(out, columns=table.columns)


def report_parts(
    layers: dict[str, gpd.GeoDataFrame],
    config: Config | None,
    *,
    files: list[str] | None = None,
    lang: Lang | None = None,
    summary: dict[str, Any] | None = None,
    run_id: str | None = None,
) -> ReportParts:
    """The site lists (stations in :data:`STATION_PARTS`), and with a config the
    assumptions and data sources, as the report prints them; the tables of the vans'
    tours when the layers have them (``summary`` names the stops left out)."""
    lang = english(lang)
    stations = display_texts(
        station_list(layers["stations"], lang=lang), STATION_COLUMNS, lang=lang
    )
    parts = [
        stations[[h for c in part if (h := header(c, lang)) in stations.columns]]
        for part in STATION_PARTS
    ]
    repair = layers.get("repair_points")
    existing = layers.get("existing_chargers")
    if existing is not None and len(existing):
        existing_table = display_texts(
            existing_list(existing, lang=lang), EXISTING_COLUMNS, lang=lang
        )
    else:
        existing_table = None
    return ReportParts(
        stations=parts,
        repair_points=None
        if repair is None
        else display_texts(repair_list(repair, lang=lang), REPAIR_COLUMNS, lang=lang),
        existing=existing_table,
        assumptions=None
        if config is None
        else assumptions_table(config, lang=lang, summary=summary),
        sources=None if config is None else data_sources(config, lang=lang),
        files=files,
        tours=tour_tables(layers, summary, None if config is None else config.tours, lang=lang),
        run_id=run_id,
        credit=None if config is None else map_credit(config),
    )
