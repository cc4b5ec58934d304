"""`planner site` end to end through the CLI, and its error contract."""

import hashlib
import json
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import yaml
from click.testing import CliRunner

from planner.cli import main
from tests.conftest import PLAN_ONLY_SETS, latest, run_cli, sets, site_json, site_proc

SUMMARY_KEYS = {
    "county",
    "stations",
    "chargers",
    "repair_points",
    "demand_covered_share",
    "townships_total",
    "townships_with_station",
    "mean_travel_min",
    "capex_total",
    "objective",
    "bound",
    "gap",
    "solver",
    "status",
    "timings_s",
}


@pytest.fixture(scope="module")
def outputs(demo_run):
    summary = json.loads((demo_run / "summary.json").read_text(encoding="utf-8"))
    layers = {
        name: gpd.read_file(demo_run / "sites.gpkg", layer=name)
        for name in ("stations", "repair_points", "candidates", "demand", "townships")
    }
    return demo_run, summary, layers


def test_output_files(outputs):
    out, summary, layers = outputs
    names = {p.name for p in out.iterdir()}
    assert {
        "map.html",
        "sites.gpkg",
        "stations.csv",
        "repair_points.csv",
        "summary.json",
        "run.json",
        "data_dictionary.csv",
        "assignments.csv",
    } <= names
    assert [name for name, _ in pyogrio.list_layers(out / "sites.gpkg")] == [
        "stations",
        "repair_points",
        "candidates",
        "demand",
        "townships",
        "existing_chargers",
        "substations",  # with what the plan asks of each
        "service_areas",
        "tours",  # the demo county plans its repair vans' week
        "tour_stops",
        "layer_styles",  # QGIS's table of default styles (no geometry)
        "assignments",  # the demand's split between stations (no geometry)
    ]
    areas = gpd.read_file(out / "sites.gpkg", layer="service_areas")
    assert list(areas["repair_id"]) == list(layers["repair_points"]["repair_id"])
    assert (areas["service_min"] == summary["repair_response_min"]).all()
    assert (areas["area_km2"] > 0).all() and areas.geom_type.isin(["Polygon", "MultiPolygon"]).all()
    for gdf in layers.values():
        assert gdf.crs.to_epsg() == 4326
    assert summary.keys() >= SUMMARY_KEYS
    assert set(summary["timings_s"]) == {
        "ingest",
        "demand",
        "candidates",
        "network",
        "optimize",
        "tours",
        "report",
    }
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".")]  # no temp left


def test_plan_figures_agree(outputs, demo_config):
    _, s, lay = outputs
    cfg = yaml.safe_load(demo_config.read_text(encoding="utf-8"))
    st, d, t = lay["stations"], lay["demand"], lay["townships"]
    assert s["stations"] == len(st) > 0
    assert s["chargers"] == st["chargers"].sum()
    assert s["repair_points"] == len(lay["repair_points"]) > 0
    # "optimal" only with every pass proven to the configured gap
    assert s["status"] == "optimal" and s["safety_net"] == []
    assert [x["pass"] for x in s["solves"]] == ["coverage", "capex", "drive_time"]
    assert all(x["status"] == "optimal" for x in s["solves"])
    assert s["gap"] == max(x["gap"] for x in s["solves"]) <= cfg["solver"]["mip_gap"] + 1e-9
    # drive times from the assignment: never shorter than to the nearest open station
    assert s["mean_nearest_min"] <= s["mean_travel_min"] <= s["max_travel_min"]
    # coverage recomputed from the demand layer
    share = (d["sessions_day"] * d["covered_share"]).sum() / d["sessions_day"].sum()
    assert s["demand_covered_share"] == pytest.approx(share, abs=1e-5)
    # the coverage objective counts the sessions the existing chargers serve too; the
    # assignment of the final plan serves at least as many (the model is within its gap)
    assert s["existing_sessions_served_day"] > 0
    served_all = st["sessions_served"].sum() + s["existing_sessions_served_day"]
    assert served_all == pytest.approx(s["sessions_served_day"], abs=0.02)
    assert s["objective"] * (1 - 1e-6) <= served_all <= s["bound"] * (1 + 1e-6)
    assert 0.5 < s["demand_covered_share"] <= 1
    # every township gets a station; the budget holds; chargers carry their load
    assert s["townships_total"] == len(t) == s["townships_with_station"]
    assert ((t["stations"] + t["existing_sites"]) >= 1).all()
    # one joint budget for stations and repair points; repair points at stations are cheaper
    rp = lay["repair_points"]
    assert s["repair_mode"] == "joint"
    assert st["capex"].sum() + rp["capex"].sum() <= cfg["stations"]["budget"]
    price = np.where(rp["at_station"], 60_000, 150_000)  # the default costs
    assert (rp["capex"] == price).all() and s["repair_points_at_stations"] == rp["at_station"].sum()
    per_charger = 10  # the default service-level rule
    assert (st["sessions_served"] <= st["chargers"] * per_charger + 1e-6).all()
    assert st["chargers"].between(2, 12).all()
    # served points are within the cutoff
    served = d[d["covered_share"] > 0]
    assert (served["nearest_station_min"] <= cfg["stations"]["cutoff_min"] + 1e-9).all()
    assert d.loc[d["covered_share"] == 0, "station_id"].isna().all()


