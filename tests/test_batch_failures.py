"""`planner batch` on a real dask worker: the parallel Dijkstra, bad overrides and exit
codes (issue 11, items 9, 10 and 13)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from planner.batch import load_batch, plan_tasks, task_config
from planner.cli import main
from tests.conftest import latest


def _batch(path: Path, config: Path, *sets: dict) -> Path:
    spec = {"output": "runs", "counties": [{"config": str(config), "set": s} for s in sets]}
    path.write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    return path


GOOD = {
    "county.slug": "good",
    "network.workers": 2,
    "network.parallel_min_cells": 0,
    "tours.enabled": False,  # not what is tested here
    "report.document": False,
}
BAD_BUDGET = {"county.slug": "a", "stations.budget": "abc"}
BAD_CUTOFF = {"county.slug": "b", "stations.cutoff_min": -5}


def test_bad_overrides_of_a_shared_config_are_failed_tasks(small, tmp_path):
    path = _batch(tmp_path / "batch.yaml", small, BAD_BUDGET, GOOD, BAD_CUTOFF)
    tasks = plan_tasks(*load_batch(path))
    assert [t.county for t in tasks] == ["qingxi#1", "good", "qingxi#3"]
    assert "county 1 of the batch" in tasks[0].error and "stations.budget" in tasks[0].error
    assert "stations.cutoff_min" in tasks[2].error
    assert tasks[0].exit_code == tasks[2].exit_code == 2 and not tasks[1].error
    # the counties that cannot run keep the name their config gives, or the batch file
    assert [t.name for t in tasks] == ["青溪县"] * 3
    renamed = _batch(tmp_path / "b2.yaml", small, {**BAD_BUDGET, "county.name": "甲县"})
    assert [t.name for t in plan_tasks(*load_batch(renamed))] == ["甲县"]
    assert task_config(tasks[1]).network.workers == 1  # a batch worker starts no processes


@pytest.mark.slow
def test_batch_on_a_dask_worker_runs_the_parallel_path_with_one_process(small, tmp_path):
    """A real LocalCluster (processes=True, 1 worker): the good county, which asks for
    2 workers with the parallel Dijkstra forced on, runs with 1 and succeeds; the two
    bad overrides are recorded as failed with their messages (exit 4)."""
    path = _batch(tmp_path / "batch.yaml", small, BAD_BUDGET, GOOD, BAD_CUTOFF)
    r = CliRunner().invoke(main, ["batch", str(path), "--workers", "1"])
    assert r.exit_code == 4, r.output
    assert "3 runs: 1 done, 0 skipped (already complete), 2 failed" in r.stdout
    failed = [line for line in r.stderr.splitlines() if line.startswith("failed: ")]
    assert len(failed) == 2
    assert failed[0].startswith("failed: qingxi#1/base: ") and "stations.budget" in failed[0]
    assert failed[1].startswith("failed: qingxi#3/base: ") and "cutoff_min" in failed[1]
    assert "share the slug" not in r.output
    run = json.loads((latest(tmp_path / "runs" / "good") / "run.json").read_text("utf-8"))
    assert run["config"]["network"]["workers"] == 1
    assert run["config"]["network"]["parallel_min_cells"] == 0


@pytest.mark.slow
def test_a_batch_whose_counties_all_fail_alike_exits_with_their_code(small, tmp_path):
    path = _batch(tmp_path / "batch.yaml", small, BAD_BUDGET, BAD_CUTOFF)
    r = CliRunner().invoke(main, ["batch", str(path), "--workers", "1"])
    assert r.exit_code == 2, r.output
    assert r.stderr.count("failed: qingxi#") == 2
