"""The run config: one validated schema with documented defaults.

A county config is a YAML file whose keys mirror the classes below. Unknown keys are
errors; relative paths are resolved against the config file's folder. Any field can be
overridden on the command line with ``--set section.field=value`` (the value is parsed
as YAML, so ``--set stations.budget=8e6`` gives a number).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Literal, get_args

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from planner.errors import ConfigError
from planner.slugs import default_slug
from planner.vocab import POLICY_CLASSES  # the policy classes of candidate sites

logger = logging.getLogger(__name__)

#: Chinese web-map coordinate systems (not in PROJ), converted to WGS84 at ingest.
CHINA_SYSTEMS = ("gcj02", "bd09")


def _with_defaults(defaults: dict[str, Any], value: object) -> object:
    """A mapping from the config laid over its defaults (anything else passes through)."""
    return {**defaults, **value} if isinstance(value, dict) else value


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class CountySection(_Section):
    """Which county this is."""

    name: str = Field(description="County name as shown in reports, e.g. 青溪县")
    code: str | None = Field(
        default=None,
        description="The county's 6-digit administrative division code (GB/T 2260), e.g. "
        "361130 for 婺源县; the default slug when it is given",
    )
    slug: str | None = Field(
        default=None,
        pattern=r"^[a-z0-9][a-z0-9_-]*$",
        description="Folder-safe id, the name of the default output folder; default: "
        "county.code, else the name in pinyin followed by the config file's name unless "
        "one contains the other (婺源县 in jiangxi.yaml: wuyuanxian-jiangxi; in 婺源县.yaml: "
        "wuyuanxian), see planner.slugs",
    )

    @field_validator("code", mode="before")
    @classmethod
    def _code_text(cls, value: object) -> object:
        # YAML reads a bare code (361130) as a number
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        return value

    @field_validator("code")
    @classmethod
    def _six_digits(cls, value: str | None) -> str | None:
        if value is None:
            return None
        text = value.strip()
        if len(text) != 6 or not text.isascii() or not text.isdigit() or text[0] == "0":
            msg = "a county code is 6 digits, not starting with 0 (GB/T 2260, e.g. 361130)"
            raise ValueError(msg)
        return text


class BoundariesInput(_Section):
    """County and township polygons: from a GIS file, or from OSM admin relations."""

    source: Literal["file", "osm"] = Field(
        default="file",
        description="'file': a GeoPackage/Shapefile/GeoJSON; 'osm': boundary relations in "
        "inputs.osm.path",
    )
    path: Path | None = Field(default=None, description="The boundaries file (source: file)")
    county_layer: str | None = Field(default=None, description="Layer of the county polygon")
    township_layer: str | None = Field(default=None, description="Layer of township polygons")
    township_id_field: str = Field(default="code", description="Township code field")
    township_name_field: str = Field(default="name", description="Township name field")
    encoding: str | None = Field(
        default=None, description="Text encoding of a Shapefile's .dbf (e.g. gbk); auto if None"
    )
    crs: str | None = Field(
        default=None,
        description="CRS of the file's coordinates: None (the CRS the file states), an EPSG "
        "code (replaces what the file states, or supplies a missing .prj), or 'gcj02' "
        "(Gaode/AMap) / 'bd09' (Baidu) degrees, converted to WGS84 at ingest",
    )
    county_name: str | None = Field(
        default=None, description="source osm: the county's name in any language tag"
    )
    county_osm_id: int | None = Field(
        default=None, description="source osm: the county's relation id (wins over the name)"
    )
    county_admin_level: int | None = Field(
        default=None, description="source osm: only match the county at this admin_level"
    )
    township_admin_level: int = Field(
        default=8, ge=1, le=12, description="source osm: admin_level of townships (8 in China)"
    )

    @field_validator("crs", mode="before")
    @classmethod
    def _crs_text(cls, value: object) -> object:
        # YAML reads a bare EPSG code (4490) as a number
        if isinstance(value, int) and not isinstance(value, bool):
            return f"EPSG:{value}"
        return value

    @field_validator("crs")
    @classmethod
    def _known_crs(cls, value: str | None) -> str | None:
        if value is None or value.lower() in CHINA_SYSTEMS:
            return value.lower() if value is not None else None
        from pyproj import CRS

        text = f"EPSG:{value}" if value.strip().isdigit() else value
        try:
            CRS.from_user_input(text)
        except Exception:
            msg = f"{value!r} is not a CRS (use e.g. EPSG:4490, gcj02 or bd09)"
            raise ValueError(msg) from None
        return text

    @model_validator(mode="after")
    def _check(self) -> BoundariesInput:
        if self.source == "osm" and self.crs is not None:
            msg = "boundaries: crs applies to a boundaries file (source 'file'), not to OSM"
            raise ValueError(msg)
        if self.source == "file" and self.path is None:
            msg = "boundaries: source 'file' needs a path"
            raise ValueError(msg)
        if self.source == "osm" and self.county_name is None and self.county_osm_id is None:
            msg = "boundaries: source 'osm' needs county_name or county_osm_id"
            raise ValueError(msg)
        return self


class OsmInput(_Section):
    """OpenStreetMap data: an extract file (.osm.pbf, .osm, .osm.bz2), or Overpass online."""

    source: Literal["file", "overpass"] = Field(
        default="file", description="'file' (offline, the default) or 'overpass' (online)"
    )
    path: Path | None = Field(default=None, description="The extract (source: file)")
    clip_buffer_m: float = Field(
        default=5000, ge=0, description="Roads this far outside the county are kept"
    )
    overpass_url: str | None = Field(
        default=None, description="Overpass API base URL (source: overpass); osmnx's default"
    )
    cache_dir: Path = Field(
        default=Path("overpass-cache"),
        description="Overpass responses are cached here (relative to the config file)",
    )
    overpass_rate_limit: bool = Field(
        default=True, description="Ask the server's /status before each query"
    )

    @model_validator(mode="after")
    def _check(self) -> OsmInput:
        if self.source == "file" and self.path is None:
            msg = "osm: source 'file' needs a path"
            raise ValueError(msg)
        return self


class PopulationInput(_Section):
    """Population raster (GeoTIFF/COG, people per cell, any CRS)."""

    path: Path
    band: int = Field(default=1, ge=1)


class SubstationTableInput(_Section):
    """Substation headroom table (CSV) joined to substations by id or by position.

    By id, the id matches the substation's OSM ``ref`` (or its id in a grid file). With
    ``lon_field``/``lat_field`` the table's rows join the nearest substation within
    ``max_distance_m``; rows with no substation that near are added as substations.
    """

    path: Path
    id_field: str = "substation_id"
    rated_kva_field: str = "rated_kva"
    peak_load_kw_field: str = "peak_load_kw"
    lon_field: str | None = Field(default=None, description="Join by position: x column")
    lat_field: str | None = Field(default=None, description="Join by position: y column")
    crs: str = Field(default="EPSG:4326", description="CRS of lon/lat (EPSG, gcj02, bd09)")
    max_distance_m: float = Field(default=1000, gt=0, description="Join by position: radius")
    encoding: str | None = None

    @model_validator(mode="after")
    def _check(self) -> SubstationTableInput:
        if (self.lon_field is None) != (self.lat_field is None):
            msg = "substations: give both lon_field and lat_field, or neither"
            raise ValueError(msg)
        return self


class PointTableInput(_Section):
    """Points from a GIS team's file: CSV/XLSX with lon/lat columns, or a vector layer."""

    path: Path
    layer: str | None = Field(default=None, description="Layer (GPKG) or sheet (XLSX)")
    lon_field: str = Field(default="lon", description="Longitude / x column (CSV, XLSX)")
    lat_field: str = Field(default="lat", description="Latitude / y column (CSV, XLSX)")
    crs: str = Field(
        default="EPSG:4326",
        description="CRS of the coordinates: an EPSG code, or 'gcj02' (Gaode/AMap, Tencent) "
        "or 'bd09' (Baidu), converted to WGS84 at ingest. For a vector layer that states "
        "its own CRS, only gcj02/bd09 matter here",
    )
    encoding: str | None = Field(default=None, description="Text encoding; detected if None")
    name_field: str | None = Field(default="name", description="Name column")
    category_field: str | None = Field(
        default=None, description="Outlets: category column, mapped by category_classes"
    )
    policy_class: PolicyClass | None = Field(
        default=None, description="Outlets: one class for every row (wins over categories)"
    )
    operator_field: str | None = Field(default=None, description="Chargers: operator column")
    sockets_field: str | None = Field(default=None, description="Chargers: sockets column")
    id_field: str | None = Field(default=None, description="Substations: id column")
    voltage_field: str | None = Field(default=None, description="Grid assets: voltage (kV)")


