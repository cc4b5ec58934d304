"""What the run's report says, in order: a document model both report.html and report.md
are rendered from.

:func:`build_report` gives a :class:`Report` of sections made of blocks (paragraphs,
tables, pictures, lists, the signature block), every text in the report's language and
not yet escaped. :mod:`planner.report.html_page` and :mod:`planner.report.markdown_page`
lay it out. The main part is what officials sign (headline figures, map, the chosen sites,
townships, solver passes, assumptions, data sources, signatures); appendices follow.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from planner.i18n import Lang
from planner.report.assumptions import attribution, pass_status
from planner.report.report_tables import (
    ReportParts,
    curve_table,
    dictionary_table,
    timings_table,
    township_view,
)
from planner.report.sections import (
    data_notes,
    english,
    key_figures,
    num,
    passes_text,
    plan_warnings,
    unknown_loaded,
)
from planner.report.substation_loads import substation_table
from planner.report.tour_tables import tour_figures, unserved_view


@dataclass(frozen=True)
class Paragraph:
    """A paragraph; ``style`` is ``""``, ``muted``, ``note``, ``warning`` or ``caption``."""

    text: str
    style: str = ""


@dataclass(frozen=True)
class Table:
    """A table of display texts; ``row_class`` marks its body rows, ``kind`` its layout."""

    frame: pd.DataFrame
    row_class: str | None = None
    kind: str = ""


@dataclass(frozen=True)
class KeyFigures:
    """The headline figures: (id, label, text) rows."""

    rows: list[tuple[str, str, str]]


@dataclass(frozen=True)
class Picture:
    """A picture of the run: ``map`` or ``curve``."""

    key: str
    alt: str


@dataclass(frozen=True)
class Items:
    """A bulleted list."""

    items: list[str]


@dataclass(frozen=True)
class Signatures:
    """The signature block: one row per role, with blank fields to fill in by hand."""

    heading: str
    roles: list[str]
    fields: list[str]


Block = Paragraph | Table | KeyFigures | Picture | Items | Signatures


@dataclass(frozen=True)
class Section:
    """A titled part of the report; an appendix starts on a new page when printed."""

    anchor: str
    title: str
    blocks: list[Block]
    appendix: bool = False


@dataclass(frozen=True)
class Report:
    """The report: its title, lead paragraph, warnings and sections."""

    lang: Lang
    title: str
    lead: str
    warnings: list[str]
    sections: list[Section]
    #: what every printed page names at its foot: the run (None: no run id known)
    footer: str | None = None


def _glance(
    summary: dict[str, Any], lang: Lang, pictures: set[str], credit: str | None
) -> list[Section]:
    """Headline figures, data notes and the map."""
    blocks: list[Block] = [KeyFigures(key_figures(summary, lang=lang))]
    blocks += [Paragraph(note, "note") for note in data_notes(summary, lang=lang)]
    sections = [Section("glance", lang("The plan at a glance"), blocks)]
    if "map" in pictures:
        county = str(summary.get("county", ""))
        map_blocks: list[Block] = [
            Picture("map", lang("{county}: map of the plan", county=county)),
            Paragraph(attribution(lang=lang, credit=credit), "caption"),
        ]
        sections.append(Section("map", lang("Map"), map_blocks))
    return sections


def _sites(tables: ReportParts, lang: Lang) -> list[Section]:
    """The chosen charging stations and repair points."""
    sections = []
    if tables.stations is not None:
        blocks: list[Block] = [
            Paragraph(
                lang(
                    "{n} stations, largest first; coordinates in CGCS2000 (EPSG:4490).",
                    n=len(tables.stations[0]),
                ),
                "muted",
            )
        ]
        blocks += [Table(part, "station", "sites") for part in tables.stations]
        sections.append(Section("stations", lang("Chosen charging stations"), blocks))
    if tables.existing is not None:
        text = lang(
            "The public chargers already in place count as open stations: demand they serve "
            "is covered without new capex. Sessions per day the plan routes to each:"
        )
        sections.append(
            Section(
                "existing",
                lang("Existing public chargers in the plan"),
                [Paragraph(text, "muted"), Table(tables.existing, "existing", "sites")],
            )
        )
    if tables.repair_points is not None:
        sections.append(
            Section(
                "repair",
                lang("Chosen repair points"),
                [Table(tables.repair_points, "repair", "sites")],
            )
        )
    return sections


def _grid(summary: dict[str, Any], lang: Lang) -> list[Section]:
    """The substations feeding the plan: what it asks of each, for the grid company."""
    table = substation_table(summary, lang=lang)
    if table is None:
        return []
    text = lang(
        "Headroom is the rated capacity times the power factor {pf} minus the peak load "
        "(the headroom table). A station's load is booked on the substation feeding the "
        "10 kV line it connects to; its chargers count at their rated power, all at once. "
        "Chargers already in place are taken to be in the peak load.",
        pf=num(summary.get("power_factor"), 2, lang=lang),
    )
    blocks: list[Block] = [Paragraph(text, "muted"), Table(table, "substation")]
    if not summary.get("respect_headroom", True):
        rule = lang("stations.respect_headroom is off: the plan may draw more than a headroom.")
        blocks.append(Paragraph(rule, "warning"))
    if unknown_loaded(summary):
        note = lang(
            "Substations without a row in the headroom table are not limited by the plan: "
            "their figures are needed before it is signed."
        )
        if not summary.get("headroom_table", True):
            note = lang(
                "No headroom table was given (inputs.substations), so no substation limits "
                "the plan: the substations' figures are needed before it is signed."
            )
        blocks.append(Paragraph(note, "warning"))
    return [Section("substations", lang("Substations feeding the plan"), blocks)]


def _tours(summary: dict[str, Any], tables: ReportParts, lang: Lang) -> list[Section]:
    """The repair vans' week: headline, per van, per township, the stops left out."""
    tours = summary.get("tours")
    if not tours:
        return []
    extra = tables.tours
    text = lang(
        "Vans based at the repair points visit the stops on their working days, each stop "
        "as often a week as asked, on different days; the routes follow the roads. The "
        "day-by-day schedule is in tour_stops.csv and plan.xlsx."
    )
    settings = extra.settings if extra is not None else []
    blocks: list[Block] = [
        Paragraph(text, "muted"),
        KeyFigures(tour_figures(tours, settings=settings, lang=lang)),
    ]
    if extra is not None and extra.vans is not None:
        blocks += [
            Paragraph(lang("Per van, in the week."), "caption"),
            Table(extra.vans, "van", "sites"),
        ]
    if extra is not None and extra.townships is not None:
        caption = lang("Stops and weekly visits per township.")
        blocks += [
            Paragraph(caption, "caption"),
            Table(extra.townships, "tour-township", "townships"),
        ]
    unserved = unserved_view(tours, lang=lang)
    if len(unserved):
        caption = lang("Stops with visits left out of the plan, and why.")
        blocks += [Paragraph(caption, "warning"), Table(unserved, "unserved")]
    else:
        blocks.append(Paragraph(lang("Every visit asked is in the plan.")))
    return [Section("tours", lang("Repair vans' weekly tours"), blocks)]


