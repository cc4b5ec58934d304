"""Ingest: read a county's input files into a :class:`~planner.datatypes.CountyData`."""

from __future__ import annotations

import logging

import geopandas as gpd
import pandas as pd

from planner import columns as C
from planner.config import Config, PointTableInput
from planner.datatypes import CountyData
from planner.errors import data_error
from planner.ingest.boundaries import check_overlaps, read_boundaries, read_layer
from planner.ingest.crs import metric_crs, reproject, to_crs_valid
from planner.ingest.grid import join_headroom, join_headroom_nearest, read_substation_table
from planner.ingest.osm import clip_ways, read_osm
from planner.ingest.osm_boundaries import read_osm_boundaries
from planner.ingest.overpass import read_overpass
from planner.ingest.population import read_population
from planner.ingest.tables import read_lines, read_points, require_columns
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
        assert inp.osm.path is not None  # checked by the config
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
            crs=b.crs,
        )
        inputs.append(input_file("boundaries", b.path))
    county.loc[0, C.NAME] = config.county.name
    geom = county.geometry.iloc[0]
    crs = metric_crs(geom, config.crs.metric)
    if b.source == "osm":
        check_overlaps(to_crs_valid(townships, crs), inp.osm.path or "OSM boundaries")
    else:
        check_overlaps(to_crs_valid(townships, crs), b.path or "boundaries", layer=b.township_layer)
    # a degree of latitude is ~111 km; widen the box by the clip buffer
    pad = inp.osm.clip_buffer_m / 111_000.0
    w, s, e, n = geom.bounds
    area = reproject(reproject(geom, 4326, crs).buffer(inp.osm.clip_buffer_m), crs, 4326)
    poi_keys = tuple(dict.fromkeys(k.split("=", 1)[0] for k in config.candidates.osm_classes))
    if inp.osm.source == "overpass":
        osm = read_overpass(
            area,
            url=inp.osm.overpass_url,
            cache_dir=inp.osm.cache_dir,
            rate_limit=inp.osm.overpass_rate_limit,
            extra_highways=tuple(config.network.extra_highways),
            poi_keys=poi_keys,
        )
        roads = osm.roads
    else:
        assert inp.osm.path is not None  # checked by the config
        osm = read_osm(
            inp.osm.path,
            bbox=(w - pad * 2, s - pad, e + pad * 2, n + pad),
            buildings=config.demand.weight_by_buildings,
            extra_highways=tuple(config.network.extra_highways),
            poi_keys=poi_keys,
        )
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
            encoding=s_in.encoding,
        )
        inputs.append(input_file("substations", s_in.path))
    pois, chargers = osm.pois, osm.chargers
    subs, lines = osm.substations, osm.power_lines
    for spec in inp.outlets:
        pois = _concat(pois, _outlets(read_points(spec, role="outlets"), spec, config))
        inputs.append(input_file("outlets", spec.path))
    for spec in inp.chargers:
        chargers = _concat(chargers, _chargers(read_points(spec, role="chargers"), spec))
        inputs.append(input_file("chargers", spec.path))
    for spec in inp.grid_substations:
        subs = _concat(subs, _substations(read_points(spec, role="substations"), spec))
        inputs.append(input_file("grid_substations", spec.path))
    for spec in inp.grid_lines:
        lines = _concat(lines, read_lines(spec))
        inputs.append(input_file("grid_lines", spec.path))
    if inp.substations is not None and inp.substations.lon_field is not None:
        s_in = inp.substations
        where = read_points(
            PointTableInput(
                path=s_in.path,
                lon_field=s_in.lon_field,
                lat_field=s_in.lat_field,
                crs=s_in.crs,
                encoding=s_in.encoding,
                name_field=None,
            ),
            role="substation table",
        )
        located = gpd.GeoDataFrame(table, geometry=where.geometry.to_numpy(), crs=4326)
        substations = join_headroom_nearest(subs, located, crs, max_distance_m=s_in.max_distance_m)
    else:
        substations = join_headroom(subs, table)
    population = None
    use_raster = config.demand.source == "raster" or (
        config.demand.source == "auto" and inp.population is not None
    )
    if use_raster:
        assert inp.population is not None  # checked by the config
        population = read_population(
            inp.population.path,
            geom,
            band=inp.population.band,
            min_coverage=config.demand.min_raster_coverage,
        )
        inputs.append(input_file("population", inp.population.path))
    logger.info(
        "ingested %s: %d townships, %d road ways, %d POIs, %d places, %d substations, "
        "%d power lines, %d existing chargers",
        config.county.name,
        len(townships),
        len(roads.highway),
        len(pois),
        len(osm.places),
        len(substations),
        len(lines),
        len(chargers),
    )
    return CountyData(
        name=config.county.name,
        slug=config.slug,
        crs=crs,
        county=to_crs_valid(county, crs),
        townships=to_crs_valid(townships, crs),
        roads=roads,
        pois=pois.to_crs(crs),
        places=osm.places.to_crs(crs),
        substations=substations.to_crs(crs),
        power_lines=lines.to_crs(crs),
        chargers=chargers.to_crs(crs),
        population=population,
        buildings=osm.buildings.to_crs(crs) if osm.buildings is not None else None,
        power_points=osm.power_points.to_crs(crs) if osm.power_points is not None else None,
        inputs=inputs,
    )


