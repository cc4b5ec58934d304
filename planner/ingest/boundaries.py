"""Read county and township polygons from GIS files (GeoPackage, Shapefile, GeoJSON)."""

from __future__ import annotations

import logging
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS

from planner import columns as C
from planner.config import CHINA_SYSTEMS
from planner.crs import crs_hint, guess_crs
from planner.errors import data_error
from planner.ingest.china import to_wgs84
from planner.ingest.sheets import id_text
from planner.ingest.vector import read_layer

logger = logging.getLogger(__name__)


def read_boundaries(
    path: str | Path,
    *,
    county_layer: str | None,
    township_layer: str | None,
    id_field: str,
    name_field: str,
    encoding: str | None = None,
    crs: str | None = None,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Read the county polygon and its townships.

    Parameters
    ----------
    path
        The boundaries file.
    county_layer, township_layer
        Layer names; the county polygon is the union of the county layer's features.
    id_field, name_field
        Township code and name fields.
    encoding
        Shapefile text encoding; detected when None.
    crs
        The CRS of the coordinates: None (the file's), an EPSG code, or ``gcj02`` /
        ``bd09`` (degrees, EPSG:4326 assumed when the file states no CRS), converted to
        WGS84 here.

    Returns
    -------
    county, townships
        The county as one row; townships with ``township_id``, ``township_name`` and the
        file's other fields, both in EPSG:4326.
    """
    county = None
    if county_layer != township_layer:  # one layer is read (and warned about) once
        county = _polygons(_read_wgs84(path, county_layer, encoding, crs), path, county_layer)
    townships = _polygons(
        _read_wgs84(path, township_layer, encoding, crs, names=(id_field, name_field)),
        path,
        township_layer,
    )
    if county is None:
        county = townships.copy()
    for field in (id_field, name_field):
        if field not in townships.columns:
            raise data_error(
                path,
                "field not found",
                layer=township_layer,
                field=field,
                hint=f"fields are: {', '.join(map(str, townships.columns.drop('geometry')))}",
            )
    raw_ids = townships[id_field]
    blank = raw_ids.isna() | (raw_ids.astype(str).str.strip() == "")
    if blank.any():
        row = int(blank.to_numpy().nonzero()[0][0]) + 1
        raise data_error(
            path,
            f"empty township id ({int(blank.sum())} features)",
            layer=township_layer,
            field=id_field,
            row=row,
            hint="features are counted from 1",
        )
    ids = id_text(raw_ids)
    dup = ids.duplicated()
    if dup.any():
        row = int(dup.to_numpy().nonzero()[0][0])
        raise data_error(
            path,
            f"duplicate township id {ids.iloc[row]!r} (features counted from 1)",
            layer=township_layer,
            field=id_field,
            row=row + 1,
        )
    townships = townships.rename(columns={id_field: C.TOWNSHIP_ID, name_field: C.TOWNSHIP_NAME})
    townships[C.TOWNSHIP_ID] = ids.to_numpy()
    geom = shapely.union_all(county.geometry.to_numpy())
    county_one = gpd.GeoDataFrame({C.NAME: [None]}, geometry=[geom], crs=4326)
    return county_one, townships.reset_index(drop=True)


def read_polygons(
    path: str | Path,
    *,
    layer: str | None = None,
    encoding: str | None = None,
    crs: str | None = None,
) -> gpd.GeoDataFrame:
    """A layer of (multi)polygons in WGS84, e.g. the county polygons of a province.

    Parameters
    ----------
    path, layer, encoding, crs
        As for :func:`read_boundaries`.

    Returns
    -------
    GeoDataFrame
        The layer's features and fields, in EPSG:4326.
    """
    return _polygons(_read_wgs84(path, layer, encoding, crs), path, layer)


def _read_wgs84(
    path: str | Path,
    layer: str | None,
    encoding: str | None,
    crs: str | None,
    *,
    names: tuple[str, ...] = (),
) -> gpd.GeoDataFrame:
    """A layer in WGS84, GCJ-02 and BD-09 coordinates converted."""
    system = crs.lower() if crs is not None and crs.lower() in CHINA_SYSTEMS else None
    # GCJ-02 / BD-09: read as degrees (EPSG:4326 when the layer states none)
    gdf = read_layer(path, layer=layer, encoding=encoding, crs=crs, names=names)
    gdf = _to_wgs84(gdf, Path(path), layer)
    if system is None:
        return gdf

    def shift(xy: np.ndarray) -> np.ndarray:
        return np.column_stack(to_wgs84(xy[:, 0], xy[:, 1], system))

    logger.info("%s layer %s: %s coordinates converted to WGS84", path, layer, system)
    return gdf.set_geometry(shapely.transform(gdf.geometry.to_numpy(), shift), crs=4326)


def _to_wgs84(gdf: gpd.GeoDataFrame, path: Path, layer: str | None) -> gpd.GeoDataFrame:
    """Reproject to EPSG:4326, refusing coordinates that do not fit the stated CRS."""
    hint = crs_hint(gdf.total_bounds, gdf.crs)
    if hint:
        raise data_error(path, "coordinates do not fit the layer's CRS", layer=layer, hint=hint)
    out = gdf.to_crs(4326)
    if not np.isfinite(shapely.get_coordinates(out.geometry.to_numpy())).all():
        # e.g. Gauss-Kruger eastings with the zone prefix read in the zone's CRS without it
        guess = guess_crs(gdf.total_bounds)
        x0, y0, x1, y1 = (f"{v:.10g}" for v in gdf.total_bounds)
        raise data_error(
            path,
            f"coordinates ({x0} to {x1}, {y0} to {y1}) cannot be in the layer's CRS "
            f"{CRS(gdf.crs).to_string()}: they lie outside its area",
            layer=layer,
            hint=f"{guess}; fix the .prj or set inputs.boundaries.crs" if guess else
            "fix the .prj or set inputs.boundaries.crs to the coordinates' CRS",
        )  # fmt: skip
    return out


def _polygons(gdf: gpd.GeoDataFrame, path: str | Path, layer: str | None) -> gpd.GeoDataFrame:
    """Refuse layers that are not (multi)polygons: boundaries must be areas."""
    kinds = set(gdf.geom_type)
    if not kinds <= {"Polygon", "MultiPolygon"}:
        bad = sorted(kinds - {"Polygon", "MultiPolygon"})
        raise data_error(
            path,
            f"boundaries must be polygons, found {', '.join(bad)}",
            layer=layer,
            hint="is this the right layer?",
        )
    return gdf


#: Overlap of two townships, as a share of the smaller one's area, that stops the run.
OVERLAP_ERROR_SHARE = 0.01
#: Overlaps below this share are digitising slivers and pass silently.
OVERLAP_WARN_SHARE = 1e-4


def check_overlaps(
    townships: gpd.GeoDataFrame, source: str | Path, *, layer: str | None = None
) -> None:
    """Stop on townships whose polygons overlap, warn on small overlaps.

    Every place must lie in one township (for the township minimum and the outcomes),
    so two townships sharing more than :data:`OVERLAP_ERROR_SHARE` of the smaller one's
    area are an error naming both; smaller overlaps above :data:`OVERLAP_WARN_SHARE`
    are a warning.

    Parameters
    ----------
    townships
        ``township_id``, ``township_name`` and polygons in a metric CRS.
    source, layer
        The boundary file and layer, for the message.

    Raises
    ------
    DataError
        The largest overlap exceeds :data:`OVERLAP_ERROR_SHARE`.
    """
    # a polygon valid in its file can turn invalid when projected (vertices that nearly
    # touch): repaired here, for the check only, as GEOS cannot intersect it otherwise
    geoms = shapely.make_valid(townships.geometry.to_numpy())
    left, right = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    keep = left < right
    left, right = left[keep], right[keep]
    if len(left) == 0:
        return
    shared = shapely.area(shapely.intersection(geoms[left], geoms[right]))
    smaller = np.minimum(shapely.area(geoms[left]), shapely.area(geoms[right]))
    share = shared / np.maximum(smaller, 1e-9)
    pairs = [
        (f"{town_label(townships, i)} and {town_label(townships, j)}", a / 1e6, s)
        for i, j, a, s in zip(left, right, shared, share, strict=True)
        if s > OVERLAP_WARN_SHARE
    ]
    if not pairs:
        return
    pairs.sort(key=lambda p: -p[2])
    names, km2, worst = pairs[0]
    if worst > OVERLAP_ERROR_SHARE:
        raise data_error(
            source,
            f"townships {names} overlap by {km2:.2f} km2 ({worst:.1%} of the smaller one)"
            + (f", and {len(pairs) - 1} more pairs" if len(pairs) > 1 else ""),
            layer=layer,
            hint="fix the polygons so that each place lies in one township",
        )
    logger.warning(
        "%s: %d pairs of townships overlap slightly (largest: %s, %.2f%% of the smaller)",
        source,
        len(pairs),
        names,
        100 * worst,
    )


def town_label(townships: gpd.GeoDataFrame, i: int) -> str:
    """``name (id)`` of the ``i``-th township, for messages."""
    row = townships.iloc[int(i)]
    return f"{row[C.TOWNSHIP_NAME]} ({row[C.TOWNSHIP_ID]})"