def test_operator_chargers_are_converted_from_gcj02(outputs, demo_dir):
    out, s, _ = outputs
    from planner.ingest.china import gcj02_to_wgs84
    from planner.ingest.osm import read_osm

    osm_chargers = len(read_osm(demo_dir / "qingxi.osm.pbf").chargers)
    assert s["existing_chargers"] == osm_chargers + 2
    table = pd.read_csv(demo_dir / "qingxi_operator_chargers.csv", encoding="gbk")
    lon, lat = gcj02_to_wgs84(table["经度"].to_numpy(), table["纬度"].to_numpy())
    existing = gpd.read_file(out / "sites.gpkg", layer="existing_chargers").set_index("name")
    for name, x, y in zip(table["名称"], lon, lat, strict=True):
        got = existing.loc[name]
        assert got.geometry.x == pytest.approx(x, abs=1e-7)  # WGS84, not GCJ-02
        assert got.geometry.y == pytest.approx(y, abs=1e-7)
        assert got["operator"] == "小桔充电"


def test_csv_matches_gpkg(outputs):
    out, _, lay = outputs
    csv = pd.read_csv(out / "stations.csv", dtype={"township_id": str})
    st = lay["stations"]
    assert csv["candidate_id"].tolist() == st["candidate_id"].tolist()
    assert csv["lon"].to_numpy() == pytest.approx(st.geometry.x.to_numpy(), abs=1e-6)
    assert csv["lat"].to_numpy() == pytest.approx(st.geometry.y.to_numpy(), abs=1e-6)
    assert csv["township_name"].str.endswith(("镇", "乡")).all()
    from planner.report.dictionary import read_data_dictionary

    dictionary, lang = read_data_dictionary(out / "data_dictionary.csv")  # en, or zh
    assert lang("(not documented)") not in set(dictionary["description"])
    assert {"chargers", "capex", "covered_share"} <= set(dictionary["column"])


def test_manifest(outputs, demo_dir):
    out, summary, _ = outputs
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    roles = {i["role"] for i in run["inputs"]}
    assert roles == {"boundaries", "osm", "population", "substations", "chargers"}
    for item in run["inputs"]:
        digest = hashlib.sha256(Path(item["path"]).read_bytes()).hexdigest()
        assert digest == item["sha256"]
    assert run["config"]["county"]["name"] == "青溪县"
    assert run["packages"]["highspy"] and run["packages"]["pulp"]
    assert run["status"] == summary["status"]


