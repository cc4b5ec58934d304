"""Pages of a sweep and a rollout: table (CSV), chart and HTML."""

from __future__ import annotations

import base64
import csv
import html
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from planner.paths import replace_file
from planner.report.figures import figure_png
from planner.report.formats import safe_cell


def _csv(path: Path, rows: list[dict[str, Any]]) -> None:
    names: list[str] = []
    for r in rows:
        names += [k for k in r if k not in names]

    def write(tmp: Path) -> None:
        with tmp.open("w", newline="", encoding="utf-8-sig") as fh:
            w = csv.writer(fh)
            w.writerow([safe_cell(n) for n in names])
            w.writerows([safe_cell(r.get(n, "")) for n in names] for r in rows)

    replace_file(path, write)


def _png(fig: plt.Figure) -> bytes:
    """The chart as PNG, its pyplot figure closed."""
    png = figure_png(fig, dpi=100)
    plt.close(fig)
    return png


def _table(rows: list[dict[str, Any]]) -> str:
    names: list[str] = []
    for r in rows:
        names += [k for k in r if k not in names]
    head = "".join(f"<th>{html.escape(n)}</th>" for n in names)

    def cell(v: Any) -> str:
        if isinstance(v, float):
            return f"{v:,.4g}" if abs(v) < 1e4 else f"{v:,.0f}"
        return html.escape("" if v is None else str(v))

    body = "".join(
        "<tr>" + "".join(f"<td>{cell(r.get(n))}</td>" for n in names) + "</tr>" for r in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def _page(title: str, png: bytes, table: str, extra: str = "") -> str:
    img = base64.b64encode(png).decode("ascii")
    return (
        '<!doctype html><html><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>body{{font-family:sans-serif;margin:2em}}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 8px}"
        "img{max-width:100%}</style></head><body>"
        f"<h1>{html.escape(title)}</h1><p><img alt='chart' src='data:image/png;base64,{img}'>"
        f"</p>{table}{extra}</body></html>"
    )


def write_sweep_page(out: Path, rows: list[dict[str, Any]], fields: list[str]) -> None:
    """``sweep.csv`` and ``sweep.html`` (coverage and capex per covered EV vs the first field)."""
    out.mkdir(parents=True, exist_ok=True)
    _csv(out / "sweep.csv", rows)
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 4))
    groups: dict[Any, list[dict[str, Any]]] = {}
    for r in rows:
        if r.get("status") != "failed":
            groups.setdefault(r.get(fields[1]) if len(fields) > 1 else None, []).append(r)
    for key, items in groups.items():
        xs = [float(r[fields[0]]) for r in items]
        label = None if key is None else f"{fields[1]} = {key}"
        a1.plot(xs, [100 * r["demand_covered_share"] for r in items], "o-", label=label)
        a2.plot(xs, [r["capex_per_covered_ev"] or 0 for r in items], "s-", label=label)
    a1.set_xlabel(fields[0])
    a1.set_ylabel("sessions covered (%)")
    a2.set_xlabel(fields[0])
    a2.set_ylabel("capex per covered EV (CNY)")
    if len(groups) > 1:
        a1.legend()
    fig.tight_layout()
    page = _page(f"Sweep of {', '.join(fields)}", _png(fig), _table(rows))
    replace_file(out / "sweep.html", lambda p: p.write_text(page, encoding="utf-8"))


def write_rollout_page(
    out: Path, years: list[dict[str, Any]], stations: list[dict[str, Any]]
) -> None:
    """``rollout.csv`` (stations with their year), ``rollout_years.csv``, ``rollout.html``."""
    out.mkdir(parents=True, exist_ok=True)
    _csv(out / "rollout_years.csv", years)
    _csv(out / "rollout.csv", stations)
    ok = [y for y in years if y.get("status") != "failed"]
    fig, a1 = plt.subplots(figsize=(7, 4))
    xs = [str(y["year"]) for y in ok]
    a1.bar(xs, [y["stations_open"] for y in ok], color="#2e86de", label="stations open")
    a1.set_ylabel("stations open")
    a2 = a1.twinx()
    a2.plot(xs, [100 * y["demand_covered_share"] for y in ok], "o-", color="#c0392b")
    a2.set_ylabel("sessions covered (%)")
    a2.set_ylim(0, 100)
    fig.tight_layout()
    extra = "<h2>Stations and the year they open</h2>" + _table(stations)
    page = _page("Rollout by year", _png(fig), _table(years), extra)
    replace_file(out / "rollout.html", lambda p: p.write_text(page, encoding="utf-8"))
