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
