"""Where exported layers come from: the note their GeoPackage layers carry, and the datum
transformation an export used."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import geopandas as gpd
from pyproj import CRS

from planner.report.formats import export_shift


def shift_record(layers: dict[str, gpd.GeoDataFrame], crs: CRS) -> dict[str, object] | None:
    """The datum transformation of an export on a foreign datum, for export.json."""
    shift = export_shift(layers, crs)
    return shift.record() if shift is not None else None


def run_note(gpkg: Path) -> str | None:
    """Where a run's layers come from, as its GeoPackage's layers describe it (without
    their CRS), for the layers exported again; None when it says nothing."""
    try:
        with closing(sqlite3.connect(f"file:{gpkg}?mode=ro", uri=True)) as db:
            rows = db.execute("SELECT description FROM gpkg_contents").fetchall()
    except sqlite3.Error:
        return None
    for (text,) in rows:
        if text:
            return str(text).split(" CRS: ")[0]
    return None
