"""A province in one pass: the pieces of one provincial OSM extract, one per county.

A batch config's ``province`` section (:class:`~planner.batch_config.ProvinceInput`)
names one extract and one layer of county polygons. Before the counties run,
:func:`attach_pieces` matches every county to its polygon
(:mod:`planner.province_match`), collects the OSM layers of
all counties that have no piece yet in a single read of the extract
(:func:`planner.ingest.osm_collect.collect_osm`: each object sorted once, as
:func:`planner.ingest.osm.read_osm` sorts it) and points each county's
``inputs.osm.path`` at its piece: its layers, which ``read_osm`` loads instead of
parsing OSM (:mod:`planner.ingest.osm_layers`; a county read with other options than its
config's, e.g. a scenario's ``candidates.osm_classes``, reads the extract itself).

A county's piece covers the bounding box of its polygon widened by its road buffer
(``inputs.osm.clip_buffer_m``, the largest of its scenarios) plus ``margin_m``, as the
county ingest widens it (twice the distance east and west, in degrees of latitude).
Pieces live in the cache folder (``province.cache_dir``, default
``<results>/osm-pieces``) as ``<slug>-<key>.osm-layers.npz`` with a ``.json`` beside it
(what was written); the key is a hash of the extract's content, the county's box (its
polygon, buffer and margin), its read options and the splitter's version
(:data:`planner.ingest.osm_pieces.SPLIT_VERSION`), so a rerun reuses them and a changed
extract or polygon makes new ones (the county's older pieces are then removed). Files
are written under a temporary name and renamed when complete; nothing outside the cache
folder is written, and only files of the pieces' own naming pattern in it are ever
removed (see :mod:`planner.ingest.osm_pieces`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import osmium

from planner.batch_config import BatchConfig, ProvinceInput, load_batch
from planner.errors import ConfigError, check_input_file, data_error
from planner.ingest.osm_classify import ReadOptions
from planner.ingest.osm_layers import LAYERS_SUFFIX
from planner.ingest.osm_pieces import cached_layers, missing_pieces, piece_box, piece_key
from planner.ingest.osm_split import Box
from planner.province_match import match_county, read_counties, warn_by_name

logger = logging.getLogger(__name__)

_DEFAULT_OPTIONS = ReadOptions()
#: The cache folder's default name, in the batch's results folder.
CACHE_NAME = "osm-pieces"


@dataclass(frozen=True)
class CountyRef:
    """What the split needs to know of one county of the batch."""

    slug: str
    label: str  # the county for messages: its config and name
    keys: tuple[tuple[str, str], ...]  # (field kind "code"/"name"/"any", value) to match
    buffer_m: float
    error: str = ""  # why the county cannot take a piece
    options: ReadOptions = _DEFAULT_OPTIONS  # what its ingest reads of OSM


@dataclass
class SplitReport:
    """What :func:`attach_pieces` did."""

    extract: str
    counties: int = 0
    split: int = 0  # pieces written by this run
    cached: int = 0  # pieces found in the cache
    seconds_hash: float = 0.0
    seconds_split: float = 0.0  # the read that collects the counties' layers (wall clock)
    cpu_seconds_split: float = 0.0  # the same read and hash, CPU time of this process
    cache_dir: str = ""
    errors: dict[str, str] = field(default_factory=dict)


def province_overrides(batch: BatchConfig, base: Path) -> list[str]:
    """With a province section: every county reads the provincial extract (``--set``
    strings); :func:`attach_pieces` then points it at its piece."""
    if batch.province is None:
        return []
    extract = (base / batch.province.osm).resolve()
    return ["inputs.osm.source=file", f"inputs.osm.path={json.dumps(str(extract))}"]


def county_buffer(batch: BatchConfig, config: Any) -> float:
    """The county's road buffer: the largest of its config's and the scenarios'."""
    key = "inputs.osm.clip_buffer_m"
    values = [float(sc.set[key]) for sc in batch.scenarios if key in sc.set]
    return max([float(config.inputs.osm.clip_buffer_m), *values])


def split_province(
    path: str | Path,
    *,
    output: Path | None = None,
    on_progress: Callable[[str], None] | None = None,
) -> tuple[list[Any], SplitReport]:
    """Split the provincial extract of a batch config for its counties, without running them.

    Parameters
    ----------
    path
        A batch config with a ``province`` section.
    output
        Results folder instead of the config's ``output`` (its ``osm-pieces`` folder is
        the default cache).
    on_progress
        Called with one line when the pieces are ready.

    Returns
    -------
    tasks, report
        The tasks (:class:`planner.batch_tasks.Task`) as :func:`planner.batch.run_batch` runs
        them, each reading its piece; what was split or found in the cache.
    """
    from planner.batch_tasks import plan_batch
    from planner.paths import out_lock
    from planner.runs import check_home

    batch, base = load_batch(path)
    if batch.province is None:
        msg = f"{path}: the batch config has no province section"
        raise ConfigError(msg)
    tasks, refs = plan_batch(batch, base, output=output)
    root = check_home(output or (base / batch.output))
    with out_lock(root):
        return attach_in_home(batch, base, tasks, refs, root, on_progress)