class LineLayerInput(_Section):
    """Lines from a GIS team's vector file (e.g. 10 kV feeders)."""

    path: Path
    layer: str | None = None
    encoding: str | None = None
    voltage_field: str | None = Field(default=None, description="Voltage column (kV)")
    voltage_kv: float | None = Field(
        default=None, gt=0, description="Voltage of every line when there is no column"
    )


class Inputs(_Section):
    """Input files. Paths are relative to the config file."""

    boundaries: BoundariesInput
    osm: OsmInput
    population: PopulationInput | None = Field(
        default=None, description="Population raster; without it demand comes from settlements"
    )
    substations: SubstationTableInput | None = None
    outlets: list[PointTableInput] = Field(
        default_factory=list, description="Candidate outlets from tables (added to OSM's)"
    )
    chargers: list[PointTableInput] = Field(
        default_factory=list, description="Existing chargers from operator tables"
    )
    grid_substations: list[PointTableInput] = Field(
        default_factory=list, description="Substations from the grid company's files"
    )
    grid_lines: list[LineLayerInput] = Field(
        default_factory=list, description="MV lines from the grid company's files"
    )


class CrsSection(_Section):
    """Coordinate reference systems."""

    metric: str = Field(
        default="auto",
        description=(
            "CRS for distances: 'auto' picks the CGCS2000 3-degree Gauss-Kruger zone in "
            "China (EPSG:4534-4554) and UTM elsewhere; or any 'EPSG:nnnn'"
        ),
    )


