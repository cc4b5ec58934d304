"""A county's OSM layers as collected from a provincial extract, in one ``.npz`` file.

:func:`write_layers` writes what a box takes of a :class:`~planner.ingest.osm_collect.
Collected` read (numpy arrays, and the rows' text as JSON: no pickle), and
:func:`planner.ingest.osm.read_osm` reads such a file (:func:`load_layers`) with a
county's box inside the file's box: the layers are those ``read_osm`` reads from the
extract with that box. Read with other options than the file was collected with, the
extract itself is read (when it is still the one the file came from).
"""

from __future__ import annotations

import json
import logging
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import shapely

from planner.datatypes import OsmData
from planner.errors import data_error
from planner.ingest.osm_classify import ReadOptions
from planner.ingest.osm_collect import LAYERS, Box, Collected, rows_of
from planner.ingest.osm_frames import frame_of, layer_columns, osm_data

logger = logging.getLogger(__name__)

#: The name a layers file ends with.
LAYERS_SUFFIX = ".osm-layers.npz"
#: Bump when the files' content changes.
LAYERS_FORMAT = 3


def write_layers(
    collected: Collected, group: int, box: Box, target: Path, *, meta: dict[str, Any]
) -> tuple[int, int]:
    """Write what ``box`` takes of ``collected`` (options ``group``) to ``target`` (new).

    Returns
    -------
    nodes, ways
        Points from nodes and way records written.
    """
    g = collected.groups[group]
    meets = collected.meets(box)
    road_way = np.asarray(g.road_way, dtype=np.int64)
    kept_roads = np.flatnonzero(meets[road_way]) if len(road_way) else road_way
    roads = road_way[kept_roads]
    rows: dict[str, dict[str, list[Any]]] = {}  # each layer's columns
    pts_xy, pts_way = [], []
    for name in LAYERS:  # every layer's points one after the other
        layer = g.layers[name]
        way, xy = layer.way_array, layer.xy.reshape(-1, 2)
        kept = np.flatnonzero(_takes(way, xy, meets, box))
        picked = kept.tolist()
        rows[name] = {c: [col[i] for i in picked] for c, col in layer.columns.items()}
        pts_xy.append(xy[kept])
        pts_way.append(way[kept])
    way = np.concatenate(pts_way)
    others = np.unique(way[way >= 0])
    records = np.concatenate([roads, others]).astype(np.int64)
    index = rows_of(collected.way_off, records)
    lengths = collected.way_off[records + 1] - collected.way_off[records]
    off = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    arrays = {
        "way_xy": collected.way_xy[index].reshape(-1, 2),
        "way_off": off,
        "road_ids": collected.way_ids[index[: off[len(roads)]]],
        "pts_xy": np.concatenate(pts_xy).reshape(-1, 2),
        # way records renumbered: the roads first, then the others
        "pts_way": np.where(way >= 0, len(roads) + np.searchsorted(others, way), -1),
        "pts_off": np.cumsum([0] + [len(w) for w in pts_way]).astype(np.int64),
    }
    info = {
        **meta,
        "format": LAYERS_FORMAT,
        "box": list(box),
        "options": g.options.as_json(),
        "roads": [g.road_tags[k] for k in kept_roads],
        "columns": rows,
    }
    arrays["meta"] = np.frombuffer(json.dumps(info).encode("utf-8"), dtype=np.uint8)
    with open(target, "xb") as f:  # never overwrites
        np.savez(f, allow_pickle=False, **arrays)
    return int((way < 0).sum()), len(records)


def _takes(way: np.ndarray, xy: np.ndarray, meets: np.ndarray, box: Box) -> np.ndarray:
    """Rows a box takes: a way's when the way meets the box, a node's inside the box."""
    w, s, e, n = box
    x, y = xy[:, 0], xy[:, 1]
    keep = (way < 0) & (x >= w) & (x <= e) & (y >= s) & (y <= n)
    on_way = way >= 0
    keep[on_way] = meets[way[on_way]]
    return keep