def attach_in_home(
    batch: BatchConfig,
    base: Path,
    tasks: list[Any],
    refs: dict[str, CountyRef],
    root: Path,
    on_progress: Callable[[str], None] | None,
) -> tuple[list[Any], SplitReport]:
    """:func:`attach_pieces` with the results folder ``root`` (checked and locked by the
    caller) made a results folder first: a folder holding only pieces is not one."""
    from planner.runs import RUNS

    made = [p for p in (root, root / RUNS, root / CACHE_NAME) if not p.exists()]
    (root / RUNS).mkdir(parents=True, exist_ok=True)
    try:
        return attach_pieces(batch, base, tasks, refs, root=root, on_progress=on_progress)
    except BaseException:
        for folder in sorted(made, key=lambda p: len(p.parts), reverse=True):
            with contextlib.suppress(OSError):
                folder.rmdir()  # only the folders made here, and only when empty
        raise


def county_ref(
    slug: str, label: str, config: Any, boundary: str | None, buffer_m: float
) -> CountyRef:
    """The county's match keys: ``boundary`` (code, else name), else its code, its name."""
    if boundary is not None:
        keys: tuple[tuple[str, str], ...] = (("any", boundary),)
    else:
        code = config.county.code
        keys = ((("code", code),) if code else ()) + (("name", config.county.name),)
    error = ""
    if config.inputs.boundaries.source == "osm":
        error = (
            f"{label}: inputs.boundaries.source 'osm' reads boundary relations, which the "
            "pieces of the provincial extract leave out; give the county a boundaries file"
        )
    return CountyRef(slug, label, keys, buffer_m, error, read_options(config))


def read_options(config: Any) -> ReadOptions:
    """What the county ingest (:mod:`planner.ingest.county`) reads of OSM for ``config``."""
    poi_keys = tuple(dict.fromkeys(k.split("=", 1)[0] for k in config.candidates.osm_classes))
    return ReadOptions(
        buildings=bool(config.demand.weight_by_buildings),
        extra_highways=tuple(config.network.extra_highways),
        poi_keys=poi_keys,
    )


def attach_pieces(
    batch: BatchConfig,
    base: Path,
    tasks: list[Any],
    refs: dict[str, CountyRef],
    *,
    root: Path,
    on_progress: Callable[[str], None] | None = None,
) -> tuple[list[Any], SplitReport]:
    """Split the province for the tasks' counties and point each task at its piece.

    Parameters
    ----------
    batch, base
        The batch config and the folder its paths are relative to.
    tasks
        :class:`planner.batch_tasks.Task` of every county and scenario.
    refs
        The counties by slug (those whose config could be read).
    root
        The results folder (the default cache folder is in it).
    on_progress
        Called with one line when the pieces are ready.

    Returns
    -------
    tasks, report
        The tasks with ``inputs.osm.path`` set to their piece, or failed with the
        county's error (no polygon, outside the extract); what was split and reused.
    """
    spec = batch.province
    assert spec is not None  # the caller checks
    extract = (base / spec.osm).resolve()
    check_input_file(extract, "provincial OSM extract", hint="check province.osm in the batch file")
    cache = (base / spec.cache_dir).resolve() if spec.cache_dir else root / CACHE_NAME
    _check_cache(cache, tasks)
    report = SplitReport(extract=str(extract), counties=len(refs), cache_dir=str(cache))
    polygons = read_counties(base / spec.boundaries, spec)
    header_box = _header_box(extract)
    boxes: dict[str, Box] = {}
    codes: dict[str, str] = {}
    by_name: list[CountyRef] = []
    for slug, ref in refs.items():
        try:
            if ref.error:
                raise ConfigError(ref.error)
            geom, codes[slug], named = match_county(ref, polygons, spec)
            by_name += [ref] if named else []
            _check_inside(ref, geom.bounds, header_box, extract)
            boxes[slug] = piece_box(geom, buffer_m=ref.buffer_m, margin_m=spec.margin_m)
        except ConfigError as err:
            report.errors[slug] = str(err)
    warn_by_name(by_name, spec)
    t0, cpu0 = time.perf_counter(), time.process_time()
    digest = _sha256(extract)
    report.seconds_hash = time.perf_counter() - t0
    targets = {
        slug: cache / f"{slug}-{_key(digest, box, refs[slug], spec)}{LAYERS_SUFFIX}"
        for slug, box in boxes.items()
    }
    options = {slug: refs[slug].options for slug in boxes}
    if missing_pieces(targets):
        _check_cache_writable(cache)
    t0 = time.perf_counter()
    counts, split = cached_layers(extract, digest, boxes, options, targets)
    report.seconds_split = time.perf_counter() - t0 if split else 0.0
    report.cpu_seconds_split = time.process_time() - cpu0
    report.split, report.cached = len(split), len(counts) - len(split)
    for slug, c in counts.items():
        if c.ways == 0:
            report.errors[slug] = (
                f"{refs[slug].label}: the provincial extract {extract} has no ways within "
                f"the county's box {_fmt(boxes[slug])}; is the county in this province?"
            )
    if on_progress is not None:
        on_progress(
            f"province: {report.split} counties split from {extract.name} in "
            f"{report.seconds_split:.1f} s, {report.cached} from the cache ({cache})"
        )
    return [_attach(t, targets, report.errors, codes) for t in tasks], report


