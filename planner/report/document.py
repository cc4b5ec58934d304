"""The run's report: report.html (self-contained) and report.md, plus map.png.

The builders are pure (summary, tables and PNG bytes in, text out); :func:`write_document`
renders the figures and writes the files. Every text that comes from data is escaped
(HTML in report.html; HTML and Markdown in report.md), and report.html loads nothing:
the pictures are embedded as ``data:`` URIs and the style is inline. What the pages say
(key figures, notes, tables) is built in :mod:`planner.report.sections`.
"""

from __future__ import annotations

import base64
import html
import logging
import re
import time
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from planner.report.sections import (  # re-exported: planner.report.document.key_figures, ...
    PASSES_TEXT,
    TOWNSHIP_COLUMNS,
    curve_table,
    data_notes,
    dictionary_table,
    key_figures,
    plan_warnings,
    solves_table,
    timings_table,
    township_table,
    township_view,
)

logger = logging.getLogger(__name__)

__all__ = [
    "PASSES_TEXT",
    "TOWNSHIP_COLUMNS",
    "build_html",
    "build_markdown",
    "curve_table",
    "data_notes",
    "key_figures",
    "plan_warnings",
    "township_table",
    "write_document",
]

_CSS = """
body{font-family:"Noto Sans CJK SC","Microsoft YaHei","PingFang SC",sans-serif;
margin:2em auto;max-width:72em;padding:0 1em;color:#1e272e;line-height:1.4}
h1{font-size:1.6em;margin-bottom:.2em}h2{font-size:1.2em;margin-top:1.8em;
border-bottom:1px solid #ccc}table{border-collapse:collapse;margin:.5em 0}
th,td{border:1px solid #d0d0d0;padding:.25em .6em;text-align:left;vertical-align:top}
td.n{text-align:right;font-variant-numeric:tabular-nums}th{background:#f3f5f7}
table.glance th{width:16em}img{max-width:100%;height:auto;border:1px solid #ddd}
.muted{color:#666;font-size:.9em}
.warning{border:2px solid #c23616;background:#fdecea;padding:.5em;font-weight:bold}
.note{background:#fff8e1;border-left:3px solid #e1b12c;padding:.3em .6em}
@media print{body{margin:0;max-width:none}h2{page-break-after:avoid}}
"""


_NUMERIC = re.compile(r"^(?:[\s\d,.%>()-]+|n/a)$")


