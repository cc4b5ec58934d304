"""The pre-solve diagnosis names a cause exactly when the solver finds no plan."""

import logging
import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import yaml

from planner import columns as C
from planner.config import SolverSection, load_config
from planner.datatypes import SparseTimes
from planner.errors import InfeasibleError
from planner.optimize import mclp
from planner.optimize.diagnose import station_problems
from planner.optimize.inputs import station_rules

HIGHS = SolverSection(name="highs", mip_gap=0.0)


def _config(tmp_path):
    raw = {
        "county": {"name": "测试县"},
        "inputs": {"boundaries": {"path": "b.gpkg"}, "osm": {"path": "r.osm.pbf"}},
        "stations": {"max_stations": 10, "township_min": True},
    }
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return load_config(path)


def _sites(rows):
    """Sites from (township, substation, headroom kW, existing chargers) rows."""
    t, s, h, e = zip(*rows, strict=True)
    return gpd.GeoDataFrame(
        {
            C.OSM_ID: [f"n{k}" for k in range(len(rows))],
            C.SOURCE: "amenity=fuel",
            C.TOWNSHIP_ID: t,
            C.SUBSTATION_ID: s,
            C.HEADROOM_KW: np.asarray(h, dtype=float),
            C.STATION_CAPEX: 100_000.0,
            C.EXISTING_CHARGERS: np.asarray(e, dtype=float),
        },
        geometry=gpd.points_from_xy(range(len(rows)), [0] * len(rows)),
    )


# townships T1-T3 have one site each, all fed by substation A; T4's site is fed by B
_BASE = [("T1", "A", 300, 0), ("T2", "A", 300, 0), ("T3", "A", 300, 0), ("T4", "B", 9e3, 0)]


@pytest.mark.parametrize(
    ("rows", "infeasible"),
    [
        (_BASE, True),  # three stations of 2 x 60 kW need 360 kW of A's 300
        ([(t, s, 360 if s == "A" else h, e) for t, s, h, e in _BASE], False),
        ([*_BASE, ("T3", "B", 9e3, 0)], False),  # T3 can be fed by B
        ([*_BASE[:3], ("T1", "A", 300, 4), _BASE[3]], False),  # an existing charger in T1
        ([(t, s, np.nan if s == "A" else h, e) for t, s, h, e in _BASE], False),  # unknown
        # T1's only site has chargers in place at a substation with no headroom left (a
        # rollout's station of an earlier year): T1 has its station, nothing is short
        ([("T1", "A", 0, 4), ("T2", "B", 9e3, 0), ("T3", "B", 9e3, 0), _BASE[3]], False),
    ],
    ids=["short", "enough", "other-feeder", "existing", "unknown-headroom", "existing-full"],
)
def test_shared_headroom_is_found_when_the_solver_finds_no_plan(tmp_path, rows, infeasible):
    config = _config(tmp_path)
    sites = _sites(rows)
    townships = pd.DataFrame(
        {C.TOWNSHIP_ID: ["T1", "T2", "T3", "T4"], C.TOWNSHIP_NAME: ["一", "二", "三", "四"]}
    )
    causes = station_problems(sites, townships, config)
    assert bool(causes) == infeasible
    if infeasible:
        assert causes == [
            "substation A has 300 kW of headroom, room for 2 stations of 2 x 60 kW, but 3 "
            "townships can only get a station fed by it: 一 (T1), 二 (T2), 三 (T3) (raise its "
            "headroom in the substation table, or stations.respect_headroom: false)"
        ]
    # the solver agrees: one demand point per site, each reaching only its own site
    n = len(sites)
    demand = pd.DataFrame({C.SESSIONS_DAY: np.full(n, 5.0)})
    reach = SparseTimes(np.arange(n), np.arange(n), np.ones(n), (n, n))
    rules = station_rules(demand, sites, townships, config)
    if infeasible:
        with pytest.raises(InfeasibleError):
            mclp(reach, demand[C.SESSIONS_DAY].to_numpy(), rules, solver=HIGHS)
    else:
        res = mclp(reach, demand[C.SESSIONS_DAY].to_numpy(), rules, solver=HIGHS)
        assert res.open.sum() >= 3


def test_a_budget_below_any_new_station_is_a_year_without_new_ones_when_chargers_stand(
    tmp_path, caplog
):
    """A rollout's pause year: every township has a station from an earlier year, so a
    budget below the cheapest new station opens none (a warning), while a county with no
    charger in place still gets the diagnosis."""
    config = _config(tmp_path).model_copy(deep=True)
    config.stations.budget = 50_000.0
    config.stations.respect_headroom = False
    townships = pd.DataFrame({C.TOWNSHIP_ID: ["T1", "T2"], C.TOWNSHIP_NAME: ["一", "二"]})
    standing = _sites([("T1", "A", 9e3, 4), ("T2", "A", 9e3, 2), ("T2", "A", 9e3, 0)])
    with caplog.at_level(logging.WARNING, logger="planner.optimize.diagnose"):
        assert station_problems(standing, townships, config) == []
    assert "below the cheapest new station" in caplog.text and "opens none" in caplog.text
    empty = _sites([("T1", "A", 9e3, 0), ("T2", "A", 9e3, 0)])
    causes = station_problems(empty, townships, config)
    assert any("stations.budget 50,000 is below the cheapest station" in c for c in causes)


@pytest.mark.parametrize(
    ("item", "told"),
    [
        ("2026:0:0.12", "the budget must be above 0; for a year without new stations"),
        ("25:9e6:0.08", "25 is not a calendar year"),
        ("2026:x:0.1", "use YEAR:BUDGET:ADOPTION[:TARGET]"),
    ],
)
def test_a_rollout_year_is_checked_before_anything_runs(item, told):
    from planner.cli.multi import _year_plan
    from planner.errors import ConfigError

    with pytest.raises(ConfigError, match=re.escape(told)):
        _year_plan(item)
    assert _year_plan("2026:1:0.12").budget == 1.0