def _check_cache(cache: Path, tasks: list[Any]) -> None:
    """Refuse a cache folder that is a file or a county's output folder."""
    if cache.exists() and not cache.is_dir():
        msg = f"province.cache_dir {cache}: is a file, not a folder; choose another folder"
        raise ConfigError(msg)
    for task in tasks:
        if task.out_dir and Path(task.out_dir) == cache:
            msg = (
                f"province.cache_dir {cache}: county {task.county} writes its results there; "
                "set another cache_dir in the batch file"
            )
            raise ConfigError(msg)


def _check_cache_writable(cache: Path) -> None:
    """Refuse, before the extract is read, a cache folder pieces cannot be written to."""
    try:
        cache.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".planner-write-test-", dir=cache)
        os.close(fd)
        os.unlink(probe)
    except OSError as err:
        msg = (
            f"province.cache_dir {cache}: cannot write the counties' pieces there "
            f"({err.strerror or err}); choose a folder you can write to"
        )
        raise ConfigError(msg) from None


def _attach(
    task: Any, targets: dict[str, Path], errors: dict[str, str], codes: dict[str, str]
) -> Any:
    """The task reading its piece, or failed with its county's error; with the code of
    its county's feature (for the batch's outputs when its config has none)."""
    if task.error:
        return task
    if codes.get(task.county):
        task = dataclasses.replace(task, code=codes[task.county])
    if task.county in errors:
        return dataclasses.replace(task, error=errors[task.county], exit_code=2)
    if task.county not in targets:
        return task
    piece = json.dumps(str(targets[task.county]))  # a YAML string, whatever the path
    return dataclasses.replace(
        task, overrides=(*task.overrides, "inputs.osm.source=file", f"inputs.osm.path={piece}")
    )


def _key(digest: str, box: Box, ref: CountyRef, spec: ProvinceInput) -> str:
    return piece_key(
        digest, box, buffer_m=ref.buffer_m, margin_m=spec.margin_m, options=ref.options
    )


def _header_box(extract: Path) -> Box | None:
    """The box the extract's header states, if any."""
    try:
        with osmium.io.Reader(str(extract), osmium.osm.NOTHING) as reader:
            box = reader.header().box()
    except RuntimeError as err:
        raise data_error(extract, f"cannot read OSM data ({err})") from None
    if not box.valid():
        return None
    bl, tr = box.bottom_left, box.top_right
    return (bl.lon, bl.lat, tr.lon, tr.lat)


def _check_inside(ref: CountyRef, box: Box, header: Box | None, extract: Path) -> None:
    """Refuse a county (its polygon's ``box``) outside the extract's stated box; warn when
    it reaches beyond."""
    if header is None:
        return
    w, s, e, n = box
    hw, hs, he, hn = header
    if e < hw or w > he or n < hs or s > hn:
        msg = (
            f"{ref.label}: the county (box {_fmt(box)}) lies outside the provincial extract "
            f"{extract.name} (box {_fmt(header)}); is it in this province?"
        )
        raise ConfigError(msg)
    if w < hw or s < hs or e > he or n > hn:
        logger.warning(
            "%s: the county %s reaches beyond the provincial extract's box %s: its roads "
            "there may be missing",
            ref.label,
            _fmt(box),
            _fmt(header),
        )


def _fmt(box: Box) -> str:
    return "(" + ", ".join(f"{v:.4f}" for v in box) + ")"


def _sha256(path: Path) -> str:
    from planner.paths import sha256_file

    return sha256_file(path)
