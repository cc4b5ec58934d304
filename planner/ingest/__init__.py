"""Ingest: read a county's input files into a :class:`~planner.datatypes.CountyData`."""

from __future__ import annotations

import logging

from planner import columns as C
from planner.config import Config
from planner.datatypes import CountyData
from planner.ingest.boundaries import read_boundaries, read_layer
from planner.ingest.crs import metric_crs, reproject
from planner.ingest.grid import join_headroom, read_substation_table
from planner.ingest.osm import clip_ways, read_osm
from planner.ingest.osm_boundaries import read_osm_boundaries
from planner.ingest.population import read_population
from planner.paths import input_file

__all__ = [
    "load_county",
    "metric_crs",
    "read_boundaries",
    "read_layer",
    "read_osm",
    "read_osm_boundaries",
]

logger = logging.getLogger(__name__)


def load_county(config: Config) -> CountyData:
    """Read every input named in the config.

    Parameters
    ----------
    config
        The validated run config.

    Returns
    -------
    CountyData
        Boundaries, OSM layers, grid and population, vector layers in the metric CRS.
    """
    inp = config.inputs
    b = inp.boundaries
    inputs = []
    if b.source == "osm":
        county, townships = read_osm_boundaries(
            inp.osm.path,
            county_name=b.county_name,
            county_osm_id=b.county_osm_id,
            county_admin_level=b.county_admin_level,
            township_admin_level=b.township_admin_level,
        )
    else:
        assert b.path is not None  # checked by the config
        county, townships = read_boundaries(
            b.path,
            county_layer=b.county_layer,
            township_layer=b.township_layer,
            id_field=b.township_id_field,
            name_field=b.township_name_field,
            encoding=b.encoding,
        )
        inputs.append(input_file("boundaries", b.path))
    county.loc[0, C.NAME] = config.county.name
    geom = county.geometry.iloc[0]
    crs = metric_crs(geom, config.crs.metric)
    # a degree of latitude is ~111 km; widen the box by the clip buffer
    pad = inp.osm.clip_buffer_m / 111_000.0
    w, s, e, n = geom.bounds
    osm = read_osm(inp.osm.path, bbox=(w - pad * 2, s - pad, e + pad * 2, n + pad))
    area = reproject(reproject(geom, 4326, crs).buffer(inp.osm.clip_buffer_m), crs, 4326)
    roads = clip_ways(osm.roads, area)
    inputs.append(input_file("osm", inp.osm.path))
    table = None
    if inp.substations is not None:
        s_in = inp.substations
        table = read_substation_table(
            s_in.path,
            id_field=s_in.id_field,
            rated_kva_field=s_in.rated_kva_field,
            peak_load_kw_field=s_in.peak_load_kw_field,
        )
        inputs.append(input_file("substations", s_in.path))
    substations = join_headroom(osm.substations, table)
    population = None
    use_raster = config.demand.source == "raster" or (
        config.demand.source == "auto" and inp.population is not None
    )
    if use_raster:
        assert inp.population is not None  # checked by the config
        population = read_population(inp.population.path, geom, band=inp.population.band)
        inputs.append(input_file("population", inp.population.path))
    logger.info(
        "ingested %s: %d townships, %d road ways, %d POIs, %d places, %d substations, "
        "%d power lines, %d existing chargers",
        config.county.name,
        len(townships),
        len(roads.highway),
        len(osm.pois),
        len(osm.places),
        len(substations),
        len(osm.power_lines),
        len(osm.chargers),
    )
    return CountyData(
        name=config.county.name,
        slug=config.slug,
        crs=crs,
        county=county.to_crs(crs),
        townships=townships.to_crs(crs),
        roads=roads,
        pois=osm.pois.to_crs(crs),
        places=osm.places.to_crs(crs),
        substations=substations.to_crs(crs),
        power_lines=osm.power_lines.to_crs(crs),
        chargers=osm.chargers.to_crs(crs),
        population=population,
        inputs=inputs,
    )
