"""Read county and township polygons from GIS files (GeoPackage, Shapefile, GeoJSON)."""

from __future__ import annotations

import logging
from pathlib import Path

import geopandas as gpd
import pyogrio
import shapely

from planner import columns as C
from planner.errors import data_error

logger = logging.getLogger(__name__)


def read_layer(path: str | Path, *, layer: str | None = None) -> gpd.GeoDataFrame:
    """Read one vector layer, with errors that name the file and layer.

    Parameters
    ----------
    path
        A GeoPackage, Shapefile, GeoJSON or other OGR-readable file.
    layer
        The layer name; the first layer when None.

    Returns
    -------
    GeoDataFrame
        The layer, with its CRS (an error when it has none) and repaired geometries.
    """
    path = Path(path)
    if not path.exists():
        raise data_error(path, "file not found", layer=layer)
    try:
        layers = [name for name, _ in pyogrio.list_layers(path)]
    except Exception as err:  # pyogrio raises DataSourceError and friends
        raise data_error(path, f"cannot open as a GIS file ({err})", layer=layer) from None
    if layer is not None and layer not in layers:
        raise data_error(
            path, "layer not found", layer=layer, hint=f"layers are: {', '.join(layers)}"
        )
    try:
        gdf = gpd.read_file(path, layer=layer, engine="pyogrio")
    except Exception as err:
        raise data_error(path, f"cannot read ({err})", layer=layer) from None
    if len(gdf) == 0:
        raise data_error(path, "layer is empty", layer=layer or layers[0])
    if gdf.crs is None:
        raise data_error(
            path,
            "layer has no CRS",
            layer=layer or layers[0],
            hint="define it in the file (e.g. EPSG:4490 for CGCS2000 degrees)",
        )
    missing = gdf.geometry.isna() | gdf.geometry.is_empty
    if missing.any():
        row = int(missing.to_numpy().nonzero()[0][0])
        raise data_error(path, "feature without geometry", layer=layer, row=row)
    invalid = ~gdf.geometry.is_valid
    if invalid.any():
        logger.warning(
            "%s layer %s: %d invalid geometries repaired", path, layer, int(invalid.sum())
        )
        gdf.loc[invalid, gdf.geometry.name] = shapely.make_valid(gdf.geometry[invalid].to_numpy())
    return gdf


def read_boundaries(
    path: str | Path,
    *,
    county_layer: str | None,
    township_layer: str | None,
    id_field: str,
    name_field: str,
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

    Returns
    -------
    county, townships
        The county as one row; townships with ``township_id``, ``township_name`` and the
        file's other fields, both in EPSG:4326.
    """
    county = read_layer(path, layer=county_layer).to_crs(4326)
    townships = read_layer(path, layer=township_layer).to_crs(4326)
    for field in (id_field, name_field):
        if field not in townships.columns:
            raise data_error(
                path,
                "field not found",
                layer=township_layer,
                field=field,
                hint=f"fields are: {', '.join(map(str, townships.columns.drop('geometry')))}",
            )
    ids = townships[id_field].astype(str)
    dup = ids.duplicated()
    if dup.any():
        row = int(dup.to_numpy().nonzero()[0][0])
        raise data_error(
            path,
            f"duplicate township id {ids.iloc[row]!r}",
            layer=township_layer,
            field=id_field,
            row=row,
        )
    townships = townships.rename(columns={id_field: C.TOWNSHIP_ID, name_field: C.TOWNSHIP_NAME})
    townships[C.TOWNSHIP_ID] = ids.to_numpy()
    geom = shapely.union_all(county.geometry.to_numpy())
    county_one = gpd.GeoDataFrame({C.NAME: [None]}, geometry=[geom], crs=4326)
    return county_one, townships.reset_index(drop=True)
