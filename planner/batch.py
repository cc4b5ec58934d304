"""Many counties (and scenarios) at once, on dask.distributed.

A batch config (YAML) lists county configs, each with optional overrides, and optional
scenarios (named sets of overrides applied to every county)::

    output: runs                  # folder for the results, relative to this file
    counties:
      - config: qingxi/qingxi.yaml
      - config: shimen/shimen.yaml
        set: {stations.budget: 12000000}
      - config: shared.yaml               # one shared config, per-county overrides
        set: {county.slug: a, county.name: A县, inputs.osm.path: a.osm.pbf}
    scenarios:                    # optional; default one scenario, "base", no overrides
      - name: base
      - name: tight
        set: {stations.budget: 8000000, stations.cutoff_min: 20}

Each county and scenario is one task (:mod:`planner.batch_tasks`), run by
:func:`planner.pipeline.run_county` on a dask worker: a LocalCluster on this machine by
default, or the workers of an existing scheduler. A task that fails records its error and
the others go on; a task whose worker dies is run again elsewhere (the scheduler's
``allowed-failures``); a task whose output folder already holds a run with the same
config and input hashes is skipped unless ``force`` (inputs compared by content, so a
copied or moved results folder is still complete: :mod:`planner.batch_complete`). The
batch folder gets ``batch_summary.csv``, ``index.html`` and ``province_map.png``.

A province arrives as one OSM extract: a ``province`` section names it and a layer of
county polygons, and every county reads its piece of the extract, split for all counties
in one read and cached (see :mod:`planner.province`)::

    output: runs
    province:
      osm: jiangxi-latest.osm.pbf       # replaces every county's inputs.osm
      boundaries: jiangxi_counties.gpkg # one polygon per county
      layer: counties                   # default: the first layer
      code_field: code                  # matched against county.code
      name_field: name                  # else against county.name
      margin_m: 1000                    # pieces reach this far beyond polygon + buffer
      cache_dir: null                   # default: <output>/osm-pieces
    counties:
      - config: wuyuan/wuyuan.yaml
      - config: shared.yaml
        set: {county.name: 德兴市, county.slug: dexing}
        boundary: "361181"              # this county's code (or name) in the layer
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from planner.batch_complete import is_complete  # re-exported: planner.batch.is_complete
from planner.batch_config import (  # re-exported: planner.batch.BatchConfig, ...
    FIGURES,
    BatchConfig,
    BatchCounty,
    Scenario,
    load_batch,
)
from planner.batch_dask import run_tasks
from planner.batch_tasks import (  # re-exported: planner.batch.Task, plan_tasks, ...
    Task,
    plan_batch,
    plan_tasks,
    scenario_dir,
)
from planner.datatypes import TaskResult  # re-exported: planner.batch.TaskResult
from planner.errors import PlannerError
from planner.paths import out_lock
from planner.province import SplitReport
from planner.runs import check_home, content_key, new_run

logger = logging.getLogger(__name__)

__all__ = [
    "FIGURES",
    "BatchConfig",
    "BatchCounty",
    "BatchResult",
    "Scenario",
    "Task",
    "TaskResult",
    "is_complete",
    "load_batch",
    "plan_batch",
    "plan_tasks",
    "quiet_dask_logs",
    "results_table",
    "run_batch",
    "run_task",
    "scenario_dir",
    "task_config",
]


def quiet_dask_logs(level: int = logging.WARNING) -> None:
    """Raise dask's and its web stack's loggers to ``level`` (they log INFO on import)."""
    import distributed  # noqa: F401 - sets its loggers' levels on import

    for name in list(logging.root.manager.loggerDict):
        if name.split(".")[0] in ("distributed", "tornado", "bokeh"):
            logging.getLogger(name).setLevel(level)


def task_config(task: Task) -> Any:
    """The task's config: the county's, its overrides, one solver thread unless set.

    One county runs per worker process: multi-threaded solvers in each would fight the
    others for the cores (measured: 6x slower with 2 workers on 2 cores). The road
    network's ``workers`` is always 1: a dask worker is a daemonic process, which cannot
    start the Dijkstra's processes.
    """
    from planner.config import load_config

    config = load_config(task.config, overrides=list(task.overrides))
    if config.solver.threads is None:
        solver = config.solver.model_copy(update={"threads": 1})
        config = config.model_copy(update={"solver": solver})
    if config.network.workers != 1:
        logger.info("%s: network.workers %d -> 1 in a batch", task.county, config.network.workers)
        network = config.network.model_copy(update={"workers": 1})
        config = config.model_copy(update={"network": network})
    return config


def run_task(task: Task, force: bool = False) -> TaskResult:
    """Run one county (on a worker). Never raises for a county's own failure."""
    t0 = time.perf_counter()
    result = TaskResult(task.county, task.scenario, "failed", task.out_dir, code=task.code)
    result.figures = {"county": task.name} if task.name else {}
    if task.error:
        result.error, result.exit_code = task.error, task.exit_code
    else:
        _run_recorded(task, result, force=force)
    if result.status == "failed" and not (result.out_dir and Path(result.out_dir).is_dir()):
        result.out_dir = ""  # no folder of the county was written, by this run or before
    result.seconds = time.perf_counter() - t0
    return result


