"""The cache of a provincial extract's pieces: named by content, written atomically.

A piece is ``<slug>-<key>.osm.pbf`` with ``<slug>-<key>.osm.pbf.json`` beside it (what
it holds, written last: a piece without it is split again). The key
(:func:`piece_key`) is a hash of the extract's content, the piece's box, the buffer and
margin it came from and :data:`SPLIT_VERSION`. Files are written under a temporary name
and renamed when complete; when a county gets a new piece, its older pieces (files of
this naming pattern only) are removed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
from pathlib import Path
from typing import Any

from planner.ingest.osm_split import PIECE_FORMAT, Box, PieceCount, split_osm

logger = logging.getLogger(__name__)

#: Bump when the pieces' content changes: older pieces are then split again.
SPLIT_VERSION = "1"
_PIECE = re.compile(r"^(?P<slug>.+)-(?P<key>[0-9a-f]{16})\.osm\.pbf(?:\.json)?$")


def piece_box(geom: Any, *, buffer_m: float, margin_m: float) -> Box:
    """The county's bounding box widened as the county ingest widens it, plus a margin."""
    pad = (buffer_m + margin_m) / 111_000.0
    w, s, e, n = geom.bounds
    return (w - pad * 2, s - pad, e + pad * 2, n + pad)


def piece_key(digest: str, box: Box, *, buffer_m: float, margin_m: float) -> str:
    """16 hex digits naming a piece: the extract's content (its SHA-256 ``digest``), the
    box, the buffer and margin it was made from, and the splitter's version."""
    text = json.dumps(
        [SPLIT_VERSION, PIECE_FORMAT, digest, [round(v, 9) for v in box], buffer_m, margin_m]
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def cached_pieces(
    extract: Path, boxes: dict[str, Box], targets: dict[str, Path]
) -> tuple[dict[str, PieceCount], list[str]]:
    """Every piece, from the cache or split now (one read for all the missing ones).

    Parameters
    ----------
    extract
        The extract.
    boxes
        The box of each piece, by name (a county's slug).
    targets
        The piece file of each name (see :func:`piece_key`), in the cache folder.

    Returns
    -------
    counts, split
        What each piece holds; the names split now (the others came from the cache).
    """
    counts: dict[str, PieceCount] = {}
    missing = {}
    for slug, target in targets.items():
        cached = _cached_count(target)
        if cached is None:
            missing[slug] = boxes[slug]
        else:
            counts[slug] = cached
    if not missing:
        return counts, []
    temps = {s: targets[s].with_name(f".{targets[s].name}.{os.getpid()}.tmp") for s in missing}
    for tmp in temps.values():
        tmp.parent.mkdir(parents=True, exist_ok=True)
    try:
        written = split_osm(extract, missing, temps)
        for slug, count in written.items():
            os.replace(temps[slug], targets[slug])
            _write_json(targets[slug], count, extract, missing[slug])
            _prune(targets[slug].parent, slug, targets[slug])
    finally:
        for tmp in temps.values():
            tmp.unlink(missing_ok=True)
    counts.update(written)
    return counts, list(written)


def _cached_count(target: Path) -> PieceCount | None:
    """The piece's counts when it and its ``.json`` are in the cache."""
    meta = target.with_name(target.name + ".json")
    if not (target.is_file() and meta.is_file()):
        return None
    try:
        raw = json.loads(meta.read_text("utf-8"))
        return PieceCount(nodes=int(raw["nodes"]), ways=int(raw["ways"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _write_json(target: Path, count: PieceCount, extract: Path, box: Box) -> None:
    """What the piece holds, beside it (written last: a piece without it is split again)."""
    meta = target.with_name(target.name + ".json")
    tmp = meta.with_name(f".{meta.name}.{os.getpid()}.tmp")
    info = {
        "nodes": count.nodes,
        "ways": count.ways,
        "extract": str(extract),
        "box": list(box),
        "split_version": SPLIT_VERSION,
    }
    tmp.write_text(json.dumps(info, indent=1), "utf-8")
    os.replace(tmp, meta)


def _prune(cache: Path, slug: str, keep: Path) -> None:
    """Remove the county's older pieces (files of the pieces' naming pattern only)."""
    for p in cache.glob(f"{_glob_escape(slug)}-*.osm.pbf*"):
        m = _PIECE.match(p.name)
        if m and m["slug"] == slug and not p.name.startswith(keep.name):
            logger.info("removing %s: an older piece of %s", p, slug)
            p.unlink(missing_ok=True)


def _glob_escape(text: str) -> str:
    """``text`` with glob's special characters escaped."""
    return re.sub(r"([*?\[])", r"[\1]", text)