def load_layers(path: Path, *, bbox: Box | None, options: ReadOptions) -> OsmData:
    """The layers of a file of :func:`write_layers` within ``bbox``, as
    :func:`planner.ingest.osm.read_osm` reads them from the extract.

    Raises
    ------
    DataError
        ``bbox`` reaches beyond the file's box; the file is not one of layers; the
        options differ and the extract changed since.
    """
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
        meta = json.loads(arrays["meta"].tobytes().decode("utf-8"))
        box: Box = tuple(meta["box"])
    except (OSError, ValueError, KeyError, TypeError, EOFError, zipfile.BadZipFile) as err:
        raise data_error(
            path,
            f"cannot read the OSM layers ({err})",
            hint="remove it and its .json; the batch collects the county again",
        ) from None
    if meta["options"] != options.as_json() or meta.get("format") != LAYERS_FORMAT:
        return _from_extract(path, meta, bbox=bbox, options=options)
    if bbox is None:
        bbox = box
    w, s, e, n = bbox
    if not (box[0] <= w and box[1] <= s and e <= box[2] and n <= box[3]):
        raise data_error(
            path,
            f"the county's box ({w:.4f}, {s:.4f}, {e:.4f}, {n:.4f}) reaches beyond this piece "
            f"of the provincial extract ({', '.join(f'{v:.4f}' for v in box)})",
            hint="the county's boundary is larger than its polygon in the province's "
            "boundaries layer: fix the layer or raise province.margin_m in the batch config",
        )
    return _select(path, arrays, meta, bbox, options)


def _select(
    path: Path, arrays: dict[str, np.ndarray], meta: dict[str, Any], bbox: Box, options: ReadOptions
) -> OsmData:
    from planner.ingest.osm import road_ways

    xy, off = arrays["way_xy"], arrays["way_off"]
    w, s, e, n = bbox
    inside = (xy[:, 0] >= w) & (xy[:, 0] <= e) & (xy[:, 1] >= s) & (xy[:, 1] <= n)
    meets = np.logical_or.reduceat(inside, off[:-1]) if len(off) > 1 else inside[:0]
    n_roads = len(meta["roads"])
    lengths = np.diff(off[: n_roads + 1])
    kept = np.flatnonzero(meets[:n_roads])
    if not len(kept):
        raise data_error(
            path,
            "no drivable roads inside the county's bounding box",
            hint="is this the right extract for the county?",
        )
    on_kept = np.repeat(meets[:n_roads], lengths)
    road_xy = xy[: off[n_roads]][on_kept]
    roads = road_ways(
        arrays["road_ids"][on_kept],
        road_xy[:, 0],
        road_xy[:, 1],
        lengths[kept],
        [meta["roads"][k] for k in kept],
    )
    columns = layer_columns(options.all_poi_keys)
    frames = {}
    buildings = None
    for k, name in enumerate(LAYERS):
        start, end = arrays["pts_off"][k : k + 2]
        way, pts = arrays["pts_way"][start:end], arrays["pts_xy"][start:end]
        take = np.flatnonzero(_takes(way, pts, meets, bbox))
        if name == "buildings":
            buildings = [(float(x), float(y)) for x, y in pts[take]]
            continue
        picked = take.tolist()
        data = {c: [col[i] for i in picked] for c, col in meta["columns"][name].items()}
        geoms: Any
        if name == "power_lines":
            geoms = [shapely.LineString(xy[off[r] : off[r + 1]]) for r in way[take]]
        else:
            geoms = shapely.points(pts[take])
        frames[name] = frame_of(data, geoms, columns[name])
    return osm_data(roads, frames, buildings if options.buildings else None)


def _from_extract(
    path: Path, meta: dict[str, Any], *, bbox: Box | None, options: ReadOptions
) -> OsmData:
    """The county read from the extract the file came from (other options than the
    file's): the extract must still be the same."""
    from planner.ingest.osm import read_osm
    from planner.paths import sha256_file

    extract = Path(meta.get("extract", ""))
    if not extract.is_file() or sha256_file(extract) != meta.get("digest"):
        raise data_error(
            path,
            "collected with other OSM options, and the provincial extract it came from "
            f"({extract}) changed since",
            hint="run the batch again: it collects the counties anew",
        )
    logger.info("%s: collected with other options; reading %s", path, extract)
    return read_osm(
        extract,
        bbox=bbox,
        buildings=options.buildings,
        extra_highways=options.extra_highways,
        poi_keys=options.poi_keys,
    )
