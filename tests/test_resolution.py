"""demand.resolution_m: full-resolution demand, its deprecated name, and the maps' squares."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely
from affine import Affine
from pyproj import CRS

from planner import columns as C
from planner.config import DemandSection, load_config
from planner.datatypes import PopulationGrid
from planner.demand import demand_from_raster, demand_from_settlements
from planner.errors import ConfigError
from planner.i18n import translator
from planner.network import build_graph, snap_points, travel_times
from planner.report.map.elements import Overlay
from planner.report.map.layers import demand_layers
from planner.report.sections import data_notes
from planner.squares import POINTS, display_side, merge_squares, raster_cell_m
from tests.conftest import latest, sets, site_json
from tests.test_network import CRS_M, SPEEDS, X0, Y0, ways

UTM = CRS.from_epsg(32650)
EN, ZH = translator("en"), translator("zh")


def _grid(seed: int = 3) -> tuple[PopulationGrid, gpd.GeoDataFrame]:
    """2 x 3 km of 100 m cells (20 rows x 30 columns) aligned on whole km, 1-50 people
    each, a few empty; two townships splitting it at x = 502 km."""
    rng = np.random.default_rng(seed)
    values = rng.integers(1, 51, size=(20, 30)).astype(float)
    values[rng.random((20, 30)) < 0.1] = 0.0
    grid = PopulationGrid(
        values, Affine(100, 0, 500_000, 0, -100, 3_132_000), UTM, float(values.sum())
    )
    towns = gpd.GeoDataFrame(
        {C.TOWNSHIP_ID: ["W", "E"]},
        geometry=[
            shapely.box(500_000, 3_130_000, 502_000, 3_132_000),
            shapely.box(502_000, 3_130_000, 503_000, 3_132_000),
        ],
        crs=UTM,
    )
    return grid, towns


def _demand(grid: PopulationGrid, towns: gpd.GeoDataFrame, **params: object) -> gpd.GeoDataFrame:
    return demand_from_raster(grid, towns, UTM, params=DemandSection(**params))


def test_100m_and_1km_keep_the_people_and_sessions():
    grid, towns = _grid()
    fine = _demand(grid, towns, resolution_m=100)
    coarse = _demand(grid, towns, resolution_m=1000)
    populated = int((grid.values > 0).sum())
    assert len(fine) == populated  # one point per populated 100 m cell
    assert len(coarse) == 6  # 2 x 3 km squares, each with people
    for col in (C.POPULATION, C.EVS, C.SESSIONS_DAY, C.KWH_DAY):
        assert fine[col].sum() == pytest.approx(coarse[col].sum())
    assert fine[C.POPULATION].sum() == pytest.approx(grid.values.sum())
    # each 1 km point is the population-weighted centre of its hundred cells
    rows, cols = np.nonzero(grid.values[:10, :10])
    w = grid.values[rows, cols]
    x = np.average(500_000 + 100 * cols + 50, weights=w)
    y = np.average(3_132_000 - 100 * rows - 50, weights=w)
    first = coarse.cx[500_000:501_000, 3_131_000:3_132_000]
    assert len(first) == 1
    assert first.geometry.iloc[0].x == pytest.approx(x)
    assert first.geometry.iloc[0].y == pytest.approx(y)
    # sessions per township agree too
    by_town = fine.groupby(C.TOWNSHIP_ID)[C.SESSIONS_DAY].sum()
    assert by_town.to_dict() == pytest.approx(
        coarse.groupby(C.TOWNSHIP_ID)[C.SESSIONS_DAY].sum().to_dict()
    )


def test_native_is_one_point_per_populated_cell_at_its_centre():
    grid, towns = _grid()
    d = _demand(grid, towns, resolution_m="native")
    rows, cols = np.nonzero(grid.values)
    assert len(d) == len(rows)
    got = sorted(zip(d.geometry.x.round(6), d.geometry.y.round(6), d[C.POPULATION], strict=True))
    want = sorted(
        zip(500_050.0 + 100 * cols, 3_131_950.0 - 100 * rows, grid.values[rows, cols], strict=True)
    )
    assert got == want
    assert d[C.DEMAND_ID].is_unique


def test_native_points_come_in_the_order_of_squares_of_the_cell_size():
    # the same points as squares of one cell each, in the same order (west to east,
    # south to north): the same model, which the solvers are sensitive to (the order of
    # the raster's rows made a county's coverage pass 4x slower)
    grid, towns = _grid()
    native = _demand(grid, towns, resolution_m="native")
    squares = _demand(grid, towns, resolution_m=100)
    assert native.geometry.x.tolist() == pytest.approx(squares.geometry.x.tolist())
    assert native.geometry.y.tolist() == pytest.approx(squares.geometry.y.tolist())
    assert native[C.DEMAND_ID].tolist() == squares[C.DEMAND_ID].tolist()


def test_native_cells_of_a_raster_in_degrees():
    # 30 x 30 cells of 0.001 degrees (about 100 x 111 m at 25 N) around 117.5 E
    values = np.full((30, 30), 5.0)
    values[::2, ::3] = 0.0
    grid = PopulationGrid(values, Affine(0.001, 0, 117.5, 0, -0.001, 25.03), CRS(4326), 0.0)
    towns = gpd.GeoDataFrame(
        {C.TOWNSHIP_ID: ["A"]}, geometry=[shapely.box(400_000, 2_700_000, 700_000, 2_900_000)]
    ).set_crs(UTM)
    width, height = raster_cell_m(grid, UTM)
    assert width == pytest.approx(100.9, abs=0.5)
    assert height == pytest.approx(110.7, abs=0.5)
    d = demand_from_raster(grid, towns, UTM, params=DemandSection(resolution_m="native"))
    assert len(d) == int((values > 0).sum())
    assert d[C.POPULATION].sum() == pytest.approx(values.sum())


def test_a_resolution_finer_than_the_cells_uses_the_cells_with_a_warning(caplog):
    grid, towns = _grid()
    native = _demand(grid, towns, resolution_m="native")
    with caplog.at_level(logging.WARNING, logger="planner.squares"):
        finer = _demand(grid, towns, resolution_m=40)
    assert "demand.resolution_m=40 is finer than the population raster's cells" in caplog.text
    assert "about 100 x 100 m" in caplog.text
    assert len(finer) == len(native)
    assert finer[C.POPULATION].tolist() == native[C.POPULATION].tolist()
    caplog.clear()
    _demand(grid, towns, resolution_m=100)  # the cell size itself: no warning
    assert "finer than" not in caplog.text


def test_the_report_prints_the_resolution_used_and_the_one_asked(tmp_path):
    from planner.report.assumptions import assumptions_table

    grid, towns = _grid()
    used = _demand(grid, towns, resolution_m=40).attrs["resolution_used"]
    assert used == "native" and _demand(grid, towns).attrs["resolution_used"] == 1000
    path = tmp_path / "c.yaml"
    path.write_text(
        "county: {name: X, slug: x}\n"
        "inputs: {boundaries: {path: b.gpkg}, osm: {path: r.osm.pbf}}\n"
        "demand: {resolution_m: 40}\nstations: {max_stations: 10}\n",
        encoding="utf-8",
    )
    config = load_config(path)
    rows = assumptions_table(config, lang=ZH, summary={"demand_resolution_used": used})
    row = rows[rows.iloc[:, 0].str.startswith("需求点分辨率")].iloc[0].tolist()
    assert row[1:3] == ["人口栅格原始像元（设定值：40 米）", "-"]
    rows = assumptions_table(config, lang=EN, summary={"demand_resolution_used": 40.0})
    assert rows[rows.iloc[:, 0].str.startswith("Demand resolution")].iloc[0].tolist()[1] == "40"


def test_min_population_applies_to_the_points_at_their_resolution():
    grid, towns = _grid()
    fine = _demand(grid, towns, resolution_m=100, min_population=20)
    assert fine[C.POPULATION].min() >= 20
    assert len(fine) == int((grid.values >= 20).sum())
    assert len(_demand(grid, towns, resolution_m=1000, min_population=20)) == 6


def test_resolution_values_and_errors():
    assert DemandSection().resolution_m == 1000
    assert DemandSection(resolution_m=" Native ").resolution_m == "native"
    assert DemandSection(resolution_m="250").resolution_m == 250
    assert DemandSection(resolution_m=10_000).resolution_m == 10_000
    for bad in (0, -100, "fine", True, float("inf"), "inf", None, [100, 200], 10_001, "1e8"):
        with pytest.raises(ValueError, match=r"a positive number of metres .* or 'native'"):
            DemandSection(resolution_m=bad)


def test_cell_size_m_still_loads_with_a_warning(tmp_path, caplog):
    path = tmp_path / "c.yaml"
    path.write_text(
        "county: {name: X, slug: x}\n"
        "inputs: {boundaries: {path: b.gpkg}, osm: {path: r.osm.pbf}, population: {path: p.tif}}\n"
        "stations: {max_stations: 5}\n"
        "demand: {cell_size_m: 500}\n",
        encoding="utf-8",
    )
    with caplog.at_level(logging.WARNING, logger="planner.config.demand"):
        cfg = load_config(path)
    assert cfg.demand.resolution_m == 500
    assert cfg.demand.cell_size_m == 500  # still readable
    assert "demand.cell_size_m is deprecated: write demand.resolution_m" in caplog.text
    assert "cell_size_m" not in cfg.model_dump()["demand"]
    assert "resolution_m" in cfg.demand.model_fields_set  # the county set it
    with pytest.raises(ConfigError, match="cell_size_m is its old name"):
        load_config(path, overrides=["demand.resolution_m=100"])


def test_settlement_demand_ignores_the_resolution_with_a_warning(caplog):
    places = gpd.GeoDataFrame(
        {C.NAME: ["a", "b"], C.PLACE: ["town", "village"], C.POPULATION: [5000.0, 800.0]},
        geometry=[shapely.Point(500_500, 3_130_500), shapely.Point(500_600, 3_130_500)],
        crs=UTM,
    )
    county = gpd.GeoDataFrame(geometry=[shapely.box(500_000, 3_130_000, 501_000, 3_131_000)])
    county = county.set_crs(UTM)
    towns = county.assign(**{C.TOWNSHIP_ID: ["T"]})
    with caplog.at_level(logging.WARNING, logger="planner.demand"):
        d = demand_from_settlements(places, county, towns, params=DemandSection())
        assert "resolution_m" not in caplog.text
        same = demand_from_settlements(
            places, county, towns, params=DemandSection(resolution_m=100)
        )
    assert "demand.resolution_m=100 does not apply to settlement demand" in caplog.text
    assert same[C.POPULATION].tolist() == d[C.POPULATION].tolist() == [5000, 800]


def _outcome(n_side: int = 30) -> gpd.GeoDataFrame:
    """Demand points every 100 m on an n x n grid with covered shares and townships."""
    rng = np.random.default_rng(5)
    xs, ys = np.meshgrid(np.arange(n_side) * 100.0 + 500_050, np.arange(n_side) * 100 + 50)
    n = n_side * n_side
    pop = rng.integers(1, 100, n).astype(float)
    return gpd.GeoDataFrame(
        {
            C.DEMAND_ID: [f"d{i:05d}" for i in range(n)],
            C.POPULATION: pop,
            C.EVS: pop * 0.02,
            C.SESSIONS_DAY: pop * 0.003,
            C.KWH_DAY: pop * 0.075,
            C.TOWNSHIP_ID: np.where(xs.ravel() < 501_000, "W", "E"),
            C.COVERED_SHARE: rng.choice([0.0, 0.5, 1.0], n),
        },
        geometry=gpd.points_from_xy(xs.ravel(), ys.ravel()),
        crs=UTM,
    )


def test_merge_squares_keeps_sums_and_covered_sessions():
    d = _outcome()
    sq = merge_squares(d, 1000)
    assert len(sq) == 9 and sq[POINTS].sum() == len(d)
    for col in (C.POPULATION, C.EVS, C.SESSIONS_DAY, C.KWH_DAY):
        assert sq[col].sum() == pytest.approx(d[col].sum())
    covered = (sq[C.SESSIONS_DAY] * sq[C.COVERED_SHARE]).sum()
    assert covered == pytest.approx((d[C.SESSIONS_DAY] * d[C.COVERED_SHARE]).sum())
    # each square: its most populous point's id, and the brute-force weighted centre
    keys = (
        (d.geometry.x // 1000).astype(int).astype(str)
        + ","
        + (d.geometry.y // 1000).astype(int).astype(str)
    )
    for _, grp in d.groupby(keys):
        row = sq[sq[C.DEMAND_ID] == grp.loc[grp[C.POPULATION].idxmax(), C.DEMAND_ID]]
        assert len(row) == 1
        w = grp[C.POPULATION]
        assert row.geometry.x.iloc[0] == pytest.approx(np.average(grp.geometry.x, weights=w))
        assert row[POINTS].iloc[0] == len(grp)


def test_display_side_is_the_finest_that_fits():
    d = _outcome()  # 900 points on 3 x 3 km
    assert display_side(d, 900) is None
    assert display_side(d, 899) == 250  # 12 x 12 = 144 squares
    assert display_side(d, 100) == 500  # 36 squares
    assert display_side(d, 10) == 1000  # 9
    assert display_side(d, 1) == 5000


def test_map_demand_layer_merges_above_the_threshold():
    d = _outcome()
    legend: list[dict] = []
    names = {"W": "West", "E": "East"}
    demand, uncovered = demand_layers(d, names, legend, lang=EN, max_points=10)
    rows = _spec(demand)["points"]
    assert len(rows) == 9
    assert demand.layer_name == "Demand in 1 km squares (sized by sessions/day)"
    assert "; demand points in this 1 km square: " in rows[0][2]["t"]
    assert legend[0]["note"] == (
        "900 demand points, drawn merged into 9 squares of 1 km; the GIS files hold every point"
    )
    assert 0 < len(_spec(uncovered)["points"]) <= 9
    legend = []
    demand, _ = demand_layers(d, names, legend, lang=ZH, max_points=10)
    assert "1 公里" in demand.layer_name and "1 公里" in legend[0]["note"]
    legend = []
    demand, _ = demand_layers(d, names, legend, lang=EN, max_points=1000)
    assert len(_spec(demand)["points"]) == 900 and "note" not in legend[0]
    assert demand.layer_name == "Demand (sized by sessions/day)"


def test_uncovered_demand_says_why_and_when_it_is_merged():
    """A point beyond every station's cutoff and one whose stations are full are told
    apart, also summed per square when the map merges them."""
    d = _outcome(4)
    d[C.SESSIONS_DAY] = 1.0
    d[C.COVERED_SHARE] = [0.0, 0.5] + [1.0] * 14
    d[C.NEAREST_STATION_MIN] = [np.nan, 7.0] + [5.0] * 14  # point 0 reaches no station
    _, uncovered = demand_layers(d, {"W": "West"}, [], lang=EN, max_points=100)
    texts = [p[2]["t"] for p in _spec(uncovered)["points"]]
    assert uncovered.layer_name == "Uncovered demand (highlighted)"
    assert texts == [
        "not covered: 1.0 sessions/day beyond the drive-time cutoff (West)",
        "not covered: 0.5 sessions/day within the drive-time cutoff, but the stations in "
        "reach are full (West)",
    ]
    _, uncovered = demand_layers(d, {"W": "West"}, [], lang=EN, max_points=1)
    (row,) = _spec(uncovered)["points"]
    assert uncovered.layer_name.startswith("Uncovered demand in ")
    assert row[2]["t"].startswith(
        "not covered: 1.0 sessions/day beyond the drive-time cutoff, 0.5 within it where "
        "the stations in reach are full (West); demand points in this "
    )
    _, zh = demand_layers(d, {"W": "西"}, [], lang=ZH, max_points=1)
    assert "充电桩已满" in _spec(zh)["points"][0][2]["t"] and "方格" in zh.layer_name


def _spec(overlay: Overlay) -> dict:
    return json.loads(overlay.spec_json)


def test_travel_times_with_many_points_on_each_node_match_brute_force():
    # 2,000 demand points on a 150-node graph: most nodes carry several points, each with
    # its own access leg; the sparse matrix must hold exactly the pairs within the cutoff
    rng = np.random.default_rng(11)
    pos = rng.uniform(0, 12_000, size=(150, 2))
    tri = shapely.delaunay_triangles(shapely.MultiPoint(pos), only_edges=True)
    index = {tuple(np.round(p, 6)): i + 1 for i, p in enumerate(pos)}
    spec = [
        ([index[tuple(np.round(c, 6))] for c in line.coords], {"highway": "tertiary"})
        for line in shapely.get_parts(tri)
    ]
    g = build_graph(
        ways({i + 1: tuple(p) for i, p in enumerate(pos)}, spec), CRS_M, speeds_kmh=SPEEDS
    )
    pts = rng.uniform(0, 12_000, size=(2000, 2)) + np.array([X0, Y0])
    demand = snap_points(
        g, gpd.GeoSeries(gpd.points_from_xy(pts[:, 0], pts[:, 1]), crs=CRS_M), access_speed_kmh=15
    )
    sites = snap_points(
        g,
        gpd.GeoSeries(gpd.points_from_xy(pts[:40, 0], pts[:40, 1]), crs=CRS_M),
        access_speed_kmh=15,
    )
    assert len(np.unique(demand.node)) < 200  # points share nodes
    cutoff = 9.0
    res = travel_times(g, sites, demand, cutoff_min=cutoff, to_sources=True)
    got = {(int(r), int(c)): m for r, c, m in zip(res.rows, res.cols, res.minutes, strict=True)}
    nxg = nx.DiGraph()
    for t, h, s in zip(g.tail, g.head, g.time_s, strict=True):
        nxg.add_edge(int(t), int(h), weight=float(s))
    back = nxg.reverse(copy=False)
    expected = {}
    for k in range(len(sites.node)):
        dist = nx.single_source_dijkstra_path_length(back, int(sites.node[k]), weight="weight")
        for i in range(len(demand.node)):
            sec = dist.get(int(demand.node[i]), np.inf)
            total = sec + demand.access_s[i] + sites.access_s[k]
            if total <= cutoff * 60:
                expected[(i, k)] = total / 60
    assert got.keys() == expected.keys() and len(got) > 1000
    for key, val in expected.items():
        assert got[key] == pytest.approx(val, abs=1e-9)


@pytest.fixture(scope="module")
def squares_run(small: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, Path]:
    """The small demo county (~300 demand points at 1 km) run with a map limit of 100
    demand points: its summary and run folder."""
    out = tmp_path_factory.mktemp("squares") / "out"
    summary = site_json(small, out, *sets("report.map_demand_points=100", "tours.enabled=false"))
    return summary, latest(out)


def test_a_run_draws_demand_in_squares_and_exports_every_point(squares_run):
    # a limit of 100 merges the points into squares of 2 km or more on both maps, while
    # sites.gpkg and demand.csv keep every point
    summary, run = squares_run
    assert summary["demand_resolution_used"] == 1000  # the squares' side, as asked
    n = summary["demand_points"]
    assert n > 200
    demand = gpd.read_file(run / "sites.gpkg", layer="demand")
    assert len(demand) == n and demand[C.DEMAND_ID].is_unique
    assert demand[C.POPULATION].sum() == pytest.approx(summary["population"], abs=1)
    assert len(pd.read_csv(run / "demand.csv")) == n
    side = display_side(demand.to_crs(summary["crs_metric"]), 100)
    assert side is not None and side >= 2000
    km = f"{side / 1000:g} 公里"  # the demo county is in China: the map is in Chinese
    html = (run / "map.html").read_text(encoding="utf-8")
    spec = _overlay_spec(html, "demand")
    m = len(spec["points"])
    assert 0 < m <= 100
    assert all(f"；此{km}方格内的需求点：" in p[2]["t"] for p in spec["points"])
    assert f"共 {n:,} 个需求点，地图上合并为 {m} 个{km}方格显示；GIS 文件保留全部需求点" in html
    assert json.dumps(f"充电需求（按{km}方格合并，大小表示日充电次数）") in html  # layer control
    sessions = [float(re.search(r"日充电 ([\d.,]+) 次", p[2]["t"])[1]) for p in spec["points"]]
    assert sum(sessions) == pytest.approx(summary["sessions_day"], rel=0.01)  # texts round
    assert (run / "map.png").stat().st_size > 0  # drawn with the same squares


def _overlay_spec(html: str, key: str) -> dict:
    """The spec of the overlay ``key`` in a map.html page."""
    for m in re.finditer(r"plannerMap\.overlay\((\{.*?\})\);\n", html):
        spec = json.loads(m.group(1))
        if spec.get("key") == key:
            return spec
    raise AssertionError(f"no overlay {key!r} in map.html")


def test_tours_visit_fine_demand_as_1km_villages():
    from planner.config import Config
    from planner.tours.stage import tour_villages

    grid, towns = _grid()
    fine = _demand(grid, towns, resolution_m=100)
    cfg = Config.model_validate(
        {
            "county": {"name": "X", "slug": "x"},
            "inputs": {"boundaries": {"path": "b.gpkg"}, "osm": {"path": "r.osm.pbf"}},
            "stations": {"max_stations": 5},
            "demand": {"resolution_m": 100},
        }
    )
    villages = tour_villages(fine, cfg)
    coarse = _demand(grid, towns, resolution_m=1000)
    assert len(villages) == len(coarse) == 6
    assert sorted(villages[C.EVS].round(9)) == sorted(coarse[C.EVS].round(9))
    assert set(villages[C.DEMAND_ID]) <= set(fine[C.DEMAND_ID])
    cfg.demand.resolution_m = 1000
    assert tour_villages(coarse, cfg) is coarse


def test_the_legend_of_a_merged_map_says_so_in_a_browser(squares_run, browser):
    from tests.map_pages import open_map

    summary, run = squares_run
    page = open_map(browser, run / "map.html", (1366, 768))
    try:
        note = page.locator(".pl-legend-note")
        assert note.count() == 1 and note.is_visible()
        n = f"{summary['demand_points']:,}"
        assert note.inner_text().startswith(f"共 {n} 个需求点，地图上合并为 ")
        squares = page.evaluate("plannerMap.layers['demand'].getLayers().length")
        assert 0 < squares <= 100
        assert not page.blocked and not page.problems
    finally:
        page.close()


def test_people_left_out_by_min_population_are_a_warning_above_half_a_percent(caplog):
    grid, towns = _grid()
    total = grid.values.sum()
    with caplog.at_level(logging.INFO, logger="planner.demand"):
        d = _demand(grid, towns, resolution_m=100, min_population=3)
    lost = grid.values[(grid.values > 0) & (grid.values < 3)].sum()
    assert d[C.POPULATION].sum() == pytest.approx(total - lost)
    assert 0 < lost / total <= 0.005
    assert [r.levelname for r in caplog.records if "min_population" in r.message] == ["INFO"]
    # below the warning's threshold too, the run's summary and report say it
    small = (grid.values > 0) & (grid.values < 3)
    left = {"points": int(small.sum()), "population": round(lost, 1), "min_population": 3.0}
    assert d.attrs["left_out"] == left
    summary = {"population": float(d[C.POPULATION].sum()), "demand_left_out": d.attrs["left_out"]}
    (note,) = [n for n in data_notes(summary) if "left out of the demand" in n]
    assert f"in {int(small.sum())} populated squares of fewer than 3 people each" in note
    zh = data_notes(summary, lang=translator("zh"))
    assert any(f"人口不足3人的{int(small.sum())}个有人口方格" in n for n in zh), zh
    # a summary written before the threshold was recorded keeps its note
    old = {**summary, "demand_left_out": {k: left[k] for k in ("points", "population")}}
    (note,) = [n for n in data_notes(old) if "left out of the demand" in n]
    assert "below demand.min_population" in note
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="planner.demand"):
        _demand(grid, towns, resolution_m=100, min_population=10)
    (rec,) = [r for r in caplog.records if "min_population" in r.message]
    assert rec.levelname == "WARNING" and "at resolution_m=100" in rec.message
