"""Existing chargers listed twice (an operator table and OSM, or a row pasted twice)."""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pytest
from pyproj import CRS

from planner import columns as C
from planner.ingest.charger_sites import add_chargers

METRIC = CRS.from_epsg(4548)


def _chargers(xy: list[tuple[float, float]], ids: list[str]) -> gpd.GeoDataFrame:
    """Chargers at metric positions, handed over in WGS84 as the ingest has them."""
    frame = gpd.GeoDataFrame(
        {C.OSM_ID: ids, C.NAME: [f"站{i}" for i in ids], "operator": "x", C.SOCKETS: 2.0},
        geometry=gpd.points_from_xy(*zip(*xy, strict=True)),
        crs=METRIC,
    )
    return frame.to_crs(4326)


def test_a_row_at_an_osm_chargers_place_replaces_it_and_a_pasted_row_counts_once(caplog):
    base = (500_000.0, 3_100_000.0)
    osm = _chargers([base, (base[0] + 500, base[1])], ["n1", "n2"])
    rows = _chargers(
        [(base[0] + 3, base[1] + 2), (base[0] + 2_000, base[1]), (base[0] + 2_010, base[1])],
        ["t.xlsx#2", "t.xlsx#3", "t.xlsx#4"],
    )
    with caplog.at_level(logging.WARNING):
        out = add_chargers(osm, rows, crs=METRIC, within_m=30, label="t.xlsx")
    assert out[C.OSM_ID].tolist() == ["n2", "t.xlsx#2", "t.xlsx#3"]
    assert out.crs == osm.crs
    assert "1 charger row within 30 m of an earlier row" in caplog.text
    assert "t.xlsx#4 (站t.xlsx#4)" in caplog.text
    assert "n1 (站n1) by t.xlsx#2 (站t.xlsx#2)" in caplog.text
    # 0 keeps every row, without a word
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        every = add_chargers(osm, rows, crs=METRIC, within_m=0, label="t.xlsx")
    assert len(every) == 5 and caplog.text == ""


@pytest.mark.parametrize("seed", range(5))
def test_repeats_match_a_brute_force_reading_of_the_rule(seed):
    """A row is left out when an earlier kept row is within the distance; a known charger
    goes when any kept row is within it."""
    rng = np.random.default_rng(seed)
    n, k, d = 40, 15, 60.0
    pts = [(500_000 + x, 3_100_000 + y) for x, y in rng.uniform(0, 400, (n, 2))]
    old = [(500_000 + x, 3_100_000 + y) for x, y in rng.uniform(0, 400, (k, 2))]
    rows = _chargers(pts, [f"t#{i}" for i in range(n)])
    known = _chargers(old, [f"n{i}" for i in range(k)])
    out = add_chargers(known, rows, crs=METRIC, within_m=d, label="t")
    p, q = np.array(pts), np.array(old)
    kept: list[int] = []
    for i in range(n):
        if all(np.hypot(*(p[i] - p[j])) > d for j in kept):
            kept.append(i)
    gone = {j for j in range(k) if any(np.hypot(*(q[j] - p[i])) <= d for i in kept)}
    expected = [f"n{j}" for j in range(k) if j not in gone] + [f"t#{i}" for i in kept]
    assert out[C.OSM_ID].tolist() == expected