def test_map_has_the_plan(outputs):
    out, s, lay = outputs
    html = (out / "map.html").read_text(encoding="utf-8")
    assert '<html lang="zh-CN">' in html  # the demo county lies in China
    assert html.count("充电站：") == s["stations"]
    assert html.count("维修点：") == s["repair_points"]
    for layer in (
        "乡镇（按覆盖比例着色）",
        "规划充电站（大小表示充电桩数）",
        "维修点",
        "维修服务范围（道路30分钟可达）",
        "现有充电桩",
        "充电需求（大小表示日充电次数）",
        "未覆盖需求（突出显示）",
        "道路",
    ):
        assert json.dumps(layer) in html  # the layer control's names are JSON-escaped
    first = lay["stations"]["name"].iloc[0]
    assert first in html


@pytest.mark.slow
def test_bad_config_exits_2_with_one_line(tmp_path, demo_config):
    raw = yaml.safe_load(demo_config.read_text(encoding="utf-8"))
    raw["stations"]["cuttof_min"] = 10
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    r = run_cli("site", "--config", str(bad), "--out", str(tmp_path / "o"))
    assert r.returncode == 2
    assert "unknown key 'stations.cuttof_min'" in r.stderr
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "o").exists()


@pytest.mark.slow
def test_missing_input_exits_2(tmp_path, demo_config):
    r = site_proc(
        demo_config,
        tmp_path / "o",
        "--set",
        "inputs.osm.path=/nonexistent/county.osm.pbf",
    )
    assert r.returncode == 2
    assert "/nonexistent/county.osm.pbf: OSM file not found" in r.stderr
    assert "Traceback" not in r.stderr


@pytest.mark.slow
def test_infeasible_exits_3_and_keeps_the_old_outputs(tmp_path, demo_config):
    out = tmp_path / "o"
    out.mkdir()
    (out / "run.json").write_text("{}")  # an earlier run's folder
    (out / "keep.txt").write_text("previous run")
    r = site_proc(demo_config, out, "--set", "stations.budget=2e6")
    assert r.returncode == 3
    assert "infeasible" in r.stderr and "cheapest station in every township" in r.stderr
    assert (out / "keep.txt").read_text() == "previous run"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o"]


@pytest.mark.slow
def test_overrides_change_the_plan(tmp_path, small):
    s = site_json(
        small,
        tmp_path / "o",
        *sets("stations.budget=null", "stations.max_stations=16"),
        *PLAN_ONLY_SETS,
    )
    assert s["stations"] <= 16 and s["budget"] is None
    assert s["townships_with_station"] == s["townships_total"]


@pytest.mark.slow
def test_usage_errors():
    r = run_cli("site")
    assert r.returncode == 2 and "exactly one of --config FILE or --demo" in r.stderr


@pytest.mark.slow
def test_demo_command_and_site_demo(tmp_path, monkeypatch):
    r = CliRunner().invoke(main, ["demo", "--out", str(tmp_path / "d"), "--scale", "0.3"])
    assert r.exit_code == 0, r.output
    assert (tmp_path / "d" / "qingxi.yaml").is_file()
    # the README's command builds the demo where it is missing, then runs it (what the
    # plan is like is test_plan_figures_agree's: here no tours, no report, a 5% gap)
    monkeypatch.setenv("PLANNER_DEMO_DIR", str(tmp_path / "demo"))
    quick = [*PLAN_ONLY_SETS, *sets("solver.mip_gap=0.05")]
    r = CliRunner().invoke(main, ["site", "--demo", "--out", str(tmp_path / "o"), "--json", *quick])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["county"] == "青溪县"
    assert (tmp_path / "demo" / "qingxi.osm.pbf").is_file()


@pytest.mark.slow
def test_bad_outlet_table_exits_2_naming_the_row(tmp_path, demo_config):
    bad = tmp_path / "网点.csv"
    bad.write_text("名称,经度,纬度\n超市,117.30,28.30\n市场,117.3O,28.31\n", encoding="gbk")
    outlets = (
        f"inputs.outlets=[{{path: '{bad}', lon_field: 经度, lat_field: 纬度, "
        "name_field: 名称, policy_class: commercial_outlet}]"
    )
    r = site_proc(demo_config, tmp_path / "o", "--set", outlets)
    assert r.returncode == 2, r.stderr
    assert "网点.csv, field '经度', row 3: not a number: '117.3O'" in r.stderr
    assert "Traceback" not in r.stderr and not (tmp_path / "o").exists()


