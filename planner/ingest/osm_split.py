"""Split one OSM extract into pieces, one per bounding box, in a single read.

A piece holds what :func:`planner.ingest.osm.read_osm` can take from the extract within
its box: every tagged node inside the box, and every tagged way whose nodes' bounding box
meets the box, complete (also its nodes outside the box). The ways carry their nodes'
locations (osmium's ``locations_on_ways``), so a piece needs neither the untagged nodes
nor a second pass over the extract to find the nodes of ways that cross the box's edge:
node locations are cached while the nodes go by (in memory, or in a temporary disk
index for large extracts, as ``read_osm`` does) and written on the ways. Relations are
not read (``read_osm`` does not use them).

Reading a piece with ``read_osm`` and a bounding box inside the piece's box gives the
same layers as reading the whole extract with that box.
"""

from __future__ import annotations

import logging
import math
import sys
import tempfile
from array import array
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import osmium

from planner.errors import check_input_file, data_error

logger = logging.getLogger(__name__)

#: ``(west, south, east, north)`` in degrees.
Box = tuple[float, float, float, float]
#: The ``generator`` of a piece's header: :func:`planner.ingest.osm.read_osm` checks
#: that the county's box lies in a piece's box.
PIECE_GENERATOR = "planner osm split"
#: Pieces: PBF, node locations on the ways, LZ4 blocks (fast to write and read).
PIECE_FORMAT = "pbf,locations_on_ways=true,pbf_compression=lz4,add_metadata=false"
#: Buffer of each piece's writer (bytes): a province's pieces are open at once.
_WRITER_BUFFER = 1 << 20
#: A way spanning more grid cells than this is tested against every box.
_MAX_CELLS = 64


@dataclass
class PieceCount:
    """Objects written to one piece."""

    nodes: int = 0
    ways: int = 0


