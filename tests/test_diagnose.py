"""The pre-solve diagnosis names a cause exactly when the solver finds no plan."""

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
