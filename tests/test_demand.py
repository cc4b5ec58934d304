import geopandas as gpd
import numpy as np
import pytest
import shapely
from affine import Affine
from pyproj import CRS

from planner.config import DemandSection
from planner.datatypes import PopulationGrid
from planner.demand import demand_from_raster, sessions_per_person

UTM = CRS.from_epsg(32650)


def test_cells_aggregate_to_1km_points_with_weighted_centres():
    # 100 m cells; origin at (500000, 3131000); 20 x 20 cells = 2 x 2 km
    values = np.zeros((20, 20))
    values[2, 3] = 300.0  # in the top-left km
    values[2, 5] = 100.0  # same km cell
    values[15, 15] = 50.0  # bottom-right km
    grid = PopulationGrid(values, Affine(100, 0, 500_000, 0, -100, 3_131_000), UTM, 450.0)
    towns = gpd.GeoDataFrame(
        {"township_id": ["A", "B"]},
        geometry=[
            shapely.box(500_000, 3_130_000, 501_000, 3_131_000),
            shapely.box(501_000, 3_129_000, 502_000, 3_130_000),
        ],
        crs=UTM,
    )
    params = DemandSection(
        vehicles_per_1000=200, ev_adoption=0.1, sessions_per_ev_per_day=0.5, kwh_per_session=20
    )
    d = demand_from_raster(grid, towns, UTM, params=params).sort_values("population")
    assert d["population"].tolist() == [50.0, 400.0]
    big = d.iloc[1]
    # weighted centre: x = (300 * 350 + 100 * 550) / 400 = 400 m east of the origin
    assert big.geometry.x == pytest.approx(500_400)
    assert big.geometry.y == pytest.approx(3_131_000 - 250)
    assert big["township_id"] == "A"
    assert d.iloc[0]["township_id"] == "B"
    assert big["evs"] == pytest.approx(400 * 0.2 * 0.1)
    assert big["sessions_day"] == pytest.approx(400 * sessions_per_person(params))
    assert big["kwh_day"] == pytest.approx(big["sessions_day"] * 20)


def test_points_outside_townships_take_the_nearest(caplog):
    values = np.zeros((10, 10))
    values[5, 5] = 10.0
    grid = PopulationGrid(values, Affine(100, 0, 500_000, 0, -100, 3_131_000), UTM, 10.0)
    towns = gpd.GeoDataFrame(
        {"township_id": ["far", "near"]},
        geometry=[
            shapely.box(400_000, 3_000_000, 400_100, 3_000_100),
            shapely.box(500_000, 3_130_000, 500_100, 3_130_100),
        ],
        crs=UTM,
    )
    d = demand_from_raster(grid, towns, UTM, params=DemandSection())
    assert d["township_id"].tolist() == ["near"]
    assert "1 demand points lie in no township polygon" in caplog.text


def settlements():
    places = gpd.GeoDataFrame(
        {
            "name": ["镇", "甲村", "乙村", "丙组"],
            "place": ["town", "village", "village", "hamlet"],
            "population": [5000.0, 800.0, None, None],
        },
        geometry=[
            shapely.Point(500_500, 3_130_500),
            shapely.Point(501_500, 3_130_500),
            shapely.Point(500_500, 3_129_500),
            shapely.Point(501_500, 3_129_500),
        ],
        crs=UTM,
    )
    county = gpd.GeoDataFrame(
        geometry=[shapely.box(500_000, 3_129_000, 502_000, 3_131_000)], crs=UTM
    )
    towns = gpd.GeoDataFrame(
        {"township_id": ["W", "E"]},
        geometry=[
            shapely.box(500_000, 3_129_000, 501_000, 3_131_000),
            shapely.box(501_000, 3_129_000, 502_000, 3_131_000),
        ],
        crs=UTM,
    )
    return places, county, towns


def test_settlement_demand_tags_defaults_and_total(caplog):
    from planner.demand import demand_from_settlements

    places, county, towns = settlements()
    d = demand_from_settlements(
        places, county, towns, params=DemandSection(place_population={"hamlet": 100})
    )
    # tags where present, type defaults elsewhere (village 600 built in, hamlet overridden)
    assert d["population"].tolist() == [5000, 800, 600, 100]
    assert d["township_id"].tolist() == ["W", "E", "W", "E"]
    assert "2 of 4 settlements have no population tag" in caplog.text
    scaled = demand_from_settlements(
        places, county, towns, params=DemandSection(population_total=13_000)
    )
    assert scaled["population"].sum() == pytest.approx(13_000, abs=0.1)
    ratio = scaled["population"].iloc[0] / scaled["population"].iloc[1]
    assert ratio == pytest.approx(5000 / 800, rel=1e-4)  # populations keep 2 decimals


def test_settlement_demand_from_buildings():
    from planner.demand import demand_from_settlements

    places, county, towns = settlements()
    # 10 buildings by the town (5000 people), 4 by 乙村, 1 far away from everything
    bxy = [(500_500 + i, 3_130_500) for i in range(10)] + [
        (500_500, 3_129_500 + i) for i in range(4)
    ]
    bxy.append((520_000, 3_150_000))
    buildings = gpd.GeoDataFrame(geometry=gpd.points_from_xy(*zip(*bxy, strict=True)), crs=UTM)
    params = DemandSection(weight_by_buildings=True)
    d = demand_from_settlements(places, county, towns, params=params, buildings=buildings)
    # 甲村 is tagged but has no buildings: the estimate is 5800 people / 10 buildings
    assert d["population"].tolist() == pytest.approx([5000, 800, 4 * 580, 80])
    fixed = DemandSection(weight_by_buildings=True, people_per_building=3)
    d = demand_from_settlements(places, county, towns, params=fixed, buildings=buildings)
    assert d["population"].tolist() == pytest.approx([5000, 800, 12, 80])


def test_settlement_demand_errors():
    from planner.demand import demand_from_settlements
    from planner.errors import DataError

    places, county, towns = settlements()
    odd = places.assign(place=["town", "village", "farm", "hamlet"])
    with pytest.raises(DataError, match="1 settlements of type farm have no population tag"):
        demand_from_settlements(odd, county, towns, params=DemandSection())
    away = county.set_geometry([shapely.box(0, 0, 10, 10)], crs=UTM)
    with pytest.raises(DataError, match="no OSM place=\\* settlements inside the county"):
        demand_from_settlements(places, away, towns, params=DemandSection())
    with pytest.raises(DataError, match="no buildings"):
        demand_from_settlements(
            places, county, towns, params=DemandSection(weight_by_buildings=True), buildings=None
        )