def _html_table(df: pd.DataFrame, *, row_class: str | None = None) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in df.columns)
    body = []
    cls = f' class="{row_class}"' if row_class else ""
    for row in df.itertuples(index=False):
        cells = "".join(
            f'<td class="n">{html.escape(str(v))}</td>'
            if _NUMERIC.match(str(v)) and str(v).strip()
            else f"<td>{html.escape(str(v))}</td>"
            for v in row
        )
        body.append(f"<tr{cls}>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _img(png: bytes, alt: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return f'<img src="data:image/png;base64,{data}" alt="{html.escape(alt)}">'


def build_html(
    summary: dict[str, Any],
    townships: pd.DataFrame,
    dictionary: pd.DataFrame,
    *,
    map_png: bytes | None = None,
    curve_png: bytes | None = None,
    files: list[str] | None = None,
) -> str:
    """report.html: one self-contained page.

    Parameters
    ----------
    summary
        The run's summary; ``summary["coverage_curve"]``, when present, adds the
        coverage-vs-budget section.
    townships
        The townships layer (attributes of :func:`planner.report.summary.township_outcome`).
    dictionary
        From :func:`planner.report.dictionary.data_dictionary`.
    map_png, curve_png
        PNG bytes of the static map and the curve chart, embedded as data URIs.
    files
        The run's files, listed at the end.

    Returns
    -------
    str
        The page; every text from data is HTML-escaped.
    """
    county = str(summary.get("county", ""))
    parts = [
        *_html_top(summary),
        *_html_map(county, map_png),
        *_html_townships(summary, townships),
        *_html_curve(summary.get("coverage_curve"), curve_png),
        *_html_solver(summary),
        *_html_timings(summary.get("timings_s") or {}),
        *_html_dictionary(dictionary),
        *_html_files(files),
        "</body></html>\n",
    ]
    return "\n".join(parts)


def _html_top(summary: dict[str, Any]) -> list[str]:
    """The page's head, title, warnings, the plan at a glance and the data notes."""
    e = html.escape
    county = str(summary.get("county", ""))
    glance = "".join(
        f'<tr><th>{e(label)}</th><td id="fig-{e(key)}">{e(text)}</td></tr>'
        for key, label, text in key_figures(summary)
    )
    return [
        "<!DOCTYPE html>",
        '<html lang="zh-CN"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{e(county)}: charging plan</title><style>{_CSS}</style></head><body>",
        f"<h1>{e(county)}: public charging and repair plan</h1>",
        f'<p class="muted">Run {e(str(summary.get("slug", "")))}, metric CRS '
        f"{e(str(summary.get('crs_metric', '')))}. The interactive map is map.html; the GIS "
        "layers are in sites.gpkg.</p>",
        *[f'<p class="warning">{e(w)}</p>' for w in plan_warnings(summary)],
        "<h2>The plan at a glance</h2>",
        f'<table class="glance">{glance}</table>',
        *(f'<p class="note">{e(note)}</p>' for note in data_notes(summary)),
    ]


def _html_map(county: str, map_png: bytes | None) -> list[str]:
    if map_png is None:
        return []
    return ["<h2>Map</h2>", _img(map_png, f"{county}: map of the plan")]


def _html_townships(summary: dict[str, Any], townships: pd.DataFrame) -> list[str]:
    return [
        "<h2>Townships</h2>",
        '<p class="muted">Drive times of the populated demand points (villages) to the '
        "stations they are assigned to (the nearest open one, or the next where its chargers "
        "are full); villages beyond the coverage cutoff are counted, not timed.</p>",
        _html_table(township_view(summary, townships), row_class="township"),
    ]


def _html_curve(curve: list[dict[str, Any]] | None, curve_png: bytes | None) -> list[str]:
    if not curve:
        return []
    parts = ["<h2>Coverage against budget</h2>"]
    if curve_png is not None:
        parts.append(_img(curve_png, "coverage against budget"))
    parts.append(_html_table(curve_table(curve), row_class="curve"))
    return parts


def _html_solver(summary: dict[str, Any]) -> list[str]:
    solves = solves_table(summary)
    if not len(solves):
        return []
    return ["<h2>Solver</h2>", f"<p>{html.escape(PASSES_TEXT)}</p>", _html_table(solves)]


def _html_timings(timings: dict[str, float]) -> list[str]:
    if not timings:
        return []
    return [
        "<h2>Run time</h2>",
        '<p class="muted">Seconds per stage; "report" covers the GIS files and map.html, '
        "before this page was written.</p>",
        _html_table(timings_table(timings)),
    ]


def _html_dictionary(dictionary: pd.DataFrame) -> list[str]:
    return [
        "<h2>Data dictionary</h2>",
        '<p class="muted">Every column of the exported layers and tables, with its unit and '
        "its field name in Shapefiles (at most 10 characters).</p>",
        _html_table(dictionary_table(dictionary), row_class="column"),
    ]


def _html_files(files: list[str] | None) -> list[str]:
    if not files:
        return []
    items = "".join(f"<li>{html.escape(f)}</li>" for f in files)
    return ["<h2>Files</h2>", f"<ul>{items}</ul>"]


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|~])")


def _md(text: object) -> str:
    """Text from data made inert in Markdown: HTML-escaped, Markdown characters escaped."""
    flat = " ".join(str(text).split())
    return _MD_SPECIAL.sub(r"\\\1", html.escape(flat, quote=False))