def _concat(a: gpd.GeoDataFrame, b: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Rows of ``b`` below ``a``, in ``a``'s CRS, with the columns of both."""
    b = b.to_crs(a.crs)
    if b.geometry.name != a.geometry.name:
        b = b.rename_geometry(a.geometry.name)
    both = pd.concat([a, b], ignore_index=True)
    return gpd.GeoDataFrame(both, geometry=a.geometry.name, crs=a.crs)


def _field(table: gpd.GeoDataFrame, spec: PointTableInput, field: str | None) -> pd.Series:
    if field is None:
        return pd.Series([None] * len(table), index=table.index, dtype=object)
    require_columns(table, spec.path, (field,))
    return table[field].replace("", None)


def _outlets(table: gpd.GeoDataFrame, spec: PointTableInput, config: Config) -> gpd.GeoDataFrame:
    """Table outlets as POIs with their policy class set."""
    if spec.policy_class is not None:
        cls = pd.Series(spec.policy_class, index=table.index, dtype=object)
    elif spec.category_field is not None:
        cat = _field(table, spec, spec.category_field).astype(str).str.strip()
        mapping = config.candidates.category_classes
        cls = cat.map(lambda c: mapping.get(c))
        unmapped = cat[~cat.isin(mapping.keys())]
        if len(unmapped):
            counts = unmapped.value_counts().head(8).to_dict()
            logger.warning(
                "%s: %d outlets left out, their category is not in candidates.category_classes: %s",
                spec.path,
                len(unmapped),
                counts,
            )
    else:
        raise data_error(spec.path, "outlets need a policy_class or a category_field in the config")
    out = gpd.GeoDataFrame(
        {
            C.OSM_ID: table[C.SOURCE].to_numpy(),
            C.NAME: table[C.NAME].to_numpy(),
            C.POLICY_CLASS: cls.to_numpy(),
            C.SOURCE: table[C.SOURCE].to_numpy(),
        },
        geometry=table.geometry.to_numpy(),
        crs=table.crs,
    )
    return out[out[C.POLICY_CLASS].notna()]


def _chargers(table: gpd.GeoDataFrame, spec: PointTableInput) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            C.OSM_ID: table[C.SOURCE].to_numpy(),
            C.NAME: table[C.NAME].to_numpy(),
            "operator": _field(table, spec, spec.operator_field).to_numpy(),
            C.SOCKETS: pd.to_numeric(
                _field(table, spec, spec.sockets_field), errors="coerce"
            ).to_numpy(),
        },
        geometry=table.geometry.to_numpy(),
        crs=table.crs,
    )


def _substations(table: gpd.GeoDataFrame, spec: PointTableInput) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            C.OSM_ID: table[C.SOURCE].to_numpy(),
            "ref": _field(table, spec, spec.id_field).to_numpy(),
            C.NAME: table[C.NAME].to_numpy(),
            C.VOLTAGE_KV: pd.to_numeric(
                _field(table, spec, spec.voltage_field), errors="coerce"
            ).to_numpy(),
        },
        geometry=table.geometry.to_numpy(),
        crs=table.crs,
    )
