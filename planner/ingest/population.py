"""Read a population raster window covering the county (any CRS)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import rasterio
import rasterio.features
import rasterio.windows
import shapely
from pyproj import CRS

from planner.datatypes import PopulationGrid
from planner.errors import data_error
from planner.ingest.crs import reproject


def read_population(path: str | Path, county: shapely.Geometry, *, band: int = 1) -> PopulationGrid:
    """Read the raster cells inside the county polygon.

    Parameters
    ----------
    path
        GeoTIFF / COG with people per cell.
    county
        The county polygon in EPSG:4326.
    band
        Band number (1-based).

    Returns
    -------
    PopulationGrid
        The window around the county; cells outside the polygon and nodata cells are 0.
    """
    path = Path(path)
    if not path.is_file():
        raise data_error(path, "population raster not found", hint="check inputs.population")
    try:
        src = rasterio.open(path)
    except rasterio.errors.RasterioIOError as err:
        raise data_error(path, f"cannot open as a raster ({err})") from None
    with src:
        if src.crs is None:
            raise data_error(path, "raster has no CRS", hint="assign one, e.g. with gdal_edit")
        if band > src.count:
            raise data_error(path, f"band {band} requested, the raster has {src.count}")
        crs = CRS.from_user_input(src.crs.to_wkt())
        poly = reproject(county, 4326, crs)
        exact = rasterio.windows.from_bounds(*poly.bounds, transform=src.transform)
        # every cell the county touches: floor the start, ceil the end, clip to the raster
        col0 = max(0, math.floor(exact.col_off))
        row0 = max(0, math.floor(exact.row_off))
        col1 = min(src.width, math.ceil(exact.col_off + exact.width))
        row1 = min(src.height, math.ceil(exact.row_off + exact.height))
        if col1 <= col0 or row1 <= row0:
            raise data_error(path, "raster does not overlap the county", hint="is its CRS right?")
        window = rasterio.windows.Window(col0, row0, col1 - col0, row1 - row0)
        try:
            data = src.read(band, window=window, masked=True).astype("float64")
        except rasterio.errors.RasterioIOError as err:
            raise data_error(path, f"cannot read the raster ({err})") from None
        transform = src.window_transform(window)
    values = data.filled(0.0)
    if not np.isfinite(values).all():
        raise data_error(path, "raster has non-finite cell values", hint="set a nodata value")
    if (values < 0).any():
        raise data_error(path, "raster has negative population values", hint="set nodata")
    source_total = float(values.sum())
    inside = rasterio.features.geometry_mask(
        [poly], out_shape=values.shape, transform=transform, invert=True, all_touched=False
    )
    values = np.where(inside, values, 0.0)
    if values.sum() <= 0:
        raise data_error(path, "no population inside the county polygon")
    return PopulationGrid(values=values, transform=transform, crs=crs, source_total=source_total)
