"""The county's inputs, read step by step into a :class:`~planner.datatypes.CountyData`."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely
from pyproj import CRS
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from planner.config import Config, PointTableInput
from planner.config.inputs import FileOrTable
from planner.crs import metric_crs, reproject, to_crs_valid
from planner.datatypes import CountyData, InputFile, OsmData, PopulationGrid, RoadWays
from planner.errors import DataError, NoRoadsError, data_error
from planner.ingest.boundaries import check_overlaps, read_boundaries
from planner.ingest.charger_sites import add_chargers
from planner.ingest.coverage import check_extract_covers, check_townships_inside, keep_near
from planner.ingest.database import parse_url, show_url, table_input
from planner.ingest.grid import (
    join_headroom,
    join_headroom_nearest,
    read_substation_table,
)
from planner.ingest.grid_sites import add_substations
from planner.ingest.osm import clip_ways, extract_box, read_osm
from planner.ingest.osm_boundaries import read_osm_boundaries
from planner.ingest.overpass import read_overpass
from planner.ingest.points import as_chargers, as_outlets, as_substations
from planner.ingest.population import read_population
from planner.ingest.sheets import TABLE_ROW, TABLE_SUFFIXES
from planner.ingest.tables import read_lines, read_points
from planner.paths import input_file

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
    inputs: list[InputFile] = []
    county, townships = _boundaries(config, inputs)
    geom = county.geometry.iloc[0]
    crs = metric_crs(geom, config.crs.metric)
    b = config.inputs.boundaries
    source = (config.inputs.osm.path or "OSM boundaries") if b.source == "osm" else b.path or b.url
    township_layer = None if b.source == "osm" else b.township_layer
    check_overlaps(to_crs_valid(townships, crs), source or "boundaries", layer=township_layer)
    check_townships_inside(
        to_crs_valid(county, crs),
        to_crs_valid(townships, crs),
        source or "boundaries",
        layer=township_layer,
    )
    area = reproject(reproject(geom, 4326, crs).buffer(config.inputs.osm.clip_buffer_m), crs, 4326)
    osm, roads = _osm(config, geom, area, inputs)
    if config.inputs.osm.source == "file":
        assert config.inputs.osm.path is not None  # checked by the config
        others = (osm.places, osm.pois, osm.substations, osm.chargers, osm.power_lines)
        check_extract_covers(roads, townships, config.inputs.osm.path, layers=others)
    table = _substation_table(config, inputs)
    layers = _point_layers(config, osm, area, inputs, crs=crs)
    substations = _substations(config, layers.substations, table, crs, area)
    population = _population(config, geom, inputs)
    logger.info(
        "ingested %s: %d townships, %d road ways, %d POIs, %d places, %d substations, "
        "%d power lines, %d existing chargers",
        config.county.name,
        len(townships),
        len(roads.highway),
        len(layers.pois),
        len(osm.places),
        len(substations),
        len(layers.lines),
        len(layers.chargers),
    )
    return CountyData(
        name=config.county.name,
        slug=config.slug,
        crs=crs,
        county=to_crs_valid(county, crs),
        townships=to_crs_valid(townships, crs),
        roads=roads,
        pois=layers.pois.to_crs(crs),
        places=osm.places.to_crs(crs),
        substations=substations.to_crs(crs),
        power_lines=layers.lines.to_crs(crs),
        chargers=layers.chargers.to_crs(crs),
        population=population,
        buildings=osm.buildings.to_crs(crs) if osm.buildings is not None else None,
        power_points=osm.power_points.to_crs(crs) if osm.power_points is not None else None,
        inputs=inputs,
    )


def _boundaries(
    config: Config, inputs: list[InputFile]
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """The county polygon (named as in the config) and the township polygons."""
    inp = config.inputs
    b = inp.boundaries
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
        where = b.url if b.source == "database" else b.path
        assert where is not None  # checked by the config
        county, townships = read_boundaries(
            where,
            county_layer=b.county_layer,
            township_layer=b.township_layer,
            id_field=b.township_id_field,
            name_field=b.township_name_field,
            encoding=b.encoding,
            crs=b.crs,
        )
        if b.path is not None:
            inputs.append(input_file("boundaries", b.path))
        else:  # the townships as read (the county is their union or its own layer)
            where = f"{show_url(parse_url(str(b.url)))} {b.county_layer} / {b.township_layer}"
            inputs.append(table_input("boundaries", where, townships))
    county.loc[0, "name"] = config.county.name
    return county, townships


def _osm(
    config: Config, geom: BaseGeometry, area: Polygon | MultiPolygon, inputs: list[InputFile]
) -> tuple[OsmData, RoadWays]:
    """The OSM layers around the county (file or Overpass), roads clipped to ``area``."""
    inp = config.inputs
    # a degree of latitude is ~111 km; widen the box by the clip buffer
    pad = inp.osm.clip_buffer_m / 111_000.0
    w, s, e, n = geom.bounds
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
        return osm, osm.roads
    assert inp.osm.path is not None  # checked by the config
    box = extract_box(inp.osm.path)
    if box is not None and not shapely.box(*box).intersects(shapely.box(w, s, e, n)):
        raise _misplaced(config, geom, f"outside the OSM extract's area ({_box_text(box)})")
    try:
        osm = read_osm(
            inp.osm.path,
            bbox=(w - pad * 2, s - pad, e + pad * 2, n + pad),
            buildings=config.demand.weight_by_buildings,
            extra_highways=tuple(config.network.extra_highways),
            poi_keys=poi_keys,
        )
    except NoRoadsError:
        if inp.boundaries.source == "osm":  # boundaries from the same extract
            raise
        where = f"where the OSM extract {inp.osm.path} has no drivable roads"
        raise _misplaced(config, geom, where) from None
    inputs.append(input_file("osm", inp.osm.path))
    return osm, clip_ways(osm.roads, area)


def _box_text(box: tuple[float, float, float, float]) -> str:
    w, s, e, n = box
    return f"{w:.2f} to {e:.2f} E, {s:.2f} to {n:.2f} N"


def _misplaced(config: Config, geom: BaseGeometry, problem: str) -> DataError:
    """The error for a county whose boundaries lie where the extract has no roads: the
    boundaries' CRS (or zone) is wrong, or the extract is."""
    b = config.inputs.boundaries
    layer = b.township_layer if b.source == "file" else None
    return data_error(
        b.path or b.url or "boundaries",
        f"the county's boundaries lie at {_box_text(geom.bounds)}, {problem}",
        layer=layer,
        hint="if the county is not there, the boundaries' CRS or Gauss-Kruger zone is wrong: "
        "fix the .prj or set inputs.boundaries.crs; otherwise give the extract that covers "
        "the county in inputs.osm.path",
    )