def _townships(summary: dict[str, Any], townships: pd.DataFrame, lang: Lang) -> Section:
    text = lang(
        "Drive times of the populated demand points to the stations they are assigned to "
        "(the nearest open one, or the next where its chargers are full); points beyond "
        "the coverage cutoff are counted, not timed."
    )
    table = Table(township_view(summary, townships, lang=lang), "township", "townships")
    return Section("townships", lang("Outcome by township"), [Paragraph(text, "muted"), table])


def _basis(summary: dict[str, Any], tables: ReportParts, lang: Lang) -> list[Section]:
    """Solver passes, assumptions and data sources: what the plan rests on."""
    sections = []
    passes = pass_status(summary, lang=lang)
    if len(passes):
        blocks: list[Block] = [Paragraph(passes_text(lang=lang)), Table(passes, kind="passes")]
        sections.append(Section("passes", lang("Solver passes"), blocks))
    if tables.assumptions is not None:
        blocks = [
            Paragraph(
                lang(
                    "Every planning parameter, and whether the county's config set it or "
                    "the planner's default applied."
                ),
                "muted",
            ),
            Table(tables.assumptions, "assumption", "assumptions"),
        ]
        sections.append(Section("assumptions", lang("Planning assumptions"), blocks))
    blocks = []
    if tables.sources is not None:
        blocks.append(Table(tables.sources, "source", "sources"))
    blocks.append(Paragraph(attribution(lang=lang, credit=tables.credit)))
    sections.append(Section("sources", lang("Data sources and licences"), blocks))
    return sections


