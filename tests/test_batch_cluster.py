"""The batch's LocalCluster: no dashboard, and no port a second batch would fight for."""

from __future__ import annotations

import socket
import warnings

from planner.batch_dask import connect


def test_a_local_cluster_takes_no_dashboard_port_and_warns_of_none():
    held = socket.socket()
    try:
        held.bind(("0.0.0.0", 8787))  # as another batch or dask on this machine would
        held.listen()
    except OSError:  # already held by something else: the same case
        pass
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "Port 8787 is already in use" would raise
        client, cluster = connect(None, 1)
    try:
        http = cluster.scheduler.http_server
        assert http.address == "127.0.0.1" and http.port != 8787
        assert cluster.scheduler.services.keys() == {"dashboard"}  # dask's name for it
        assert client.submit(sum, [1, 2]).result() == 3
    finally:
        client.close()
        cluster.close()
        held.close()


def _busy(seconds: float) -> None:
    import time

    time.sleep(seconds)  # a county's thread in code that does not look at the signal


def test_a_stopped_batch_kills_a_busy_worker_after_the_grace():
    import time

    import psutil

    from planner import batch_dask

    client, cluster = connect(None, 1)
    future = client.submit(_busy, 60.0, pure=False)
    while not client.processing()[next(iter(client.scheduler_info()["workers"]))]:
        time.sleep(0.05)  # the task runs
    worker = psutil.Process(next(iter(cluster.workers.values())).pid)
    t0 = time.perf_counter()
    batch_dask._close(client, cluster, stopping=True)
    seconds = time.perf_counter() - t0
    print(f"stopped cluster closed in {seconds:.2f} s")
    del future
    assert not worker.is_running() or worker.status() == psutil.STATUS_ZOMBIE
    assert seconds < 0.8 * 5  # the nanny alone waits 4 s for the busy worker