@pytest.mark.slow
def test_osm_boundaries_by_unknown_name_exits_2(tmp_path, demo_config):
    r = site_proc(
        demo_config,
        tmp_path / "o",
        "--set",
        "inputs.boundaries={source: osm, county_name: Atlantis}",
    )
    assert r.returncode == 2
    assert "no complete administrative boundary with name 'Atlantis'" in r.stderr


@pytest.mark.slow
def test_unreachable_villages_error_or_warn(tmp_path, small):
    r = site_proc(
        small,
        tmp_path / "o",
        "--set",
        "repair.response_min=4",
    )
    assert r.returncode == 3
    assert "repair model infeasible" in r.stderr and "villages have no candidate" in r.stderr
    s = site_json(
        small,
        tmp_path / "o",
        # the small county: its joint model of many small repair areas is solved in seconds
        # (the 10 s time limit is only a safety net)
        *sets("repair.response_min=4", "repair.unreachable=warn", "solver.time_limit_s=10"),
        *PLAN_ONLY_SETS,
    )
    assert s["villages_unreached_by_repair"] > 0 and s["repair_points"] > 0


@pytest.mark.slow
def test_out_never_replaces_a_foreign_folder(tmp_path, demo_config):
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "notes.txt").write_text("keep me")
    r = run_cli("site", "--config", str(demo_config), "--out", str(precious))
    assert r.returncode == 2 and "is not a planner output" in r.stderr
    assert (precious / "notes.txt").read_text() == "keep me"
    afile = tmp_path / "afile"
    afile.write_text("x")
    r = run_cli("site", "--config", str(demo_config), "--out", str(afile))
    assert r.returncode == 2 and "is a file, not a folder" in r.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile", "precious"]


@pytest.mark.slow
def test_outlet_tables_become_candidates(tmp_path, small, small_run):
    # the small demo county, as planned from its OSM outlets alone by `small_run`
    n0 = json.loads((small_run / "summary.json").read_text(encoding="utf-8"))["candidates"]
    towns = gpd.read_file(small.parent / "qingxi_boundaries.gpkg", layer="townships")
    seat = towns.geometry.iloc[4].representative_point()
    sheet = tmp_path / "网点.xlsx"
    pd.DataFrame(
        {
            "名称": ["物流园", "农机站", "饭店"],
            "类型": ["物流", "农机", "餐饮"],
            "X": [seat.x, seat.x + 0.01, seat.x - 0.01],
            "Y": [seat.y] * 3,
        }
    ).to_excel(sheet, index=False)
    outlets = (
        f"inputs.outlets=[{{path: '{sheet}', lon_field: X, lat_field: Y, "
        "name_field: 名称, category_field: 类型}]"
    )
    r = site_proc(
        small,
        tmp_path / "b",
        "--json",
        "--set",
        outlets,
        "--set",
        "candidates.category_classes={物流: transport_hub, 农机: commercial_outlet}",
        *PLAN_ONLY_SETS,
    )
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["candidates"] == n0 + 2  # the restaurant is not mapped
    assert "1 outlets left out" in r.stderr
    cand = gpd.read_file(latest(tmp_path / "b") / "sites.gpkg", layer="candidates")
    added = cand[cand["source"].str.startswith("网点.xlsx#")]
    assert sorted(added["name"]) == ["农机站", "物流园"]
    assert set(added["policy_class"]) == {"transport_hub", "commercial_outlet"}


@pytest.mark.slow
def test_error_text_is_not_rich_markup(tmp_path, demo_config):
    table = tmp_path / "subs.csv"
    table.write_text("id[/x],rated[kva],peak_load_kw\nS1,100,50\n")
    r = site_proc(
        demo_config,
        tmp_path / "o",
        "--set",
        f"inputs.substations={{path: '{table}'}}",
    )
    assert r.returncode == 2, r.stderr
    assert "columns are: id[/x], rated[kva], peak_load_kw" in r.stderr
    assert "Traceback" not in r.stderr


