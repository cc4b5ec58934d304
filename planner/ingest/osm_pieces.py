"""The cache of a provincial extract's pieces: named by content, written atomically.

A piece is a county's OSM layers collected from the extract
(``<slug>-<key>.osm-layers.npz``, :func:`cached_layers`, see
:mod:`planner.ingest.osm_layers`) or a PBF piece of the extract (``<slug>-<key>.osm.pbf``,
:func:`cached_pieces`), with ``<name>.json`` beside it (what it holds, written last: a
piece without it is made again). The key (:func:`piece_key`) is a hash of the extract's
content, the piece's box, the buffer and margin it came from, the read options of the
layers and :data:`SPLIT_VERSION`. Files are written under a temporary name and renamed
when complete; when a county gets a new piece, its older pieces (files of these naming
patterns only) are removed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
from pathlib import Path
from typing import Any

from planner.ingest.osm_classify import ReadOptions
from planner.ingest.osm_collect import collect_osm
from planner.ingest.osm_layers import LAYERS_FORMAT, write_layers
from planner.ingest.osm_split import PIECE_FORMAT, Box, PieceCount, split_osm

logger = logging.getLogger(__name__)

#: Bump when the pieces' content changes: older pieces are then split again.
SPLIT_VERSION = "2"
_PIECE = re.compile(
    r"^(?P<slug>.+)-(?P<key>[0-9a-f]{16})(?:\.osm\.pbf|\.osm-layers\.npz)(?:\.json)?$"
)


def piece_box(geom: Any, *, buffer_m: float, margin_m: float) -> Box:
    """The county's bounding box widened as the county ingest widens it, plus a margin."""
    pad = (buffer_m + margin_m) / 111_000.0
    w, s, e, n = geom.bounds
    return (w - pad * 2, s - pad, e + pad * 2, n + pad)


def piece_key(
    digest: str,
    box: Box,
    *,
    buffer_m: float,
    margin_m: float,
    options: ReadOptions | None = None,
) -> str:
    """16 hex digits naming a piece: the extract's content (its SHA-256 ``digest``), the
    box, the buffer and margin it was made from, the read options of a layers piece and
    the splitter's version."""
    fmt: list[Any] = [PIECE_FORMAT]
    if options is not None:
        fmt = [LAYERS_FORMAT, options.as_json()]
    text = json.dumps([SPLIT_VERSION, *fmt, digest, [round(v, 9) for v in box], buffer_m, margin_m])
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


def cached_layers(
    extract: Path,
    digest: str,
    boxes: dict[str, Box],
    options: dict[str, ReadOptions],
    targets: dict[str, Path],
) -> tuple[dict[str, PieceCount], list[str]]:
    """Every county's layers, from the cache or collected now (one read of the extract
    for all the missing ones).

    Parameters
    ----------
    extract
        The extract.
    digest
        Its SHA-256 (recorded in each file).
    boxes, options
        The box and the read options of each county, by name (its slug).
    targets
        The layers file of each name (see :func:`piece_key`), in the cache folder.

    Returns
    -------
    counts, made
        What each file holds; the names collected now (the others came from the cache).
    """
    counts: dict[str, PieceCount] = {}
    missing = []
    for slug, target in targets.items():
        cached = _cached_count(target)
        if cached is None:
            missing.append(slug)
        else:
            counts[slug] = cached
    if not missing:
        return counts, []
    distinct = list(dict.fromkeys(options[s] for s in missing))
    area = (
        min(boxes[s][0] for s in missing),
        min(boxes[s][1] for s in missing),
        max(boxes[s][2] for s in missing),
        max(boxes[s][3] for s in missing),
    )
    collected = collect_osm(extract, distinct, area=area)
    meta = {"extract": str(extract), "digest": digest}
    for slug in missing:
        target = targets[slug]
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        tmp.parent.mkdir(parents=True, exist_ok=True)
        tmp.unlink(missing_ok=True)
        try:
            group = distinct.index(options[slug])
            nodes, ways = write_layers(collected, group, boxes[slug], tmp, meta=meta)
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)
        counts[slug] = PieceCount(nodes=nodes, ways=ways)
        _write_json(target, counts[slug], extract, boxes[slug])
        _prune(target.parent, slug, target)
    return counts, missing


def missing_pieces(targets: dict[str, Path]) -> list[str]:
    """The names whose piece is not (or not whole) in the cache."""
    return [name for name, target in targets.items() if _cached_count(target) is None]


def _cached_count(target: Path) -> PieceCount | None:
    """The piece's counts when it and its ``.json`` are in the cache, and the piece has
    the size noted there (a truncated or emptied piece is split again)."""
    meta = target.with_name(target.name + ".json")
    if not (target.is_file() and meta.is_file()):
        return None
    try:
        raw = json.loads(meta.read_text("utf-8"))
        count = PieceCount(nodes=int(raw["nodes"]), ways=int(raw["ways"]))
        size = raw.get("bytes")
        if size is not None and int(size) != target.stat().st_size:
            logger.warning(
                "%s: %d bytes where %d were written; collecting it again",
                target,
                target.stat().st_size,
                int(size),
            )
            return None
        return count
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
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
        "bytes": target.stat().st_size,
    }
    tmp.write_text(json.dumps(info, indent=1), "utf-8")
    os.replace(tmp, meta)


def _prune(cache: Path, slug: str, keep: Path) -> None:
    """Remove the county's older pieces (files of the pieces' naming pattern only)."""
    for p in cache.glob(f"{_glob_escape(slug)}-*"):
        m = _PIECE.match(p.name)
        if m and m["slug"] == slug and not p.name.startswith(keep.name):
            logger.info("removing %s: an older piece of %s", p, slug)
            p.unlink(missing_ok=True)


def _glob_escape(text: str) -> str:
    """``text`` with glob's special characters escaped."""
    return re.sub(r"([*?\[])", r"[\1]", text)
