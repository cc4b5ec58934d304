"""Batch runs on dask: a small demo province with one broken county."""

from __future__ import annotations

import csv
import json
import logging
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import yaml

from planner.batch import is_complete, load_batch, plan_tasks, run_batch, run_task, task_config
from planner.config import load_config
from planner.dask_connect import CLOSING_LOGGERS, probe_scheduler, quiet_while_closing
from planner.demo import build_province
from planner.errors import ConfigError
from planner.runs import latest_run
from tests.conftest import latest, run_cli

SCALE = 0.3  # small counties: a run takes a few seconds


@pytest.fixture(scope="module")
def province(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three demo counties; yunling's population raster is missing (a broken county).

    The counties plan no tours and write no report document (no test here looks at
    them; 1-3 s of each county run).
    """
    root = tmp_path_factory.mktemp("province")
    cfg = build_province(root, 3, scale=SCALE)
    for county in ("qingxi", "shimen", "yunling"):
        path = root / county / f"{county}.yaml"
        spec = yaml.safe_load(path.read_text("utf-8"))
        spec["tours"]["enabled"] = False
        spec.setdefault("report", {})["document"] = False
        path.write_text(yaml.safe_dump(spec, allow_unicode=True), "utf-8")
    (root / "yunling" / "yunling_population.tif").unlink()
    return cfg


def _status(res) -> dict[str, str]:
    return {r.county: r.status for r in res.results}


@pytest.mark.slow
def test_local_cluster_records_the_failure_writes_the_index_and_resumes(province):
    res = run_batch(province, workers=2)
    assert _status(res) == {"qingxi": "done", "shimen": "done", "yunling": "failed"}
    broken = res.failed[0]
    assert "yunling_population.tif" in broken.error and broken.exit_code == 2
    root = res.out_dir
    with (root / "batch_summary.csv").open(encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["county"] for r in rows] == ["qingxi", "shimen", "yunling"]
    for r in rows[:2]:  # the figures are the county's own summary
        summary = json.loads((root / r["folder"] / "summary.json").read_text("utf-8"))
        assert int(r["stations"]) == summary["stations"] > 0
        assert float(r["demand_covered_share"]) == summary["demand_covered_share"]
        assert r["name"] == summary["county"]
    index = (root / "index.html").read_text("utf-8")
    qingxi_run = Path(res.results[0].out_dir)
    assert qingxi_run.parent.parent == Path(res.home) / "qingxi"
    assert "共 3 次运行，1 次失败" in index and '<html lang="zh-CN">' in index  # Chinese counties
    assert f'href="../../qingxi/runs/{qingxi_run.name}/map.html"' in index
    assert "yunling_population.tif" in index and "石门县" in index
    # the failed county keeps its name and the reason's exit code (2: bad input)
    assert rows[2]["name"] and rows[2]["name"] in index and rows[2]["exit_code"] == "2"
    assert [r["exit_code"] for r in rows[:2]] == ["0", "0"]
    total = sum(int(r["stations"]) for r in rows[:2])
    # yunling's only scenario failed: left out of the total, which says so
    assert re.search(
        rf'<tr class="total"><td>合计（2/3 个县；云岭县失败）</td>.*?>{total}</td>', index
    )
    assert (root / "province_map.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # a second run skips the complete counties and tries the broken one again (one worker
    # is enough for the one county left)
    again = run_batch(province, workers=1)
    assert _status(again) == {"qingxi": "skipped", "shimen": "skipped", "yunling": "failed"}
    assert again.results[0].figures == res.results[0].figures


@pytest.mark.slow
def test_complete_means_same_config_and_inputs(province, tmp_path):
    batch, base = load_batch(province)
    tasks = plan_tasks(batch, base)
    qingxi = tasks[0]
    cfg = task_config(qingxi)
    if latest_run(Path(qingxi.out_dir)) is None:
        run_task(qingxi)
    assert is_complete(qingxi.out_dir, cfg)
    changed = load_config(qingxi.config, overrides=["stations.cutoff_min=20"])
    assert not is_complete(qingxi.out_dir, changed)
    # an input whose hash no longer matches the manifest's
    copy = tmp_path / "copy"
    shutil.copytree(qingxi.out_dir, copy, symlinks=True)
    manifest = json.loads((latest(copy) / "run.json").read_text("utf-8"))
    assert is_complete(copy, cfg) == latest(copy)
    manifest["inputs"][0]["sha256"] = "0" * 64
    (latest(copy) / "run.json").write_text(json.dumps(manifest), "utf-8")
    assert not is_complete(copy, cfg)


@pytest.mark.slow
def test_scenarios_and_overrides_make_one_task_each(province, tmp_path):
    spec = yaml.safe_load(province.read_text("utf-8"))
    spec["counties"][1]["set"] = {"stations.budget": 9_000_000}
    spec["scenarios"] = [{"name": "base"}, {"name": "far", "set": {"stations.cutoff_min": 25}}]
    path = province.parent / "two_scenarios.yaml"
    path.write_text(yaml.safe_dump(spec, allow_unicode=True), "utf-8")
    batch, base = load_batch(path)
    tasks = plan_tasks(batch, base, output=tmp_path)
    assert len(tasks) == 6
    shimen_far = next(t for t in tasks if t.county == "shimen" and t.scenario == "far")
    assert shimen_far.out_dir == str(tmp_path / "shimen" / "far")
    cfg = load_config(shimen_far.config, overrides=list(shimen_far.overrides))
    assert cfg.stations.budget == 9_000_000 and cfg.stations.cutoff_min == 25
    # one shared config with per-county overrides: the slug comes from the overrides
    shared = {
        "counties": [
            {"config": "qingxi/qingxi.yaml", "set": {"county.slug": "east"}},
            {"config": "qingxi/qingxi.yaml", "set": {"county.slug": "west"}},
        ]
    }
    path.write_text(yaml.safe_dump(shared), "utf-8")
    batch, base = load_batch(path)
    assert [t.county for t in plan_tasks(batch, base, output=tmp_path)] == ["east", "west"]
    shared["counties"][1]["set"] = {}
    path.write_text(yaml.safe_dump(shared), "utf-8")
    batch, base = load_batch(path)
    plan_tasks(batch, base, output=tmp_path)  # east and qingxi: fine
    shared["counties"][0]["set"] = {}
    path.write_text(yaml.safe_dump(shared), "utf-8")
    batch, base = load_batch(path)
    with pytest.raises(ConfigError, match="share the slug 'qingxi'"):
        plan_tasks(batch, base, output=tmp_path)
    # a scenario's override that no config takes stops the batch before it runs, named
    spec["scenarios"][1]["set"] = {"demand.resolution_m": 0}
    path.write_text(yaml.safe_dump(spec, allow_unicode=True), "utf-8")
    batch, base = load_batch(path)
    with pytest.raises(ConfigError, match="resolution_m") as err:
        plan_tasks(batch, base, output=tmp_path)
    assert "set by the batch file's scenario 'far': demand.resolution_m" in str(err.value)
    bad = province.parent / "bad.yaml"
    bad.write_text("counties: []\n", "utf-8")
    with pytest.raises(ConfigError, match="counties"):
        load_batch(bad)


@pytest.mark.slow
def test_a_killed_worker_is_replaced_and_its_county_run_again(province, tmp_path):
    from distributed import Client, LocalCluster

    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        pids = client.run(os.getpid)
        out: dict = {}
        runner = threading.Thread(
            target=lambda: out.update(
                res=run_batch(province, scheduler=cluster.scheduler_address, output=tmp_path)
            )
        )
        runner.start()
        killed = None
        deadline = time.monotonic() + 60
        while killed is None and time.monotonic() < deadline:
            for addr, keys in client.processing().items():
                if any(str(k).startswith(("county-qingxi", "county-shimen")) for k in keys):
                    time.sleep(1.0)  # let it get into the run
                    os.kill(pids[addr], signal.SIGKILL)
                    killed = addr
                    break
            time.sleep(0.1)
        runner.join(timeout=300)
    assert killed is not None, "no county task was seen running"
    assert _status(out["res"]) == {"qingxi": "done", "shimen": "done", "yunling": "failed"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_against_a_scheduler_and_two_worker_processes(province, tmp_path):
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    bin_dir = Path(sys.executable).parent
    procs = [
        subprocess.Popen(
            [
                bin_dir / "dask",
                "scheduler",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--no-dashboard",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    ]
    try:
        for _ in range(2):
            procs.append(
                subprocess.Popen(
                    [bin_dir / "dask", "worker", address, "--nthreads", "1", "--no-dashboard"],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        from distributed import Client

        for _ in range(50):  # wait for the scheduler to listen
            try:
                with Client(address, timeout="2s") as c:
                    c.wait_for_workers(2, timeout=60)
                break
            except OSError:
                time.sleep(0.5)
        r = run_cli("batch", str(province), "--scheduler", address, "--out", str(tmp_path))
        assert r.returncode == 4, r.stderr  # one county is broken
        assert "2 done, 0 skipped (already complete), 1 failed" in r.stdout
        assert "failed: yunling/base" in r.stderr and "Traceback" not in r.stderr
        assert (latest(tmp_path / "qingxi") / "map.html").is_file()
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(timeout=30)


@pytest.mark.slow
def test_unreachable_scheduler_is_a_one_line_error(province, tmp_path):
    port = _free_port()
    t0 = time.perf_counter()
    r = run_cli("batch", str(province), "--scheduler", f"tcp://127.0.0.1:{port}")
    seconds = time.perf_counter() - t0
    print(f"unreachable scheduler: exit {r.returncode} after {seconds:.2f} s")
    assert r.returncode == 2 and "cannot reach the dask scheduler" in r.stderr
    assert f"connection refused, nothing listens on 127.0.0.1:{port}" in r.stderr
    assert "Traceback" not in r.stderr
    assert seconds < 5.0  # the Client alone waited its whole 10 s timeout


def test_scheduler_probe_fails_fast_and_waits_for_a_starting_scheduler():
    port = _free_port()
    t0 = time.perf_counter()
    with pytest.raises(ConfigError, match="connection refused"):
        probe_scheduler(f"tcp://127.0.0.1:{port}", grace_s=0.3)
    assert 0.3 <= time.perf_counter() - t0 < 2.0
    with pytest.raises(ConfigError, match="give it as tcp://HOST:PORT"):
        probe_scheduler("tcp://127.0.0.1")
    # a scheduler that starts listening within the grace is reached
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    later = threading.Timer(0.3, lambda: (server.bind(("127.0.0.1", port)), server.listen()))
    later.start()
    try:
        probe_scheduler(f"127.0.0.1:{port}", grace_s=5.0)
        # one that accepts but does not answer is left to the Client's timeout
        probe_scheduler(f"tcp://127.0.0.1:{port}", grace_s=0.0)
    finally:
        later.join()
        server.close()


def test_a_stopped_batch_closes_dask_without_its_logs(caplog):
    import distributed  # noqa: F401 - its loggers exist

    names = [*CLOSING_LOGGERS, "distributed.comm.tcp", "distributed.core", "distributed.nanny"]
    before = {n: logging.getLogger(n).level for n in names}
    try:
        nanny = logging.getLogger("distributed.nanny")
        with quiet_while_closing(stopping=False):
            logging.getLogger("distributed.core").error("kept")
            nanny.warning("Worker process still alive after 4.0 seconds, killing")
        nanny.warning("a warning after the close")  # the nanny's level is back
        with quiet_while_closing(stopping=True):
            logging.getLogger("distributed.comm.tcp").error("lost connection")
            logging.getLogger("asyncio").error("Task exception was never retrieved")
        logging.getLogger("tornado.application").error("after the close")  # the exit
        logging.getLogger("planner.batch").error("ours")
    finally:
        for n, level in before.items():
            logging.getLogger(n).setLevel(level)
    assert [r.getMessage() for r in caplog.records] == ["kept", "a warning after the close", "ours"]


def test_the_index_links_work_through_latest(tmp_path, browser):
    """The batch's index.html links to the counties' runs from ``runs/<id>/``; opened as
    ``latest/index.html`` (one folder higher: a browser does not follow the link) its
    links still reach the files."""
    from planner.datatypes import TaskResult
    from planner.report.province import write_batch_outputs

    home = tmp_path / "home"
    county_run = home / "qingxi" / "runs" / "r1"
    county_run.mkdir(parents=True)
    for name in ("map.html", "report.html"):
        (county_run / name).write_text(f"<title>{name}</title>", "utf-8")
    batch_run = home / "runs" / "b1"
    batch_run.mkdir(parents=True)
    result = TaskResult("qingxi", "base", "done", str(county_run), language="zh")
    result.figures = {"county": "青溪县", "stations": 3, "status": "optimal", "gap": 0.001}
    write_batch_outputs(batch_run, [result], run_id="20261201T000000Z-abc")
    (home / "latest").symlink_to(Path("runs") / "b1")
    # the session's browser: a second sync_playwright beside it would not start
    for page_path in (batch_run / "index.html", home / "latest" / "index.html"):
        page = browser.new_page()
        try:
            page.goto(page_path.as_uri())
            for link in page.locator("a").all():
                href = link.evaluate("a => a.href")
                target = Path(href.removeprefix("file://"))
                assert target.resolve().is_file(), (page_path, href)
        finally:
            page.close()
