"""The county benchmark: every model on the demo county, CSV out."""

import csv
import io

import pytest

from benchmarks.county import HEADER, run_county


@pytest.mark.slow
def test_county_benchmark_prints_csv_and_targets(demo_config):
    out = io.StringIO()
    rows = run_county(
        config_path=demo_config,
        demo_scale=None,
        methods=["classic", "start", "stations"],
        gap=0.001,
        time_limit_s=60,
        out=out,
    )
    lines = out.getvalue().splitlines()
    table = list(csv.reader(lines[:4]))
    assert tuple(table[0]) == HEADER
    assert [r[1] for r in table[1:]] == ["classic", "start", "stations"]
    assert lines[4:] == ["target_met: classic yes", "target_met: stations yes"]
    # the classic model ignores charger capacity, so it covers at least as much
    classic, start, stations = rows
    assert classic["objective"] >= stations["objective"] * (1 - 0.001)
    assert stations["gap"] <= 0.001
    assert float(table[3][2]) == pytest.approx(stations["objective"], rel=1e-9)
    # the start is a plan of the stations model: within its bound, no bound of its own
    assert start["status"] == "heuristic" and table[2][3] == ""
    assert 0 < start["objective"] <= stations["bound"] * (1 + 1e-9)