def _signatures(lang: Lang) -> Section:
    block = Signatures(
        lang("Role"),
        [lang("Prepared by"), lang("Reviewed by"), lang("Approved by")],
        [lang("Full name"), lang("Position and unit"), lang("Signature"), lang("Date")],
    )
    return Section("signatures", lang("Signatures"), [block])


def _appendices(
    summary: dict[str, Any],
    dictionary: pd.DataFrame,
    files: list[str] | None,
    lang: Lang,
    pictures: set[str],
) -> list[Section]:
    """Coverage curve, run time, data dictionary and files, each on a new page."""
    sections = []
    curve = summary.get("coverage_curve")
    if curve:
        blocks: list[Block] = []
        if "curve" in pictures:
            blocks.append(Picture("curve", lang("coverage against budget")))
        blocks.append(Table(curve_table(curve, lang=lang), "curve"))
        sections.append(Section("curve", lang("Coverage against budget"), blocks, True))
    timings = summary.get("timings_s") or {}
    if timings:
        text = lang(
            "Seconds per stage; the last covers the GIS files and map.html, before this "
            "report was written."
        )
        blocks = [Paragraph(text, "muted"), Table(timings_table(timings, lang=lang))]
        sections.append(Section("timings", lang("Run time"), blocks, True))
    text = lang(
        "Every column of the exported layers and tables, with its unit and its field name "
        "in Shapefiles (at most 10 characters)."
    )
    table = Table(dictionary_table(dictionary, lang=lang), "column", "dictionary")
    sections.append(
        Section("dictionary", lang("Data dictionary"), [Paragraph(text, "muted"), table], True)
    )
    if files:
        sections.append(Section("files", lang("Files"), [Items(list(files))], True))
    return sections


def build_report(
    summary: dict[str, Any],
    townships: pd.DataFrame,
    dictionary: pd.DataFrame,
    *,
    parts: ReportParts | None = None,
    pictures: set[str] | frozenset[str] = frozenset(),
    lang: Lang | None = None,
) -> Report:
    """The report's content, in order.

    Parameters
    ----------
    summary
        The run's summary.
    townships
        The townships layer.
    dictionary
        From :func:`planner.report.dictionary.data_dictionary`.
    parts
        The site lists, assumptions, data sources and files (each left out when None).
    pictures
        Which pictures there are (``map``, ``curve``).
    lang
        The report's language (English when None).

    Returns
    -------
    Report
    """
    lang = english(lang)
    tables = parts or ReportParts()
    county = str(summary.get("county", ""))
    pics = set(pictures)
    sections = [
        *_glance(summary, lang, pics, tables.credit),
        *_sites(tables, lang),
        *_grid(summary, lang),
        *_tours(summary, tables, lang),
        _townships(summary, townships, lang),
        *_basis(summary, tables, lang),
        _signatures(lang),
    ]
    appendices = _appendices(summary, dictionary, tables.files, lang, pics)
    for i, section in enumerate(appendices):
        letter = chr(ord("A") + i)
        title = lang("Appendix {letter}: {title}", letter=letter, title=section.title)
        sections.append(Section(section.anchor, title, section.blocks, True))
    lead = lang(
        "Run {slug}, metric CRS {crs}. The interactive map is map.html; the GIS layers are "
        "in sites.gpkg.",
        slug=str(summary.get("slug", "")),
        crs=str(summary.get("crs_metric", "")),
    )
    footer = None
    if tables.run_id:
        footer = run_label(tables.run_id, lang)
        lead = f"{footer}{lang.gettext('. ')}{lead}"
    return Report(
        lang=lang,
        title=lang("{county}: public charging and repair plan", county=county),
        lead=lead,
        warnings=plan_warnings(summary, lang=lang),
        sections=sections,
        footer=footer,
    )


def run_label(run_id: str, lang: Lang) -> str:
    """ "Run 20261201T042756Z-ca047d09, 2026-12-01 12:27 (UTC+8)": the run folder's name and
    when the run started, in China's time (the id holds it in UTC)."""
    import datetime as dt

    try:
        start = dt.datetime.strptime(run_id[:16], "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.UTC)
    except ValueError:  # not a run folder's name: the id alone
        return lang("Run {run}", run=run_id)
    local = start.astimezone(dt.timezone(dt.timedelta(hours=8)))
    return lang("Run {run}, {time} (UTC+8)", run=run_id, time=local.strftime("%Y-%m-%d %H:%M"))
