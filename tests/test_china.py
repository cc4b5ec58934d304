"""GCJ-02 / BD-09 conversions: published reference values and round-trip accuracy."""

import numpy as np
import pytest
from pyproj import Geod

from planner.ingest.china import (
    bd09_to_gcj02,
    bd09_to_wgs84,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)

GEOD = Geod(ellps="WGS84")


def metres(lon1, lat1, lon2, lat2):
    return GEOD.inv(lon1, lat1, lon2, lat2)[2]


# reference values of the standard GCJ-02 / BD-09 formulas, as several independent
# open-source coordinate libraries publish them in their own tests
@pytest.mark.parametrize(
    ("fn", "inp", "expected"),
    [
        (wgs84_to_gcj02, (116.404, 39.915), (116.41024449916938, 39.91640428150164)),
        (gcj02_to_bd09, (116.404, 39.915), (116.41036949371029, 39.92133699351022)),
        (bd09_to_gcj02, (116.404, 39.915), (116.39762729119315, 39.90865673957631)),
        (wgs84_to_bd09, (122.99395597, 44.99804071), (123.00636516028885, 45.0063690918959)),
    ],
)
def test_reference_values(fn, inp, expected):
    lon, lat = fn(*inp)
    assert float(lon) == pytest.approx(expected[0], abs=1e-9)
    assert float(lat) == pytest.approx(expected[1], abs=1e-9)


def test_round_trips_inside_china_below_a_metre():
    rng = np.random.default_rng(5)
    lon = rng.uniform(75, 134, 2000)
    lat = rng.uniform(18, 53, 2000)
    glon, glat = wgs84_to_gcj02(lon, lat)
    shift = metres(lon, lat, glon, glat)
    assert shift.min() > 1 and shift.max() < 1500  # the offset is real, and bounded
    back = metres(lon, lat, *gcj02_to_wgs84(glon, glat))
    assert back.max() < 0.01  # far below the 1 m needed
    blon, blat = wgs84_to_bd09(lon, lat)
    assert metres(lon, lat, *bd09_to_wgs84(blon, blat)).max() < 1.0


def test_no_shift_outside_china():
    lon = np.array([9.52, -74.0, 2.35, 151.2])
    lat = np.array([47.14, 40.7, 48.85, -33.9])
    glon, glat = wgs84_to_gcj02(lon, lat)
    assert np.array_equal(glon, lon) and np.array_equal(glat, lat)
    wlon, wlat = gcj02_to_wgs84(lon, lat)
    assert np.array_equal(wlon, lon) and np.array_equal(wlat, lat)