class PlacePopulation(_Section):
    """People per OSM ``place=*`` settlement without a ``population`` tag, by place value.

    Defaults for rural China. Suburbs and quarters are parts of a town or city whose
    people its own ``place=town``/``city`` node already stands for: by default they
    count 0 people and are left out of demand (the log counts them), so that a
    ``place=suburb`` node does not make a small town look like a big one.
    """

    city: float = Field(
        default=100_000, ge=0, description="place=city: a city (a county seat of that size)"
    )
    town: float = Field(
        default=8_000, ge=0, description="place=town: a town (镇), e.g. a township seat"
    )
    village: float = Field(
        default=600, ge=0, description="place=village: a village (行政村 or a large 自然村)"
    )
    hamlet: float = Field(default=80, ge=0, description="place=hamlet: a hamlet (自然村, 屯, 组)")
    isolated_dwelling: float = Field(
        default=8, ge=0, description="place=isolated_dwelling: one or two farmsteads"
    )
    suburb: float = Field(
        default=0,
        ge=0,
        description="place=suburb: a district of a town or city, counted in it (0: left out)",
    )
    quarter: float = Field(
        default=0,
        ge=0,
        description="place=quarter: a part of a town or suburb, counted in it (0: left out)",
    )

    def as_dict(self) -> dict[str, float]:
        """Place value -> people."""
        return {k: float(v) for k, v in self.model_dump().items()}


class DemandSection(_Section):
    """How population turns into charging demand."""

    source: Literal["auto", "raster", "settlements"] = Field(
        default="auto",
        description="'raster': aggregate inputs.population; 'settlements': OSM place=* nodes; "
        "'auto': the raster when one is given",
    )
    cell_size_m: float = Field(default=1000, gt=0, description="Demand aggregation cell")
    min_raster_coverage: float = Field(
        default=0.95,
        ge=0,
        le=1,
        description="Raster: least share of the county's area its extent must cover; less "
        "stops the run (exit 2) naming the file and the share. Nodata cells inside the "
        "extent count as 0 people (a warning gives their share)",
    )
    population_total: float | None = Field(
        default=None,
        gt=0,
        description="Settlements: scale populations so the county totals this (e.g. census)",
    )
    place_population: PlacePopulation = Field(
        default_factory=PlacePopulation,
        description="Settlements: people per place type where the population tag is missing "
        "(one field per OSM place value; unlisted ones keep their defaults)",
    )
    weight_by_buildings: bool = Field(
        default=False,
        description="Settlements: a settlement without a population tag gets people in "
        "proportion to the OSM buildings nearest to it (instead of its type default)",
    )
    people_per_building: float | None = Field(
        default=None,
        gt=0,
        description="With weight_by_buildings: people per building; None estimates it from "
        "the settlements that have a population tag",
    )
    building_radius_m: float = Field(
        default=2000,
        gt=0,
        description="Buildings farther than this from any settlement count for none",
    )
    vehicles_per_1000: float = Field(default=220, ge=0, description="Cars per 1000 people")
    ev_adoption: float = Field(default=0.10, ge=0, le=1, description="EV share of cars")
    sessions_per_ev_per_day: float = Field(
        default=0.15, ge=0, description="Public charging sessions per EV per day"
    )
    kwh_per_session: float = Field(default=25, gt=0, description="Energy per session (kWh)")
    min_population: float = Field(
        default=1.0, ge=0, description="Cells with fewer people are not demand points"
    )


