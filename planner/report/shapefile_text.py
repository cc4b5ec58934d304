"""Text of Shapefile fields: what the chosen encoding can write, and what a DBF field holds.

A character the encoding has no code for is an error naming its place
(:func:`check_encodable`, before anything is written); a text longer than a DBF field
holds is cut to fit with a warning (:func:`shortened_texts`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import geopandas as gpd
import pandas as pd

from planner.errors import DataError

logger = logging.getLogger(__name__)

#: Longest text a DBF field holds, in bytes.
DBF_TEXT_BYTES = 254


def check_encodable(gdf: pd.DataFrame, *, layer: str, encoding: str) -> None:
    """Raise if a text value cannot be written to a Shapefile in ``encoding``.

    Parameters
    ----------
    gdf
        The layer's table.
    layer
        Its name, for the message.
    encoding
        ``utf-8`` or ``gbk``.

    Raises
    ------
    DataError
        Naming the layer, the row (1-based, as in the file) and the field, for a character
        the encoding has no code for (a text longer than a DBF field holds is shortened
        when written, :func:`shortened_texts`).
    """
    for col, values in _text_columns(gdf):
        for row, value in enumerate(values, start=1):
            if not isinstance(value, str):
                continue
            try:
                value.encode(encoding)
            except UnicodeEncodeError as err:
                bad = value[err.start : err.end]
                msg = (
                    f"layer '{layer}', row {row}, field '{col}': {value!r} has "
                    f"{bad!r} (U+{ord(bad[0]):04X}), which {encoding.upper()} cannot encode; "
                    "write the Shapefile in UTF-8 (--encoding utf-8 or "
                    "report.shapefile_encoding: utf-8) or correct the name"
                )
                raise DataError(msg) from None


def _text_columns(gdf: pd.DataFrame) -> Iterator[tuple[str, pd.Series]]:
    """The columns of ``gdf`` that may hold text (not its geometry), with their values."""
    for col in gdf.columns:
        if col == getattr(gdf, "_geometry_column_name", None):
            continue
        values = gdf[col]
        if values.dtype == object or pd.api.types.is_string_dtype(values):
            yield str(col), values


def shortened_texts(gdf: gpd.GeoDataFrame, *, layer: str, encoding: str) -> gpd.GeoDataFrame:
    """``gdf`` with every text longer than a DBF field holds (:data:`DBF_TEXT_BYTES` in
    ``encoding``) cut to fit, ending in "…", and a warning counting them per field.

    A van's day of many stops (the ``sequence`` of the ``tours`` layer) can pass the
    limit; the other formats keep every text whole, and ``tour_stops`` the visits one
    per row.
    """
    out = gdf
    for col, values in _text_columns(gdf):
        long = values.map(
            lambda v: isinstance(v, str) and len(v.encode(encoding)) > DBF_TEXT_BYTES
        ).astype(bool)
        if not long.any():
            continue
        if out is gdf:
            out = gdf.copy()
        out.loc[long, col] = values[long].map(lambda v: _cut(v, encoding))
        logger.warning(
            "Shapefile layer '%s', field '%s': %d texts longer than the %d bytes a Shapefile "
            "field holds are cut (ending in …); the GeoPackage, GeoJSON and CSV keep them whole",
            layer,
            col,
            int(long.sum()),
            DBF_TEXT_BYTES,
        )
    return out


def _cut(text: str, encoding: str) -> str:
    """``text`` cut at a character to at most :data:`DBF_TEXT_BYTES` bytes, with "…"."""
    room = DBF_TEXT_BYTES - len("…".encode(encoding))
    out = text.encode(encoding)[:room].decode(encoding, errors="ignore")
    return out + "…"
