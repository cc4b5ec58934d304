"""Coordinate reference systems: the metric CRS of a county, reprojection, CRS guesses."""

from __future__ import annotations

import logging
import math
from typing import TypeVar

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS, Transformer
from shapely.geometry.base import BaseGeometry

from planner.errors import ConfigError

logger = logging.getLogger(__name__)

#: Any shapely geometry type: :func:`reproject` gives back the type it was given.
GeomT = TypeVar("GeomT", bound=BaseGeometry)

#: A CRS as the planner passes one: a pyproj CRS, a string such as "EPSG:4326", or an EPSG code.
CrsLike = CRS | str | int

#: CGCS2000 geographic coordinates (longitude, latitude), what Chinese GIS teams read.
CGCS2000 = "EPSG:4490"
#: EPSG code of the CGCS2000 3-degree Gauss-Kruger zone with central meridian 75 E.
_GK3_FIRST_EPSG = 4534
_GK3_FIRST_CM = 75


def metric_crs(county: BaseGeometry, spec: str = "auto") -> CRS:
    """The CRS used for distances in a county.

    Parameters
    ----------
    county
        County polygon in EPSG:4326.
    spec
        ``"auto"``, or any CRS string pyproj understands (``"EPSG:4548"``).

    Returns
    -------
    CRS
        For ``auto``: the CGCS2000 3-degree Gauss-Kruger zone (EPSG:4534-4554, no zone
        prefix) when the county lies in China's longitudes and latitudes, else its UTM zone.
    """
    if spec != "auto":
        try:
            crs = CRS.from_user_input(spec)
        except Exception:
            msg = f"crs.metric: {spec!r} is not a CRS pyproj knows (use e.g. EPSG:4548)"
            raise ConfigError(msg) from None
        if not crs.is_projected:
            msg = f"crs.metric: {spec!r} is not a projected (metric) CRS"
            raise ConfigError(msg)
        return crs
    c = county.centroid
    lon, lat = c.x, c.y
    gk = gk3_zone_crs(lon, lat)
    if gk is not None:
        return gk
    zone = math.floor((lon + 180) / 6) % 60 + 1
    return CRS.from_epsg((32600 if lat >= 0 else 32700) + zone)


