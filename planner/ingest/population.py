"""Read a population raster window covering the county (any CRS)."""

from __future__ import annotations

import logging
import math
from pathlib import Path

import numpy as np
import rasterio
import rasterio.features
import rasterio.windows
import shapely
from pyproj import CRS
from shapely.geometry.base import BaseGeometry

from planner.crs import metric_crs, reproject
from planner.datatypes import PopulationGrid
from planner.errors import check_input_file, data_error

logger = logging.getLogger(__name__)


def read_population(
    path: str | Path,
    county: BaseGeometry,
    *,
    band: int = 1,
    min_coverage: float = 0.0,
) -> PopulationGrid:
    """Read the raster cells inside the county polygon.

    Parameters
    ----------
    path
        GeoTIFF / COG with people per cell.
    county
        The county polygon in EPSG:4326.
    band
        Band number (1-based).
    min_coverage
        Least share (0-1) of the county's area the raster's extent must cover; less is
        an error naming the file and the share (``demand.min_raster_coverage``).

    Returns
    -------
    PopulationGrid
        The window around the county; cells outside the polygon and nodata cells are 0
        (a warning gives the share of the county's cells that are nodata).

    Raises
    ------
    DataError
        The raster is missing, unreadable, has no CRS, does not cover enough of the
        county, or holds negative or non-finite values.
    """
    path = Path(path)
    check_input_file(path, "population raster", hint="check inputs.population")
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
        _check_coverage(path, county, poly, crs, src.bounds, min_coverage)
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
    _warn_nodata(path, data.mask, inside)
    values = np.where(inside, values, 0.0)
    if values.sum() <= 0:
        raise data_error(path, "no population inside the county polygon")
    return PopulationGrid(values=values, transform=transform, crs=crs, source_total=source_total)


def raster_coverage(
    county: BaseGeometry, poly: BaseGeometry, crs: CRS, bounds: tuple[float, float, float, float]
) -> float:
    """Share (0-1) of the county's area that lies inside a raster's extent.

    Parameters
    ----------
    county
        The county polygon in EPSG:4326.
    poly
        The same polygon in the raster's CRS.
    crs
        The raster's CRS.
    bounds
        The raster's ``(left, bottom, right, top)`` in its CRS.

    Returns
    -------
    float
        Areas are measured in the county's metric CRS, so that a raster in degrees
        is measured as fairly as one in metres.
    """
    covered = shapely.intersection(poly, shapely.box(*bounds))
    if covered.is_empty:
        return 0.0
    metric = metric_crs(county)
    whole = reproject(poly, crs, metric).area
    return float(reproject(covered, crs, metric).area / whole) if whole > 0 else 0.0


def _check_coverage(
    path: Path,
    county: BaseGeometry,
    poly: BaseGeometry,
    crs: CRS,
    bounds: tuple[float, float, float, float],
    min_coverage: float,
) -> None:
    """Refuse a raster whose extent covers less than ``min_coverage`` of the county."""
    share = raster_coverage(county, poly, crs, bounds)
    logger.info("%s covers %.1f%% of the county's area", path, 100 * share)
    if share < min_coverage:
        raise data_error(
            path,
            f"population raster covers {100 * share:.1f}% of the county's area "
            f"(demand.min_raster_coverage={min_coverage:g})",
            hint="use a raster that covers the whole county, or lower "
            "demand.min_raster_coverage to accept the missing part as empty",
        )


def _warn_nodata(path: Path, nodata: np.ndarray | np.bool_, inside: np.ndarray) -> None:
    """Warn with the share of the county's cells that are nodata (they count as 0 people)."""
    missing = int((np.asarray(nodata) & inside).sum()) if np.ndim(nodata) else 0
    if missing:
        logger.warning(
            "%s: %d of the county's %d cells (%.1f%%) are nodata and count as 0 people "
            "(normal for 'constrained' rasters, whose nodata marks unsettled land)",
            path,
            missing,
            int(inside.sum()),
            100 * missing / max(int(inside.sum()), 1),
        )
