"""Outputs of a run: the GIS formats, the map's basemaps and the report."""

from __future__ import annotations

from typing import Literal, get_args

from pydantic import Field, field_validator

from planner.config.base import Section, crs_text, is_bare_int, is_crs

#: Basemaps map.html can offer besides "none" (offline, the default view).
Basemap = Literal["osm", "tianditu_vector", "tianditu_imagery", "gaode_vector", "gaode_imagery"]
BASEMAP_NAMES: tuple[Basemap, ...] = get_args(Basemap)

#: Layers a KML file can hold.
KmlLayer = Literal[
    "stations",
    "repair_points",
    "townships",
    "candidates",
    "demand",
    "existing_chargers",
    "service_areas",
    "tours",
    "tour_stops",
]

#: The plan's layers, with the vans' routes when the run plans them.
DEFAULT_KML_LAYERS: tuple[KmlLayer, ...] = ("stations", "repair_points", "townships", "tours")

#: GIS formats a run can write, and the ones it writes by default.
ExportFormat = Literal["gpkg", "shp", "geojson", "csv", "kml"]
DEFAULT_FORMATS: tuple[ExportFormat, ...] = ("gpkg", "csv")

#: Demand points the maps draw one by one at most (``report.map_demand_points``).
MAP_DEMAND_POINTS = 20_000


class ReportSection(Section):
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
    map_demand_points: int = Field(
        default=MAP_DEMAND_POINTS,
        ge=1,
        description="Above this many demand points (e.g. demand.resolution_m: 100) map.html "
        "and map.png draw demand merged into squares, the finest of 250 m, 500 m, 1, 2, "
        "5, 10, 20 or 50 km that gives at most this many (the legend says so); the GIS "
        "files, tables and models keep every point",
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
    shapefile_encoding: Literal["utf-8", "gbk", "gb18030"] = Field(
        default="utf-8",
        description="Text encoding of Shapefiles, written in their .cpg: utf-8, or gbk / "
        "gb18030 for older ArcGIS/Chinese GIS software (a name the encoding cannot encode "
        "is an error naming its layer, row and field; GB18030 encodes every character)",
    )
    language: Literal["zh", "en"] | None = Field(
        default=None,
        description="Language of the map, report, workbook, data dictionary, GIS field "
        "aliases and CLI summary: zh (简体中文) or en; default: zh for a county inside "
        "China, else en",
    )
    kml_layers: list[KmlLayer] = Field(
        default_factory=lambda: list(DEFAULT_KML_LAYERS),
        description="Layers of sites.kml (format kml): the plan's by default (with the vans' "
        "routes, tours, when the run plans them); add candidates, demand, existing_chargers, "
        "service_areas or tour_stops for a fuller file",
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
            return [str(v) if is_bare_int(v) else v for v in value]
        return value

    @field_validator("extra_crs")
    @classmethod
    def _known(cls, value: list[str]) -> list[str]:
        for item in value:
            text = str(item).strip()
            if text.lower() != "gk" and not is_crs(crs_text(text)):
                msg = f"{item!r} is not a CRS pyproj knows (use e.g. EPSG:4490 or gk)"
                raise ValueError(msg)
        return value