class _Grid:
    """Which boxes may hold a point or meet a box: a regular grid over the boxes."""

    def __init__(self, boxes: list[Box]) -> None:
        self.boxes = boxes
        self.x0 = min(b[0] for b in boxes)
        self.y0 = min(b[1] for b in boxes)
        widths = sorted(b[2] - b[0] for b in boxes)
        heights = sorted(b[3] - b[1] for b in boxes)
        # cells about half the median box: a point meets one to four boxes' cells
        self.dx = max(widths[len(widths) // 2] / 2, 1e-6)
        self.dy = max(heights[len(heights) // 2] / 2, 1e-6)
        self.cells: dict[tuple[int, int], tuple[int, ...]] = {}
        members: dict[tuple[int, int], list[int]] = {}
        for k, (w, s, e, n) in enumerate(boxes):
            for i in range(self._col(w), self._col(e) + 1):
                for j in range(self._row(s), self._row(n) + 1):
                    members.setdefault((i, j), []).append(k)
        self.cells = {cell: tuple(ks) for cell, ks in members.items()}
        self.everything = tuple(range(len(boxes)))

    def _col(self, x: float) -> int:
        return math.floor((x - self.x0) / self.dx)

    def _row(self, y: float) -> int:
        return math.floor((y - self.y0) / self.dy)

    def at(self, x: float, y: float) -> list[int]:
        """The boxes holding the point (edges included)."""
        out = []
        for k in self.cells.get((self._col(x), self._row(y)), ()):
            w, s, e, n = self.boxes[k]
            if w <= x <= e and s <= y <= n:
                out.append(k)
        return out

    def meeting(self, box: Box) -> list[int]:
        """The boxes that meet ``box`` (edges included)."""
        x0, y0, x1, y1 = box
        i0, i1, j0, j1 = self._col(x0), self._col(x1), self._row(y0), self._row(y1)
        if (i1 - i0 + 1) * (j1 - j0 + 1) > _MAX_CELLS:
            candidates: set[int] | tuple[int, ...] = self.everything
        else:
            candidates = set()
            for i in range(i0, i1 + 1):
                for j in range(j0, j1 + 1):
                    candidates.update(self.cells.get((i, j), ()))
        out = []
        for k in candidates:
            w, s, e, n = self.boxes[k]
            if x0 <= e and w <= x1 and y0 <= n and s <= y1:
                out.append(k)
        return out


def split_osm(
    path: str | Path,
    boxes: Mapping[str, Box],
    targets: Mapping[str, Path],
    *,
    disk_index_bytes: int | None = None,
) -> dict[str, PieceCount]:
    """Write one piece of the extract per box, reading the extract once.

    Parameters
    ----------
    path
        The extract: ``.osm.pbf``, ``.osm`` (XML) or ``.osm.bz2``, nodes before ways.
    boxes
        ``(west, south, east, north)`` in degrees, by piece name.
    targets
        The file to write for each piece name (new files: an existing one is an error).
    disk_index_bytes
        From this file size on, node locations go to a temporary disk-backed index
        (default: :data:`planner.ingest.osm.DISK_INDEX_BYTES`).

    Returns
    -------
    dict
        Nodes and ways written, by piece name.
    """
    from planner.ingest.osm import DISK_INDEX_BYTES, OSM_SUFFIXES

    path = Path(path)
    check_input_file(path, "OSM file", hint="check province.osm")
    if not path.name.lower().endswith(OSM_SUFFIXES):
        raise data_error(path, "not an OSM extract", hint="expected .osm.pbf, .osm or .osm.bz2")
    names = list(boxes)
    if not names:
        return {}
    grid = _Grid([boxes[k] for k in names])
    counts = [PieceCount() for _ in names]
    limit = DISK_INDEX_BYTES if disk_index_bytes is None else disk_index_bytes
    pool = osmium.io.ThreadPool()
    writers = []
    try:
        for k in names:
            try:
                writers.append(_writer(targets[k], boxes[k], pool))
            except RuntimeError as err:  # e.g. the file exists: never overwritten
                raise data_error(targets[k], f"cannot write an OSM piece ({err})") from None
        with tempfile.TemporaryDirectory(prefix="planner-split-") as tmp:
            if path.stat().st_size >= limit:
                storage = f"sparse_file_array,{Path(tmp) / 'locations.idx'}"
            else:
                storage = "flex_mem"
            processor = (
                osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY)
                .with_locations(storage)
                .with_filter(osmium.filter.EmptyTagFilter())
            )
            _route(processor, grid, writers, counts)
    except RuntimeError as err:
        raise data_error(path, f"cannot read OSM data ({err})") from None
    finally:
        for w in writers:
            w.close()
    return dict(zip(names, counts, strict=True))


def _writer(target: Path, box: Box, pool: osmium.io.ThreadPool) -> osmium.SimpleWriter:
    """A piece's writer: its header states the box it is complete for."""
    header = osmium.io.Header()
    header.add_box(osmium.osm.Box(*box))
    header.set("generator", PIECE_GENERATOR)
    return osmium.SimpleWriter(
        osmium.io.File(str(target), PIECE_FORMAT),
        _WRITER_BUFFER,
        header=header,
        thread_pool=pool,
    )


def _route(
    processor: osmium.FileProcessor,
    grid: _Grid,
    writers: list[osmium.SimpleWriter],
    counts: list[PieceCount],
) -> None:
    """Send every tagged node and way to the pieces whose box it meets."""
    wkb = osmium.geom.WKBFactory()
    every_node = osmium.geom.use_nodes.ALL
    native = 1 if sys.byteorder == "little" else 0  # WKB's first byte: 1 little-endian
    for obj in processor:
        if isinstance(obj, osmium.osm.Node):
            loc = obj.location
            if not loc.valid():
                continue
            for k in grid.at(loc.lon, loc.lat):
                writers[k].add_node(obj)
                counts[k].nodes += 1
        elif isinstance(obj, osmium.osm.Way):
            try:
                # the way's points as WKB, built by osmium: far faster than a Python
                # loop over its nodes
                raw = bytes.fromhex(wkb.create_linestring(obj, every_node))
            except RuntimeError:  # a location missing, or fewer than two nodes
                continue
            xy = array("d", raw[9:])  # after byte order, geometry type, point count
            if raw[0] != native:
                xy.byteswap()
            xs, ys = xy[0::2], xy[1::2]
            for k in grid.meeting((min(xs), min(ys), max(xs), max(ys))):
                writers[k].add_way(obj)
                counts[k].ways += 1
