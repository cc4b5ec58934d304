"""Read an OpenStreetMap extract (.osm.pbf, .osm, .osm.bz2) with pyosmium.

One pass over the file collects drivable roads, points of interest, ``place=*``
settlements, power infrastructure and existing charging stations inside a
bounding box. Closed ways (car parks, substations drawn as areas) become points at
the mean of their nodes.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import osmium
import shapely

from planner.datatypes import OsmData, RoadWays
from planner.errors import data_error

logger = logging.getLogger(__name__)

#: Highway classes cars use; footways, paths, tracks and the like are excluded.
DRIVABLE = frozenset(
    {
        "motorway",
        "motorway_link",
        "trunk",
        "trunk_link",
        "primary",
        "primary_link",
        "secondary",
        "secondary_link",
        "tertiary",
        "tertiary_link",
        "unclassified",
        "residential",
        "living_street",
        "service",
        "road",
    }
)

PLACE_TYPES = frozenset(
    {"city", "town", "village", "hamlet", "isolated_dwelling", "suburb", "quarter"}
)
POWER_LINES = frozenset({"line", "minor_line", "cable"})
_SUFFIXES = (".osm.pbf", ".pbf", ".osm", ".osm.bz2", ".osm.gz")


def parse_voltage_kv(value: str | None) -> float | None:
    """Highest voltage in kV from an OSM ``voltage`` tag (volts, ``;``-separated).

    Parameters
    ----------
    value
        The tag value, e.g. ``"110000;10000"``.

    Returns
    -------
    float or None
        The highest voltage in kV, or None when no number can be read.
    """
    if not value:
        return None
    volts = []
    for part in re.split(r"[;,]", value):
        m = re.match(r"\s*(\d+(?:\.\d+)?)\s*(kv)?", part.lower())
        if m:
            v = float(m.group(1))
            volts.append(v * 1000 if m.group(2) else v)
    return max(volts) / 1000 if volts else None


def _parse_int(value: str | None) -> float | None:
    if not value:
        return None
    m = re.match(r"\s*(\d[\d,\s]*)", value)
    if not m:
        return None
    digits = re.sub(r"[,\s]", "", m.group(1))
    return float(digits) if digits else None


def read_osm(
    path: str | Path,
    *,
    bbox: tuple[float, float, float, float] | None = None,
) -> OsmData:
    """Read roads, POIs, settlements, power assets and chargers from an OSM file.

    Parameters
    ----------
    path
        The extract: ``.osm.pbf``, ``.osm`` (XML) or ``.osm.bz2``.
    bbox
        ``(west, south, east, north)`` in degrees; objects wholly outside are skipped.

    Returns
    -------
    OsmData
        The collected layers in EPSG:4326.
    """
    path = Path(path)
    if not path.is_file():
        raise data_error(path, "OSM file not found", hint="check inputs.osm.path")
    if not path.name.lower().endswith(_SUFFIXES):
        raise data_error(path, "not an OSM extract", hint="expected .osm.pbf, .osm or .osm.bz2")
    w, s, e, n = bbox if bbox is not None else (-180.0, -90.0, 180.0, 90.0)

    def inside(lon: float, lat: float) -> bool:
        return w <= lon <= e and s <= lat <= n

    road_ways: list[tuple[list[int], list[float], list[float], dict[str, str | None]]] = []
    pois: list[dict] = []
    places: list[dict] = []
    substations: list[dict] = []
    lines: list[dict] = []
    chargers: list[dict] = []
    bad_locations = 0

    processor = (
        osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY)
        .with_locations()
        .with_filter(osmium.filter.KeyFilter("highway", "amenity", "shop", "place", "power"))
    )
    try:
        for obj in processor:
            tags = obj.tags
            if obj.is_node():
                loc = obj.location
                if not loc.valid():
                    continue
                lon, lat = loc.lon, loc.lat
                if not inside(lon, lat):
                    continue
                _collect_point(f"n{obj.id}", tags, lon, lat, pois, places, substations, chargers)
                continue
            # ways
            try:
                coords = [(nd.ref, nd.lon, nd.lat) for nd in obj.nodes]
            except osmium.InvalidLocationError:
                bad_locations += 1
                continue
            if len(coords) < 2 or not any(inside(c[1], c[2]) for c in coords):
                continue
            highway = tags.get("highway")
            power = tags.get("power")
            if highway in DRIVABLE and tags.get("area") != "yes":
                ids, lons, lats = zip(*coords, strict=True)
                road_ways.append(
                    (
                        list(ids),
                        list(lons),
                        list(lats),
                        {
                            "highway": highway,
                            "maxspeed": tags.get("maxspeed"),
                            "oneway": tags.get("oneway"),
                            "junction": tags.get("junction"),
                            "name": tags.get("name"),
                        },
                    )
                )
            elif power in POWER_LINES:
                lines.append(
                    {
                        "osm_id": f"w{obj.id}",
                        "power": power,
                        "voltage_kv": parse_voltage_kv(tags.get("voltage")),
                        "name": tags.get("name"),
                        "geometry": shapely.LineString([(c[1], c[2]) for c in coords]),
                    }
                )
            elif coords[0][0] == coords[-1][0]:
                ring = np.array([(c[1], c[2]) for c in coords[:-1]])
                lon, lat = ring.mean(axis=0)
                _collect_point(f"w{obj.id}", tags, lon, lat, pois, places, substations, chargers)
    except RuntimeError as err:
        raise data_error(path, f"cannot read OSM data ({err})") from None
    if bad_locations:
        logger.warning("%s: %d ways skipped: node locations missing", path, bad_locations)
    if not road_ways:
        raise data_error(
            path,
            "no drivable roads inside the county's bounding box",
            hint="is this the right extract for the county?",
        )
    return OsmData(
        roads=_road_ways(road_ways),
        pois=_frame(pois, ["osm_id", "name", "amenity", "shop", "public_transport", "parking"]),
        places=_frame(places, ["osm_id", "name", "place", "population"]),
        substations=_frame(substations, ["osm_id", "ref", "name", "voltage_kv"]),
        power_lines=_frame(lines, ["osm_id", "power", "voltage_kv", "name"]),
        chargers=_frame(chargers, ["osm_id", "name", "operator", "sockets"]),
    )


def _collect_point(
    osm_id: str,
    tags: osmium.osm.TagList,
    lon: float,
    lat: float,
    pois: list[dict],
    places: list[dict],
    substations: list[dict],
    chargers: list[dict],
) -> None:
    geom = shapely.Point(lon, lat)
    name = tags.get("name")
    amenity = tags.get("amenity")
    place = tags.get("place")
    if amenity == "charging_station":
        chargers.append(
            {
                "osm_id": osm_id,
                "name": name,
                "operator": tags.get("operator"),
                "sockets": _parse_int(tags.get("capacity")),
                "geometry": geom,
            }
        )
    elif tags.get("power") == "substation":
        substations.append(
            {
                "osm_id": osm_id,
                "ref": tags.get("ref"),
                "name": name,
                "voltage_kv": parse_voltage_kv(tags.get("voltage")),
                "geometry": geom,
            }
        )
    elif place in PLACE_TYPES and osm_id.startswith("n"):
        places.append(
            {
                "osm_id": osm_id,
                "name": name,
                "place": place,
                "population": _parse_int(tags.get("population")),
                "geometry": geom,
            }
        )
    elif amenity or tags.get("shop"):
        pois.append(
            {
                "osm_id": osm_id,
                "name": name,
                "amenity": amenity,
                "shop": tags.get("shop"),
                "public_transport": tags.get("public_transport"),
                "parking": tags.get("parking"),
                "geometry": geom,
            }
        )


def _frame(rows: list[dict], columns: list[str]) -> gpd.GeoDataFrame:
    if not rows:
        return gpd.GeoDataFrame(
            {c: [] for c in columns}, geometry=gpd.GeoSeries([], crs=4326), crs=4326
        )
    return gpd.GeoDataFrame(rows, columns=[*columns, "geometry"], geometry="geometry", crs=4326)


def _road_ways(
    ways: list[tuple[list[int], list[float], list[float], dict[str, str | None]]],
) -> RoadWays:
    all_ids = np.concatenate([np.asarray(w[0], dtype=np.int64) for w in ways])
    all_lon = np.concatenate([np.asarray(w[1], dtype=float) for w in ways])
    all_lat = np.concatenate([np.asarray(w[2], dtype=float) for w in ways])
    node_ids, first, inverse = np.unique(all_ids, return_index=True, return_inverse=True)
    bounds = np.cumsum([0] + [len(w[0]) for w in ways])
    return RoadWays(
        node_ids=node_ids,
        lon=all_lon[first],
        lat=all_lat[first],
        way_nodes=[inverse[bounds[i] : bounds[i + 1]] for i in range(len(ways))],
        highway=[str(w[3]["highway"]) for w in ways],
        maxspeed=[w[3]["maxspeed"] for w in ways],
        oneway=[
            "yes"
            if w[3]["junction"] in ("roundabout", "circular") and not w[3]["oneway"]
            else w[3]["oneway"]
            for w in ways
        ],
        names=[w[3]["name"] for w in ways],
    )


def clip_ways(roads: RoadWays, area: shapely.Geometry) -> RoadWays:
    """Keep the ways with at least one node inside ``area`` (EPSG:4326), and their nodes.

    Parameters
    ----------
    roads
        Ways as read.
    area
        The county polygon plus its buffer, in degrees.

    Returns
    -------
    RoadWays
        The kept ways, node indices renumbered.
    """
    shapely.prepare(area)
    inside = shapely.contains_xy(area, roads.lon, roads.lat)
    keep = [k for k, nodes in enumerate(roads.way_nodes) if inside[nodes].any()]
    used = np.zeros(len(roads.node_ids), dtype=bool)
    for k in keep:
        used[roads.way_nodes[k]] = True
    new_index = np.cumsum(used) - 1
    dropped = len(roads.way_nodes) - len(keep)
    if dropped:
        logger.info("%d road ways outside the county and its buffer left out", dropped)
    return RoadWays(
        node_ids=roads.node_ids[used],
        lon=roads.lon[used],
        lat=roads.lat[used],
        way_nodes=[new_index[roads.way_nodes[k]] for k in keep],
        highway=[roads.highway[k] for k in keep],
        maxspeed=[roads.maxspeed[k] for k in keep],
        oneway=[roads.oneway[k] for k in keep],
        names=[roads.names[k] for k in keep],
    )