#: Built from vocab's table at run time: mypy cannot read it, and takes it as Any
PolicyClass = Literal[POLICY_CLASSES]  # type: ignore[valid-type]

#: OSM tag -> policy class. When several tags of one site match, the first here wins.
DEFAULT_OSM_CLASSES: dict[str, PolicyClass | None] = {
    "amenity=townhall": "township_government",
    "amenity=fuel": "fuel_station",
    "amenity=bus_station": "transport_hub",
    "public_transport=station": "transport_hub",
    "amenity=parking": "car_park",
    "amenity=marketplace": "commercial_outlet",
    "shop=supermarket": "commercial_outlet",
    "shop=convenience": "commercial_outlet",
    "shop=mall": "commercial_outlet",
    "shop=department_store": "commercial_outlet",
    "shop=general": "commercial_outlet",
    "shop=car_repair": "commercial_outlet",
    "amenity=post_office": "institution",
    "amenity=school": "institution",
    "amenity=clinic": "institution",
    "amenity=hospital": "institution",
    "amenity=doctors": "institution",
    "amenity=college": "institution",
    "amenity=police": "institution",
    "amenity=community_centre": "institution",
}


class CandidatesSection(_Section):
    """Which outlets become candidate sites."""

    classes: list[PolicyClass] = Field(
        default_factory=lambda: list(POLICY_CLASSES),
        description="Policy classes that give candidates",
    )
    osm_classes: dict[str, PolicyClass | None] = Field(
        default_factory=lambda: dict(DEFAULT_OSM_CLASSES),
        description="OSM 'key=value' -> policy class (null: not a candidate); merged with the "
        "defaults, which a planner can override tag by tag",
    )
    category_classes: dict[str, PolicyClass | None] = Field(
        default_factory=dict,
        description="Outlet-table category -> policy class (e.g. 超市: commercial_outlet); "
        "rows whose category is not listed are reported and left out",
    )
    merge_within_m: float = Field(
        default=50, ge=0, description="Candidates closer than this are merged into one"
    )

    @field_validator("osm_classes", mode="before")
    @classmethod
    def _merge_osm(cls, value: object) -> object:
        if isinstance(value, dict):
            bad = [k for k in value if "=" not in str(k)]
            if bad:
                msg = f"osm_classes keys are 'key=value' tags, got {bad[0]!r}"
                raise ValueError(msg)
        return _with_defaults(DEFAULT_OSM_CLASSES, value)


#: Rural China road speeds (km/h) by OSM highway class, where maxspeed is missing.
DEFAULT_SPEEDS_KMH = {
    "motorway": 100.0,
    "trunk": 70.0,
    "primary": 60.0,
    "secondary": 50.0,
    "tertiary": 40.0,
    "unclassified": 30.0,
    "residential": 25.0,
    "living_street": 10.0,
    "service": 15.0,
    "road": 30.0,
}


class NetworkSection(_Section):
    """Road network and speeds."""

    speeds_kmh: dict[str, float] = Field(
        default_factory=lambda: dict(DEFAULT_SPEEDS_KMH),
        description="Speed per highway class where maxspeed is missing (_link classes use "
        "their base class); rural China defaults, merged with what the config gives",
    )
    use_maxspeed: bool = Field(default=True, description="Use OSM maxspeed tags where present")
    extra_highways: list[str] = Field(
        default_factory=list,
        description="Highway classes to drive on besides the usual ones (e.g. track); give "
        "their speeds in speeds_kmh",
    )
    access_speed_kmh: float = Field(
        default=15, gt=0, description="Speed of the off-road leg from a point to its node"
    )
    max_snap_m: float = Field(
        default=3000, gt=0, description="Points farther than this from a road are reported"
    )
    workers: int = Field(
        default=1,
        ge=1,
        description="Processes for the travel-time Dijkstra and threads for the service "
        "areas (1 inside `planner batch`, whose workers run one county each)",
    )
    parallel_min_cells: int = Field(
        default=10_000_000,
        ge=0,
        description="Sources x road nodes from which the Dijkstra uses the workers",
    )

    @field_validator("speeds_kmh", mode="before")
    @classmethod
    def _merge_speeds(cls, value: object) -> object:
        return _with_defaults(DEFAULT_SPEEDS_KMH, value)

    @field_validator("speeds_kmh")
    @classmethod
    def _positive(cls, value: dict[str, float]) -> dict[str, float]:
        bad = [k for k, v in value.items() if v <= 0]
        if bad:
            msg = f"speeds must be positive: {', '.join(bad)}"
            raise ValueError(msg)
        return value