def _run_recorded(task: Task, result: TaskResult, *, force: bool) -> None:
    """:func:`_run_one`, its failure recorded in ``result``."""
    from planner.progress import log_tag

    try:
        with log_tag(task.county if task.scenario == "base" else f"{task.county}/{task.scenario}"):
            _run_one(task, result, force=force)
    except PlannerError as err:
        result.error, result.exit_code = str(err).splitlines()[0], err.exit_code
    except Exception as err:  # a county's unexpected failure is recorded, not fatal
        result.error, result.exit_code = f"{type(err).__name__}: {err}".splitlines()[0], 1


def _run_one(task: Task, result: TaskResult, *, force: bool) -> None:
    """Run the task's county (or find its complete run) into ``result``."""
    from planner.pipeline import run_county

    config = task_config(task)
    # named in the batch's outputs even when the run fails
    result.figures = {"county": config.county.name}
    result.code = config.county.code or task.code
    previous = None if force else is_complete(task.out_dir, config)
    if previous is not None:
        summary = json.loads((previous / "summary.json").read_text("utf-8"))
        result.status, result.out_dir = "skipped", str(previous)
    else:
        res = run_county(config, out_dir=task.out_dir)
        summary, result.out_dir = res.summary, str(res.out_dir)
        result.status = "done"
    result.figures = {k: summary.get(k) for k in FIGURES}
    result.language = str(summary.get("language") or "")


@dataclass
class BatchResult:
    """All tasks' results and the files written."""

    results: list[TaskResult]
    out_dir: Path  # this batch's run folder (index.html, batch_summary.csv)
    files: list[str]
    home: Path | None = None  # the results folder: county folders and the batch's runs
    province: SplitReport | None = None  # the provincial extract's split, if any

    @property
    def failed(self) -> list[TaskResult]:
        """The tasks that failed."""
        return [r for r in self.results if r.status == "failed"]


def run_batch(
    path: str | Path,
    *,
    workers: int = 2,
    scheduler: str | None = None,
    force: bool = False,
    output: Path | None = None,
    on_progress: Callable[[str], None] | None = None,
) -> BatchResult:
    """Run every county and scenario of a batch config on dask.distributed.

    Parameters
    ----------
    path
        The batch config.
    workers
        Worker processes of the LocalCluster (ignored with ``scheduler``).
    scheduler
        Address of a running scheduler (``tcp://host:port``) whose workers run the tasks;
        they must have this package and see the same input and output paths.
    force
        Run counties again even when their outputs are complete.
    output
        Results folder instead of the config's ``output``.
    on_progress
        Called with a progress line after each task.

    Returns
    -------
    BatchResult
        Every task's result; the summary files are written.
    """

    batch, base = load_batch(path)
    tasks, refs = plan_batch(batch, base, output=output)
    root = check_home(output or (base / batch.output))
    if scheduler:  # before the province is split: nothing written for a batch that cannot run
        from planner.dask_connect import probe_scheduler

        probe_scheduler(scheduler)
    started = dt.datetime.now(dt.UTC)
    report = None
    with out_lock(root):
        if batch.province is not None:
            from planner.province import attach_in_home

            tasks, report = attach_in_home(batch, base, tasks, refs, root, on_progress)
        results = run_tasks(
            tasks,
            run_task,
            workers=workers,
            scheduler=scheduler,
            force=force,
            on_progress=on_progress,
        )
        from planner.report.province import write_batch_outputs

        key = _batch_key(tasks, root)
        with new_run(root, started=started, key=key, kind="batch") as run:
            files = write_batch_outputs(run.tmp, results, run_id=run.id)
            failed = sum(r.status == "failed" for r in results)
            run.publish = not failed
            run.manifest.update(status="some_failed" if failed else "done", failed=failed)
            if report is not None:
                run.manifest.update(province=asdict(report))
    return BatchResult(results=results, out_dir=run.path, files=files, home=root, province=report)


def _batch_key(tasks: list[Task], root: Path) -> str:
    """The batch run id's hash: of the tasks, with the results folder (where the counties'
    folders and the pieces they read are) left out, so a copied or moved folder keeps it."""
    where = (str(root), json.dumps(str(root))[1:-1])  # as is, and as a JSON string
    parts = []
    for t in tasks:
        overrides = tuple(_unrooted(o, where) for o in t.overrides)
        out_dir = _unrooted(t.out_dir, where)
        parts.append(repr(dataclasses.replace(t, overrides=overrides, out_dir=out_dir)))
    return content_key(*parts)


def _unrooted(text: str, where: tuple[str, ...]) -> str:
    for root in where:
        text = text.replace(root, "<results>")
    return text


def results_table(results: list[TaskResult]) -> list[dict[str, Any]]:
    """Plain dicts of the results (for JSON output)."""
    return [asdict(r) for r in results]
