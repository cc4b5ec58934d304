"""The terminal table of a sweep's or rollout's rows, in the runs' language."""

from __future__ import annotations

from typing import Any

from rich.table import Table

from planner.i18n import N_, Lang
from planner.report.assumptions import status_text
from planner.report.sections import pct
from planner.report.sweep_charts import field_name, value_text

#: Row keys -> their headers (other keys are varied fields, named by their page names).
HEADERS = {
    "year": N_("Year"),
    "status": N_("Solver"),
    "stations": N_("Stations"),
    "chargers": N_("Chargers"),
    "new_stations": N_("New stations"),
    "stations_open": N_("Stations open"),
    "capex_total": N_("Capital cost (CNY)"),
    "demand_covered_share": N_("Sessions covered"),
    "capex_per_covered_ev": N_("Capex per covered EV (CNY)"),
    "error": N_("Error"),
}

#: Statuses of a scenario or year without a plan -> their words.
_NO_PLAN = {"failed": N_("failed"), "not_run": N_("not run")}


def rows_table(rows: list[dict[str, Any]], keys: list[str], *, lang: Lang) -> Table:
    """The rows' ``keys`` with headers, statuses and numbers as the pages print them."""
    heads = [lang(HEADERS[k]) if k in HEADERS else field_name(k, lang, rows) for k in keys]
    table = Table(*heads)
    for r in rows:
        table.add_row(*(_cell(k, r.get(k), lang) for k in keys))
    return table


def _cell(key: str, value: Any, lang: Lang) -> str:
    if value is None or value == "":
        return ""
    if key == "status":
        text = str(value)
        return lang(_NO_PLAN[text]) if text in _NO_PLAN else status_text(text, lang=lang)
    if key == "demand_covered_share":
        return pct(value)
    if key == "year" or isinstance(value, str):
        return str(value)
    if key in HEADERS:
        return f"{float(value):,.0f}"
    return value_text(value)