class CostsSection(_Section):
    """Costs in CNY."""

    station_capex: float = Field(default=300_000, ge=0, description="Fixed cost per station")
    charger_capex: float = Field(default=80_000, ge=0, description="Cost per charger")
    connection_per_km: float = Field(
        default=250_000, ge=0, description="10 kV connection cost per km of line"
    )
    connection_default: float | None = Field(
        default=None,
        ge=0,
        description="Connection cost per site (CNY) when the inputs hold no 10 kV line or "
        "substation to measure from; None: connection costs are 'not included' (left "
        "empty in the exports, said so in summary.json and the report)",
    )
    repair_point_capex: float = Field(default=150_000, ge=0, description="Cost per repair point")
    repair_at_station_capex: float = Field(
        default=60_000,
        ge=0,
        description="Cost of a repair point at an open charging station (shared land, power "
        "and staff); at most repair_point_capex",
    )

    @model_validator(mode="after")
    def _check(self) -> CostsSection:
        if self.repair_at_station_capex > self.repair_point_capex:
            msg = "costs: repair_at_station_capex is above repair_point_capex"
            raise ValueError(msg)
        return self


class StationsSection(_Section):
    """Charging-station model: maximal covering with sizing."""

    objective: Literal["coverage", "cost"] = Field(
        default="coverage",
        description="'coverage': most charging sessions covered within the budget / station "
        "count; 'cost': least capex that covers min_coverage_share",
    )
    cutoff_min: float = Field(default=15, gt=0, description="Drive time that counts as covered")
    max_stations: int | None = Field(
        default=None, ge=1, description="At most this many new stations"
    )
    budget: float | None = Field(
        default=None,
        gt=0,
        description="Total capex cap (CNY); with repair.mode 'joint' it covers the repair "
        "points too",
    )
    min_coverage_share: float | None = Field(
        default=None,
        gt=0,
        le=1,
        description="Share of all sessions/day that must be covered (the target of objective "
        "'cost'; a constraint with 'coverage')",
    )
    use_existing: bool = Field(
        default=True,
        description="Existing public chargers serve the demand in their reach with their "
        "charging points (capacity, tag or table column); they cost nothing, count for "
        "township_min and not for max_stations",
    )
    township_min: bool = Field(default=True, description="Every township gets a station")
    charger_kw: float = Field(default=60, gt=0, description="Power per charger (kW)")
    sessions_per_charger_per_day: float = Field(
        default=10,
        gt=0,
        description="Service-level rule: sessions one charger serves per day "
        "(utilisation cap x 24 h / session hours)",
    )
    min_chargers: int = Field(default=2, ge=1, description="Chargers per station, at least")
    max_chargers: int = Field(default=12, ge=1, description="Chargers per station, at most")
    respect_headroom: bool = Field(
        default=True,
        description="The chargers fed by one substation may not draw more than its known "
        "headroom (substations without a headroom figure are not limited)",
    )
    required: list[str] = Field(
        default_factory=list,
        description="Candidates that must be stations, by osm_id (n123, w456) or table "
        "source (file.xlsx#3)",
    )
    excluded: list[str] = Field(
        default_factory=list, description="Candidates that must not be stations (same ids)"
    )

    @model_validator(mode="after")
    def _check(self) -> StationsSection:
        if self.objective == "coverage" and self.max_stations is None and self.budget is None:
            msg = "stations: give max_stations or budget (or both)"
            raise ValueError(msg)
        if self.objective == "cost" and self.min_coverage_share is None:
            msg = "stations: objective 'cost' needs min_coverage_share"
            raise ValueError(msg)
        if self.min_chargers > self.max_chargers:
            msg = "stations: min_chargers is above max_chargers"
            raise ValueError(msg)
        return self


class RepairSection(_Section):
    """Repair points: every village and every station within the response time of one."""

    enabled: bool = True
    mode: Literal["joint", "after"] = Field(
        default="joint",
        description="'joint': stations and repair points in one model (one budget, a repair "
        "point at a station is cheaper); 'after': stations first, then the cheapest repair "
        "points for them",
    )
    response_min: float = Field(default=30, gt=0, description="Repair response drive time")
    unreachable: Literal["error", "warn"] = Field(
        default="error",
        description="Villages no candidate reaches within response_min: 'error' stops "
        "(exit 3, listing them); 'warn' plans for the others and reports them",
    )


