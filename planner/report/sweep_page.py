"""Pages of a sweep and a rollout: tables (CSV), chart and HTML.

The pages are in the county's language (``report.language``), print on A4 landscape, and
give each scenario's or year's solver status with its gap in words, its figures rounded
as the reports round them, and links to its map and report. The CSVs keep machine column
names (as ``batch_summary.csv``) in a fixed order, with a header even when no row came.
"""

from __future__ import annotations

import base64
import csv
import html
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from planner.i18n import N_, Lang, translator
from planner.paths import replace_file
from planner.report.assumptions import PARAMETERS, assumptions_table, status_text
from planner.report.batch_page import _CSS
from planner.report.content import run_label
from planner.report.formats import safe_cell
from planner.report.sections import gap_text, pct
from planner.report.sweep_charts import field_name, rollout_chart, sweep_chart, value_text

if TYPE_CHECKING:
    from planner.config import Config

#: Columns of ``sweep.csv`` after the varied fields.
SWEEP_COLUMNS = (
    "scenario", "status", "gap", "stations", "chargers", "repair_points", "capex_total",
    "demand_covered_share", "evs_covered", "capex_per_covered_ev", "shared_inputs", "error",
    "exit_code",
)  # fmt: skip
#: Columns of ``rollout_years.csv``.
YEAR_COLUMNS = (
    "year", "budget", "ev_adoption", "target", "status", "gap", "new_stations", "stations_open",
    "stations_expanded", "chargers_added", "chargers_new", "chargers_open", "capex_total",
    "capex_cumulative", "demand_covered_share", "evs", "evs_covered", "error", "exit_code",
)  # fmt: skip
#: Columns of ``rollout.csv``.
STATION_COLUMNS = (
    "year", "opened_year", "candidate_id", "name", "township_id", "township_name", "chargers",
    "capex", "lon", "lat",
)  # fmt: skip

#: Column headers of the page's table.
SWEEP_HEADERS = (
    N_("Solver"),
    N_("Stations"),
    N_("Chargers"),
    N_("Repair points"),
    N_("Capital cost (CNY)"),
    N_("Sessions covered"),
    N_("EVs covered"),
    N_("Capex per covered EV (CNY)"),
    N_("Map and report"),
)
#: Column headers of the page's table.
YEAR_HEADERS = (
    N_("Year"),
    N_("Budget (CNY)"),
    N_("EV adoption"),
    N_("Coverage target"),
    N_("Solver"),
    N_("New stations"),
    N_("Stations open"),
    N_("New chargers"),
    N_("Chargers open"),
    N_("Capital cost (CNY)"),
    N_("Capital cost so far (CNY)"),
    N_("Sessions covered"),
    N_("EVs"),
    N_("EVs covered"),
    N_("Map and report"),
)
#: Column headers of the page's table.
STATION_HEADERS = (
    N_("Year"),
    N_("Opened in year"),
    N_("Site id"),
    N_("Name"),
    N_("Township"),
    N_("Chargers"),
    N_("Capital cost (CNY)"),
    N_("Longitude"),
    N_("Latitude"),
)
#: Statuses of a scenario or year that has no plan.
NO_PLAN = ("failed", "not_run")


def _csv(path: Path, rows: list[dict[str, Any]], names: list[str]) -> None:
    def write(tmp: Path) -> None:
        with tmp.open("w", newline="", encoding="utf-8-sig") as fh:
            w = csv.writer(fh)
            w.writerow([safe_cell(n) for n in names])
            w.writerows([safe_cell(_plain(r.get(n))) for n in names] for r in rows)

    replace_file(path, write)


def _plain(v: Any) -> Any:
    """A CSV cell: whole numbers without ``.0``, others to 12 significant digits (as the
    layers' CSVs: no binary round-off)."""
    if v is None:
        return ""
    if isinstance(v, float):
        return int(v) if v.is_integer() and abs(v) < 1e15 else float(f"{v:.12g}")
    return v


def _num(v: Any, digits: int = 0) -> str:
    ok = isinstance(v, int | float) and not isinstance(v, bool)
    return f'<td class="num">{f"{float(v):,.{digits}f}" if ok else ""}</td>'


def _share(v: Any) -> str:
    return f'<td class="num">{pct(v) if isinstance(v, int | float) else ""}</td>'


def _status(r: dict[str, Any], lang: Lang) -> str:
    """The status cell (:func:`status_words`), red when there is no plan."""
    css = ' class="err"' if str(r.get("status", "")) in NO_PLAN else ""
    return f"<td{css}>{html.escape(status_words(r, lang))}</td>"


