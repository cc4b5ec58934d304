"""Village stops named after the nearest named place, checked against brute force."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from planner.config import ToursSection
from planner.tours.stops import PLACE_NAME_M, name_after_places, stop_table


def _points(xy, **cols):
    return gpd.GeoDataFrame(cols, geometry=shapely.points(xy), crs=4548)


def test_names_are_the_nearest_places_within_reach_by_brute_force():
    rng = np.random.default_rng(7)
    pts = _points(rng.uniform(0, 8000, (60, 2)), demand_id=[f"d{i}" for i in range(60)])
    pts["name"] = [None] * 50 + [f"own{i}" for i in range(10)]  # 10 named already
    pxy = rng.uniform(0, 8000, (25, 2))
    places = _points(pxy, name=[f"村{i % 20}" for i in range(25)])  # 5 names twice
    places.loc[3, "name"] = None  # an unnamed place is no name
    got = name_after_places(pts, places)
    xy = shapely.get_coordinates(pts.geometry.to_numpy())
    ok = places["name"].notna().to_numpy()
    base = got["name"].str.replace(r" \(\d+\)$", "", regex=True)
    takers: dict[str, list[float]] = {}
    for i in range(60):
        if i >= 50:
            assert got["name"].iloc[i] == f"own{i - 50}"  # a point's own name stays
            continue
        d = np.hypot(*(pxy - xy[i]).T)
        d[~ok] = np.inf
        if d.min() > PLACE_NAME_M:
            assert pd.isna(got["name"].iloc[i])
            continue
        want = places["name"].iloc[int(np.argmin(d))]
        assert base.iloc[i] == want
        takers.setdefault(want, []).append(d.min())
    # a name several points take: the nearest gets it plain, the others numbered
    for name, dists in takers.items():
        shown = got.loc[base == name, "name"].tolist()
        assert sorted(shown) == sorted([name] + [f"{name} ({k})" for k in range(2, len(dists) + 1)])
        nearest = got.loc[base == name].geometry.distance(
            places[places["name"] == name].geometry.iloc[0]
        )
        if (places["name"] == name).sum() == 1:
            assert got.loc[nearest.idxmin(), "name"] == name
    assert pts["name"].isna().sum() == 50  # the input is left as it was


def test_village_stops_take_place_names_and_stations_keep_theirs():
    villages = _points(
        [(0, 0), (5000, 0), (400, 300)],
        demand_id=["d1", "d2", "d3"],
        evs=[10.0, 10.0, 10.0],
        township_id=["t1"] * 3,
    )
    stations = _points([(100, 100)], candidate_id=["c1"], name=["青山站"], township_id=["t1"])
    places = _points([(50, 0)], name=["青山村"])
    tours = ToursSection(stops=["villages", "stations"])
    stops = stop_table(tours, demand=villages, stations=stations, places=places)
    names = dict(zip(stops["stop_id"], stops["name"], strict=True))
    assert names == {"d1": "青山村", "d3": "青山村 (2)", "d2": "d2", "c1": "青山站"}
    assert "name" not in villages  # the input is left as it was
