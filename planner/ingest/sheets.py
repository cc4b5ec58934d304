"""Tables as spreadsheets number them: CSV and Excel read as text, rows named by their
number in the file (the header is row 1), and the messages about their columns and cells."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from planner.errors import DataError, counted, data_error

logger = logging.getLogger(__name__)

#: Tables with a header row: text (CSV) and Excel.
TABLE_SUFFIXES = (".csv", ".txt", ".xlsx", ".xls")
_EXCEL_SUFFIXES = (".xlsx", ".xls")
#: The first bytes of an .xlsx (a zip file) and of an old .xls (an OLE2 file).
_EXCEL_MAGIC = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0")


def read_table(path: Path, encoding: str | None, *, sheet: str | None = None) -> pd.DataFrame:
    """Read a CSV or Excel table as text columns (blank cells: empty strings).

    Parameters
    ----------
    path
        ``.csv`` / ``.txt`` (UTF-8 or GBK, detected) or ``.xlsx`` / ``.xls``.
    encoding
        The CSV's text encoding; detected when None.
    sheet
        The Excel sheet; the first when None.

    Returns
    -------
    DataFrame
        Every column as text, in the file's row order, indexed by each row's number as a
        spreadsheet shows it (the header is row 1; see :func:`file_row`); blank rows left
        out.
    """
    if path.suffix.lower() in _EXCEL_SUFFIXES:
        try:
            table = pd.read_excel(path, sheet_name=sheet or 0, dtype=str)
        except ValueError as err:
            what = f"sheet {sheet!r}" if sheet else "the first sheet"
            raise data_error(path, f"cannot read {what} ({err})", hint=_sheets(path)) from None
        except ImportError:
            raise data_error(
                path, "old Excel (.xls) files cannot be read", hint="save it as .xlsx or CSV"
            ) from None
        except Exception as err:
            raise data_error(path, f"not a readable Excel file ({err})") from None
        return _numbered(table.fillna(""), path)
    with path.open("rb") as f:
        if f.read(4) in _EXCEL_MAGIC:
            raise data_error(
                path,
                "this is an Excel workbook, not a CSV",
                hint="name it .xlsx (or .xls), or save it from Excel as CSV",
            )
    return _numbered(read_csv_text(path, encoding, keep_blank=True), path)


def _sheets(path: Path) -> str | None:
    """``sheets are: ...`` of a workbook, for a message (None if it cannot be opened)."""
    try:
        with pd.ExcelFile(path) as book:
            names = [str(n) for n in book.sheet_names]
    except Exception:
        return None
    return "sheets are: " + ", ".join(map(_shown, names))


def _numbered(table: pd.DataFrame, path: Path) -> pd.DataFrame:
    """The rows indexed by their number as a spreadsheet shows them (the header is row 1),
    blank rows left out (with a note of how many)."""
    table = table.fillna("")
    table.index = pd.RangeIndex(2, len(table) + 2)
    if table.shape[1] == 0:
        return table
    blank = (table.astype(str).apply(lambda col: col.str.strip()) == "").all(axis=1)
    if blank.any():
        logger.info("%s: %d blank rows skipped", path, int(blank.sum()))
        table = table[~blank]
    return table


def file_row(table: pd.DataFrame, position: int) -> int:
    """The file's row number (the header is row 1) of the row at ``position``."""
    return int(table.index[position])


def read_csv_text(path: Path, encoding: str | None, *, keep_blank: bool = False) -> pd.DataFrame:
    """Read a CSV as text columns, detecting UTF-8 (with or without BOM) or GBK.

    With ``keep_blank`` blank lines are rows of empty strings, so that positions count
    the file's records."""
    candidates = [encoding] if encoding else ["utf-8-sig", "gb18030"]
    for enc in candidates:
        try:
            table = pd.read_csv(
                path,
                dtype=str,
                encoding=enc,
                keep_default_na=False,
                skip_blank_lines=not keep_blank,
            )
        except UnicodeDecodeError:
            continue
        except LookupError:
            raise data_error(path, f"unknown encoding {enc!r}", hint="use utf-8 or gbk") from None
        except pd.errors.ParserError as err:
            raise data_error(path, f"not a readable CSV ({err})") from None
        except pd.errors.EmptyDataError:
            raise data_error(path, "file is empty") from None
        if enc == "gb18030":
            logger.info("%s: read as GBK", path)
        return table
    raise data_error(
        path,
        f"text is not {' or '.join(candidates)}",
        hint="save it as UTF-8, or set its encoding in the config",
    )


#: Column of a table's row number in its file (the header is row 1), for messages.
TABLE_ROW = "table_row"

#: ``attrs`` key of a table read from a file: the file's own columns, for messages.
FILE_COLUMNS = "file_columns"