#: Basemaps map.html can offer besides "none" (offline, the default view).
Basemap = Literal["osm", "tianditu_vector", "tianditu_imagery", "gaode_vector", "gaode_imagery"]
BASEMAP_NAMES: tuple[Basemap, ...] = get_args(Basemap)

#: GIS formats a run can write, and the ones it writes by default.
ExportFormat = Literal["gpkg", "shp", "geojson", "csv", "kml"]
DEFAULT_FORMATS: tuple[ExportFormat, ...] = ("gpkg", "csv")


class ReportSection(_Section):
    """Outputs.

    A run always writes ``sites.gpkg`` (EPSG:4326; the run's record, which ``planner
    export`` reads), ``assignments.csv``, ``data_dictionary.csv``, ``map.html``,
    ``summary.json`` and ``run.json``. The defaults keep a run fast; the other formats
    can be written later from the run with ``planner export`` as well.
    """

    formats: list[ExportFormat] = Field(
        default_factory=lambda: list(DEFAULT_FORMATS),
        description="GIS formats to write: gpkg (sites.gpkg, always), csv (one table per "
        "layer with lon/lat; polygons also as WKT), shp (shp/, field names cut to 10 "
        "characters as data_dictionary.csv lists), geojson (geojson/), kml (sites.kml, WGS84)",
    )
    basemaps: list[Basemap] = Field(
        default_factory=lambda: list(BASEMAP_NAMES),
        description="Tile basemaps map.html offers (online; none is loaded until picked): "
        "osm (OpenStreetMap), tianditu_vector / tianditu_imagery (天地图, needs "
        "tianditu_key), gaode_vector / gaode_imagery (高德, GCJ-02: overlays are shifted "
        "for display on them). The map opens on no basemap, which works offline",
    )
    tianditu_key: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9]{8,64}$",
        description="Tianditu browser key (tk); default: the TIANDITU_KEY environment "
        "variable. Without one the Tianditu basemaps are left out. The key is written "
        "into map.html and run.json",
    )
    map_simplify_m: float = Field(
        default=5.0,
        ge=0,
        description="Polygons and lines of map.html are simplified with this tolerance (m)",
    )
    service_area_buffer_m: float = Field(
        default=200.0,
        gt=0,
        description="Repair service areas: half-width of the strip drawn along reachable roads",
    )
    extra_crs: list[str] = Field(
        default_factory=list,
        description="Also write each format in these CRSs: 'EPSG:4490' (CGCS2000), an EPSG "
        "code, or 'gk' (the county's CGCS2000 3-degree Gauss-Kruger zone, metres): "
        "sites_EPSG4490.gpkg, csv_EPSG4490/, shp_EPSG4490/ ... (KML stays WGS84)",
    )
    shapefile_encoding: Literal["utf-8", "gbk"] = Field(
        default="utf-8",
        description="Text encoding of Shapefiles, written in their .cpg: utf-8, or gbk for "
        "older ArcGIS/Chinese GIS software (a name GBK cannot encode is an error naming "
        "its layer, row and field)",
    )
    document: bool = Field(
        default=True,
        description="Write report.html (self-contained), report.md and map.png (about one "
        "second with matplotlib)",
    )

    @field_validator("extra_crs", mode="before")
    @classmethod
    def _codes_as_text(cls, value: object) -> object:
        # YAML reads a bare EPSG code (4490) as a number
        if isinstance(value, list):
            return [str(v) if isinstance(v, int) and not isinstance(v, bool) else v for v in value]
        return value

    @field_validator("extra_crs")
    @classmethod
    def _known(cls, value: list[str]) -> list[str]:
        from pyproj import CRS

        for item in value:
            text = str(item).strip()
            if text.lower() == "gk":
                continue
            try:
                CRS.from_user_input(f"EPSG:{text}" if text.isdigit() else text)
            except Exception:
                msg = f"{item!r} is not a CRS pyproj knows (use e.g. EPSG:4490 or gk)"
                raise ValueError(msg) from None
        return value


class CurveSection(_Section):
    """Coverage-vs-budget curve: the plan re-solved for a series of budgets."""

    budgets: list[float] = Field(
        default_factory=list, description="Budgets to solve (CNY); empty: see steps"
    )
    steps: int = Field(
        default=0,
        ge=0,
        le=50,
        description="Without budgets: this many budgets evenly spaced up to stations.budget "
        "(0: no curve)",
    )

    @field_validator("budgets")
    @classmethod
    def _positive(cls, value: list[float]) -> list[float]:
        if any(b <= 0 for b in value):
            msg = "budgets must be positive"
            raise ValueError(msg)
        return sorted(value)


