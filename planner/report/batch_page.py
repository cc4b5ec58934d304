"""The batch's ``index.html``: every county's run, its figures and links, in the counties'
language, printable on A4 landscape."""

from __future__ import annotations

import html
import os
from typing import Any

from planner.i18n import Lang
from planner.report.assumptions import status_text
from planner.report.content import run_label
from planner.report.sections import pct

#: A run's status in the batch -> printed words.
RUN_STATUS = {
    "done": "done",
    "skipped": "complete before (kept)",
    "failed": "failed",
}

#: Column headers of the page, in order.
HEADERS = (
    "County",
    "Code",
    "Scenario",
    "Run",
    "Stations",
    "Chargers",
    "Repair points",
    "Sessions covered",
    "Capital cost (CNY)",
    "Mean drive time (min)",
    "Solver",
    "Map, report or error",
)

_CSS = (
    "@page{size:A4 landscape;margin:12mm;"
    "@bottom-center{content:counter(page) ' / ' counter(pages);font-size:8pt;color:#555}}"
    "body{font-family:'Noto Sans CJK SC','WenQuanYi Micro Hei','Microsoft YaHei',sans-serif;"
    "margin:1.5em;font-size:10pt}table{border-collapse:collapse;width:100%}"
    "thead{display:table-header-group}tr{break-inside:avoid}"
    "td,th{border:1px solid #ccc;padding:3px 6px;vertical-align:top}"
    "td.num{text-align:right;white-space:nowrap}td.err{color:#b00;overflow-wrap:anywhere}"
    ".failed{color:#b00}tr.total td{font-weight:bold;border-top:2px solid #555}"
    "img{max-width:100%}p.lead{color:#555}"
)

#: Links are written for the page in ``runs/<id>/``; opened through the batch's ``latest``
#: (one folder higher, and a browser does not follow the link), they lose one ``../``.
_LATEST_LINKS = (
    "<script>if(/\\/latest\\/[^/]*$/.test(location.pathname)){"
    "document.querySelectorAll('a[href^=\"../../\"]').forEach(function(a){"
    "a.setAttribute('href',a.getAttribute('href').slice(3));});}</script>"
)


def index_html(rows: list[dict[str, Any]], *, lang: Lang, run_id: str | None = None) -> str:
    """The page of a batch's rows (:func:`planner.report.province._row`)."""
    e = html.escape
    failed = sum(r["status"] == "failed" for r in rows)
    title = lang("Charging plans: {n} runs, {failed} failed", n=len(rows), failed=failed)
    lead = run_label(run_id, lang) if run_id else ""
    head = "".join(f"<th>{e(lang(h))}</th>" for h in HEADERS)
    body = [_row_html(r, lang) for r in rows]
    body.append(_total_html(rows, lang))
    code = "zh-CN" if lang.code == "zh" else lang.code
    return (
        f'<!doctype html><html lang="{code}"><head><meta charset="utf-8">'
        f"<title>{e(title)}</title><style>{_CSS}</style></head><body>"
        f"<h1>{e(title)}</h1>"
        + (f'<p class="lead">{e(lead)}</p>' if lead else "")
        + f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
        f'<p><img src="province_map.png" alt="{e(lang("Planned charging stations"))}"></p>'
        f"<p>{e(lang('Every figure is in batch_summary.csv.'))}</p>{_LATEST_LINKS}</body></html>"
    )


def _row_html(r: dict[str, Any], lang: Lang) -> str:
    e = html.escape
    if r["status"] == "failed":
        tail = f'<td class="err">{e(str(r["error"]))}</td>'
    else:
        folder = e(str(r["folder"]).replace(os.sep, "/"))
        tail = (
            f'<td><a href="{folder}/map.html">{e(lang("map"))}</a> · '
            f'<a href="{folder}/report.html">{e(lang("report"))}</a></td>'
        )
    gap = r["gap"]
    solver = status_text(str(r["solver_status"]), lang=lang) if r["solver_status"] else ""
    if isinstance(gap, float):
        solver += lang.gettext(", ") + lang("largest gap {gap}", gap=pct(gap, 2))
    status = lang(RUN_STATUS.get(str(r["status"]), str(r["status"])))
    share = r["demand_covered_share"]
    cells = [
        f"<td>{e(str(r['name'] or r['county']))}</td>",
        f"<td>{e(str(r['code']))}</td>",
        f"<td>{e(str(r['scenario']))}</td>",
        f'<td class="{e(str(r["status"]))}">{e(status)}</td>',
        *(_num(r[k], 0) for k in ("stations", "chargers", "repair_points")),
        f'<td class="num">{pct(share) if _is_num(share) else ""}</td>',
        _num(r["capex_total"], 0),
        _num(r["mean_travel_min"], 1),
        f"<td>{e(solver)}</td>",
        tail,
    ]
    return f"<tr>{''.join(cells)}</tr>"


def first_rows(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Each county's row of its first scenario (the batch's first), failed or not.

    Parameters
    ----------
    rows
        The batch's rows in task order (a county's scenarios in the batch's order).

    Returns
    -------
    dict
        County (slug) -> its first row.
    """
    firsts: dict[str, dict[str, Any]] = {}
    for r in rows:
        firsts.setdefault(str(r["county"]), r)
    return firsts


def _total_html(rows: list[dict[str, Any]], lang: Lang) -> str:
    """Sums over each county's first scenario (shares are not summed); a county whose
    first scenario failed is left out, and the label names it."""
    firsts = first_rows(rows)
    counted = [r for r in firsts.values() if r["status"] != "failed"]
    sums = [
        _num(sum(float(r[k]) for r in counted if _is_num(r[k])), 0)
        for k in ("stations", "chargers", "repair_points")
    ]
    capex = _num(sum(float(r["capex_total"]) for r in counted if _is_num(r["capex_total"])), 0)
    blank = "<td></td>"
    return (
        f'<tr class="total"><td>{html.escape(_total_label(rows, firsts, lang))}</td>'
        f"{blank * 3}{''.join(sums)}{blank}{capex}{blank * 3}</tr>"
    )


def _total_label(rows: list[dict[str, Any]], firsts: dict[str, dict[str, Any]], lang: Lang) -> str:
    """The total's label: how many counties it sums, those left out, the scenario."""
    failed = [str(r["name"] or r["county"]) for r in firsts.values() if r["status"] == "failed"]
    n = len(firsts) - len(failed)
    if failed:
        label = lang(
            "Total ({n} of {m} counties; {failed} failed)",
            n=n,
            m=len(firsts),
            failed=lang.gettext(", ").join(failed),
        )
    else:
        label = lang("Total ({n} counties)", n=n)
    scenarios = dict.fromkeys(str(r["scenario"]) for r in rows)
    if len(scenarios) > 1 and firsts:
        first = str(next(iter(firsts.values()))["scenario"])
        label += lang.gettext(", ") + lang("scenario {name}", name=first)
    return label


def _is_num(v: object) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _num(v: object, digits: int) -> str:
    text = f"{float(v):,.{digits}f}" if _is_num(v) else ""  # type: ignore[arg-type]
    return f'<td class="num">{text}</td>'