def status_words(r: dict[str, Any], lang: Lang) -> str:
    """A scenario's or year's solve: its status and gap in words, or why there is no plan."""
    status = str(r.get("status", ""))
    if status == "failed":
        return failure_text(r, lang)
    if status == "not_run":
        return lang("not run: an earlier year could not be planned")
    text = status_text(status, lang=lang) + lang.gettext(", ")
    return text + lang("largest gap {gap}", gap=gap_text(r.get("gap"), lang=lang))


#: What a failed run's exit code says, in the page's language (the details, from the
#: error message, are in English).
FAILURE_KINDS = {
    2: N_("an input or setting cannot be used"),
    3: N_("no plan meets the settings (the causes follow)"),
}


def failure_text(r: dict[str, Any], lang: Lang) -> str:
    """Why a scenario or year has no plan: its kind in the page's language, then the
    error message."""
    code = r.get("exit_code")
    kind = FAILURE_KINDS.get(code if isinstance(code, int) else -1, N_("the run failed"))
    return lang("failed: {kind}; details: {error}", kind=lang(kind), error=str(r.get("error", "")))


@dataclass(frozen=True)
class Held:
    """What every scenario (year) of a sweep (rollout) shares: the config file, the
    ``--set`` overrides, the first scenario's config and the fields that vary."""

    source: str
    overrides: tuple[str, ...]
    config: Config | None
    varied: tuple[str, ...]


def settings_html(held: Held, *, lang: Lang) -> str:
    """The settings every scenario (year) shares, for the page (:func:`settings_rows`)."""
    head = [lang("Parameter"), lang("Value"), lang("Unit")]
    body = [
        "<tr>" + "".join(f"<td>{html.escape(v)}</td>" for v in row) + "</tr>"
        for row in settings_rows(held, lang=lang)
    ]
    title = html.escape(lang("Settings every run shares"))
    return f"<h2>{title}</h2>" + _table(head, body)


def settings_rows(held: Held, *, lang: Lang) -> list[tuple[str, str, str]]:
    """(parameter, value, unit): the config file, the ``--set`` overrides and every
    planning parameter that is not varied, as the runs' reports list them."""
    config, varied = held.config, held.varied
    rows = [(lang("Config file"), held.source, "")]
    sets = list(held.overrides)
    rows.append((lang("Set for every run (--set)"), "; ".join(sets) or lang("none"), ""))
    if config is not None:
        skip = {
            lang.gettext(label)
            for section, name, label, *_ in PARAMETERS
            if f"{section}.{name}" in set(varied)
        }
        table = assumptions_table(config, lang=lang)
        rows += [(str(r[0]), str(r[1]), str(r[2])) for r in table.itertuples(index=False)
                 if str(r[0]) not in skip]  # fmt: skip
    return rows


def _links(folder: str, r: dict[str, Any], lang: Lang) -> str:
    if str(r.get("status")) in NO_PLAN:
        return "<td></td>"
    f = html.escape(folder)
    return (
        f'<td><a href="{f}/map.html">{html.escape(lang("map"))}</a> · '
        f'<a href="{f}/report.html">{html.escape(lang("report"))}</a></td>'
    )


def _table(head: list[str], body: list[str]) -> str:
    cells = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    return f"<table><thead><tr>{cells}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _page(title: str, lead: str, png: bytes, tables: str, lang: Lang) -> str:
    img = base64.b64encode(png).decode("ascii")
    code = "zh-CN" if lang.code == "zh" else lang.code
    e = html.escape
    return (
        f'<!doctype html><html lang="{code}"><head><meta charset="utf-8">'
        f"<title>{e(title)}</title><style>{_CSS}img{{max-height:95mm}}</style></head><body>"
        f'<h1>{e(title)}</h1><p class="lead">{e(lead)}</p>'
        f"<p><img alt='{e(lang('chart'))}' src='data:image/png;base64,{img}'></p>{tables}"
        "</body></html>"
    )


