"""The batch's progress lines: the time left, from the runs done so far."""

from __future__ import annotations

import pytest

from planner.batch_dask import _progress_line, time_left
from planner.datatypes import TaskResult


@pytest.mark.parametrize("workers", [1, 2, 4])
def test_the_time_left_is_the_time_the_runs_left_take_on_the_workers(workers):
    """8 runs of 15 s each on ``workers`` workers: after every round of runs, the
    estimate is the time the runs still take (the workers are in the rate already)."""
    total, each = 8, 15.0
    for finished_rounds in range(1, total // workers):
        done = finished_rounds * workers
        elapsed = finished_rounds * each
        truly_left = (total - done) / workers * each
        assert time_left(elapsed, done, total) == pytest.approx(truly_left)
    assert time_left(0.0, 0, total) == 0.0 and time_left(99.0, total, total) == 0.0


def test_the_progress_line_names_the_run_and_the_time_left():
    results = [TaskResult("qingxi", "base", "done", "", seconds=14.96)]
    results.append(TaskResult("shimen", "big", "failed", "", seconds=1.2))
    line = _progress_line(results, 8, 30.0)
    assert line == "2/8 runs done (1 failed); shimen/big failed in 1.2 s; about 90 s left"
