"""Read an OpenStreetMap extract (.osm.pbf, .osm, .osm.bz2) with pyosmium.

One pass over the file collects drivable roads, points of interest, ``place=*``
settlements, power infrastructure and existing charging stations inside a
bounding box. Closed ways (car parks, substations drawn as areas) become points at
the mean of their nodes.
"""

from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import osmium
import shapely
from shapely.geometry.base import BaseGeometry

from planner.datatypes import OsmData, RoadWays
from planner.errors import NoRoadsError, check_input_file, data_error
from planner.ingest.osm_classify import (
    BUILDING,
    LINE,
    NOTHING,
    ROAD,
    ReadOptions,
    Tags,
    line_row,
    point_row,
    road_tags,
    way_kind,
)
from planner.ingest.osm_frames import frame, layer_columns, osm_data
from planner.ingest.osm_layers import LAYERS_SUFFIX, load_layers
from planner.ingest.osm_refs import WayRefs
from planner.ingest.osm_tags import (  # the tag helpers were importable from here
    DRIVABLE,
    PLACE_TYPES,
    POI_KEYS,
    POWER_LINES,
    all_poi_keys,
    is_substation,
    parse_int,
    parse_voltage_kv,
    sockets,
)
from planner.ingest.osm_ways import meets_box, way_points

__all__ = [
    "DRIVABLE",
    "PLACE_TYPES",
    "POI_KEYS",
    "POWER_LINES",
    "all_poi_keys",
    "clip_ways",
    "is_substation",
    "parse_int",
    "parse_voltage_kv",
    "read_osm",
    "road_ways",
    "sockets",
]

logger = logging.getLogger(__name__)

#: File names an OSM extract may have.
OSM_SUFFIXES = (".osm.pbf", ".pbf", ".osm", ".osm.bz2", ".osm.gz")


#: Extracts larger than this keep node locations in a disk-backed index, not in memory.
DISK_INDEX_BYTES = 150 * 1024 * 1024


def read_osm(
    path: str | Path,
    *,
    bbox: tuple[float, float, float, float] | None = None,
    buildings: bool = False,
    extra_highways: tuple[str, ...] = (),
    poi_keys: tuple[str, ...] = (),
    disk_index_bytes: int = DISK_INDEX_BYTES,
) -> OsmData:
    """Read roads, POIs, settlements, power assets and chargers from an OSM file.

    Parameters
    ----------
    path
        The extract: ``.osm.pbf``, ``.osm`` (XML) or ``.osm.bz2``; or a county's layers
        collected from a provincial extract (``.osm-layers.npz``, see
        :mod:`planner.ingest.osm_layers`), which are loaded, not parsed.
    bbox
        ``(west, south, east, north)`` in degrees; objects wholly outside are skipped.
    buildings
        Also collect building centroids (``building=*``), for demand weighting.
    extra_highways
        Highway classes to keep besides :data:`DRIVABLE` (e.g. ``track``).
    poi_keys
        Tag keys that make a point of interest, besides :data:`POI_KEYS` (the keys the
        outlet class mapping uses, e.g. ``tourism``).
    disk_index_bytes
        From this file size on, node locations go to a temporary disk-backed index, so
        that a province-size extract (hundreds of MB) is read in bounded memory.

    Returns
    -------
    OsmData
        The collected layers in EPSG:4326.
    """
    path = Path(path)
    check_input_file(path, "OSM file", hint="check inputs.osm.path")
    if path.name.endswith(LAYERS_SUFFIX):  # a county's layers collected from its province
        options = ReadOptions(buildings, tuple(extra_highways), tuple(poi_keys))
        return load_layers(path, bbox=bbox, options=options)
    if not path.name.lower().endswith(OSM_SUFFIXES):
        raise data_error(path, "not an OSM extract", hint="expected .osm.pbf, .osm or .osm.bz2")
    w, s, e, n = bbox if bbox is not None else (-180.0, -90.0, 180.0, 90.0)

    acc = _Collected(poi_keys=all_poi_keys(poi_keys))
    drivable = DRIVABLE | frozenset(extra_highways)
    keys = ["highway", "place", "power", *acc.poi_keys] + (["building"] if buildings else [])
    on_ways = _check_piece(path, bbox)
    large = not on_ways and path.stat().st_size >= disk_index_bytes
    with (
        tempfile.TemporaryDirectory(prefix="planner-osm-") as tmp,
        WayRefs(Path(tmp)) as acc.refs,
    ):
        processor = osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY)
        if large:
            logger.info("%s: large extract, node locations kept in a disk index", path)
            processor.with_locations(f"sparse_file_array,{Path(tmp) / 'locations.idx'}")
        elif not on_ways:  # else the ways carry their nodes' locations
            processor.with_locations("flex_mem")
        processor.with_filter(osmium.filter.KeyFilter(*keys))
        try:
            for obj in processor:
                # the processor reads nodes and ways only; the check tells the type checker
                if isinstance(obj, osmium.osm.Node | osmium.osm.Way):
                    _take(obj, acc, (w, s, e, n), buildings, drivable)
            ids = acc.refs.ids()
        except RuntimeError as err:
            raise data_error(path, f"cannot read OSM data ({err})") from None
    if acc.bad_locations:
        logger.warning("%s: %d ways skipped: node locations missing", path, acc.bad_locations)
    if not acc.road_ways:
        none = data_error(
            path,
            "no drivable roads inside the county's bounding box",
            hint="is this the right extract for the county?",
        )
        raise NoRoadsError(str(none))
    return acc.data(_road_ways(acc.road_ways, ids), buildings=buildings)


