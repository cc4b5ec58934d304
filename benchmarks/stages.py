"""Stage benchmark: wall time, CPU time and peak memory of each stage of ``planner site``.

``python scripts/benchmark.py stages --config C.yaml --set demand.resolution_m=100`` runs
the whole pipeline (:func:`planner.pipeline.run_county`) on a county config into a
temporary folder (or ``--out``) and prints CSV: ``stage,seconds,cpu_seconds,peak_rss_mb``
per stage (``peak_rss_mb`` is the process's largest resident size while the stage ran,
sampled every 20 ms; worker processes are not counted), then ``total`` and lines
``demand_points: N``, ``map_html_mb: X`` and ``run_folder_mb: X``, and one line per
solver pass: ``pass: NAME STATUS OBJECTIVE GAP SECONDS``.
``--profile FILE`` also writes a cProfile of the run (read it with ``pstats``).
"""

from __future__ import annotations

import cProfile
import csv
import os
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

from planner.config import load_config
from planner.pipeline import run_county

HEADER = ("stage", "seconds", "cpu_seconds", "peak_rss_mb")


def rss_mb() -> float:
    """This process's resident set size now (MB); 0 where ``/proc`` is missing."""
    try:
        text = Path(f"/proc/{os.getpid()}/status").read_text()
    except OSError:
        return 0.0
    for line in text.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024.0
    return 0.0


class StageMeter:
    """Times each stage and samples the resident size in a background thread.

    Call it with each stage's name as the stage starts (the pipeline's ``on_stage``);
    :meth:`finish` closes the last stage.
    """

    def __init__(self, *, every_s: float = 0.02) -> None:
        self.rows: list[tuple[str, float, float, float]] = []
        self._name: str | None = None
        self._t0 = self._c0 = 0.0
        self._peak = 0.0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._every = every_s
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._stop.wait(self._every):
            now = rss_mb()
            with self._lock:
                self._peak = max(self._peak, now)

    def __call__(self, name: str) -> None:
        self._close()
        with self._lock:
            self._peak = rss_mb()
        self._name, self._t0, self._c0 = name, time.perf_counter(), time.process_time()

    def _close(self) -> None:
        if self._name is None:
            return
        with self._lock:
            peak = max(self._peak, rss_mb())
        wall = time.perf_counter() - self._t0
        cpu = time.process_time() - self._c0
        self.rows.append((self._name, wall, cpu, peak))
        self._name = None

    def finish(self) -> None:
        """Close the last stage and stop sampling."""
        self._close()
        self._stop.set()
        self._thread.join()


@contextmanager
def _profiled(path: Path | None) -> Iterator[None]:
    if path is None:
        yield
        return
    prof = cProfile.Profile()
    prof.enable()
    try:
        yield
    finally:
        prof.disable()
        prof.dump_stats(path)


def run_stages(
    config_path: Path,
    *,
    overrides: list[str],
    out_dir: Path | None = None,
    profile: Path | None = None,
    out: TextIO = sys.stdout,
) -> list[tuple[str, float, float, float]]:
    """Run the pipeline on a county config and print each stage's time and memory.

    Parameters
    ----------
    config_path
        The county config.
    overrides
        ``section.field=value`` overrides (as ``planner site --set``).
    out_dir
        The output folder (default: a temporary one, removed afterwards).
    profile
        Write a cProfile of the run here.
    out
        Where the CSV goes.

    Returns
    -------
    list
        ``(stage, seconds, cpu_seconds, peak_rss_mb)`` per stage.
    """
    config = load_config(config_path, overrides=overrides)
    with tempfile.TemporaryDirectory() as tmp:
        folder = out_dir if out_dir is not None else Path(tmp)
        meter = StageMeter()
        t0, c0 = time.perf_counter(), time.process_time()
        try:
            with _profiled(profile):
                res = run_county(config, out_dir=folder, on_stage=meter)
        finally:
            meter.finish()
        total = (time.perf_counter() - t0, time.process_time() - c0)
        w = csv.writer(out, lineterminator="\n")
        w.writerow(HEADER)
        for name, wall, cpu, peak in meter.rows:
            w.writerow((name, f"{wall:.1f}", f"{cpu:.1f}", f"{peak:.0f}"))
        peak_all = max((r[3] for r in meter.rows), default=0.0)
        w.writerow(("total", f"{total[0]:.1f}", f"{total[1]:.1f}", f"{peak_all:.0f}"))
        size = sum(f.stat().st_size for f in res.out_dir.rglob("*") if f.is_file())
        map_html = res.out_dir / "map.html"
        print(f"demand_points: {res.summary.get('demand_points', 'n/a')}", file=out)
        if map_html.is_file():
            print(f"map_html_mb: {map_html.stat().st_size / 1e6:.2f}", file=out)
        print(f"run_folder_mb: {size / 1e6:.1f}", file=out)
        for p in res.summary.get("solves") or []:
            gap = "" if p["gap"] is None else f"{p['gap']:.6f}"
            print(
                f"pass: {p['pass'] or p['model']} {p['status']} {p['objective']:.6g} {gap} "
                f"{p['solve_s'] + p['build_s']:.1f}",
                file=out,
            )
    return meter.rows