class SolverSection(_Section):
    """MIP solver."""

    name: Literal["highs", "cbc"] = Field(default="highs", description="HiGHS or CBC")
    time_limit_s: float = Field(
        default=600,
        gt=0,
        description="Safety net per solve (s): solves stop on mip_gap or node_limit; a solve "
        "stopped by the clock is reported as 'time_limit' everywhere (its plan depends on "
        "the machine's speed and load)",
    )
    mip_gap: float = Field(
        default=0.005,
        ge=0,
        lt=1,
        description="Relative MIP gap each pass must prove (0.5%: well inside the "
        "uncertainty of demand estimates)",
    )
    node_limit: int | None = Field(
        default=None,
        ge=1,
        description="Deterministic work limit: branch-and-bound nodes per solve (None: "
        "none); a solve that reaches it is reported as 'node_limit'",
    )
    drive_time_max_pairs: int | None = Field(
        default=25_000,
        ge=0,
        description="The drive-time pass (re-choosing chargers for the least drive time) "
        "runs when the demand-site pairs within the cutoff are at most this many (None: "
        "always); above it the chargers of the capex pass stay and the demand is still "
        "routed by drive time (at --scale 20, 139,594 pairs, the pass did not prove 0.7% in "
        "600 s)",
    )
    threads: int | None = Field(
        default=1,
        ge=1,
        description="Solver threads; the same inputs and threads give the same plan "
        "(None: the solver's own choice, which depends on the machine)",
    )
    msg: bool = Field(default=False, description="Show the solver log")


class Config(_Section):
    """A county run config."""

    county: CountySection
    inputs: Inputs
    crs: CrsSection = Field(default_factory=CrsSection)
    demand: DemandSection = Field(default_factory=DemandSection)
    candidates: CandidatesSection = Field(default_factory=CandidatesSection)
    network: NetworkSection = Field(default_factory=NetworkSection)
    costs: CostsSection = Field(default_factory=CostsSection)
    stations: StationsSection
    repair: RepairSection = Field(default_factory=RepairSection)
    curve: CurveSection = Field(default_factory=CurveSection)
    solver: SolverSection = Field(default_factory=SolverSection)
    report: ReportSection = Field(default_factory=ReportSection)

    @model_validator(mode="after")
    def _check(self) -> Config:
        if self.demand.source == "raster" and self.inputs.population is None:
            msg = "demand.source is 'raster' but inputs.population is not given"
            raise ValueError(msg)
        if self.inputs.osm.source == "overpass" and self.inputs.boundaries.source == "osm":
            msg = (
                "boundaries from OSM relations need an OSM file; with Overpass give the "
                "boundaries as a file (inputs.boundaries.path)"
            )
            raise ValueError(msg)
        if (self.curve.budgets or self.curve.steps) and self.stations.objective != "coverage":
            msg = "curve: a coverage-vs-budget curve needs stations.objective 'coverage'"
            raise ValueError(msg)
        if self.curve.steps and not self.curve.budgets and self.stations.budget is None:
            msg = "curve.steps needs stations.budget (the top of the curve) or curve.budgets"
            raise ValueError(msg)
        return self

    @property
    def slug(self) -> str:
        """The county's folder-safe id: ``county.slug``, else from its code or name.

        Raises
        ------
        ConfigError
            Neither ``county.slug``, ``county.code`` nor the name gives one.
        """
        if self.county.slug:
            return self.county.slug
        slug = default_slug(self.county.name, code=self.county.code)
        if slug is None:
            raise ConfigError(_no_slug_message("config", self.county.name))
        return slug


