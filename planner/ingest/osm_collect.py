"""Every county's OSM layers from one read of a provincial extract.

One pass of pyosmium sorts each object of the extract once, as
:func:`planner.ingest.osm.read_osm` sorts it (:mod:`planner.ingest.osm_classify`):
roads with their node ids and locations, power lines, buildings and points, each with
the locations of its nodes. Which boxes an object belongs to is then decided with
numpy for all objects and boxes at once (:meth:`Collected.select`), with the rule of
``read_osm``: a node inside the box, a way with a node inside the box.
"""

from __future__ import annotations

import logging
import tempfile
from array import array
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import osmium

from planner.errors import check_input_file, data_error
from planner.ingest.osm_classify import (
    BUILDING,
    LINE,
    NOTHING,
    POINT_LAYERS,
    ROAD,
    ReadOptions,
    line_row,
    point_row,
    road_tags,
    way_kind,
)
from planner.ingest.osm_refs import WayRefs
from planner.ingest.osm_ways import meets_box, way_points

logger = logging.getLogger(__name__)

#: ``(west, south, east, north)`` in degrees.
Box = tuple[float, float, float, float]
#: Layers of points and ways besides roads: points, then lines and buildings.
LAYERS = (*POINT_LAYERS, "power_lines", "buildings")


@dataclass
class _Layer:
    """Rows of one layer: where each is (its way record, or -1 and its own location)."""

    rows: list[dict[str, Any] | None] = field(default_factory=list)
    lon: list[float] = field(default_factory=list)
    lat: list[float] = field(default_factory=list)
    way: list[int] = field(default_factory=list)
    way_array: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    xy: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))
    columns: dict[str, list[Any]] = field(default_factory=dict)

    def freeze(self) -> None:
        """The way records, locations and rows as arrays and columns (:attr:`way_array`,
        :attr:`xy`, :attr:`columns`)."""
        self.way_array = np.asarray(self.way, dtype=np.int64)
        self.xy = np.column_stack([np.asarray(self.lon, float), np.asarray(self.lat, float)])
        first = self.rows[0] if self.rows else None
        if first is not None:  # a layer's rows have the same keys
            self.columns = {c: [r[c] for r in self.rows if r is not None] for c in first}


@dataclass
class _Group:
    """What one set of read options collects."""

    options: ReadOptions
    drivable: frozenset[str]
    poi_keys: tuple[str, ...]
    road_way: list[int] = field(default_factory=list)
    road_tags: list[list[str | None]] = field(default_factory=list)
    layers: dict[str, _Layer] = field(default_factory=lambda: {k: _Layer() for k in LAYERS})


@dataclass
class Collected:
    """The extract's objects as sorted for each set of options, ways' nodes end to end."""

    groups: list[_Group]
    way_xy: np.ndarray  # (m, 2) every way record's node locations, one after the other
    way_off: np.ndarray  # (w + 1,) where each way record's nodes start
    way_ids: np.ndarray  # (m,) node ids (roads; 0 on other ways)
    bad_locations: int = 0

    way_lo: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))  # way records'
    way_hi: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))  # boxes

    def meets(self, box: Box) -> np.ndarray:
        """Which way records have a node inside ``box`` (edges included)."""
        w, s, e, n = box
        lo, hi = self.way_lo, self.way_hi
        near = (hi[:, 0] >= w) & (lo[:, 0] <= e) & (hi[:, 1] >= s) & (lo[:, 1] <= n)
        out = near & (lo[:, 0] >= w) & (hi[:, 0] <= e) & (lo[:, 1] >= s) & (hi[:, 1] <= n)
        edge = np.flatnonzero(near & ~out)  # boxes that overlap: look at the nodes
        if len(edge):
            x, y = self.way_xy[rows_of(self.way_off, edge)].T
            inside = (x >= w) & (x <= e) & (y >= s) & (y <= n)
            lengths = self.way_off[edge + 1] - self.way_off[edge]
            out[edge] = np.logical_or.reduceat(inside, np.cumsum(lengths) - lengths)
        return out


def collect_osm(
    path: str | Path,
    options: list[ReadOptions],
    *,
    area: Box,
    disk_index_bytes: int | None = None,
) -> Collected:
    """Read the extract once, sorting every object for each of ``options``.

    Parameters
    ----------
    path
        The extract: ``.osm.pbf``, ``.osm`` (XML) or ``.osm.bz2``, nodes before ways.
    options
        The distinct read options of the counties.
    area
        Objects wholly outside this box (all counties' boxes) are skipped.
    disk_index_bytes
        From this file size on, node locations go to a temporary disk-backed index
        (default: :data:`planner.ingest.osm.DISK_INDEX_BYTES`).

    Returns
    -------
    Collected
        The sorted objects; :func:`planner.ingest.osm_layers.write_layers` writes a box's.
    """
    from planner.ingest.osm import DISK_INDEX_BYTES, OSM_SUFFIXES

    path = Path(path)
    check_input_file(path, "OSM file", hint="check province.osm")
    if not path.name.lower().endswith(OSM_SUFFIXES):
        raise data_error(path, "not an OSM extract", hint="expected .osm.pbf, .osm or .osm.bz2")
    groups = [_Group(o, o.drivable, o.all_poi_keys) for o in options]
    keys = sorted({k for o in options for k in o.filter_keys})
    limit = DISK_INDEX_BYTES if disk_index_bytes is None else disk_index_bytes
    with (
        tempfile.TemporaryDirectory(prefix="planner-collect-") as tmp,
        WayRefs(Path(tmp)) as refs,
    ):
        pass_ = _Pass(groups, area, refs)
        if path.stat().st_size >= limit:
            storage = f"sparse_file_array,{Path(tmp) / 'locations.idx'}"
        else:
            storage = "flex_mem"
        processor = (
            osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY)
            .with_locations(storage)
            .with_filter(osmium.filter.KeyFilter(*keys))
        )
        try:
            for obj in processor:
                if isinstance(obj, osmium.osm.Node):
                    pass_.node(obj)
                elif isinstance(obj, osmium.osm.Way):
                    pass_.way(obj)
            collected = pass_.collected()
        except RuntimeError as err:
            raise data_error(path, f"cannot read OSM data ({err})") from None
    if pass_.bad_locations:
        logger.warning("%s: %d ways skipped: node locations missing", path, pass_.bad_locations)
    return collected


