"""Online OSM data through osmnx's Overpass client (optional; off by default).

The same layers :func:`planner.ingest.osm.read_osm` reads from a file are fetched for the
county polygon plus its buffer. osmnx caches every response (``cache_dir``), so a
second run works offline.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, cast

import numpy as np
from shapely import MultiPolygon, Polygon

from planner.datatypes import OsmData, RoadWays
from planner.errors import DataError
from planner.ingest.osm import _collect_point, _Collected
from planner.ingest.osm_tags import (
    DRIVABLE,
    POWER_LINES,
    SUBSTATION_VALUES,
    all_poi_keys,
    parse_voltage_kv,
)

if TYPE_CHECKING:
    import networkx as nx

logger = logging.getLogger(__name__)

_FEATURE_TAGS: dict[str, bool | str | list[str]] = {
    "amenity": True,
    "shop": True,
    "place": True,
    "power": [*sorted(SUBSTATION_VALUES), "transformer", "pole", *sorted(POWER_LINES)],
}


def _configure(url: str | None, cache_dir: Path, rate_limit: bool, timeout_s: int) -> None:
    import osmnx as ox

    if url:
        ox.settings.overpass_url = url
    ox.settings.use_cache = True
    ox.settings.cache_folder = str(cache_dir)
    ox.settings.overpass_rate_limit = rate_limit
    ox.settings.requests_timeout = timeout_s
    ox.settings.log_console = False


def read_overpass(
    area: Polygon | MultiPolygon,
    *,
    url: str | None = None,
    cache_dir: str | Path,
    rate_limit: bool = True,
    timeout_s: int = 180,
    extra_highways: tuple[str, ...] = (),
    poi_keys: tuple[str, ...] = (),
) -> OsmData:
    """Fetch roads, POIs, settlements, power assets and chargers inside ``area``.

    Parameters
    ----------
    area
        Polygon in EPSG:4326 (the county plus its buffer).
    url
        Overpass API base URL; osmnx's default when None.
    cache_dir
        Where osmnx caches responses.
    rate_limit
        Ask the server's ``/status`` before each query (public servers want it).
    timeout_s
        HTTP timeout.
    extra_highways
        Highway classes to keep besides the drivable ones.
    poi_keys
        Further tag keys that make a point of interest.

    Returns
    -------
    OsmData
        As :func:`~planner.ingest.osm.read_osm` returns it.
    """
    import osmnx as ox
    import requests

    Path(cache_dir).mkdir(parents=True, exist_ok=True)
    _configure(url, Path(cache_dir), rate_limit, timeout_s)
    where = url or ox.settings.overpass_url
    drivable = "|".join(sorted(DRIVABLE | frozenset(extra_highways)))
    try:
        graph = ox.graph_from_polygon(
            area,
            custom_filter=f'["highway"~"^({drivable})$"]["area"!~"yes"]',
            simplify=False,
            retain_all=True,
            truncate_by_edge=True,
        )
        features = ox.features_from_polygon(area, tags=_FEATURE_TAGS)
    except requests.RequestException as err:
        msg = f"Overpass at {where}: request failed ({err}); use a local OSM file instead"
        raise DataError(msg) from None
    except ox._errors.InsufficientResponseError as err:
        msg = f"Overpass at {where}: no data for the county ({err})"
        raise DataError(msg) from None
    # a large area is fetched in several queries, whose answers can overlap
    features = features[~features.index.duplicated(keep="first")]
    roads = _graph_ways(graph)
    acc = _Collected(poi_keys=all_poi_keys(poi_keys))
    tag_cols = [c for c in features.columns if c != "geometry"]
    for index, row in features.iterrows():
        element, osm_id = cast(tuple[str, int], index)  # osmnx's index: (element, id)
        tags = {k: str(row[k]) for k in tag_cols if isinstance(row[k], str)}
        geom = row.geometry
        key = f"{element[0]}{osm_id}"
        if tags.get("power") in POWER_LINES and geom.geom_type == "LineString":
            acc.lines.append(
                {
                    "osm_id": key,
                    "power": tags["power"],
                    "voltage_kv": parse_voltage_kv(tags.get("voltage")),
                    "name": tags.get("name"),
                    "geometry": geom,
                }
            )
            continue
        point = geom if geom.geom_type == "Point" else geom.representative_point()
        _collect_point(key, tags, point.x, point.y, acc)
    logger.info(
        "Overpass: %d road ways, %d POIs, %d places, %d substations, %d lines, %d chargers",
        len(roads.highway),
        len(acc.pois),
        len(acc.places),
        len(acc.substations),
        len(acc.lines),
        len(acc.chargers),
    )
    return acc.data(roads, buildings=False)


def _first(value: object) -> str | None:
    """osmnx gives a list where merged ways disagree; take the first value."""
    if isinstance(value, list):
        value = value[0] if value else None
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    return str(value)


def _graph_ways(graph: nx.MultiDiGraph) -> RoadWays:
    """osmnx's directed graph as one-way two-node ways (it holds both directions)."""
    nodes = np.array(sorted(graph.nodes), dtype=np.int64)
    if len(nodes) == 0:
        msg = "Overpass returned no drivable roads for the county"
        raise DataError(msg)
    index = {int(n): k for k, n in enumerate(nodes)}
    lon = np.array([graph.nodes[n]["x"] for n in nodes], dtype=float)
    lat = np.array([graph.nodes[n]["y"] for n in nodes], dtype=float)
    way_nodes, highway, maxspeed, names = [], [], [], []
    for u, v, data in graph.edges(data=True):
        way_nodes.append(np.array([index[int(u)], index[int(v)]]))
        highway.append(_first(data.get("highway")) or "road")
        maxspeed.append(_first(data.get("maxspeed")))
        names.append(_first(data.get("name")))
    return RoadWays(
        node_ids=nodes,
        lon=lon,
        lat=lat,
        way_nodes=way_nodes,
        highway=highway,
        maxspeed=maxspeed,
        oneway=["yes"] * len(way_nodes),
        names=names,
    )