def extract_box(path: str | Path) -> tuple[float, float, float, float] | None:
    """The area an OSM extract says it covers (its header's box: west, south, east,
    north), or None when it says none (or is a county's collected layers)."""
    if Path(path).name.endswith(LAYERS_SUFFIX):
        return None
    try:
        reader = osmium.io.Reader(str(path), osmium.osm.osm_entity_bits.NOTHING)
    except RuntimeError:
        return None  # the read proper names the problem
    try:
        box = reader.header().box()
    finally:
        reader.close()
    if not box.valid():
        return None
    return (box.bottom_left.lon, box.bottom_left.lat, box.top_right.lon, box.top_right.lat)


def _check_piece(path: Path, bbox: tuple[float, float, float, float] | None) -> bool:
    """Whether the file's ways carry their nodes' locations (a piece of a provincial
    extract, see :mod:`planner.ingest.osm_split`, is such a file).

    Raises
    ------
    DataError
        ``path`` is a piece whose box does not hold ``bbox``: the piece lacks some of
        the county's surroundings.
    """
    from planner.ingest.osm_split import PIECE_GENERATOR

    try:
        with osmium.io.Reader(str(path), osmium.osm.NOTHING) as reader:
            header = reader.header()
    except RuntimeError as err:
        raise data_error(path, f"cannot read OSM data ({err})") from None
    features = {header.get(f"pbf_optional_feature_{i}") for i in range(8)}
    if header.get("generator") != PIECE_GENERATOR or bbox is None:
        return "LocationsOnWays" in features
    box = header.box()
    w, s, e, n = bbox
    inside = box.valid() and box.contains(osmium.osm.Location(w, s))
    if not (inside and box.contains(osmium.osm.Location(e, n))):
        raise data_error(
            path,
            f"the county's box ({w:.4f}, {s:.4f}, {e:.4f}, {n:.4f}) reaches beyond this piece "
            f"of the provincial extract ({box})",
            hint="the county's boundary is larger than its polygon in the province's "
            "boundaries layer: fix the layer or raise province.margin_m in the batch config",
        )
    return "LocationsOnWays" in features


#: One drivable way as read: its number of nodes (their ids come from :class:`WayRefs`),
#: lons, lats, and the tags the network uses.
_RoadWay = tuple[int, np.ndarray, np.ndarray, list[str | None]]