def apply_overrides(raw: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """Apply ``key.path=value`` overrides to a raw config mapping.

    Parameters
    ----------
    raw
        The parsed YAML mapping; not modified.
    overrides
        Strings ``section.field=value``; the value is parsed as YAML.

    Returns
    -------
    dict
        A new mapping with the overrides set.
    """
    out: dict[str, Any] = _deep_copy(raw)
    for item in overrides:
        if "=" not in item:
            msg = f"--set {item!r}: expected key=value, e.g. stations.budget=8e6"
            raise ConfigError(msg)
        key, value = item.split("=", 1)
        parts = [p for p in key.strip().split(".") if p]
        if not parts:
            msg = f"--set {item!r}: empty key"
            raise ConfigError(msg)
        node = out
        for part in parts[:-1]:
            child = node.get(part)
            if child is None:
                child = {}
                node[part] = child
            if not isinstance(child, dict):
                msg = f"--set {item!r}: '{part}' is not a section"
                raise ConfigError(msg)
            node = child
        try:
            node[parts[-1]] = yaml.safe_load(value) if value.strip() else None
        except yaml.YAMLError:
            node[parts[-1]] = value
    return out


def _deep_copy(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _deep_copy(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_deep_copy(v) for v in obj]
    return obj


def _format_validation(err: ValidationError, source: str) -> str:
    parts = []
    for e in err.errors():
        loc = ".".join(str(p) for p in e["loc"]) or "(top level)"
        if e["type"] == "extra_forbidden":
            parts.append(f"unknown key '{loc}'")
        elif e["type"] == "missing":
            parts.append(f"'{loc}' is required")
        else:
            text = e["msg"].removeprefix("Value error, ")
            parts.append(f"'{loc}': {text} (got {e.get('input')!r})")
    return f"config {source}: " + "; ".join(parts)


def config_from_dict(
    raw: dict[str, Any], *, base_dir: Path, source: str = "<dict>", stem: str | None = None
) -> Config:
    """Validate a raw mapping into a :class:`Config`.

    Parameters
    ----------
    raw
        The mapping (as parsed from YAML).
    base_dir
        Folder that relative input paths are resolved against.
    source
        Name used in error messages.
    stem
        The config file's name without its suffixes: with the county's name it makes
        the slug when the mapping gives neither ``county.slug`` nor ``county.code`` (see
        :func:`planner.slugs.default_slug`).

    Returns
    -------
    Config
        The validated config with absolute input paths and ``county.slug`` set.

    Raises
    ------
    ConfigError
        The mapping is not a valid config, or it gives no slug and none can be made
        from its code, name or ``stem``.
    """
    if not isinstance(raw, dict):
        msg = f"config {source}: expected a mapping of sections at the top level"
        raise ConfigError(msg)
    try:
        cfg = Config.model_validate(raw)
    except ValidationError as err:
        raise ConfigError(_format_validation(err, source)) from None
    if cfg.county.slug is None:
        slug = default_slug(cfg.county.name, code=cfg.county.code, stem=stem)
        if slug is None:
            raise ConfigError(_no_slug_message(f"config {source}", cfg.county.name, stem))
        logger.debug("county %s: slug %r (no county.slug given)", cfg.county.name, slug)
        cfg.county.slug = slug
    for section in (
        cfg.inputs.boundaries,
        cfg.inputs.osm,
        cfg.inputs.population,
        cfg.inputs.substations,
        *cfg.inputs.outlets,
        *cfg.inputs.chargers,
        *cfg.inputs.grid_substations,
        *cfg.inputs.grid_lines,
    ):
        if section is not None and section.path is not None and not section.path.is_absolute():
            section.path = (base_dir / section.path).resolve()
    if not cfg.inputs.osm.cache_dir.is_absolute():
        cfg.inputs.osm.cache_dir = (base_dir / cfg.inputs.osm.cache_dir).resolve()
    return cfg


def load_config(path: str | Path, *, overrides: list[str] | None = None) -> Config:
    """Read, override and validate a county config file.

    Parameters
    ----------
    path
        The YAML file.
    overrides
        ``section.field=value`` strings applied before validation.

    Returns
    -------
    Config
        The validated config.
    """
    path = Path(path)
    if not path.is_file():
        problem = "is a folder, not a file" if path.is_dir() else "file not found"
        msg = f"config {path}: {problem}"
        raise ConfigError(msg)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        msg = f"config {path}:{where} not valid YAML ({getattr(err, 'problem', err)})"
        raise ConfigError(msg) from None
    except UnicodeDecodeError:
        msg = f"config {path}: not UTF-8 text"
        raise ConfigError(msg) from None
    raw = raw or {}
    if not isinstance(raw, dict):
        msg = f"config {path}: expected a mapping of sections at the top level"
        raise ConfigError(msg)
    raw = apply_overrides(raw, overrides or [])
    stem = path.name.split(".")[0]
    return config_from_dict(raw, base_dir=path.parent.resolve(), source=str(path), stem=stem)


def _no_slug_message(source: str, name: str, stem: str | None = None) -> str:
    """Why a config has no slug, and what to set."""
    whence = f"county.name {name!r}" + (f" or the file name {stem!r}" if stem else "")
    return (
        f"{source}: no folder name (slug) can be made from {whence}: they have no Chinese "
        "or Latin letters or digits; set county.slug (lower-case letters, digits, - and _) "
        "or county.code (the 6-digit GB/T 2260 code)"
    )
