"""Read a population raster window covering the county (any CRS)."""

from __future__ import annotations

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
        window = rasterio.windows.from_bounds(*poly.bounds, transform=src.transform)
        try:
            window = (
                window.round_offsets()
                .round_lengths()
                .intersection(rasterio.windows.Window(0, 0, src.width, src.height))
            )
        except rasterio.errors.WindowError:
            window = None
        if window is None or window.width <= 0 or window.height <= 0:
            raise data_error(path, "raster does not overlap the county", hint="is its CRS right?")
        data = src.read(band, window=window, masked=True).astype("float64")
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
