"""Excel sheets from tables: numbers stored as rounded numbers with a number format, text
never run as a formula, a styled and frozen header row, fitted column widths, an autofilter
and a printable page (A4 landscape, fit to width, header row on every page).

The pure helpers (:func:`number_format`, :func:`format_decimals`, :func:`text_width`) do
the choices; :func:`add_sheet` writes one :class:`Sheet` into an openpyxl workbook.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.workbook import Workbook
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.worksheet import Worksheet

from planner.i18n import Lang
from planner.report.formats import FORMULA_STARTS, safe_cell

#: Most decimals a number without a given format keeps.
MOST_DECIMALS = 6
#: Column widths, in characters (a CJK character counts two).
MIN_WIDTH, MAX_WIDTH = 6, 60
#: Longest text Excel keeps in a cell.
MAX_TEXT = 32767

HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill(fill_type="solid", start_color="DDEBF7", end_color="DDEBF7")
HEADER_BORDER = Border(bottom=Side(style="thin", color="808080"))
HEADER_ALIGNMENT = Alignment(wrap_text=True, vertical="center")
WRAP_ALIGNMENT = Alignment(wrap_text=True, vertical="top")

_SHEET_NAME_BAD = re.compile(r"[\[\]:*?/\\]")


@dataclass(frozen=True)
class Sheet:
    """One table to write as a sheet.

    Attributes
    ----------
    title
        Sheet name (characters Excel forbids are replaced; cut to 31 characters).
    table
        The rows; its column names are the header row.
    formats
        Header -> number format of that column's numbers.
    cell_formats
        (row position, header) -> number format of one cell (before ``formats``).

    Numbers without a format get one with the fewest decimals (at most
    :data:`MOST_DECIMALS`) that keep their value.
    """

    title: str
    table: pd.DataFrame
    formats: Mapping[str, str] = field(default_factory=dict)
    cell_formats: Mapping[tuple[int, str], str] = field(default_factory=dict)


def number_format(decimals: int, *, percent: bool = False, grouped: bool = True) -> str:
    """An Excel number format: ``#,##0`` / ``#,##0.0`` / ``0.000000`` / ``0.0%``.

    Parameters
    ----------
    decimals
        Decimals shown.
    percent
        A share (0-1) shown as per cent.
    grouped
        Thousands separators (not for coordinates and codes).
    """
    fraction = "." + "0" * decimals if decimals > 0 else ""
    if percent:
        return f"0{fraction}%"
    return f"#,##0{fraction}" if grouped else f"0{fraction}"


def format_decimals(fmt: str) -> int:
    """Decimals of the stored value that ``fmt`` shows (a per cent format: two more)."""
    match = re.search(r"\.(0+)", fmt)
    decimals = len(match.group(1)) if match else 0
    return decimals + 2 if fmt.endswith("%") else decimals


def fewest_decimals(value: float, *, most: int = MOST_DECIMALS) -> int:
    """The fewest decimals (up to ``most``) that keep ``value`` (float noise ignored)."""
    for decimals in range(most + 1):
        if math.isclose(round(value, decimals), value, rel_tol=1e-12, abs_tol=1e-12):
            return decimals
    return most


def text_width(text: str) -> int:
    """Width of ``text`` in a fixed-width font: CJK (wide) characters count two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def shown_number(value: float, fmt: str) -> str:
    """``value`` roughly as Excel shows it with ``fmt`` (for the column width)."""
    decimals = format_decimals(fmt)
    if fmt.endswith("%"):
        return f"{100 * value:.{decimals - 2}f}%"
    return f"{value:,.{decimals}f}" if "," in fmt else f"{value:.{decimals}f}"


def _missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float | np.floating) and not math.isfinite(float(value))


def put_value(cell: Cell, value: Any, fmt: str | None, *, lang: Lang) -> str:
    """Write one value into ``cell``; return the text it shows (for the column width).

    Missing values leave the cell empty, booleans become 是/否 (yes/no), numbers are
    rounded to the decimals of their format (so no float noise is stored), and text is
    always stored as text: text a spreadsheet would read as a formula or a signed number
    (see :func:`planner.report.formats.safe_cell`) is kept as it is, as a string with
    Excel's quote prefix, so it is shown and edited as text and never run.
    """
    if _missing(value):
        return ""
    if isinstance(value, bool | np.bool_):
        value = lang.yes_no(bool(value))
    if isinstance(value, int | float | np.integer | np.floating):
        number = float(value)
        fmt = fmt or number_format(fewest_decimals(number))
        decimals = format_decimals(fmt)
        cell.value = round(number) if decimals == 0 else round(number, decimals)
        cell.number_format = fmt
        return shown_number(number, fmt)
    text = ILLEGAL_CHARACTERS_RE.sub("", str(value))[:MAX_TEXT]
    cell.value = text
    cell.data_type = "s"  # openpyxl would take text starting with "=" for a formula
    if safe_cell(text) != text or text.startswith(FORMULA_STARTS):
        cell.quotePrefix = True  # also "+1": edited in Excel, it stays text
    return text


def sheet_name(title: str) -> str:
    """``title`` as a valid sheet name."""
    return _SHEET_NAME_BAD.sub("-", title).strip("'")[:31] or "Sheet"


def add_sheet(book: Workbook, sheet: Sheet, *, lang: Lang) -> Worksheet:
    """Write ``sheet`` as a new worksheet of ``book`` (see the module doc)."""
    ws = book.create_sheet(sheet_name(sheet.title))
    headers = [str(h) for h in sheet.table.columns]
    widths = []
    for col, header in enumerate(headers, start=1):
        cell = ws.cell(row=1, column=col)
        shown = [put_value(cell, header, None, lang=lang)]
        cell.font, cell.fill = HEADER_FONT, HEADER_FILL
        cell.border, cell.alignment = HEADER_BORDER, HEADER_ALIGNMENT
        column_format = sheet.formats.get(header)
        for pos, value in enumerate(sheet.table.iloc[:, col - 1].tolist()):
            fmt = sheet.cell_formats.get((pos, header), column_format)
            shown.append(put_value(ws.cell(row=pos + 2, column=col), value, fmt, lang=lang))
        widths.append(_fit_column(ws, col, shown))
    if headers:
        last = get_column_letter(len(headers))
        ws.freeze_panes = "A2"
        ws.auto_filter.ref = f"A1:{last}{len(sheet.table) + 1}"
        ws.print_title_rows = "1:1"
    _page_setup(ws)
    return ws


def _fit_column(ws: Worksheet, col: int, shown: list[str]) -> float:
    """Set the width of column ``col`` to its widest line; wrap text wider than the most."""
    widest = max((text_width(line) for text in shown for line in text.split("\n")), default=0)
    width = float(min(max(widest + 2, MIN_WIDTH), MAX_WIDTH))
    ws.column_dimensions[get_column_letter(col)].width = width
    if widest + 2 > MAX_WIDTH:
        for (cell,) in ws.iter_rows(min_row=2, min_col=col, max_col=col):
            cell.alignment = WRAP_ALIGNMENT
    return width


def _page_setup(ws: Worksheet) -> None:
    """A4 landscape, all columns on the page width, page numbers in the footer."""
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    ws.print_options.gridLines = True
    footer = ws.HeaderFooter.oddFooter
    if footer is not None:  # sheet name and page number on every printed page
        footer.center.text = "&A  &P / &N"