def gk3_zone_crs(lon: float, lat: float) -> CRS | None:
    """The CGCS2000 3-degree Gauss-Kruger zone (EPSG:4534-4554, no zone prefix) of a point.

    Parameters
    ----------
    lon, lat
        Degrees.

    Returns
    -------
    CRS or None
        None outside China's longitudes and latitudes (73.5-136.5 E, 15-54 N).
    """
    if not (73.5 <= lon <= 136.5 and 15.0 <= lat <= 54.0):
        return None
    zone_cm = int(round(lon / 3.0) * 3)
    return CRS.from_epsg(_GK3_FIRST_EPSG + (zone_cm - _GK3_FIRST_CM) // 3)


def to_crs_valid(gdf: gpd.GeoDataFrame, crs: CrsLike) -> gpd.GeoDataFrame:
    """``gdf`` in ``crs``, with polygons that the projection made invalid repaired.

    A polygon valid in its own CRS can turn invalid in another (vertices that nearly
    touch move onto each other); GEOS then refuses unions and intersections with it.

    Parameters
    ----------
    gdf
        Any layer with a CRS.
    crs
        The target CRS.

    Returns
    -------
    geopandas.GeoDataFrame
        A copy in ``crs``; only geometries invalid after projecting are changed.
    """
    out = gdf.to_crs(crs)
    invalid = ~out.geometry.is_valid.to_numpy()
    if invalid.any():
        logger.debug("%d geometries repaired after projecting to %s", int(invalid.sum()), crs)
        geoms = out.geometry.to_numpy().copy()
        geoms[invalid] = shapely.make_valid(geoms[invalid])
        out = out.set_geometry(gpd.GeoSeries(geoms, index=out.index, crs=out.crs))
    return out


def reproject(geom: GeomT, src: CrsLike, dst: CrsLike) -> GeomT:
    """A geometry's coordinates transformed from ``src`` to ``dst`` (any pyproj CRS input)."""
    tr = Transformer.from_crs(src, dst, always_xy=True)
    return shapely.transform(geom, lambda a: np.column_stack(tr.transform(a[:, 0], a[:, 1])))


def guess_crs(bounds: tuple[float, float, float, float] | np.ndarray) -> str | None:
    """What coordinates with these bounds most likely are, for error hints.

    Parameters
    ----------
    bounds
        ``(minx, miny, maxx, maxy)``.

    Returns
    -------
    str or None
        A sentence naming the likely CRS, or None when nothing fits.
    """
    minx, miny, maxx, maxy = (float(v) for v in bounds)
    if -180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90:
        return "coordinates look like degrees (EPSG:4490 CGCS2000 or EPSG:4326 WGS84)"
    zone = int(minx // 1_000_000)
    if zone == int(maxx // 1_000_000) and 1_000_000 <= miny <= 6_000_000:
        if 25 <= zone <= 45:
            return (
                f"coordinates look like CGCS2000 3-degree Gauss-Kruger zone {zone} with the "
                f"zone prefix (EPSG:{4513 + zone - 25})"
            )
        if 13 <= zone <= 23:
            return (
                f"coordinates look like CGCS2000 6-degree Gauss-Kruger zone {zone} with the "
                f"zone prefix (EPSG:{4491 + zone - 13})"
            )
    if 100_000 <= minx <= maxx <= 900_000 and 1_000_000 <= miny <= maxy <= 6_000_000:
        return (
            "coordinates look like metres of a Gauss-Kruger zone without zone prefix "
            "(EPSG:4534-4554) or UTM (EPSG:326xx)"
        )
    return None


def crs_hint(bounds: np.ndarray, crs: CRS | None) -> str | None:
    """A hint when coordinates cannot be in ``crs`` (degrees vs metres), else None."""
    if crs is None:
        return guess_crs(bounds)
    minx, miny, maxx, maxy = (float(v) for v in bounds)
    in_degrees = -180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90
    if crs.is_geographic and not in_degrees:
        return f"the CRS is {crs.name} (degrees) but {guess_crs(bounds) or 'values are metres'}"
    if crs.is_projected and in_degrees and max(abs(maxx - minx), abs(maxy - miny)) < 10:
        return f"the CRS is {crs.name} (metres) but {guess_crs(bounds)}"
    return None


#: Datums the planner's coordinates are in, or equal to within its precision: WGS84 and
#: CGCS2000 (China 2000) differ by centimetres.
_SAME_DATUMS = ("World Geodetic System 1984", "China 2000")


class DatumShift:
    """How WGS84 coordinates of a county go into a CRS on another datum (Xian 1980,
    Beijing 1954, ...): the transformation PROJ knows *for the county's area*, and a
    warning when that is only a ballpark one (no datum shift).

    The operation is chosen once for the county's area (PROJ's regional operations,
    such as Beijing 1954 to WGS 84 for the Yellow Sea, apply only inside their own), so
    the export says which one it used.
    """

    def __init__(self, crs: CRS, bounds: tuple[float, float, float, float]) -> None:
        from pyproj.transformer import AreaOfInterest, TransformerGroup

        aoi = AreaOfInterest(*bounds)
        group = TransformerGroup(CRS.from_epsg(4326), crs, always_xy=True, area_of_interest=aoi)
        self.crs = crs
        self.transformer: Transformer = group.transformers[0]
        self.description: str = self.transformer.description
        acc = float(self.transformer.accuracy)
        self.accuracy_m: float | None = acc if acc >= 0 else None
        self.ballpark = "Ballpark" in self.description or self.accuracy_m is None
        datum = _datum_name(crs) or "?"
        self.warning: str | None = None
        if self.ballpark:
            self.warning = (
                f"{crs.name}: PROJ knows no transformation from WGS84/CGCS2000 to the {datum} "
                "datum for this county, only a ballpark one (no datum shift): positions may "
                "be off by tens of metres or more; convert from the CGCS2000 files with the "
                "county's own parameters, or deliver in CGCS2000 (EPSG:4490 or its zone)"
            )

    def apply(self, gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        """``gdf`` in the CRS, through this transformation."""
        wgs = gdf.to_crs(4326)
        t = self.transformer

        def move(xy: np.ndarray) -> np.ndarray:
            x, y = t.transform(xy[:, 0], xy[:, 1])
            return np.column_stack([x, y])

        geoms = shapely.transform(wgs.geometry.to_numpy(), move)
        return wgs.set_geometry(gpd.GeoSeries(geoms, index=wgs.index), crs=self.crs)

    def record(self) -> dict[str, object]:
        """What the export note (export.json) says of it."""
        return {"operation": self.description, "accuracy_m": self.accuracy_m}


def _datum_name(crs: CRS) -> str:
    geodetic = crs.geodetic_crs
    datum = geodetic.datum if geodetic is not None else None
    return datum.name if datum is not None else ""


def foreign_datum(crs: CRS) -> bool:
    """Whether ``crs`` is on a datum other than WGS84 and CGCS2000."""
    datum = _datum_name(crs)
    return not any(name in datum for name in _SAME_DATUMS)


def datum_shift(crs: CRS, bounds: tuple[float, float, float, float]) -> DatumShift | None:
    """The :class:`DatumShift` into ``crs`` for a county within ``bounds`` (lon/lat), or
    None when ``crs`` is on WGS84 or CGCS2000 (no shift needed)."""
    return DatumShift(crs, bounds) if foreign_datum(crs) else None
