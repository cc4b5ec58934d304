"""Batch benchmark: counties per minute of ``planner batch`` on a demo province."""

from __future__ import annotations

import csv
import sys
import tempfile
import time
from pathlib import Path
from typing import TextIO


def run_batch_speed(
    *, counties: int, scale: float, workers: list[int], out: TextIO = sys.stdout
) -> list[dict]:
    """Counties per minute of ``planner batch`` on a demo province, per worker count.

    Builds ``counties`` demo counties at ``scale`` in a temporary folder, runs the whole
    batch once per worker count (``force``: nothing is skipped) and prints CSV
    ``workers,counties,seconds,counties_per_minute`` then ``ratio_vs_1_worker: X`` lines
    (the speed-up of each worker count over the first).

    Parameters
    ----------
    counties
        Number of demo counties.
    scale
        Scale of each demo county.
    workers
        Worker counts to run the batch with, in order.
    out
        Where the CSV and ratios go.

    Returns
    -------
    list of dict
        ``workers``, ``counties`` (done) and ``seconds`` per worker count.
    """
    from planner.batch import quiet_dask_logs, run_batch
    from planner.demo import build_province

    quiet_dask_logs()
    rows = []
    writer = csv.writer(out)
    writer.writerow(("workers", "counties", "seconds", "counties_per_minute"))
    with tempfile.TemporaryDirectory(prefix="planner-bench-") as tmp:
        batch = build_province(Path(tmp) / "province", counties, scale=scale)
        for n in workers:
            t0 = time.perf_counter()
            res = run_batch(batch, workers=n, force=True, output=Path(tmp) / f"runs{n}")
            seconds = time.perf_counter() - t0
            done = sum(r.status == "done" for r in res.results)
            rows.append({"workers": n, "counties": done, "seconds": seconds})
            writer.writerow((n, done, f"{seconds:.2f}", f"{60 * done / seconds:.2f}"))
            out.flush()
    base = rows[0]["seconds"]
    for r in rows[1:]:
        print(f"ratio_vs_{rows[0]['workers']}_worker: {base / r['seconds']:.2f}", file=out)
    return rows