@dataclass
class _Collected:
    road_ways: list[_RoadWay] = field(default_factory=list)
    pois: list[dict[str, Any]] = field(default_factory=list)
    places: list[dict[str, Any]] = field(default_factory=list)
    substations: list[dict[str, Any]] = field(default_factory=list)
    lines: list[dict[str, Any]] = field(default_factory=list)
    chargers: list[dict[str, Any]] = field(default_factory=list)
    buildings: list[tuple[float, float]] = field(default_factory=list)
    power_points: list[dict[str, Any]] = field(default_factory=list)
    poi_keys: tuple[str, ...] = POI_KEYS
    bad_locations: int = 0
    refs: WayRefs | None = None  # the roads' node ids

    def data(self, roads: RoadWays, *, buildings: bool) -> OsmData:
        """The collected layers as :class:`OsmData` (EPSG:4326)."""
        rows = {
            "pois": self.pois,
            "places": self.places,
            "substations": self.substations,
            "power_lines": self.lines,
            "chargers": self.chargers,
            "power_points": self.power_points,
        }
        columns = layer_columns(self.poi_keys)
        frames = {name: frame(rows[name], columns[name]) for name in rows}
        return osm_data(roads, frames, self.buildings if buildings else None)


def _take(
    obj: osmium.osm.Node | osmium.osm.Way,
    acc: _Collected,
    bbox: tuple[float, float, float, float],
    buildings: bool,
    drivable: frozenset[str],
) -> None:
    """Sort one OSM object into the collected layers."""
    w, s, e, n = bbox
    if isinstance(obj, osmium.osm.Node):
        loc = obj.location
        if not loc.valid():
            return
        lon, lat = loc.lon, loc.lat
        if w <= lon <= e and s <= lat <= n:
            _collect_point(f"n{obj.id}", obj.tags, lon, lat, acc)
        return
    flat = way_points(obj, acc)
    if flat is None or not meets_box(flat, bbox):
        return
    tags = obj.tags
    kind = way_kind(tags, obj.is_closed(), buildings=buildings, drivable=drivable)
    if kind == NOTHING:
        return
    xy = np.frombuffer(flat, dtype=float).reshape(-1, 2)
    if kind == ROAD:
        lons, lats = xy[:, 0], xy[:, 1]
        assert acc.refs is not None  # read_osm sets it
        acc.refs.add(obj, len(lons))
        acc.road_ways.append((len(lons), lons, lats, road_tags(tags)))
    elif kind == LINE:
        row = line_row(f"w{obj.id}", tags)
        row["geometry"] = shapely.LineString(xy)
        acc.lines.append(row)
    else:
        lon, lat = xy[:-1].mean(axis=0)
        if kind == BUILDING:
            acc.buildings.append((float(lon), float(lat)))
        else:
            _collect_point(f"w{obj.id}", tags, lon, lat, acc)


def _collect_point(osm_id: str, tags: Tags, lon: float, lat: float, acc: _Collected) -> None:
    found = point_row(osm_id, tags, acc.poi_keys)
    if found is not None:
        layer, row = found
        row["geometry"] = shapely.Point(lon, lat)
        getattr(acc, layer).append(row)


def _road_ways(ways: list[_RoadWay], ids: np.ndarray) -> RoadWays:
    all_lon = np.concatenate([np.asarray(w[1], dtype=float) for w in ways])
    all_lat = np.concatenate([np.asarray(w[2], dtype=float) for w in ways])
    lengths = np.array([w[0] for w in ways], dtype=np.int64)
    return road_ways(ids, all_lon, all_lat, lengths, [w[3] for w in ways])


def road_ways(
    ids: np.ndarray,
    lon: np.ndarray,
    lat: np.ndarray,
    lengths: np.ndarray,
    tags: list[list[str | None]],
) -> RoadWays:
    """:class:`RoadWays` from the ways' node ids and locations end to end.

    Parameters
    ----------
    ids, lon, lat
        Every way's nodes, one way after the other.
    lengths
        Nodes per way.
    tags
        highway, maxspeed, oneway, junction and name of each way (:func:`road_tags`).
    """
    node_ids, first, inverse = np.unique(ids, return_index=True, return_inverse=True)
    bounds = np.concatenate([[0], np.cumsum(lengths)])
    return RoadWays(
        node_ids=node_ids,
        lon=lon[first],
        lat=lat[first],
        way_nodes=[inverse[bounds[i] : bounds[i + 1]] for i in range(len(lengths))],
        highway=[str(t[0]) for t in tags],
        maxspeed=[t[1] for t in tags],
        oneway=["yes" if t[3] in ("roundabout", "circular") and not t[2] else t[2] for t in tags],
        names=[t[4] for t in tags],
    )


def clip_ways(roads: RoadWays, area: BaseGeometry) -> RoadWays:
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
