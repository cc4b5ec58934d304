"""Service areas on a small graph whose reach can be checked by hand."""

import geopandas as gpd
import numpy as np
import pytest
import shapely

from planner.datatypes import RoadGraph
from planner.errors import DataError
from planner.isochrones import service_areas

CRS = "EPSG:32650"


def line_graph() -> RoadGraph:
    """Five nodes 1 km apart on the x axis, two-way, 60 s per edge (60 km/h).

    Node 4 hangs off node 2, 1 km north, reached only one way (2 -> 4): a one-way road.
    """
    x = np.array([0.0, 1000.0, 2000.0, 3000.0, 2000.0])
    y = np.array([0.0, 0.0, 0.0, 0.0, 1000.0])
    tail = np.array([0, 1, 1, 2, 2, 3, 2])
    head = np.array([1, 0, 2, 1, 3, 2, 4])
    return RoadGraph(
        x=x,
        y=y,
        osm_ids=np.arange(5),
        tail=tail,
        head=head,
        length_m=np.full(7, 1000.0),
        time_s=np.full(7, 60.0),
    )


def points(*xy: tuple[float, float]) -> gpd.GeoSeries:
    return gpd.GeoSeries(
        [shapely.Point(p) for p in xy], crs=CRS, index=[f"r{i}" for i in range(len(xy))]
    )


def test_reach_follows_the_roads_and_cuts_the_last_edge():
    # from node 0 (on the node: no access leg), 2.5 min reach x = 2500 m along the road,
    # and the spur to node 4 is driven for its first 0.5 min = 500 m
    g = line_graph()
    out = service_areas(g, points((0, 0)), 2.5, access_speed_kmh=15, buffer_m=50, min_hole_m2=0)
    area = out.geometry.iloc[0]
    assert out.index.tolist() == ["r0"] and out.crs == CRS
    minx, miny, maxx, maxy = area.bounds
    # within the simplification tolerance (buffer / 8 = 6.25 m) of the exact outline
    tol = 50 / 8
    assert minx == pytest.approx(-50, abs=tol)
    assert maxx == pytest.approx(2550, abs=tol)  # half-way along 2 -> 3, plus the buffer
    assert maxy == pytest.approx(550, abs=tol)  # half-way up the spur, plus the buffer
    assert miny == pytest.approx(-50, abs=tol)
    # a strip of width 100 m along 2500 m + 500 m of road, plus round ends
    assert area.area == pytest.approx(100 * 3000, rel=0.03)
    assert out["service_min"].iloc[0] == 2.5
    assert out["area_km2"].iloc[0] == pytest.approx(area.area / 1e6)
    # nothing off the roads: the middle of the block north of the line is out
    assert not area.contains(shapely.Point(1000, 500))


def test_one_way_edges_are_not_driven_backwards():
    # from the spur's end (node 4): its only edge leads in, none out -> no road reached
    g = line_graph()
    out = service_areas(g, points((2000, 1000)), 5, access_speed_kmh=15, buffer_m=50, simplify_m=0)
    area = out.geometry.iloc[0]
    assert area.area == pytest.approx(np.pi * 50**2, rel=0.03)  # the start disc only
    # from node 2 the spur is driven: the area reaches its end
    out = service_areas(g, points((2000, 0)), 5, access_speed_kmh=15, buffer_m=50)
    assert out.geometry.iloc[0].bounds[3] == pytest.approx(1050, abs=5)


def test_access_leg_comes_off_the_budget():
    # 250 m off-road at 15 km/h is 1 min: 2 min leave 1 min of road, to node 1
    g = line_graph()
    out = service_areas(g, points((0, -250)), 2, access_speed_kmh=15, buffer_m=50, min_hole_m2=0)
    assert out.geometry.iloc[0].bounds[2] == pytest.approx(1050, abs=1)
    # an access leg longer than the budget gives an empty area, not an error
    far = service_areas(g, points((0, -5000)), 2, access_speed_kmh=15, buffer_m=50)
    assert far.geometry.iloc[0].is_empty and far["area_km2"].iloc[0] == 0


def test_small_holes_are_filled_large_ones_kept():
    # a 1 km x 1 km ring road: the block inside is a hole of (1000 - 2*50)^2 m2
    x = np.array([0.0, 1000.0, 1000.0, 0.0])
    y = np.array([0.0, 0.0, 1000.0, 1000.0])
    tail = np.array([0, 1, 2, 3, 1, 2, 3, 0])
    head = np.array([1, 2, 3, 0, 0, 1, 2, 3])
    g = RoadGraph(x, y, np.arange(4), tail, head, np.full(8, 1e3), np.full(8, 60.0))
    hole = 900.0**2
    kept = service_areas(g, points((0, 0)), 10, access_speed_kmh=15, buffer_m=50, min_hole_m2=0)
    filled = service_areas(g, points((0, 0)), 10, access_speed_kmh=15, buffer_m=50)
    assert filled.geometry.iloc[0].area - kept.geometry.iloc[0].area == pytest.approx(
        hole, rel=0.01
    )
    assert filled.geometry.iloc[0].contains(shapely.Point(500, 500))


def test_several_points_keep_their_order_and_empty_input():
    g = line_graph()
    out = service_areas(
        g, points((3000, 0), (0, 0)), 1, access_speed_kmh=15, buffer_m=50, simplify_m=0
    )
    assert out.geometry.iloc[0].bounds[0] == pytest.approx(1950, abs=1)
    assert out.geometry.iloc[1].bounds[2] == pytest.approx(1050, abs=1)
    empty = service_areas(g, points(), 1, access_speed_kmh=15)
    assert len(empty) == 0 and empty.crs == CRS


def test_bad_arguments_are_data_errors():
    g = line_graph()
    with pytest.raises(DataError, match="positive"):
        service_areas(g, points((0, 0)), 0, access_speed_kmh=15)
    with pytest.raises(DataError, match="CRS"):
        service_areas(g, gpd.GeoSeries([shapely.Point(0, 0)]), 5, access_speed_kmh=15)
