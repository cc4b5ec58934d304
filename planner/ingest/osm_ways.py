"""A way's node locations as one flat array, and whether it meets a box.

Shared by the read of one county (:mod:`planner.ingest.osm`) and the single pass over a
provincial extract (:mod:`planner.ingest.osm_collect`).
"""

from __future__ import annotations

import sys
from array import array
from typing import Protocol

import osmium

_WKB = osmium.geom.WKBFactory()
_EVERY_NODE = osmium.geom.use_nodes.ALL
_NATIVE_WKB = 1 if sys.byteorder == "little" else 0  # a WKB's first byte: 1 little-endian


class BadCount(Protocol):
    """Where ways with a node's location missing are counted."""

    bad_locations: int


def way_points(obj: osmium.osm.Way, acc: BadCount) -> array | None:
    """The way's nodes' lon, lat, lon, lat, ...; None when it has fewer than two nodes or
    a node without location (counted in ``acc.bad_locations``).

    The coordinates come from osmium's WKB of the way (built in C++): reading each
    node's location in Python takes about three times as long. The nodes are counted
    only when osmium cannot build the line (most ways can).
    """
    try:
        raw = bytes.fromhex(_WKB.create_linestring(obj, _EVERY_NODE))
    except osmium.InvalidLocationError:
        if len(obj.nodes) >= 2:
            acc.bad_locations += 1
        return None
    except RuntimeError:  # fewer than two nodes
        if len(obj.nodes) >= 2:
            raise
        return None
    flat = array("d", raw[9:])  # after byte order, geometry type and point count
    if raw[0] != _NATIVE_WKB:
        flat.byteswap()
    return flat


def meets_box(flat: array, bbox: tuple[float, float, float, float]) -> bool:
    """Whether a node of the way (``lon, lat, ...``) lies in the box (edges included)."""
    w, s, e, n = bbox
    xs, ys = flat[0::2], flat[1::2]
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    if x1 < w or x0 > e or y1 < s or y0 > n:
        return False
    if w <= x0 and x1 <= e and s <= y0 and y1 <= n:
        return True
    return any(w <= x <= e and s <= y <= n for x, y in zip(xs, ys, strict=True))