@dataclass
class _PointLayers:
    """OSM's point and line layers with the rows of the config's tables added."""

    pois: gpd.GeoDataFrame
    chargers: gpd.GeoDataFrame
    substations: gpd.GeoDataFrame
    lines: gpd.GeoDataFrame


def _point_layers(
    config: Config, osm: OsmData, area: BaseGeometry, inputs: list[InputFile], *, crs: CRS
) -> _PointLayers:
    """Outlets, chargers, substations and lines from OSM plus the config's tables (``crs``:
    the county's metric CRS, for chargers listed twice)."""
    inp = config.inputs
    out = _PointLayers(osm.pois, osm.chargers, osm.substations, osm.power_lines)

    def near(spec: PointTableInput, role: str, *, record: str = "") -> gpd.GeoDataFrame:
        points = read_points(spec, role=role)
        _record(inputs, record or role, spec, points)
        header = spec.path is not None and Path(spec.path).suffix.lower() in TABLE_SUFFIXES
        return keep_near(
            points,
            area,
            label=spec.where(),
            role=role,
            distance_m=inp.osm.clip_buffer_m,
            header=header,
        )

    for spec in inp.outlets:
        out.pois = _concat(out.pois, as_outlets(near(spec, "outlets"), spec, config))
    for spec in inp.chargers:
        out.chargers = add_chargers(
            out.chargers,
            as_chargers(near(spec, "chargers"), spec),
            crs=crs,
            within_m=inp.chargers_same_site_m,
            label=str(spec.where()),
        )
    for spec in inp.grid_substations:
        out.substations = add_substations(
            out.substations,
            as_substations(near(spec, "substations", record="grid_substations"), spec),
            crs=crs,
            within_m=inp.substations_same_site_m,
            label=str(spec.where()),
        )
    for line_spec in inp.grid_lines:
        lines = read_lines(line_spec)
        out.lines = _concat(out.lines, lines)
        _record(inputs, "grid_lines", line_spec, lines)
    return out


