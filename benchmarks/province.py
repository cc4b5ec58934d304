"""Province benchmark: one merged extract split for every county, then the whole batch.

Builds a demo province of ``counties`` counties in one OSM extract (``planner demo
--province N --merged``) and times, on the same extract:

- ``one_read``: one plain read of the extract with pyosmium (a FileProcessor over every
  node, way and relation, counting them), the yardstick;
- ``split``: the single read that collects every county's OSM layers and writes them
  to the cache (hash of the extract included, as :func:`planner.province.split_province`
  does it);
- ``pieces_read``: every county's read of its piece, as the county ingest reads it
  (:func:`planner.ingest.osm.read_osm` with the county's box and read options);
- ``per_county_reads``: what the counties would spend reading the whole extract each
  (one county's read of the extract, times the number of counties: the way before);

then ``total_ingest = split + pieces_read`` and its ratio to ``one_read``,
``total_ingest_over_one_read`` (the target is at most 2; also in CPU seconds of this
process, ``total_ingest_cpu_over_one_read``), and the whole batch (split, counties,
summary) per worker count, in counties per minute. Timings of the reads and the split
are the best of ``repeat`` runs.
"""

from __future__ import annotations

import csv
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, TextIO


def run_province(
    *,
    counties: int,
    scale: float,
    workers: list[int],
    repeat: int = 3,
    out: TextIO = sys.stdout,
) -> dict[str, Any]:
    """Time the split of a merged demo province and its batch.

    Parameters
    ----------
    counties
        Number of demo counties in the extract (at most 100).
    scale
        Scale of each county.
    workers
        Worker counts to run the whole batch with (none: the ingest only).
    repeat
        Runs of the plain read and the split; the best is kept.
    out
        Where the figures go (``name: value`` lines, then a CSV of the batch runs).

    Returns
    -------
    dict
        The figures printed.
    """
    from planner.batch import quiet_dask_logs, run_batch
    from planner.demo import build_province

    quiet_dask_logs()
    figures: dict[str, Any] = {"counties": counties, "scale": scale}
    with tempfile.TemporaryDirectory(prefix="planner-bench-province-") as tmp:
        t0 = time.perf_counter()
        batch = build_province(Path(tmp) / "province", counties, scale=scale, merged=True)
        figures["build_s"] = time.perf_counter() - t0
        extract = batch.parent / "province.osm.pbf"
        figures["extract_mb"] = extract.stat().st_size / 1e6
        figures.update(_ingest(batch, extract, Path(tmp), repeat=repeat))
        _print(figures, out)
        rows = []
        for n in workers:
            t0 = time.perf_counter()
            res = run_batch(batch, workers=n, force=True, output=Path(tmp) / f"runs{n}")
            seconds = time.perf_counter() - t0
            done = sum(r.status == "done" for r in res.results)
            rows.append((n, done, seconds, 60 * done / seconds))
            for r in res.failed:
                print(f"failed with {n} workers: {r.county}: {r.error}", file=out)
        if rows:
            writer = csv.writer(out)
            writer.writerow(("workers", "counties", "seconds", "counties_per_minute"))
            for n, done, seconds, cpm in rows:
                writer.writerow((n, done, f"{seconds:.2f}", f"{cpm:.2f}"))
                figures[f"counties_per_minute_{n}_workers"] = cpm
    figures["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak_rss_mb: {figures['peak_rss_mb']:.0f}", file=out)
    return figures


def _ingest(batch: Path, extract: Path, tmp: Path, *, repeat: int) -> dict[str, Any]:
    """The read, split and piece-read timings (best of ``repeat``; wall clock and CPU)."""
    import osmium

    from planner.batch import task_config
    from planner.province import read_options, split_province

    reads, splits = [], []
    objects = 0
    for k in range(repeat):
        t0, cpu0 = time.perf_counter(), time.process_time()
        objects = sum(1 for _ in osmium.FileProcessor(str(extract)))
        reads.append((time.perf_counter() - t0, time.process_time() - cpu0))
        tasks, report = split_province(batch, output=tmp / f"split{k}")
        splits.append((report.seconds_split + report.seconds_hash, report.cpu_seconds_split))
    configs = [task_config(t) for t in tasks]
    boxes = [_county_box(c) for c in configs]
    options = [read_options(c) for c in configs]
    own = [(c.inputs.osm.path, box, o) for c, box, o in zip(configs, boxes, options, strict=True)]
    pieces = min(_timed(_read_all, own) for _ in range(repeat))
    whole = min(_timed(_read_all, [(extract, boxes[0], options[0])]) for _ in range(repeat))
    one_read, split = min(reads), min(splits)
    return {
        "objects": objects,
        "one_read_s": one_read[0],
        "split_s": split[0],
        "pieces_read_s": pieces[0],
        "total_ingest_s": split[0] + pieces[0],
        "split_over_one_read": split[0] / one_read[0],
        "per_county_reads_s": whole[0] * len(configs),
        "per_county_reads_over_one_read": whole[0] * len(configs) / one_read[0],
        "one_read_cpu_s": one_read[1],
        "split_cpu_s": split[1],
        "pieces_read_cpu_s": pieces[1],
        "total_ingest_cpu_over_one_read": (split[1] + pieces[1]) / one_read[1],
        # the headline (target: at most 2)
        "total_ingest_over_one_read": (split[0] + pieces[0]) / one_read[0],
    }


def _timed(fn: Any, *args: Any) -> tuple[float, float]:
    """Wall clock and CPU seconds of ``fn(*args)``."""
    t0, cpu0 = time.perf_counter(), time.process_time()
    fn(*args)
    return time.perf_counter() - t0, time.process_time() - cpu0


def _county_box(config: Any) -> tuple[float, float, float, float]:
    """The box the county ingest reads OSM in: its polygon's, widened by the buffer."""
    from planner.ingest.boundaries import read_boundaries

    b = config.inputs.boundaries
    county, _ = read_boundaries(
        b.path,
        county_layer=b.county_layer,
        township_layer=b.township_layer,
        id_field=b.township_id_field,
        name_field=b.township_name_field,
    )
    pad = config.inputs.osm.clip_buffer_m / 111_000.0
    w, s, e, n = county.geometry.iloc[0].bounds
    return (w - pad * 2, s - pad, e + pad * 2, n + pad)


def _read_all(reads: list[tuple[Path, tuple[float, float, float, float], Any]]) -> None:
    """Read OSM as the county ingest does: each file within its box, with its options."""
    from planner.ingest.osm import read_osm

    for path, box, options in reads:
        read_osm(
            path,
            bbox=box,
            buildings=options.buildings,
            extra_highways=options.extra_highways,
            poi_keys=options.poi_keys,
        )


def _print(figures: dict[str, Any], out: TextIO) -> None:
    for key, value in figures.items():
        text = f"{value:.3f}" if isinstance(value, float) else str(value)
        print(f"{key}: {text}", file=out)
    out.flush()