def require_columns(table: pd.DataFrame, path: str | Path, fields: Iterable[str]) -> None:
    """Raise a one-line error naming the first missing column and the ones there are.

    The columns listed are the file's own (``table.attrs["file_columns"]`` when the
    planner added some); a name that differs from the field only by spaces is pointed out.
    """
    own = [str(c) for c in table.attrs.get(FILE_COLUMNS, table.columns)]
    fields = list(fields)
    for field in fields:
        if field in table.columns:
            continue
        spaced = [c for c in own if c.strip() == field.strip()]
        header = _header_below(table, fields)
        split = _split_header(table, fields) if header is None else None
        unnamed = [c for c in own if c.startswith("Unnamed: ")]
        if spaced:
            hint = f"the file has {spaced[0]!r}: remove the spaces, or name it so in the config"
        elif header is not None:
            hint = (
                f"the column names are on row {header}, under a title or notes: delete "
                "the rows above them so that they are row 1"
            )
        elif split is not None:
            hint = (
                f"the column names are split over rows {split} and {split + 1} (merged "
                "header cells?): unmerge them and put one name per column, all in row 1"
            )
        else:
            hint = "columns are: " + ", ".join(map(_shown, own))
            if unnamed:
                hint += (
                    f"; {counted(len(unnamed), 'column')} without a name in row 1 (blank or "
                    "merged header cells): give each column its name in row 1"
                )
        raise data_error(path, "column not found", field=field, hint=hint)


def _header_below(table: pd.DataFrame, fields: list[str]) -> int | None:
    """The file row among the first ten holding every one of ``fields`` (a header under a
    title row), or None."""
    wanted = {f.strip() for f in fields}
    for position in range(min(10, len(table))):
        cells = {str(v).strip() for v in table.iloc[position].to_numpy()}
        if wanted <= cells:
            return file_row(table, position)
    return None


def _split_header(table: pd.DataFrame, fields: list[str]) -> int | None:
    """The first of two adjacent file rows (row 1 being the column names) that hold every
    one of ``fields`` between them but not in either alone, or None."""
    wanted = {f.strip() for f in fields}
    rows = [{str(c).strip() for c in table.columns}]
    rows += [{str(v).strip() for v in table.iloc[k].to_numpy()} for k in range(min(10, len(table)))]
    numbers = [1] + [file_row(table, k) for k in range(len(rows) - 1)]
    for k in range(len(rows) - 1):
        if wanted <= rows[k] | rows[k + 1] and numbers[k + 1] == numbers[k] + 1:
            return numbers[k]
    return None


def _shown(name: str) -> str:
    """A column name as a message lists it: quoted when it holds spaces or commas."""
    plain = name and "," not in name and not any(ch.isspace() for ch in name)
    return name if plain else repr(name)


def numeric_column(
    table: pd.DataFrame, path: str | Path, field: str, *, non_negative: bool = False
) -> np.ndarray:
    """A column as floats; the first bad row is an error, named by its row in the file
    (the table's index when it comes from :func:`read_table`: the header is row 1)."""
    num = pd.to_numeric(table[field].astype(str).str.strip(), errors="coerce")
    bad = num.isna() | ~np.isfinite(num)
    if non_negative:
        bad |= num < 0
    if bad.any():
        row = int(bad.to_numpy().nonzero()[0][0])
        kind = "a non-negative number" if non_negative else "a number"
        problem = f"{_not_number(table[field].iloc[row], kind)}{rows_alike(int(bad.sum()))}"
        raise row_error(table, path, row, problem, field=field)
    return num.to_numpy(dtype=float)


#: What a message naming a row says of the numbers.
ROW_HINT = "row numbers count the header as row 1"


def row_error(
    table: pd.DataFrame,
    path: str | Path,
    position: int,
    problem: str,
    *,
    field: str,
    hint: str = ROW_HINT,
) -> DataError:
    """The error of the row at ``position`` of ``table``, named by its row in the file."""
    return data_error(path, problem, field=field, row=file_row(table, position), hint=hint)


def _not_number(value: object, kind: str) -> str:
    """What is wrong with a cell that should hold a number."""
    return "blank" if str(value).strip() == "" else f"not {kind}: {value!r}"


def rows_alike(n: int) -> str:
    """`` (N rows like it)`` after the first bad value, when there are others."""
    return f" ({n} rows like it)" if n > 1 else ""


def id_text(values: pd.Series) -> pd.Series:
    """Ids or codes as text: whole-number floats (a code a Shapefile or an ArcGIS layer
    stores as Double) without their ``.0``, so that ``361199100.0`` stays ``361199100``
    and joins back to the county's own layers; blanks stay missing."""
    if values.dtype.kind == "f":
        whole = values.notna() & np.isfinite(values) & (values == values.round())
        text = values.astype(object).where(values.notna(), None)
        text[whole] = values[whole].astype("int64").astype(str)
        rest = values.notna() & ~whole
        text[rest] = values[rest].astype(str)
        return text.str.strip()
    return values.where(values.isna(), values.astype(str).str.strip())
