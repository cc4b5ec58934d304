import geopandas as gpd
import numpy as np
import pytest
import shapely

from planner.candidates import build_candidates, classify
from planner.config import DEFAULT_OSM_CLASSES, CandidatesSection, CostsSection

CRS_M = 4548


def layers():
    county = gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 10_000, 10_000)], crs=CRS_M)
    towns = gpd.GeoDataFrame(
        {"township_id": ["A", "B"]},
        geometry=[shapely.box(0, 0, 5_000, 10_000), shapely.box(5_000, 0, 10_000, 10_000)],
        crs=CRS_M,
    )
    pois = gpd.GeoDataFrame(
        {
            "osm_id": ["n1", "n2", "n3", "n4", "n5", "n6"],
            "name": ["镇政府", "超市", "加油站", "学校", "outside", "饭店"],
            "amenity": ["townhall", None, "fuel", "school", "fuel", "restaurant"],
            "shop": [None, "supermarket", None, None, None, None],
            "public_transport": [None] * 6,
            "parking": [None] * 6,
        },
        geometry=[
            shapely.Point(1000, 1000),
            shapely.Point(1020, 1000),  # 20 m apart
            shapely.Point(7000, 5000),
            shapely.Point(3000, 9000),
            shapely.Point(20_000, 5000),
            shapely.Point(4000, 4000),
        ],
        crs=CRS_M,
    )
    subs = gpd.GeoDataFrame(
        {"substation_id": ["S1"], "headroom_kw": [1500.0]},
        geometry=[shapely.Point(7000, 5300)],
        crs=CRS_M,
    )
    lines = gpd.GeoDataFrame(
        {"power": ["minor_line", "line"], "voltage_kv": [10.0, 110.0]},
        geometry=[
            shapely.LineString([(0, 1500), (10_000, 1500)]),
            shapely.LineString([(3000, 8000), (3100, 9000)]),
        ],
        crs=CRS_M,
    )
    return county, towns, pois, subs, lines


def test_classify():
    _, _, pois, _, _ = layers()
    assert classify(pois, DEFAULT_OSM_CLASSES).tolist() == [
        "township_government",
        "commercial_outlet",
        "fuel_station",
        "institution",
        "fuel_station",
        None,
    ]


def test_build_candidates():
    county, towns, pois, subs, lines = layers()
    costs = CostsSection(station_capex=100_000, connection_per_km=200_000)
    cand = build_candidates(
        pois, county, towns, subs, lines, rules=CandidatesSection(merge_within_m=50), costs=costs
    )
    # the supermarket 20 m from the town hall merges into it; the outside fuel is dropped
    assert cand["name"].tolist() == ["镇政府", "加油站", "学校"]
    assert cand["policy_class"].tolist() == ["township_government", "fuel_station", "institution"]
    assert cand["township_id"].tolist() == ["A", "B", "A"]
    # town hall: 500 m to the 10 kV line; fuel: 300 m to the substation; the school sits
    # by a 110 kV line, which does not count: its nearest is the substation,
    # sqrt(4000^2 + 3700^2) = 5448.85 m away
    assert cand["grid_distance_m"].tolist() == pytest.approx([500, 300, 5448.9])
    assert cand["connection_cost"].tolist() == pytest.approx([100_000, 60_000, 1_089_771])
    assert cand["station_capex"].tolist() == pytest.approx([200_000, 160_000, 1_189_771])
    assert (cand["substation_id"] == "S1").all()
    assert np.allclose(cand["headroom_kw"], 1500)


def test_class_filter():
    county, towns, pois, subs, lines = layers()
    cand = build_candidates(
        pois,
        county,
        towns,
        subs,
        lines,
        rules=CandidatesSection(classes=["fuel_station"]),
        costs=CostsSection(),
    )
    assert cand["name"].tolist() == ["加油站"]


def test_untagged_power_line_is_not_a_10kv_tap():
    county, towns, pois, subs, lines = layers()
    lines = lines.assign(voltage_kv=[10.0, None], power=["minor_line", "line"])
    cand = build_candidates(
        pois,
        county,
        towns,
        subs.iloc[0:0],
        lines,
        rules=CandidatesSection(merge_within_m=50),
        costs=CostsSection(),
    )
    # the school sits by the untagged 'line' (likely high voltage): its tap is the 10 kV line
    school = cand[cand["name"] == "学校"].iloc[0]
    assert school["grid_distance_m"] == pytest.approx(7500)


def test_a_site_s_load_goes_to_the_substation_of_the_line_that_prices_it():
    """The town hall taps the 10 kV line 500 m away, which starts at S2; S1 stands nearer
    in a straight line but feeds no line near it (the grid review's c0011 / c0079)."""
    county, towns, pois, _, lines = layers()
    subs = gpd.GeoDataFrame(
        {"substation_id": ["S1", "S2"], "headroom_kw": [1500.0, 300.0]},
        geometry=[shapely.Point(1000, 2500), shapely.Point(9900, 1500)],
        crs=CRS_M,
    )
    costs = CostsSection(station_capex=100_000, connection_per_km=200_000)
    cand = build_candidates(
        pois, county, towns, subs, lines, rules=CandidatesSection(merge_within_m=50), costs=costs
    )
    hall = cand[cand["name"] == "镇政府"].iloc[0]
    assert hall["grid_distance_m"] == pytest.approx(500)  # priced to the line
    assert hall["substation_id"] == "S2" and hall["headroom_kw"] == 300.0  # booked on its source


def test_a_220kv_substation_is_no_connection_point_at_its_fence():
    """The grid review's 新田镇 case: a 220 kV substation 100 m from the town hall does not
    price its connection at 100 m; the 10 kV line 500 m away does."""
    county, towns, pois, _, lines = layers()
    subs = gpd.GeoDataFrame(
        {
            "substation_id": ["S1", "HV"],
            "headroom_kw": [1500.0, 50_000.0],
            "voltage_kv": [35.0, 220.0],
        },
        geometry=[shapely.Point(7000, 5300), shapely.Point(1000, 1100)],
        crs=CRS_M,
    )
    costs = CostsSection(station_capex=100_000, connection_per_km=200_000)
    cand = build_candidates(
        pois, county, towns, subs, lines, rules=CandidatesSection(merge_within_m=50), costs=costs
    )
    hall = cand[cand["name"] == "镇政府"].iloc[0]
    assert hall["grid_distance_m"] == pytest.approx(500)
    fuel = cand[cand["name"] == "加油站"].iloc[0]  # 300 m from the 35 kV substation: still
    assert fuel["grid_distance_m"] == pytest.approx(300) and fuel["substation_id"] == "S1"
