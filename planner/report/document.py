"""The run's report: report.html (self-contained) and report.md, plus map.png.

The builders are pure (summary, tables and PNG bytes in, text out); :func:`write_document`
renders the figures and writes the files. Every text that comes from data is escaped
(HTML in report.html; HTML and Markdown in report.md), and report.html loads nothing:
the pictures are embedded as ``data:`` URIs and the style is inline.
"""

from __future__ import annotations

import base64
import html
import logging
import math
import re
import time
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from planner import columns as C

logger = logging.getLogger(__name__)

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


def _headed(df: pd.DataFrame, headings: tuple[tuple[str, str], ...]) -> pd.DataFrame:
    return df.rename(columns=dict(headings))


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


def _solves(summary: dict[str, Any]) -> pd.DataFrame:
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


def _dictionary_view(dictionary: pd.DataFrame) -> pd.DataFrame:
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
    e = html.escape
    county = str(summary.get("county", ""))
    glance = "".join(
        f'<tr><th>{e(label)}</th><td id="fig-{e(key)}">{e(text)}</td></tr>'
        for key, label, text in key_figures(summary)
    )
    towns = _headed(
        township_table(townships, cutoff_min=summary.get("station_cutoff_min")),
        TOWNSHIP_COLUMNS,
    )
    parts = [
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
    if map_png is not None:
        parts += ["<h2>Map</h2>", _img(map_png, f"{county}: map of the plan")]
    parts += [
        "<h2>Townships</h2>",
        '<p class="muted">Drive times of the populated demand points (villages) to the '
        "stations they are assigned to (the nearest open one, or the next where its chargers "
        "are full); villages beyond the coverage cutoff are counted, not timed.</p>",
        _html_table(towns, row_class="township"),
    ]
    curve = summary.get("coverage_curve")
    if curve:
        parts.append("<h2>Coverage against budget</h2>")
        if curve_png is not None:
            parts.append(_img(curve_png, "coverage against budget"))
        parts.append(_html_table(curve_table(curve), row_class="curve"))
    solves = _solves(summary)
    if len(solves):
        parts += ["<h2>Solver</h2>", f"<p>{e(PASSES_TEXT)}</p>", _html_table(solves)]
    timings = summary.get("timings_s") or {}
    if timings:
        t = pd.DataFrame(
            {"Stage": [str(k) for k in timings], "Seconds": [_num(v, 2) for v in timings.values()]}
        )
        parts += [
            "<h2>Run time</h2>",
            '<p class="muted">Seconds per stage; "report" covers the GIS files and map.html, '
            "before this page was written.</p>",
            _html_table(t),
        ]
    parts += [
        "<h2>Data dictionary</h2>",
        '<p class="muted">Every column of the exported layers and tables, with its unit and '
        "its field name in Shapefiles (at most 10 characters).</p>",
        _html_table(_dictionary_view(dictionary), row_class="column"),
    ]
    if files:
        items = "".join(f"<li>{e(f)}</li>" for f in files)
        parts += ["<h2>Files</h2>", f"<ul>{items}</ul>"]
    parts.append("</body></html>\n")
    return "\n".join(parts)


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
    towns = _headed(
        township_table(townships, cutoff_min=summary.get("station_cutoff_min")),
        TOWNSHIP_COLUMNS,
    )
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
    solves = _solves(summary)
    if len(solves):
        parts += ["## Solver", "", PASSES_TEXT, "", _md_table(solves), ""]
    parts += ["## Data dictionary", "", _md_table(_dictionary_view(dictionary)), ""]
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