@pytest.mark.slow
def test_nothing_to_cover_still_exits_0(tmp_path, small):
    r = site_proc(
        small,
        tmp_path / "o",
        "--set",
        "demand.ev_adoption=0",
        "--set",
        "report.language=en",
        *PLAN_ONLY_SETS,
    )
    assert r.returncode == 0, r.stderr
    assert "n/a" in r.stdout


@pytest.mark.slow
def test_headroom_holds_and_required_sites(tmp_path, outputs, demo_dir, small, small_run):
    _, s, lay = outputs
    assert s["substations_over_headroom"] == []
    table = pd.read_csv(demo_dir / "qingxi_substations.csv").set_index("substation_id")
    headroom = table["rated_kva"] * 0.9 - table["peak_load_kw"]
    kw = lay["stations"].groupby("substation_id")["charger_kw"].sum()
    for sub_id, load in kw.items():
        assert load <= headroom[sub_id] + 1e-6, sub_id
    # the nearly full substation limits its stations to 300 kW
    assert kw.get("QX-35-01", 0) <= 300
    # a required candidate is a station (the small county: a site it left out before)
    cand = gpd.read_file(small_run / "sites.gpkg", layer="candidates")
    chosen = gpd.read_file(small_run / "sites.gpkg", layer="stations")["candidate_id"]
    pick = cand[~cand["candidate_id"].isin(chosen)].iloc[0]
    planned = site_json(
        small, tmp_path / "req", *sets(f"stations.required=[{pick['osm_id']}]"), *PLAN_ONLY_SETS
    )
    st = gpd.read_file(latest(tmp_path / "req") / "sites.gpkg", layer="stations")
    assert pick["osm_id"] in set(st["osm_id"]) and planned["stations"] == len(st)


@pytest.mark.slow
def test_required_errors(tmp_path, demo_config):
    r = site_proc(
        demo_config,
        tmp_path / "o",
        "--set",
        "stations.required=[n999999999]",
    )
    assert r.returncode == 2 and "n999999999 are not candidate sites" in r.stderr


@pytest.mark.slow
def test_exports_in_cgcs2000(tmp_path, small):
    site_json(
        small, tmp_path / "o", *sets("report.extra_crs=[EPSG:4490, EPSG:4548]"), *PLAN_ONLY_SETS
    )
    out = latest(tmp_path / "o")
    wgs = gpd.read_file(out / "sites.gpkg", layer="stations")
    cgcs = gpd.read_file(out / "sites_EPSG4490.gpkg", layer="stations")
    gk = gpd.read_file(out / "sites_EPSG4548.gpkg", layer="stations")
    assert cgcs.crs.to_epsg() == 4490 and gk.crs.to_epsg() == 4548
    assert gk.geometry.x.between(300_000, 700_000).all()  # GK metres, no zone prefix
    back = gk.to_crs(4326)
    assert np.allclose(back.geometry.x, wgs.geometry.x, atol=1e-8)
    assert np.allclose(back.geometry.y, wgs.geometry.y, atol=1e-8)
    assert cgcs["name"].tolist() == wgs["name"].tolist()
    r = site_proc(
        small,
        tmp_path / "x",
        "--set",
        "report.extra_crs=[EPSG:123456]",
    )
    assert r.returncode == 2 and "'report.extra_crs'" in r.stderr


@pytest.mark.slow
def test_required_and_excluded_overlap_exits_2(tmp_path, outputs, demo_config):
    _, _, lay = outputs
    site = lay["candidates"]["osm_id"].iloc[0]
    r = site_proc(
        demo_config,
        tmp_path / "o",
        "--set",
        f"stations.required=[{site}]",
        "--set",
        f"stations.excluded=[{site}]",
    )
    assert r.returncode == 2 and f"both name {site}" in r.stderr


def test_a_piped_table_keeps_its_columns_whole(tmp_path):
    """Output that is not a terminal (a log, a batch's output) gets tables of
    ``PIPE_WIDTH`` characters, so a run folder's path is not cut over two lines."""
    from planner.cli import PIPE_WIDTH, _out

    assert not sys.stdout.isatty() and _out.width == PIPE_WIDTH
