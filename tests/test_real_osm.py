"""End to end on real OpenStreetMap extracts of Liechtenstein (read in place from ../shared)."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from planner.cli import main
from planner.config import load_config
from planner.ingest import load_county
from planner.network import build_graph

REPO = Path(__file__).resolve().parents[1]
OSM = REPO.parent / "shared" / "data" / "osm"
PBF = OSM / "liechtenstein-2021-10.osm.pbf"
BZ2 = OSM / "liechtenstein-2013-08-03.osm.bz2"
CONFIG = REPO / "data" / "raw" / "liechtenstein.yaml"

pytestmark = [
    pytest.mark.skipif(
        not PBF.is_file(), reason=f"real OSM extracts not found at {OSM} (../shared is absent)"
    ),
    pytest.mark.slow,  # real extracts through the whole pipeline
]


def test_ingest_liechtenstein():
    cfg = load_config(CONFIG)
    county = load_county(cfg)
    assert len(county.townships) == 11
    assert set(county.townships["township_name"]) >= {"Vaduz", "Schaan", "Balzers", "Planken"}
    assert len(county.chargers) == 3
    # two power=substation and the Umspannwerk Schaan, tagged with the old power=station
    assert len(county.substations) == 3
    assert "Umspannwerk Schaan" in set(county.substations["name"])
    assert (county.power_lines["power"] == "line").sum() == 11
    assert (county.power_lines["power"] == "minor_line").sum() == 4
    assert county.crs.to_epsg() == 32632  # UTM 32N outside China
    g = build_graph(county.roads, county.crs, speeds_kmh=cfg.network.speeds_kmh)
    # one strongly connected drivable network; ~465 km of road, each way counted once
    pairs = pd.DataFrame(
        {"a": np.minimum(g.tail, g.head), "b": np.maximum(g.tail, g.head), "m": g.length_m}
    ).drop_duplicates(["a", "b"])
    assert 440 < pairs["m"].sum() / 1000 < 490
    assert 20_000 < g.n_nodes < 26_000
    assert g.dropped_nodes < 0.02 * g.n_nodes


@pytest.mark.parametrize("extract", [PBF, BZ2], ids=["pbf-2021", "xml-bz2-2013"])
def test_site_liechtenstein(tmp_path, extract):
    out = tmp_path / "li"
    args = [
        "site",
        "--config",
        str(CONFIG),
        "--out",
        str(out),
        "--json",
        "--set",
        f"inputs.osm.path={extract}",
    ]
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 0, r.output
    s = json.loads(r.stdout)
    assert s["townships_total"] == 11
    assert s["townships_with_station"] == 11  # every township covered
    assert s["population"] == pytest.approx(39_680, abs=2)
    assert s["status"] == "optimal" and s["safety_net"] == []
    assert [x["pass"] for x in s["solves"]] == ["coverage", "capex", "drive_time"]
    assert all(x["status"] == "optimal" for x in s["solves"])
    assert s["gap"] == max(x["gap"] for x in s["solves"]) <= 0.005 + 1e-9
    assert s["mean_nearest_min"] <= s["mean_travel_min"]
    assert s["demand_covered_share"] > 0.9
    assert s["repair_points"] >= 1
    if extract == PBF:
        assert s["existing_chargers"] == 3