def _md_table(df: pd.DataFrame) -> str:
    head = "| " + " | ".join(_md(c) for c in df.columns) + " |"
    rule = "|" + "|".join("---" for _ in df.columns) + "|"
    body = ["| " + " | ".join(_md(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join([head, rule, *body])


def build_markdown(
    summary: dict[str, Any],
    townships: pd.DataFrame,
    dictionary: pd.DataFrame,
    *,
    map_file: str | None = "map.png",
    curve_file: str | None = None,
) -> str:
    """report.md: the same content as report.html, pictures linked by file name.

    Parameters
    ----------
    summary, townships, dictionary
        As for :func:`build_html`.
    map_file, curve_file
        File names of the pictures beside report.md (None: left out).

    Returns
    -------
    str
    """
    county = _md(summary.get("county", ""))
    glance = pd.DataFrame(
        [(label, text) for _, label, text in key_figures(summary)], columns=["", "value"]
    )
    towns = township_view(summary, townships)
    parts = [
        f"# {county}: public charging and repair plan",
        "",
        *[f"> **Warning:** {w}\n" for w in plan_warnings(summary)],
        "## The plan at a glance",
        "",
        _md_table(glance),
        "",
        *(f"{_md(note)}\n" for note in data_notes(summary)),
    ]
    if map_file:
        parts += ["## Map", "", f"![map of the plan]({map_file})", ""]
    parts += ["## Townships", "", _md_table(towns), ""]
    curve = summary.get("coverage_curve")
    if curve:
        parts += ["## Coverage against budget", ""]
        if curve_file:
            parts += [f"![coverage against budget]({curve_file})", ""]
        parts += [_md_table(curve_table(curve)), ""]
    solves = solves_table(summary)
    if len(solves):
        parts += ["## Solver", "", PASSES_TEXT, "", _md_table(solves), ""]
    parts += ["## Data dictionary", "", _md_table(dictionary_table(dictionary)), ""]
    return "\n".join(parts)


def write_document(
    out_dir: Path,
    summary: dict[str, Any],
    layers: dict[str, gpd.GeoDataFrame],
    dictionary: pd.DataFrame,
    *,
    files: list[str] | None = None,
) -> list[str]:
    """Render the figures and write map.png, report.html and report.md (and
    coverage_curve.png when the summary has a curve).

    Parameters
    ----------
    out_dir
        The run folder (being written).
    summary
        The run's summary.
    layers
        The run's layers (``townships``, ``demand``, ``stations``, ``repair_points``, ...).
    dictionary
        The data dictionary.
    files
        The run's other files, listed in the report.

    Returns
    -------
    list of str
        The files written.
    """
    from planner.report.charts import plot_coverage_curve
    from planner.report.static_map import plot_plan, render_png

    t0 = time.perf_counter()
    county = str(summary.get("county", ""))
    fig = plot_plan(
        layers,
        title=f"{county}: charging stations and repair points",
        title_latin=f"{summary.get('slug', '')}: charging stations and repair points",
    )
    map_png = render_png(fig)
    (out_dir / "map.png").write_bytes(map_png)
    written = ["map.png"]
    curve_png = None
    curve = summary.get("coverage_curve")
    if curve:
        curve_png = render_png(plot_coverage_curve(curve))
        (out_dir / "coverage_curve.png").write_bytes(curve_png)
        written.append("coverage_curve.png")
    listed = [*(files or []), *written, "report.html", "report.md"]
    page = build_html(
        summary, layers["townships"], dictionary, map_png=map_png, curve_png=curve_png,
        files=listed,
    )  # fmt: skip
    (out_dir / "report.html").write_text(page, encoding="utf-8")
    text = build_markdown(
        summary,
        layers["townships"],
        dictionary,
        map_file="map.png",
        curve_file="coverage_curve.png" if curve_png is not None else None,
    )
    (out_dir / "report.md").write_text(text, encoding="utf-8")
    logger.info("report.html, report.md and map.png in %.2f s", time.perf_counter() - t0)
    return [*written, "report.html", "report.md"]
