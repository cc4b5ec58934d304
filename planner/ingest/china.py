"""Chinese coordinate systems: GCJ-02 and BD-09 to and from WGS84 (CGCS2000).

GCJ-02 is the obfuscated datum of Chinese web maps (Gaode/AMap, Tencent) and of many
operator tables; BD-09 is Baidu's further offset of GCJ-02. Neither is in PROJ. Input
in either is converted to WGS84 at ingest; overlays are shifted to GCJ-02 only for
display on GCJ-02 tiles. Outside China the offset is zero. CGCS2000 (EPSG:4490) equals
WGS84 at planning precision.

The forward GCJ-02 offset is the published closed-form formula; its inverse has no
closed form and is found by fixed-point iteration to better than 1e-9 degrees.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

_A = 6378245.0  # Krasovsky 1940 semi-major axis used by GCJ-02
_EE = 0.00669342162296594323  # its first eccentricity squared
_X_PI = np.pi * 3000.0 / 180.0


def in_china(lon: ArrayLike, lat: ArrayLike) -> np.ndarray:
    """Whether points fall in the rough box where the GCJ-02 offset applies."""
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    return (lon >= 72.004) & (lon <= 137.8347) & (lat >= 0.8293) & (lat <= 55.8271)


def _offset(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 minus WGS84, in degrees, at WGS84 positions (zero outside China)."""
    x, y = lon - 105.0, lat - 35.0
    s = np.sin
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    dlat += (20.0 * s(6.0 * x * np.pi) + 20.0 * s(2.0 * x * np.pi)) * 2.0 / 3.0
    dlat += (20.0 * s(y * np.pi) + 40.0 * s(y / 3.0 * np.pi)) * 2.0 / 3.0
    dlat += (160.0 * s(y / 12.0 * np.pi) + 320.0 * s(y * np.pi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    dlon += (20.0 * s(6.0 * x * np.pi) + 20.0 * s(2.0 * x * np.pi)) * 2.0 / 3.0
    dlon += (20.0 * s(x * np.pi) + 40.0 * s(x / 3.0 * np.pi)) * 2.0 / 3.0
    dlon += (150.0 * s(x / 12.0 * np.pi) + 300.0 * s(x / 30.0 * np.pi)) * 2.0 / 3.0
    rad = np.radians(lat)
    magic = 1.0 - _EE * np.sin(rad) ** 2
    root = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * root) * np.pi)
    dlon = (dlon * 180.0) / (_A / root * np.cos(rad) * np.pi)
    inside = in_china(lon, lat)
    return np.where(inside, dlon, 0.0), np.where(inside, dlat, 0.0)


def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """WGS84 (or CGCS2000) degrees to GCJ-02."""
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    dlon, dlat = _offset(lon, lat)
    return lon + dlon, lat + dlat


def gcj02_to_wgs84(
    lon: ArrayLike, lat: ArrayLike, *, tol: float = 1e-10, max_iter: int = 30
) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 degrees to WGS84, inverting the offset by fixed-point iteration."""
    glon, glat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    wlon, wlat = glon.copy(), glat.copy()
    for _ in range(max_iter):
        flon, flat = wgs84_to_gcj02(wlon, wlat)
        elon, elat = flon - glon, flat - glat
        wlon, wlat = wlon - elon, wlat - elat
        if np.all(np.abs(elon) < tol) and np.all(np.abs(elat) < tol):
            break
    return wlon, wlat


def gcj02_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 degrees to Baidu BD-09."""
    x, y = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    z = np.hypot(x, y) + 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def bd09_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Baidu BD-09 degrees to GCJ-02."""
    x = np.asarray(lon, dtype=float) - 0.0065
    y = np.asarray(lat, dtype=float) - 0.006
    z = np.hypot(x, y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta), z * np.sin(theta)


def bd09_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Baidu BD-09 degrees to WGS84."""
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


def wgs84_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """WGS84 degrees to Baidu BD-09."""
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def to_wgs84(lon: ArrayLike, lat: ArrayLike, system: str) -> tuple[np.ndarray, np.ndarray]:
    """Convert ``gcj02`` or ``bd09`` coordinates (or ``wgs84``: unchanged) to WGS84."""
    if system == "gcj02":
        return gcj02_to_wgs84(lon, lat)
    if system == "bd09":
        return bd09_to_wgs84(lon, lat)
    if system == "wgs84":
        return np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    msg = f"unknown coordinate system {system!r} (gcj02, bd09 or wgs84)"
    raise ValueError(msg)
