"""The input files of a run: boundaries, OSM, population, and the GIS teams' tables.

Paths are relative to the config file until :func:`planner.config.config_from_dict`
resolves them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

from planner.config.base import CHINA_SYSTEMS, PolicyClass, Section, crs_text, is_bare_int, is_crs


class BoundariesInput(Section):
    """County and township polygons: from a GIS file, or from OSM admin relations."""

    source: Literal["file", "osm", "database"] = Field(
        default="file",
        description="'file': a GeoPackage/Shapefile/GeoJSON; 'osm': boundary relations in "
        "inputs.osm.path; 'database': PostGIS tables or queries at url",
    )
    path: Path | None = Field(default=None, description="The boundaries file (source: file)")
    url: str | None = Field(
        default=None,
        description="source database: postgresql://USER@HOST:PORT/DB (password from "
        "PGPASSWORD or ~/.pgpass, never here)",
    )
    county_layer: str | None = Field(
        default=None,
        description="Layer of the county polygon (source database: schema.table or a SELECT)",
    )
    township_layer: str | None = Field(
        default=None,
        description="Layer of township polygons (source database: schema.table or a SELECT)",
    )
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
        if is_bare_int(value):
            return f"EPSG:{value}"
        return value

    @field_validator("crs")
    @classmethod
    def _known_crs(cls, value: str | None) -> str | None:
        if value is None or value.lower() in CHINA_SYSTEMS:
            return value.lower() if value is not None else None
        text = crs_text(value)
        if not is_crs(text):
            msg = f"{value!r} is not a CRS (use e.g. EPSG:4490, gcj02 or bd09)"
            raise ValueError(msg)
        return text

    @field_validator("url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        return _database_url(value)

    @model_validator(mode="before")
    @classmethod
    def _database_source(cls, data: object) -> object:
        # a url and no path: the layers are in the database
        if isinstance(data, dict) and data.get("url") and "source" not in data:
            return {**data, "source": "database"}
        return data

    @model_validator(mode="after")
    def _check(self) -> BoundariesInput:
        if self.source == "database":
            if self.url is None or not self.county_layer or not self.township_layer:
                msg = (
                    "boundaries: source 'database' needs url, county_layer and township_layer "
                    "(schema.table or SELECT ...)"
                )
                raise ValueError(msg)
            return self
        if self.url is not None:
            msg = f"boundaries: url applies to source 'database', not {self.source!r}"
            raise ValueError(msg)
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


class OsmInput(Section):
    """OpenStreetMap data: an extract file (.osm.pbf, .osm, .osm.bz2), or Overpass online."""

    source: Literal["file", "overpass"] = Field(
        default="file", description="'file' (offline, the default) or 'overpass' (online)"
    )
    path: Path | None = Field(default=None, description="The extract (source: file)")
    clip_buffer_m: float = Field(
        default=5000,
        ge=0,
        description="Roads, and rows of point tables (outlets, chargers, substations), this "
        "far outside the county are kept",
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


class PopulationInput(Section):
    """Population raster (GeoTIFF/COG, people per cell, any CRS)."""

    path: Path = Field(description="The raster file (relative to the config file)")
    band: int = Field(default=1, ge=1, description="Band holding people per cell (from 1)")


class SubstationTableInput(Section):
    """Substation headroom table (CSV or Excel) joined to substations by id or by position.

    By id, the id matches the substation's OSM ``ref`` (or its id in a grid file). With
    ``lon_field``/``lat_field`` the table's rows join the nearest substation within
    ``max_distance_m``; rows with no substation that near are added as substations.
    """

    path: Path = Field(description="The table (CSV or XLSX, relative to the config file)")
    layer: str | None = Field(default=None, description="Sheet (XLSX); the first if None")
    id_field: str = Field(default="substation_id", description="Substation id column")
    rated_kva_field: str = Field(default="rated_kva", description="Rated capacity column (kVA)")
    peak_load_kw_field: str = Field(
        default="peak_load_kw",
        description="Peak load column (kW); headroom is rated kVA x stations.power_factor "
        "minus the peak",
    )
    lon_field: str | None = Field(default=None, description="Join by position: x column")
    lat_field: str | None = Field(default=None, description="Join by position: y column")
    crs: str = Field(default="EPSG:4326", description="CRS of lon/lat (EPSG, gcj02, bd09)")
    max_distance_m: float = Field(default=1000, gt=0, description="Join by position: radius")
    encoding: str | None = Field(default=None, description="Text encoding; detected if None")

    @model_validator(mode="after")
    def _check(self) -> SubstationTableInput:
        if (self.lon_field is None) != (self.lat_field is None):
            msg = "substations: give both lon_field and lat_field, or neither"
            raise ValueError(msg)
        return self


def _database_url(value: str | None) -> str | None:
    """A ``postgresql://`` URL without password (ValueError otherwise)."""
    if value is None:
        return None
    from planner.errors import ConfigError
    from planner.ingest.database import parse_url

    try:
        parse_url(value)
    except ConfigError as err:
        raise ValueError(str(err)) from None
    return value


