"""The run's report: report.html (self-contained, printable on A4) and report.md, plus map.png.

The report is one a county's officials can sign, in the run's language (zh or en): the
plan at a glance, the map, the chosen charging stations and repair points, the
townships, each solver pass's status, the assumptions, the data sources with their
licences and the OpenStreetMap credit, and a signature block; the coverage curve, run
time, data dictionary and file list follow as appendices.

:mod:`planner.report.content` decides what the report says (a document model),
:mod:`planner.report.html_page` and :mod:`planner.report.markdown_page` lay it out; the
builders here are pure (summary, tables and PNG bytes in, text out) and
:func:`write_document` renders the figures and writes the files.
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import pandas as pd

from planner.config.report import MAP_DEMAND_POINTS
from planner.i18n import Lang
from planner.report.content import build_report
from planner.report.html_page import render_html
from planner.report.markdown_page import render_markdown
from planner.report.report_tables import (  # re-exported: planner.report.document.curve_table
    TOWNSHIP_COLUMNS,
    ReportParts,
    curve_table,
    dictionary_table,
    report_parts,
    timings_table,
    township_table,
    township_view,
)
from planner.report.sections import (  # re-exported
    PASSES_TEXT,
    data_notes,
    english,
    key_figures,
    plan_warnings,
    stopped_note,
)

if TYPE_CHECKING:
    from planner.config import Config

logger = logging.getLogger(__name__)

__all__ = [
    "PASSES_TEXT",
    "TOWNSHIP_COLUMNS",
    "ReportParts",
    "build_html",
    "build_markdown",
    "curve_table",
    "data_notes",
    "dictionary_table",
    "key_figures",
    "plan_warnings",
    "timings_table",
    "township_table",
    "township_view",
    "write_document",
]


def build_html(
    summary: dict[str, Any],
    townships: pd.DataFrame,
    dictionary: pd.DataFrame,
    *,
    map_png: bytes | None = None,
    curve_png: bytes | None = None,
    files: list[str] | None = None,
    parts: ReportParts | None = None,
    lang: Lang | None = None,
) -> str:
    """report.html: one self-contained page, printable on A4.

    Parameters
    ----------
    summary
        The run's summary; ``summary["coverage_curve"]``, when present, adds the
        coverage-vs-budget appendix.
    townships
        The townships layer (attributes of :func:`planner.report.outcomes.township_outcome`).
    dictionary
        From :func:`planner.report.dictionary.data_dictionary`.
    map_png, curve_png
        PNG bytes of the static map and the curve chart, embedded as data URIs.
    files
        The run's files, listed in an appendix (instead of ``parts.files``).
    parts
        Site lists, assumptions, data sources and the run's files (:func:`report_parts`);
        left out when None.
    lang
        The report's language (English when None).

    Returns
    -------
    str
        The page; every text from data is HTML-escaped.
    """
    pictures = {k: v for k, v in (("map", map_png), ("curve", curve_png)) if v is not None}
    if files is not None:
        parts = replace(parts or ReportParts(), files=files)
    report = build_report(
        summary, townships, dictionary, parts=parts, pictures=set(pictures), lang=lang
    )  # fmt: skip
    return render_html(report, pictures=pictures)


def build_markdown(
    summary: dict[str, Any],
    townships: pd.DataFrame,
    dictionary: pd.DataFrame,
    *,
    map_file: str | None = "map.png",
    curve_file: str | None = None,
    parts: ReportParts | None = None,
    lang: Lang | None = None,
) -> str:
    """report.md: the same content as report.html, pictures linked by file name.

    Parameters
    ----------
    summary, townships, dictionary, parts, lang
        As for :func:`build_html`.
    map_file, curve_file
        File names of the pictures beside report.md (None: left out).

    Returns
    -------
    str
    """
    pictures = {k: v for k, v in (("map", map_file), ("curve", curve_file)) if v}
    report = build_report(
        summary, townships, dictionary, parts=parts, pictures=set(pictures), lang=lang
    )  # fmt: skip
    return render_markdown(report, files=pictures)


def write_document(
    out_dir: Path,
    summary: dict[str, Any],
    layers: dict[str, gpd.GeoDataFrame],
    dictionary: pd.DataFrame,
    *,
    files: list[str] | None = None,
    config: Config | None = None,
    lang: Lang | None = None,
    run_id: str | None = None,
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
    config
        The run's config: the report lists its assumptions and data sources (left out
        when None).
    lang
        The report's language (English when None): every text, the charts and map.png.
    run_id
        The run folder's name, named under the title and at the foot of every printed
        page (None: not named).

    Returns
    -------
    list of str
        The files written.
    """
    from planner.report.charts import plot_coverage_curve
    from planner.report.static_map import plot_plan, render_png

    t0 = time.perf_counter()
    lang = english(lang)
    county = str(summary.get("county", ""))
    fig = plot_plan(
        layers,
        title=lang("{county}: charging stations and repair points", county=county),
        title_latin=f"{summary.get('slug', '')}: charging stations and repair points",
        lang=lang,
        max_demand_points=config.report.map_demand_points if config else MAP_DEMAND_POINTS,
        warning=stopped_note(summary, lang=lang),
    )
    map_png = render_png(fig)
    (out_dir / "map.png").write_bytes(map_png)
    written = ["map.png"]
    curve_png = None
    curve = summary.get("coverage_curve")
    if curve:
        curve_png = render_png(plot_coverage_curve(curve, lang=lang))
        (out_dir / "coverage_curve.png").write_bytes(curve_png)
        written.append("coverage_curve.png")
    listed = [*(files or []), *written, "report.html", "report.md"]
    parts = report_parts(layers, config, files=listed, lang=lang, summary=summary, run_id=run_id)
    page = build_html(
        summary, layers["townships"], dictionary, map_png=map_png, curve_png=curve_png,
        parts=parts, lang=lang,
    )  # fmt: skip
    (out_dir / "report.html").write_text(page, encoding="utf-8")
    text = build_markdown(
        summary, layers["townships"], dictionary, map_file="map.png",
        curve_file="coverage_curve.png" if curve_png is not None else None,
        parts=parts, lang=lang,
    )  # fmt: skip
    (out_dir / "report.md").write_text(text, encoding="utf-8")
    logger.info("report.html, report.md and map.png in %.2f s", time.perf_counter() - t0)
    return [*written, "report.html", "report.md"]