def write_sweep_page(
    out: Path,
    rows: list[dict[str, Any]],
    fields: list[str],
    *,
    language: str = "zh",
    run_id: str = "",
    held: Held | None = None,
) -> None:
    """``sweep.csv`` and ``sweep.html`` (coverage and capex per covered EV against the
    first field, a line per value of the second; ``held``: the settings every scenario
    shares, listed under the table)."""
    lang = translator(language)
    out.mkdir(parents=True, exist_ok=True)
    _csv(out / "sweep.csv", rows, [*fields, *SWEEP_COLUMNS])
    head = [field_name(f, lang, rows) for f in fields] + [lang(h) for h in SWEEP_HEADERS]
    body = []
    for r in rows:
        cells = [f"<td>{html.escape(value_text(r.get(f)))}</td>" for f in fields]
        cells.append(_status(r, lang))
        cells += [_num(r.get(k)) for k in ("stations", "chargers", "repair_points")]
        cells += [_num(r.get("capex_total")), _share(r.get("demand_covered_share"))]
        cells += [_num(r.get("evs_covered"), 1), _num(r.get("capex_per_covered_ev"))]
        cells.append(_links(str(r.get("scenario", "")), r, lang))
        body.append(f"<tr>{''.join(cells)}</tr>")
    names = ("、" if lang.code == "zh" else ", ").join(field_name(f, lang, rows) for f in fields)
    title = lang("Scenarios by {fields}", fields=names)
    png = sweep_chart(rows, fields, lang=lang)
    tables = _table(head, body) + (settings_html(held, lang=lang) if held else "")
    from planner.report.sweep_workbook import write_sweep_workbook

    write_sweep_workbook(out / "sweep.xlsx", rows, fields, lang=lang, held=held)
    page = _page(title, run_label(run_id, lang) if run_id else "", png, tables, lang)
    replace_file(out / "sweep.html", lambda p: p.write_text(page, encoding="utf-8"))


def write_rollout_page(
    out: Path,
    years: list[dict[str, Any]],
    stations: list[dict[str, Any]],
    *,
    language: str = "zh",
    run_id: str = "",
    held: Held | None = None,
) -> None:
    """``rollout.csv`` (stations with their year), ``rollout_years.csv``, ``rollout.html``
    (``held``: the settings every year shares, listed under the tables)."""
    lang = translator(language)
    out.mkdir(parents=True, exist_ok=True)
    _csv(out / "rollout_years.csv", years, list(YEAR_COLUMNS))
    _csv(out / "rollout.csv", stations, list(STATION_COLUMNS))
    head = [lang(h) for h in YEAR_HEADERS]
    body = []
    for y in years:
        target = y.get("target")
        cells = [f"<td>{html.escape(str(y.get('year', '')))}</td>", _num(y.get("budget"))]
        cells += [_share(y.get("ev_adoption"))]
        cells += [_share(target) if target is not None else "<td></td>", _status(y, lang)]
        cells += [_num(y.get(k)) for k in ("new_stations", "stations_open", "chargers_new")]
        cells += [_num(y.get(k)) for k in ("chargers_open", "capex_total", "capex_cumulative")]
        cells += [_share(y.get("demand_covered_share"))]
        cells += [_num(y.get("evs")), _num(y.get("evs_covered"))]
        cells.append(_links(str(y.get("year", "")), y, lang))
        body.append(f"<tr>{''.join(cells)}</tr>")
    body.append(_total_row(years, lang))
    tables = _table(head, body) + f"<h2>{html.escape(lang('Stations and the year they open'))}</h2>"
    tables += _stations_table(stations, lang)
    tables += settings_html(held, lang=lang) if held else ""
    from planner.report.sweep_workbook import write_rollout_workbook

    write_rollout_workbook(out / "rollout.xlsx", years, stations, lang=lang, held=held)
    png = rollout_chart(years, lang=lang)
    lead = run_label(run_id, lang) if run_id else ""
    page = _page(lang("Rollout by year"), lead, png, tables, lang)
    replace_file(out / "rollout.html", lambda p: p.write_text(page, encoding="utf-8"))


def _total_row(years: list[dict[str, Any]], lang: Lang) -> str:
    """The rollout's totals over the years planned: budget, new stations and chargers,
    capital cost."""
    done = [y for y in years if y.get("status") not in NO_PLAN]

    def total(key: str) -> str:
        return _num(sum(float(y.get(key) or 0) for y in done))

    label = lang("Total ({n} of {m} years planned)", n=len(done), m=len(years))
    cells = [f"<td>{html.escape(label)}</td>", total("budget"), "<td></td>" * 3]
    cells += [total("new_stations"), "<td></td>", total("chargers_new"), "<td></td>"]
    cells += [total("capex_total"), "<td></td>" * 5]
    return f'<tr class="total">{"".join(cells)}</tr>'


def _stations_table(stations: list[dict[str, Any]], lang: Lang) -> str:
    head = [lang(h) for h in STATION_HEADERS]
    body = []
    for s in stations:
        text = [s.get(k) for k in ("year", "opened_year", "candidate_id", "name")]
        text.append(s.get("township_name"))
        cells = [f"<td>{html.escape('' if v is None else str(v))}</td>" for v in text]
        cells += [_num(s.get("chargers")), _num(s.get("capex")), _num(s.get("lon"), 6)]
        cells.append(_num(s.get("lat"), 6))
        body.append(f"<tr>{''.join(cells)}</tr>")
    return _table(head, body)