def _record(inputs: list[InputFile], role: str, spec: FileOrTable, rows: gpd.GeoDataFrame) -> None:
    """Note an input in the run's manifest: a file with its hash, or a database table or
    query with the hash of the ``rows`` read from it."""
    if spec.path is not None:
        inputs.append(input_file(role, spec.path))
    else:
        layer = spec.database_layer() or ""
        inputs.append(table_input(role, f"{show_url(parse_url(str(spec.url)))} {layer}", rows))
        logger.info("%s read from the database: %s", role, spec.where())


def _substation_table(config: Config, inputs: list[InputFile]) -> pd.DataFrame | None:
    """The substation table (rated kVA, peak load) of the config, if any."""
    s_in = config.inputs.substations
    if s_in is None:
        return None
    table = read_substation_table(
        s_in.path,
        id_field=s_in.id_field,
        rated_kva_field=s_in.rated_kva_field,
        peak_load_kw_field=s_in.peak_load_kw_field,
        encoding=s_in.encoding,
        sheet=s_in.layer,
    )
    inputs.append(input_file("substations", s_in.path))
    return table


def _substations(
    config: Config,
    subs: gpd.GeoDataFrame,
    table: pd.DataFrame | None,
    crs: CRS,
    area: BaseGeometry,
) -> gpd.GeoDataFrame:
    """The substations with the table's headroom joined by id, or by location."""
    s_in = config.inputs.substations
    if s_in is None or s_in.lon_field is None or s_in.lat_field is None:  # both or neither
        return join_headroom(
            subs,
            table,
            label=s_in.path if s_in is not None else "",
            power_factor=config.stations.power_factor,
        )
    where = read_points(
        PointTableInput(
            path=s_in.path,
            layer=s_in.layer,
            lon_field=s_in.lon_field,
            lat_field=s_in.lat_field,
            crs=s_in.crs,
            encoding=s_in.encoding,
            name_field=None,
        ),
        role="substation table",
    )
    located = gpd.GeoDataFrame(table, geometry=where.geometry.to_numpy(), crs=4326)
    located[TABLE_ROW] = where[TABLE_ROW].to_numpy()  # the rows in the file (header: 1)
    located = keep_near(
        located,
        area,
        label=s_in.path,
        role="headroom table rows",
        distance_m=config.inputs.osm.clip_buffer_m,
        header=True,
    )
    return join_headroom_nearest(
        subs,
        located,
        crs,
        max_distance_m=s_in.max_distance_m,
        label=s_in.path,
        power_factor=config.stations.power_factor,
    )


def _population(
    config: Config, geom: BaseGeometry, inputs: list[InputFile]
) -> PopulationGrid | None:
    """The population raster clipped to the county, when demand comes from one."""
    inp = config.inputs
    use_raster = config.demand.source == "raster" or (
        config.demand.source == "auto" and inp.population is not None
    )
    if not use_raster:
        return None
    assert inp.population is not None  # checked by the config
    population = read_population(
        inp.population.path,
        geom,
        band=inp.population.band,
        min_coverage=config.demand.min_raster_coverage,
    )
    inputs.append(input_file("population", inp.population.path))
    return population


def _concat(a: gpd.GeoDataFrame, b: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Rows of ``b`` below ``a``, in ``a``'s CRS, with the columns of both."""
    assert a.crs is not None  # every layer is read with a CRS (to_crs(None) would raise)
    b = b.to_crs(a.crs)
    if b.geometry.name != a.geometry.name:
        b = b.rename_geometry(a.geometry.name)
    both = pd.concat([a, b], ignore_index=True)
    return gpd.GeoDataFrame(both, geometry=a.geometry.name, crs=a.crs)
