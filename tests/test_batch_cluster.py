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
