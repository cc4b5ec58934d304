"""The county's outline from its townships: no gaps drawn as county edges."""

from __future__ import annotations

import geopandas as gpd
import shapely

from planner.spatial import county_outline


def test_gaps_between_townships_are_no_county_edge_but_an_enclave_is():
    west = shapely.box(0, 0, 5000, 5000)
    # the east township's edge misses the west one's by 0.3 m along 4 km: a sliver hole
    east = shapely.Polygon(
        [
            (5000, 0),
            (10000, 0),
            (10000, 5000),
            (5000, 5000),
            (5000, 4500),
            (5000.3, 2500),
            (5000, 500),
        ]
    )
    # a real enclave: a hole of 1 km^2 in a third township
    north = shapely.Polygon(
        shapely.box(0, 5000, 10000, 10000).exterior.coords,
        [shapely.box(4000, 7000, 5000, 8000).exterior.coords],
    )
    towns = gpd.GeoSeries([west, east, north], crs=4548)
    union = shapely.union_all(towns.to_numpy())
    assert len(union.interiors) == 2  # the sliver and the enclave
    out = county_outline(towns)
    assert out.geom_type == "Polygon" and len(out.interiors) == 1
    assert shapely.Polygon(out.interiors[0]).equals(shapely.box(4000, 7000, 5000, 8000))
    assert 0 <= out.area - union.area < 1e-5 * union.area  # the sliver filled, no more
    assert (
        out.exterior.equals(union.exterior)
        or out.exterior.hausdorff_distance(union.exterior) < 1e-6
    )


def test_separate_parts_stay_separate():
    towns = gpd.GeoSeries([shapely.box(0, 0, 1000, 1000), shapely.box(5000, 0, 6000, 1000)])
    out = county_outline(towns)
    assert out.geom_type == "MultiPolygon" and len(out.geoms) == 2
