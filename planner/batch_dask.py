"""Running a batch's tasks on dask.distributed: a LocalCluster or a running scheduler's
workers, progress with the time left, and closing it all.

The LocalCluster serves no dashboard: its scheduler's HTTP server (which dask always
starts) listens on a free port of this machine only, so a second batch on the machine
neither takes nor warns about port 8787.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import psutil  # type: ignore[import-untyped]

from planner.errors import ConfigError, Interrupted

if TYPE_CHECKING:
    from planner.batch_tasks import Task
    from planner.datatypes import TaskResult

logger = logging.getLogger(__name__)

__all__ = ["connect", "run_tasks", "time_left"]

#: Where the LocalCluster's scheduler serves HTTP (no dashboard): a free local port.
HTTP_ADDRESS = "127.0.0.1:0"
#: Seconds the workers of a stopped batch get to stop before they are killed.
STOP_GRACE_S = 1.0


def time_left(elapsed: float, done: int, total: int) -> float:
    """Seconds left when ``done`` of ``total`` tasks took ``elapsed`` seconds (wall clock).

    The workers' parallelism is in ``elapsed`` already: tasks finish at the rate they
    finished so far, whatever the number of workers.

    Examples
    --------
    >>> time_left(30.0, 3, 8)
    50.0
    """
    if done <= 0 or done >= total:
        return 0.0
    return elapsed / done * (total - done)


def connect(scheduler: str | None, workers: int) -> tuple[Any, Any]:
    """A client of the scheduler at ``scheduler``, else of a new LocalCluster.

    Returns
    -------
    client, cluster
        The cluster is None with ``scheduler``.

    Raises
    ------
    ConfigError
        When the scheduler cannot be reached.
    """
    from distributed import Client, LocalCluster

    if scheduler:
        from planner.dask_connect import CLIENT_TIMEOUT_S, probe_scheduler

        probe_scheduler(scheduler)  # a refused connection fails at once, not after 10 s
        try:
            return Client(scheduler, timeout=f"{CLIENT_TIMEOUT_S:g}s"), None
        except OSError as err:
            msg = f"cannot reach the dask scheduler at {scheduler}: {err}"
            raise ConfigError(msg) from None
    cluster = LocalCluster(
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        scheduler_kwargs={"dashboard": False, "dashboard_address": HTTP_ADDRESS},
        silence_logs=logging.ERROR,
    )
    return Client(cluster), cluster


def run_tasks(
    tasks: list[Task],
    run: Callable[[Task, bool], TaskResult],
    *,
    workers: int,
    scheduler: str | None,
    force: bool,
    on_progress: Callable[[str], None] | None,
) -> list[TaskResult]:
    """Run ``run(task, force)`` for every task on dask; results in task order.

    Parameters
    ----------
    tasks
        The batch's tasks.
    run
        What a worker runs for one task (:func:`planner.batch.run_task`).
    workers
        Worker processes of the LocalCluster (ignored with ``scheduler``).
    scheduler
        Address of a running scheduler, or None for a LocalCluster.
    force
        Passed to ``run``.
    on_progress
        Called with a progress line after each task.

    Returns
    -------
    list of TaskResult
        One per task, in the tasks' order.
    """
    from distributed import as_completed

    client, cluster = connect(scheduler, workers)
    results: list[TaskResult] = []
    t0 = time.perf_counter()
    stopping = False
    try:
        futures = [
            client.submit(run, t, force, key=f"county-{t.county}-{t.scenario}", pure=False)
            for t in tasks
        ]
        for fut in as_completed(futures):
            results.append(fut.result())
            line = _progress_line(results, len(tasks), time.perf_counter() - t0)
            logger.info(line)
            if on_progress is not None:
                on_progress(line)
    except Interrupted:
        stopping = True
        raise
    finally:
        _close(client, cluster, stopping=stopping)
    order = {(t.county, t.scenario): k for k, t in enumerate(tasks)}
    results.sort(key=lambda r: order[(r.county, r.scenario)])
    return results


def _progress_line(results: list[TaskResult], total: int, elapsed: float) -> str:
    """``3/8 runs done (1 failed); qingxi/base done in 12.0 s; about 50 s left``."""
    res, done = results[-1], len(results)
    failed = sum(r.status == "failed" for r in results)
    return (
        f"{done}/{total} runs done ({failed} failed); {res.county}/{res.scenario} "
        f"{res.status} in {res.seconds:.1f} s; about {time_left(elapsed, done, total):.0f} "
        "s left"
    )


def _close(client: Any, cluster: Any, *, stopping: bool) -> None:
    """Close the client and the LocalCluster (without dask's logs when stopping).

    A stopped batch's workers get :data:`STOP_GRACE_S` to stop their solves and remove
    what they wrote (:func:`planner.signals.dask_teardown`); a worker process still alive
    then, its county's thread busy in code that does not look at the signal, is killed
    instead of the nanny's wait of 4 s.
    """
    from planner.dask_connect import quiet_while_closing

    with quiet_while_closing(stopping=stopping):  # no dask tracebacks after a Ctrl-C
        client.close()
        if cluster is None:
            return
        killer = _kill_later(cluster, STOP_GRACE_S) if stopping else None
        try:
            cluster.close()
        finally:
            if killer is not None:
                killer.cancel()


def _kill_later(cluster: Any, seconds: float) -> threading.Timer:
    """A started timer that kills the cluster's worker processes still alive after
    ``seconds`` (each known by its pid and start time: never another process)."""
    procs = []
    for nanny in list(cluster.workers.values()):
        with contextlib.suppress(psutil.Error, TypeError, ValueError):
            procs.append(psutil.Process(nanny.pid))
    timer = threading.Timer(seconds, _kill, args=(procs,))
    timer.daemon = True
    timer.start()
    return timer


def _kill(procs: list[Any]) -> None:
    for proc in procs:
        with contextlib.suppress(psutil.Error):
            proc.kill()  # psutil checks first that it is still the same process