class FileOrTable(Section):
    """A layer from a file (``path``) or from a PostGIS table or query (``url`` with
    ``table`` or ``sql``)."""

    path: Path | None = Field(
        default=None,
        description="The file (relative to the config)",
    )
    url: str | None = Field(
        default=None,
        description="A PostGIS database instead of a file: postgresql://USER@HOST:PORT/DB "
        "(password from PGPASSWORD or ~/.pgpass, never here)",
    )
    table: str | None = Field(default=None, description="With url: the table (schema.name)")
    sql: str | None = Field(default=None, description="With url: a query (SELECT ...)")

    @field_validator("url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        return _database_url(value)

    @model_validator(mode="after")
    def _one_source(self) -> FileOrTable:
        if (self.path is None) == (self.url is None):
            msg = "a layer needs a path (a file) or a url (a database), not both"
            raise ValueError(msg)
        if self.url is not None and (self.table is None) == (self.sql is None):
            msg = "a database layer needs table: schema.name or sql: SELECT ..., not both"
            raise ValueError(msg)
        if self.url is None and (self.table is not None or self.sql is not None):
            msg = "table and sql apply with url (a database), not to a file"
            raise ValueError(msg)
        return self

    def where(self) -> str | Path:
        """The file, or the database and table, for messages."""
        if self.path is not None:
            return self.path
        return f"{self.url} {self.table or 'sql'}"

    def database_layer(self) -> str | None:
        """The table or query read from ``url`` (None for a file)."""
        return self.table or self.sql


class PointTableInput(FileOrTable):
    """Points from a GIS team's file (CSV/XLSX with lon/lat columns, or a vector layer), or
    from a PostGIS table or query (``url`` with ``table`` or ``sql``)."""

    path: Path | None = Field(
        default=None,
        description="The file (CSV, XLSX or a vector layer; relative to the config)",
    )
    layer: str | None = Field(default=None, description="Layer (GPKG) or sheet (XLSX)")
    lon_field: str = Field(default="lon", description="Longitude / x column (CSV, XLSX)")
    lat_field: str = Field(default="lat", description="Latitude / y column (CSV, XLSX)")
    crs: str | None = Field(
        default=None,
        description="CRS of the coordinates: an EPSG code, or 'gcj02' (Gaode/AMap, Tencent) "
        "or 'bd09' (Baidu), converted to WGS84 at ingest. Left out: EPSG:4326 for a table's "
        "lon/lat columns, the layer's own CRS for a vector layer (an EPSG code given here "
        "supplies a missing one, no .prj, or replaces the file's, with a warning)",
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

    @property
    def table_crs(self) -> str:
        """The CRS of a table's coordinate columns (EPSG:4326 unless given)."""
        return self.crs or "EPSG:4326"


class LineLayerInput(FileOrTable):
    """Lines from a GIS team's vector file (e.g. 10 kV feeders), or from a PostGIS table
    or query (``url`` with ``table`` or ``sql``)."""

    path: Path | None = Field(
        default=None, description="The vector file (relative to the config file)"
    )
    layer: str | None = Field(default=None, description="Layer (GPKG); the first if None")
    encoding: str | None = Field(default=None, description="Text encoding; detected if None")
    voltage_field: str | None = Field(default=None, description="Voltage column (kV)")
    voltage_kv: float | None = Field(
        default=None, gt=0, description="Voltage of every line when there is no column"
    )


#: Inputs a config can credit in ``inputs.attribution``.
INPUT_NAME = Literal[
    "boundaries",
    "osm",
    "population",
    "substations",
    "outlets",
    "chargers",
    "grid_substations",
    "grid_lines",
]


class Inputs(Section):
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
    chargers_same_site_m: float = Field(
        default=30,
        ge=0,
        description="Existing chargers closer than this are one site: a table row this close "
        "to an earlier row is counted once, an OSM charger this close to a row is replaced by "
        "the row (both warned); 0 keeps every row",
    )
    substations_same_site_m: float = Field(
        default=300,
        ge=0,
        description="An OSM substation this close to a row of grid_substations (or with its "
        "id) is the same substation and is replaced by the row (warned); 0: only the same id",
    )
    grid_substations: list[PointTableInput] = Field(
        default_factory=list, description="Substations from the grid company's files"
    )
    grid_lines: list[LineLayerInput] = Field(
        default_factory=list, description="MV lines from the grid company's files"
    )
    attribution: dict[INPUT_NAME, str] = Field(
        default_factory=dict,
        description="Who provides each input and under which licence, shown in the report's "
        "data sources, e.g. {population: 'WorldPop 2020, CC BY 4.0'}; OpenStreetMap data is "
        "always credited '© OpenStreetMap contributors, ODbL 1.0'",
    )
