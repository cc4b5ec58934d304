"""The Excel workbooks of a sweep (``sweep.xlsx``) and a rollout (``rollout.xlsx``).

The same tables as the pages, for officials who open Excel: headers in the runs'
language, each solve's status and gap in words, money and counts as numbers with
thousands separators, shares as per cent, and a sheet of the settings every run shares.
The CSVs beside them keep the machine column names.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl import Workbook

from planner.i18n import N_, Lang
from planner.paths import replace_file
from planner.report.sweep_charts import field_name, value_text
from planner.report.sweep_page import (
    STATION_HEADERS,
    SWEEP_HEADERS,
    YEAR_HEADERS,
    Held,
    settings_rows,
    status_words,
)
from planner.report.xlsx import Sheet, add_sheet, number_format

#: The figures of a sweep's rows, in the order of :data:`SWEEP_HEADERS` after the status.
_SWEEP_FIGURES = (
    "stations", "chargers", "repair_points", "capex_total", "demand_covered_share",
    "evs_covered", "capex_per_covered_ev",
)  # fmt: skip
#: The figures of a rollout's years, in the order of :data:`YEAR_HEADERS` after the status.
_YEAR_FIGURES = (
    "new_stations", "stations_open", "chargers_new", "chargers_open", "capex_total",
    "capex_cumulative", "demand_covered_share", "evs", "evs_covered",
)  # fmt: skip
_STATION_KEYS = (
    "year", "opened_year", "candidate_id", "name", "township_name", "chargers", "capex", "lon",
    "lat",
)  # fmt: skip
_SHARES = ("demand_covered_share", "ev_adoption", "target")


def write_sweep_workbook(
    path: Path, rows: list[dict[str, Any]], fields: list[str], *, lang: Lang, held: Held | None
) -> None:
    """``sweep.xlsx``: the scenarios (a sheet) and the settings they share (another)."""
    heads = [field_name(f, lang, rows) for f in fields]
    heads += [lang(h) for h in SWEEP_HEADERS[:-1]]  # no links in a workbook
    data = [
        [value_text(r.get(f)) for f in fields]
        + [status_words(r, lang)]
        + [r.get(k) for k in _SWEEP_FIGURES]
        for r in rows
    ]
    keys = [*fields, "status", *_SWEEP_FIGURES]
    sheets = [_sheet(lang("Scenarios"), heads, data, keys)]
    _write(path, sheets, held, lang)


def write_rollout_workbook(
    path: Path,
    years: list[dict[str, Any]],
    stations: list[dict[str, Any]],
    *,
    lang: Lang,
    held: Held | None,
) -> None:
    """``rollout.xlsx``: the years, the stations with the year they open, the settings."""
    heads = [lang(h) for h in YEAR_HEADERS[:-1]]
    keys = ["year", "budget", "ev_adoption", "target", "status", *_YEAR_FIGURES]
    data = [
        [str(y.get("year", "")), y.get("budget"), y.get("ev_adoption"), y.get("target")]
        + [status_words(y, lang)]
        + [y.get(k) for k in _YEAR_FIGURES]
        for y in years
    ]
    station_data = [[s.get(k) for k in _STATION_KEYS] for s in stations]
    sheets = [
        _sheet(lang("Years"), heads, data, keys),
        _sheet(
            lang("Stations and the year they open"),
            [lang(h) for h in STATION_HEADERS],
            station_data,
            list(_STATION_KEYS),
        ),
    ]
    _write(path, sheets, held, lang)


def _sheet(title: str, heads: list[str], data: list[list[Any]], keys: list[str]) -> Sheet:
    """A sheet whose shares show as per cent, coordinates with 7 decimals and other
    figures as whole numbers with thousands separators."""
    formats = {}
    for head, key in zip(heads, keys, strict=True):
        if key in _SHARES:
            formats[head] = number_format(1, percent=True)
        elif key in ("lon", "lat"):
            formats[head] = number_format(7, grouped=False)
        elif key not in ("year", "opened_year", "status", "candidate_id", "name", "township_name"):
            formats[head] = number_format(0)
    return Sheet(title, pd.DataFrame(data, columns=heads), formats)


def _write(path: Path, sheets: list[Sheet], held: Held | None, lang: Lang) -> None:
    book = Workbook()
    assert book.active is not None
    book.remove(book.active)
    if held is not None:
        rows = settings_rows(held, lang=lang)
        heads = [lang("Parameter"), lang("Value"), lang("Unit")]
        sheets = [*sheets, Sheet(lang(_SETTINGS), pd.DataFrame(rows, columns=heads))]
    for sheet in sheets:
        add_sheet(book, sheet, lang=lang)
    replace_file(path, lambda tmp: book.save(tmp))


_SETTINGS = N_("Settings every run shares")
