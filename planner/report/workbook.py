"""``plan.xlsx``: the plan as an Excel workbook in the report language.

Sheets, in order (names as in Chinese / English):

==========  ====================  ==========================================================
概要         Summary               headline figures of summary.json with units; solver status
                                   of each pass
充电站       Charging stations     :func:`planner.report.plan_tables.station_list`
维修点       Repair points         :func:`planner.report.plan_tables.repair_list`
乡镇         Townships             :func:`planner.report.plan_tables.township_list`
巡回计划     Tour schedule         the repair vans' week, when the run has tours
                                   (:mod:`planner.report.tour_sheets`; with 维修车周汇总
                                   / Vans' week and, if any, 未安排服务 / Visits left out)
假设参数     Assumptions           :func:`planner.report.assumptions.assumptions_table`
求解过程     Solver passes         :func:`planner.report.assumptions.pass_status`
数据字典     Data dictionary       every column of the GIS files: description, unit, field
数据来源     Data sources          :func:`planner.report.assumptions.data_sources`
==========  ====================  ==========================================================

Numbers are stored as numbers, rounded, with a number format; see
:mod:`planner.report.xlsx` for how cells are written.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
from openpyxl.workbook import Workbook

from planner import columns as C
from planner.config import Config
from planner.errors import DataError
from planner.i18n import N_, Lang, translator
from planner.report.assumptions import (
    assumptions_table,
    data_sources,
    pass_name,
    pass_status,
)
from planner.report.dictionary import data_dictionary, file_codes, read_data_dictionary
from planner.report.plan_tables import (
    REPAIR_COLUMNS,
    STATION_COLUMNS,
    TOWNSHIP_COLUMNS,
    Spec,
    header,
    repair_list,
    share_shown,
    station_list,
    township_list,
)
from planner.report.reexport import read_run_layers
from planner.report.report_tables import layer_names_text
from planner.report.sections import plan_warnings
from planner.report.substation_loads import numeric_headers, substation_table
from planner.report.tour_sheets import tour_headlines, tour_sheets
from planner.report.xlsx import Sheet, add_sheet, number_format

logger = logging.getLogger(__name__)

#: The workbook a run writes.
WORKBOOK_FILE = "plan.xlsx"

#: Summary key of the share of the budget spent (computed, not in summary.json).
BUDGET_SPENT = "budget_spent"

#: The headline of the people below ``demand.min_population`` (from ``demand_left_out``).
LEFT_OUT = "population_left_out"

#: (summary key, label, unit, decimals) of the headline figures, in order; the unit "%"
#: shows a share (0-1) as per cent.
HEADLINES: tuple[tuple[str, str, str, int], ...] = (
    ("stations", N_("Charging stations"), N_("stations"), 0),
    ("chargers", N_("Chargers"), "chargers", 0),
    ("charger_kw_total", N_("Charging power"), "kW", 0),
    ("repair_points", N_("Repair points"), "count", 0),
    ("existing_chargers", N_("Existing public charging sites"), "count", 0),
    ("capex_stations", N_("Capital cost of the charging stations"), "CNY", 0),
    ("capex_repair", N_("Capital cost of the repair points"), "CNY", 0),
    ("capex_total", N_("Capital cost, total"), "CNY", 0),
    ("budget", N_("Budget"), "CNY", 0),
    (BUDGET_SPENT, N_("Share of the budget spent"), "%", 1),
    ("population", N_("Population"), "people", 0),
    (LEFT_OUT, N_("People left out of the demand (below demand.min_population)"), "people", 0),
    ("evs", N_("EVs"), "vehicles", 0),
    ("sessions_day", N_("Public charging sessions per day"), "sessions/day", 1),
    ("sessions_served_day", N_("Sessions served per day"), "sessions/day", 1),
    ("demand_covered_share", N_("Share of sessions covered"), "%", 1),
    ("townships_total", N_("Townships in the county"), "count", 0),
    (
        "townships_with_station",
        N_("Townships with a charging station, new or existing"),
        "count",
        0,
    ),
    ("mean_travel_min", N_("Mean drive time to the assigned station"), "min", 1),
    ("mean_nearest_min", N_("Mean drive time to the nearest station"), "min", 1),
    ("max_travel_min", N_("Longest drive time of a covered point"), "min", 1),
    ("station_cutoff_min", N_("Drive time counted as covered"), "min", 1),
    ("repair_response_min", N_("Repair response drive time"), "min", 1),
    ("villages_unreached_by_repair", N_("Villages beyond the repair response time"), "count", 0),
    ("gap", N_("Largest optimality gap of the passes"), "%", 2),
)

#: Names of the output languages, each in itself.
LANGUAGE_NAMES = {"zh": "简体中文", "en": "English"}

#: Text the assumption and solver tables print as numbers: 1,234.5 or 0.25%.
_NUMBER_TEXT = re.compile(r"(-?(?:\d{1,3}(?:,\d{3})+|\d+))(?:\.(\d+))?(%?)")


def write_workbook(
    path: str | Path,
    summary: dict[str, Any],
    layers: Mapping[str, gpd.GeoDataFrame],
    dictionary: pd.DataFrame,
    config: Config,
    *,
    lang: Lang | None = None,
    run_id: str | None = None,
) -> None:
    """Write the plan as an Excel workbook (see the module doc for its sheets).

    Parameters
    ----------
    path
        The ``.xlsx`` file to write (replaced if it exists).
    summary
        The run's summary (summary.json).
    layers
        The run's layers as the pipeline builds them (``stations``, ``repair_points``,
        ``townships``, ...; any CRS); a missing site layer leaves its sheet out.
    dictionary
        The data dictionary (:func:`planner.report.run_dictionary`).
    config
        The run's config (assumptions and data sources).
    lang
        Language of the workbook (English if None).
    run_id
        The run's id, shown in the summary (default: ``summary["run_id"]`` if present).
    """
    lang = lang if lang is not None else translator("en")
    book = Workbook()
    book.remove(book.worksheets[0])
    for sheet in workbook_sheets(summary, layers, dictionary, config, lang=lang, run_id=run_id):
        add_sheet(book, sheet, lang=lang)
    props = book.properties
    props.title = lang(
        "Charging station and repair point plan: {county}", county=summary.get("county", "")
    )
    props.subject = lang("Charging station and repair point plan")
    props.creator = props.lastModifiedBy = "planner"
    props.language = "zh-CN" if lang.code == "zh" else "en"
    props.identifier = run_id or summary.get("run_id")
    book.save(Path(path))
    logger.info("wrote %s", path)


def write_run_workbook(
    run_dir: str | Path, out: str | Path | None = None, *, lang: Lang | None = None
) -> Path:
    """Write the workbook of a finished run from its files, without solving again.

    Parameters
    ----------
    run_dir
        A run folder (``run.json``, ``summary.json``, ``sites.gpkg``; its
        ``data_dictionary.csv`` if present).
    out
        The ``.xlsx`` file; default ``<run_dir>/plan.xlsx``.
    lang
        Language of the workbook; default the run's (``summary["language"]``), else English.

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    DataError
        When the folder is not a finished run or its record cannot be read.
    """
    run = Path(run_dir)
    layers = read_run_layers(run)  # a DataError for a folder that is not a run
    try:
        manifest = json.loads((run / "run.json").read_text(encoding="utf-8"))
        summary = json.loads((run / "summary.json").read_text(encoding="utf-8"))
        config = Config.model_validate(manifest["config"])
    except (OSError, ValueError, KeyError) as err:
        msg = f"{run}: cannot read the run's record for the workbook ({err})"
        raise DataError(msg) from None
    if lang is None:
        lang = translator(summary.get("language") or "en")
    csv = run / "data_dictionary.csv"
    # the file's headers are in the run's language (read_data_dictionary takes either)
    dictionary = read_data_dictionary(csv)[0] if csv.is_file() else data_dictionary(layers)
    path = Path(out) if out is not None else run / WORKBOOK_FILE
    write_workbook(
        path, summary, layers, dictionary, config, lang=lang, run_id=manifest.get("run_id")
    )
    return path


def workbook_sheets(
    summary: dict[str, Any],
    layers: Mapping[str, gpd.GeoDataFrame],
    dictionary: pd.DataFrame,
    config: Config,
    *,
    lang: Lang,
    run_id: str | None = None,
) -> list[Sheet]:
    """The sheets of the workbook, in order (see :func:`write_workbook`)."""
    sheets = [summary_sheet(summary, lang=lang, run_id=run_id)]
    sites = (
        ("stations", lang("Charging stations"), station_list, STATION_COLUMNS),
        ("repair_points", lang("Repair points"), repair_list, REPAIR_COLUMNS),
        ("townships", lang("Townships"), township_list, TOWNSHIP_COLUMNS),
    )
    for name, title, table, spec in sites:
        if name in layers:
            sheets.append(Sheet(title, table(layers[name], lang=lang), _formats(spec, lang)))
    grid = substation_table(summary, lang=lang)
    if grid is not None:
        sheets.append(_with_numbers(lang("Substations"), grid, numeric_headers(lang)))
    sheets += tour_sheets(summary, layers, lang=lang)
    assumptions = assumptions_table(config, lang=lang, summary=summary)
    sheets.append(_with_numbers(lang("Assumptions"), assumptions, [lang("Value")]))
    passes = pass_status(summary, lang=lang)
    numeric = [lang("Objective"), lang("Bound"), lang("Gap"), lang("Solve time (s)")]
    sheets.append(_with_numbers(lang("Solver passes"), passes, numeric))
    sheets.append(Sheet(lang("Data dictionary"), dictionary_table(dictionary, lang=lang)))
    sheets.append(Sheet(lang("Data sources"), data_sources(config, lang=lang)))
    return sheets


def _formats(spec: Spec, lang: Lang) -> dict[str, str]:
    """Header -> number format of the numeric columns of a site or township table."""
    return {
        header(column, lang): number_format(decimals, grouped=column not in (C.LON, C.LAT))
        for column, decimals in spec
        if decimals is not None
    }


def summary_sheet(summary: dict[str, Any], *, lang: Lang, run_id: str | None = None) -> Sheet:
    """The headline figures: item, value, unit; the solver status of each pass."""
    rows: list[tuple[str, Any, str]] = [(lang("County"), summary.get("county", ""), "")]
    run = run_id or summary.get("run_id")
    if run:
        rows.append((lang("Run id"), str(run), ""))
    rows.append((lang("Language"), LANGUAGE_NAMES[lang.code], ""))
    formats: dict[int, str] = {}
    values = dict(summary)
    # the budget covers the repair points too when they are planned with the stations
    joint = summary.get("repair_mode") == "joint"
    spent = summary.get("capex_total" if joint else "capex_stations")
    if summary.get("budget") and spent is not None:
        values[BUDGET_SPENT] = float(spent) / float(summary["budget"])
    left = summary.get("demand_left_out") or {}
    if left.get("points"):  # the report's data notes say the same
        values[LEFT_OUT] = left.get("population")
    for key, label, unit, decimals in HEADLINES:
        if key not in values:
            continue
        value = values[key]
        if value is None:
            value = lang("none") if key == "budget" else None
        percent = unit == "%"
        if percent and isinstance(value, float):
            value = share_shown(value, decimals)  # 99.996 % is not 100.0 %
        formats[len(rows)] = number_format(decimals, percent=percent)
        rows.append((lang.gettext(label), value, "" if percent else lang.unit(unit)))
    # first: what a time limit stopped
    warnings = [(lang("WARNING"), w, "") for w in plan_warnings(summary, lang=lang)]
    rows = warnings + rows
    formats = {k + len(warnings): f for k, f in formats.items()}
    over = summary.get("substations_over_headroom")
    if over is not None:
        rows.append((lang("Substations over their headroom"), len(over), lang.unit("count")))
    for label, value, unit, decimals in tour_headlines(summary.get("tours") or {}, lang=lang):
        formats[len(rows)] = number_format(decimals)
        rows.append((label, value, unit))
    rows += _pass_rows(summary, lang)
    item, value = lang("Item"), lang("Value")
    table = pd.DataFrame(rows, columns=[item, value, lang("Unit")])
    return Sheet(lang("Summary"), table, cell_formats={(i, value): f for i, f in formats.items()})


def _pass_rows(summary: dict[str, Any], lang: Lang) -> list[tuple[str, Any, str]]:
    """Solver, the status of each pass and the passes left out."""
    rows: list[tuple[str, Any, str]] = []
    if summary.get("solver"):
        solver = str(summary["solver"]).replace("highs", "HiGHS").replace("cbc", "CBC")
        rows.append((lang("Solver"), solver, ""))
    passes = pass_status(summary, lang=lang)
    for name, status in zip(passes[lang("Pass")], passes[lang("Status")], strict=True):
        rows.append((lang("Solver status: {name}", name=name), status, ""))
    skipped = summary.get("skipped_passes") or []
    if skipped:
        names = lang.gettext(", ").join(pass_name(p, lang=lang) for p in skipped)
        rows.append((lang("Passes not run (model too large)"), names, ""))
    return rows


def _with_numbers(title: str, table: pd.DataFrame, columns: list[str]) -> Sheet:
    """A sheet of ``table`` whose number texts in ``columns`` become numbers again.

    The assumption and solver tables print numbers as text (``16,000,000``, ``0.244%``);
    the workbook stores them as numbers with the same decimals, per cent as a share.
    """
    out = table.copy()
    formats: dict[tuple[int, str], str] = {}
    for col in columns:
        if col not in out.columns:
            continue
        values = out[col].astype(object).tolist()
        for pos, text in enumerate(values):
            match = _NUMBER_TEXT.fullmatch(text.strip()) if isinstance(text, str) else None
            if match is None:
                continue
            whole, fraction, percent = match.groups()
            number = float(whole.replace(",", "") + "." + (fraction or "0"))
            decimals = len(fraction or "")
            values[pos] = number / 100 if percent else number
            formats[(pos, col)] = number_format(decimals, percent=bool(percent))
        out[col] = pd.Series(values, index=out.index, dtype=object)
    return Sheet(title, out, cell_formats=formats)


def dictionary_table(dictionary: pd.DataFrame, *, lang: Lang) -> pd.DataFrame:
    """The data dictionary in the language: field, label, description, unit, Shapefile
    field and layers."""
    rows = []
    for rec in dictionary.to_dict("records"):
        column = str(rec["column"])
        unit = str(rec.get("unit") or "")
        layers = layer_names_text(str(rec.get("layers") or ""), lang)
        rows.append(
            (
                column,
                lang.label(column) if column in C.LABELS else "",
                _description(column, str(rec.get("description") or ""), lang),
                "" if unit == "-" else lang.unit(unit),
                str(rec.get("shapefile_field") or ""),
                layers,
            )
        )
    headers = [
        lang("Field"),
        lang("Label"),
        lang("Description"),
        lang("Unit"),
        lang("Shapefile field"),
        lang("Layers"),
    ]
    return pd.DataFrame(rows, columns=headers)


def _description(column: str, given: str, lang: Lang) -> str:
    """A column's description in the language.

    The dictionary's text, translated; lon/lat descriptions name the CRS of the files
    they appear in (see :func:`planner.report.run_dictionary`), so that part is rebuilt.
    """
    template = {C.LON: "Longitude, {crs}", C.LAT: "Latitude, {crs}"}.get(column)
    if template is not None and lang.code != "en" and given.startswith(lang(template, crs="")):
        return given  # already in the language (data_dictionary.csv of a run in it)
    prefix = {C.LON: "Longitude, ", C.LAT: "Latitude, "}.get(column)
    if prefix is None or not given.startswith(prefix) or given == C.DICTIONARY[column][0]:
        codes = file_codes(column, lang)
        text = lang.description(column)[0]
        return text if codes is None else text + lang.gettext("; ") + codes
    parts = []
    for part in given[len(prefix) :].split("; "):
        if m := re.fullmatch(r"(.+) in the run folder's files", part):
            parts.append(lang("{crs} in the run folder's files", crs=m[1]))
        elif m := re.fullmatch(r"(.+) in the \*_(\S+) files", part):
            parts.append(lang("{crs} in the *_{label} files", crs=m[1], label=m[2]))
        else:
            parts.append(part)
    separator = "；" if lang.code == "zh" else "; "
    return lang("{label}, {crs}", label=lang.label(column), crs=separator.join(parts))
