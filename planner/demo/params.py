"""The demo generator's knobs, with the defaults that make the usual demo county."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_SEED = 20261127


@dataclass(frozen=True)
class DemoParams:
    """Knobs of the demo county generator; the defaults make the usual demo county.

    Lengths are in metres and shares in [0, 1]. Count ranges ``(low, high)`` are drawn
    as ``rng.integers(low, high)``, so ``high`` is excluded; value ranges as
    ``rng.uniform(low, high)``. Lengths given as a share of the county's radius grow with
    ``--scale`` (the radius is ``radius_m * sqrt(scale)``); lengths in metres do not.
    Changing a default changes the demo's files for every seed.
    """

    # -- coordinate reference systems
    #: Geographic CRS of the boundaries and of ``DemoIdentity.center`` (CGCS2000).
    geographic_epsg: int = 4490
    #: Metric CRS the county is built in (CGCS2000 / 3-degree Gauss-Kruger CM 117E).
    metric_epsg: int = 4548
    #: CRS of the population raster (WGS 84 / UTM zone 50N).
    raster_epsg: int = 32650

    # -- county outline
    #: Mean radius of the county at scale 1.
    radius_m: float = 24_000.0
    #: Vertices of the outline.
    outline_vertices: int = 96
    #: (Harmonic, amplitude as a share of the radius) of the outline's waves.
    outline_harmonics: tuple[tuple[int, float], ...] = ((2, 0.16), (3, 0.10), (5, 0.06), (8, 0.03))
    #: Standard deviation of the outline's vertex noise, as a share of the radius.
    outline_noise: float = 0.012
    #: East-west stretch of the outline.
    outline_stretch: float = 1.15

    # -- townships and their seats
    #: Townships at scale 1 (more with ``--scale``); the first holds the county seat.
    townships: tuple[int, int] = (12, 17)
    #: Township seats keep this share of the radius inside the border.
    seat_margin: float = 0.12
    #: Least distance between seats, as a share of the radius, for
    #: ``seat_spacing_townships`` townships (closer for more).
    seat_spacing: float = 0.42
    #: Township count at which seats are ``seat_spacing`` apart.
    seat_spacing_townships: int = 14
    #: Township seats keep this share of the radius away from the county seat.
    seat_clearance: float = 0.3
    #: Township polygons are simplified to this tolerance (Voronoi slivers at the border).
    township_simplify_m: float = 1.0

    # -- people and villages
    #: People in the county at scale 1 (times ``scale``).
    population: int = 300_000
    #: Share of the people in the county seat.
    county_seat_share: float = 0.25
    #: Share of the people in the township seats, all together.
    township_seats_share: float = 0.17
    #: Sigma of the lognormal spread of the township seats' people.
    township_pop_sigma: float = 0.35
    #: Villages at scale 1 (times ``scale``); they hold the rest of the people.
    villages: tuple[int, int] = (220, 281)
    #: Villages keep this far inside the border.
    village_margin_m: float = 300.0
    #: Least distance between villages (closer if they do not fit).
    village_spacing_m: float = 650.0
    #: Villages keep this far from the seats.
    village_clearance_m: float = 1500.0
    #: Share of villages clustered around the seats.
    village_cluster_share: float = 0.35
    #: Spread of the clusters around the seats, as a share of the radius.
    village_cluster_sigma: float = 0.18
    #: Sigma of the lognormal spread of the villages' people.
    village_pop_sigma: float = 0.55
    #: Fewest people in a village.
    village_min_pop: int = 40
    #: Villages below this are tagged ``place=hamlet``.
    village_place_min_pop: int = 300
    #: Share of villages whose ``place`` node lacks a population tag.
    untagged_population_share: float = 0.1
    #: Villages of the neighbouring counties at scale 1 (times ``sqrt(scale)``), in the
    #: population raster only.
    outside_villages: int = 25
    #: The neighbouring villages lie this far beyond the border.
    outside_ring_m: float = 2500.0
    #: People in a neighbouring village.
    outside_pop: tuple[int, int] = (200, 1500)

    # -- roads
    #: Spacing of the nodes along generated roads and lines.
    node_spacing_m: float = 200.0
    #: The trunk road runs this far beyond the border.
    trunk_overshoot_m: float = 3000.0
    #: Sideways wiggle of the trunk road.
    trunk_wiggle_m: float = 900.0
    #: Sideways wiggle of the county roads between seats.
    county_road_wiggle_m: float = 700.0
    #: County roads add one loop to their spanning tree per this many seats ...
    towns_per_loop: int = 6
    #: ... and at least this many.
    min_loops: int = 2
    #: A village's road goes to one of its this many nearest villages, if already joined
    #: and nearer than the main road by ``chain_shortcut``.
    village_neighbours: int = 8
    #: A village joins a neighbour only if it is nearer than this share of the distance
    #: to the nearest main road.
    chain_shortcut: float = 0.8
    #: Chains of village roads stay shorter than this (straight-line) to a main road.
    max_chain_m: float = 5000.0
    #: Sideways wiggle of a village's road.
    village_road_wiggle_m: float = 150.0
    #: Share of village roads to a main road (tertiary) with a 40 km/h ``maxspeed``.
    tertiary_maxspeed_share: float = 0.3
    #: Share of villages with a second link to a joined neighbour (a loop) ...
    village_loop_share: float = 0.15
    #: ... within this distance.
    village_loop_max_m: float = 3000.0
    #: Sideways wiggle of the second links.
    village_loop_wiggle_m: float = 120.0
    #: Share of villages with a dead-end unpaved spur into the fields.
    spur_share: float = 0.06
    #: Length of a spur.
    spur_length_m: tuple[float, float] = (500.0, 1500.0)
    #: Sideways wiggle of a spur.
    spur_wiggle_m: float = 60.0
    #: The county seat's street mesh has this many streets each way.
    seat_streets: int = 7
    #: Block size of the street mesh.
    seat_block_m: float = 320.0
    #: Standard deviation of the mesh's crossings around their grid places.
    seat_jitter_m: float = 40.0
    #: Share of the mesh's street segments left out.
    street_gap_share: float = 0.12

    # -- outlets
    #: An outlet stands this far from its road node.
    outlet_offset_m: tuple[float, float] = (15.0, 45.0)
    #: Service-area fuel stations every this far along the trunk road.
    trunk_fuel_every_m: float = 12_000.0
    #: Offset of those stations from the road, east and north.
    trunk_fuel_offset_m: tuple[float, float] = (20.0, 50.0)
    #: Villages above this many people have a convenience store ...
    shop_min_pop: int = 1100
    #: ... with this share.
    shop_share: float = 0.5
    #: Larger villages without one have a car repair shop above this many people ...
    repair_min_pop: int = 1600
    #: ... with this share.
    repair_share: float = 0.3

    # -- grid
    #: The 110 kV substation's rating (kVA) and peak load (kW).
    substation_110kv: tuple[int, int] = (100_000, 61_000)
    #: Share of township seats with a 35 kV substation (the first two if none).
    substation_35kv_share: float = 0.55
    #: Ratings (kVA) of 35 kV substations: large or small ...
    rated_35kv_kva: tuple[int, int] = (10_000, 6_300)
    #: ... large with this share.
    large_35kv_share: float = 0.6
    #: Power factor: a substation's headroom is rated x factor - peak.
    power_factor: float = 0.9
    #: Headroom of the first 35 kV substation, nearly full so its limit binds (kW); more
    #: when more townships depend on it alone (see :func:`planner.demo.power.first_spare_kw`).
    first_35kv_spare_kw: float = 300.0
    #: The smallest station's draw (kW): two 60 kW chargers, as the demo config's stations.
    smallest_station_kw: float = 120.0
    #: An outlet nearer another substation by less than this may still be fed by the first.
    feeder_tie_m: float = 200.0
    #: The demo config's budget is at least this many times the least cost of a station in
    #: every township and a repair point each (see :func:`planner.demo.power.township_budget`).
    budget_margin: float = 1.2
    #: Peak load of the other 35 kV substations, as a share of their rating.
    peak_share: tuple[float, float] = (0.5, 0.8)
    #: Sideways wiggle of 35 kV lines.
    line_35kv_wiggle_m: float = 400.0
    #: 10 kV feeders run from each substation to this many nearest township seats.
    feeder_neighbours: int = 3
    #: Feeder poles stand this far east and north of the road's nodes.
    pole_offset_m: float = 15.0
    #: Sideways wiggle of feeders across country.
    feeder_wiggle_m: float = 500.0

    # -- population raster
    #: Cell size of the population raster.
    raster_cell_m: float = 100.0
    #: The raster extends this far beyond the county.
    raster_margin_m: float = 3000.0
    #: Gaussian spread of the people of the county seat, ...
    spread_county_seat_m: float = 1100.0
    #: ... of a township seat ...
    spread_township_seat_m: float = 320.0
    #: ... and of a village (also a neighbouring village).
    spread_village_m: float = 110.0
    #: A spread is cut off beyond this many standard deviations.
    spread_cutoff: float = 4.0
    #: No-data value of the raster.
    raster_nodata: float = -9999.0

    # -- province
    #: Degrees between neighbouring counties' centres at scale 1 (times ``sqrt(scale)``).
    province_step_deg: float = 0.7
    #: Degrees added to the step at every scale, so that no county's roads lie within
    #: another's road buffer (5 km) and bounding box: each county's own OSM file and the
    #: merged provincial extract give it the same roads.
    province_gap_deg: float = 0.15


DEFAULT_PARAMS = DemoParams()