class _Pass:
    """The handler of the single read: sorts each object for every group."""

    def __init__(self, groups: list[_Group], area: Box, refs: WayRefs) -> None:
        self.groups = groups
        self.area = area
        #: every taken way's lon, lat, ... one after the other, and where each starts
        self.flat = array("d")
        self.starts: list[int] = []
        self.refs = refs
        self.roads: list[int] = []  # way records that are roads (of some group)
        self.bad_locations = 0  # ways with a node's location missing

    def node(self, obj: osmium.osm.Node) -> None:
        loc = obj.location
        if not loc.valid():
            return
        lon, lat = loc.lon, loc.lat
        w, s, e, n = self.area
        if not (w <= lon <= e and s <= lat <= n):
            return
        osm_id, tags = f"n{obj.id}", obj.tags
        for g in self.groups:
            found = point_row(osm_id, tags, g.poi_keys)
            if found is not None:
                layer = g.layers[found[0]]
                layer.rows.append(found[1])
                layer.lon.append(lon)
                layer.lat.append(lat)
                layer.way.append(-1)

    def way(self, obj: osmium.osm.Way) -> None:
        flat = way_points(obj, self)
        if flat is None:
            return
        w, s, e, n = self.area
        if not (w <= flat[0] <= e and s <= flat[1] <= n) and not meets_box(flat, self.area):
            return  # (a way that starts in the area meets it: no need to look further)
        tags, closed = obj.tags, obj.is_closed()
        record = len(self.starts)
        road = False
        centre: tuple[float, float] | None = None
        taken = False
        for g in self.groups:
            kind = way_kind(tags, closed, buildings=g.options.buildings, drivable=g.drivable)
            if kind == NOTHING:
                continue
            taken = True
            if kind == ROAD:
                road = True
                g.road_way.append(record)
                g.road_tags.append(road_tags(tags))
                continue
            if kind == LINE:  # placed by its way record: its own point is not used
                layer = g.layers["power_lines"]
                layer.rows.append(line_row(f"w{obj.id}", tags))
                layer.lon.append(flat[0])
                layer.lat.append(flat[1])
                layer.way.append(record)
                continue
            row: dict[str, Any] | None = None
            if kind == BUILDING:
                layer = g.layers["buildings"]
            else:
                found = point_row(f"w{obj.id}", tags, g.poi_keys)
                if found is None:
                    continue
                row, layer = found[1], g.layers[found[0]]
            if centre is None:  # as read_osm places a closed way's point
                lon, lat = np.frombuffer(flat, dtype=float).reshape(-1, 2)[:-1].mean(axis=0)
                centre = (float(lon), float(lat))
            layer.rows.append(row)
            layer.lon.append(centre[0])
            layer.lat.append(centre[1])
            layer.way.append(record)
        if taken:
            self.starts.append(len(self.flat) // 2)
            self.flat.extend(flat)
        if road:
            self.roads.append(record)
            self.refs.add(obj, len(flat) // 2)

    def collected(self) -> Collected:
        off = np.array([*self.starts, len(self.flat) // 2], dtype=np.int64)
        lengths = np.diff(off)
        xy = np.frombuffer(self.flat, dtype=float).copy() if len(self.flat) else np.zeros(0)
        ids = np.zeros(int(off[-1]), dtype=np.int64)
        roads = np.asarray(self.roads, dtype=np.int64)
        ids[rows_of(off, roads)] = self.refs.ids()
        for g in self.groups:
            for layer in g.layers.values():
                layer.freeze()
        xy = xy.reshape(-1, 2)
        lo = np.minimum.reduceat(xy, off[:-1]) if len(lengths) else np.zeros((0, 2))
        hi = np.maximum.reduceat(xy, off[:-1]) if len(lengths) else np.zeros((0, 2))
        return Collected(self.groups, xy, off, ids, self.bad_locations, lo, hi)


def rows_of(off: np.ndarray, records: np.ndarray) -> np.ndarray:
    """The rows of the given way records' nodes (``off``: where each record starts)."""
    starts = off[records]
    lengths = off[records + 1] - starts
    ends = np.cumsum(lengths)
    return np.repeat(starts - (ends - lengths), lengths) + np.arange(ends[-1] if len(ends) else 0)
