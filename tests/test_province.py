"""A province in one pass: one merged extract split for every county in one read."""

from __future__ import annotations

import json
import shutil
import socket
from pathlib import Path

import geopandas as gpd
import numpy as np
import osmium
import pytest
import shapely
import yaml

from planner.batch import load_batch, run_batch, run_task, task_config
from planner.config import load_config
from planner.demo import MAX_PROVINCE, build_province
from planner.demo.names import province_names
from planner.errors import ConfigError, DataError
from planner.ingest.county import load_county
from planner.ingest.osm import read_osm
from planner.province import read_options, split_province
from tests.conftest import run_cli

SCALE = 0.1  # tiny counties: an ingest takes a fraction of a second
SLUGS = ["qingxi", "shimen", "yunling"]


@pytest.fixture(scope="module")
def provinces(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The same three demo counties: each with its own OSM file, and in one extract."""
    root = tmp_path_factory.mktemp("province")
    own = build_province(root / "own", 3, scale=SCALE)
    merged = build_province(root / "merged", 3, scale=SCALE, merged=True)
    return own, merged


@pytest.fixture
def merged_copy(provinces: tuple[Path, Path], tmp_path: Path) -> Path:
    """A copy of the merged province this test may change; its batch config."""
    shutil.copytree(provinces[1].parent, tmp_path / "p")
    return tmp_path / "p" / "batch.yaml"


def _pieces(batch: Path) -> dict[str, float]:
    folder = batch.parent / "runs" / "osm-pieces"
    return {p.name: p.stat().st_mtime_ns for p in sorted(folder.iterdir())}


def _frames_equal(a: gpd.GeoDataFrame, b: gpd.GeoDataFrame) -> None:
    assert list(a.columns) == list(b.columns)
    assert len(a) == len(b)
    a, b = a.reset_index(drop=True), b.reset_index(drop=True)
    assert a.drop(columns="geometry").equals(b.drop(columns="geometry"))
    assert shapely.equals_exact(a.geometry.to_numpy(), b.geometry.to_numpy(), 1e-6).all()


def test_each_piece_gives_its_county_what_its_own_file_gives(provinces, tmp_path):
    own, merged = provinces
    tasks, report = split_province(merged, output=tmp_path / "runs")
    assert (report.split, report.cached, report.errors) == (3, 0, {})
    extract = str(merged.parent / "province.osm.pbf")
    extract_ways = sum(1 for _ in osmium.FileProcessor(extract, osmium.osm.WAY))
    for task in tasks:
        config = task_config(task)
        assert config.inputs.osm.path.parent == tmp_path / "runs" / "osm-pieces"
        from_piece = load_county(config)
        from_own = load_county(load_config(own.parent / task.county / f"{task.county}.yaml"))
        a, b = from_piece.roads, from_own.roads
        assert len(a.highway) > 50
        np.testing.assert_array_equal(a.node_ids, b.node_ids)
        np.testing.assert_array_equal(a.lon, b.lon)
        np.testing.assert_array_equal(a.lat, b.lat)
        assert all(np.array_equal(x, y) for x, y in zip(a.way_nodes, b.way_nodes, strict=True))
        assert (a.highway, a.maxspeed, a.oneway, a.names) == (
            b.highway,
            b.maxspeed,
            b.oneway,
            b.names,
        )
        for layer in ("pois", "places", "substations", "power_lines", "chargers"):
            _frames_equal(getattr(from_piece, layer), getattr(from_own, layer))
        assert len(from_piece.pois) > 0 and len(from_piece.places) > 0
        # a piece is the county's share, not the whole province
        assert len(_layers_meta(config.inputs.osm.path)["roads"]) < extract_ways / 2


def _layers_meta(path: Path) -> dict:
    with np.load(path, allow_pickle=False) as z:
        return json.loads(z["meta"].tobytes().decode("utf-8"))


def test_a_rerun_takes_the_pieces_from_the_cache_and_a_change_invalidates(merged_copy):
    root = merged_copy.parent
    first = split_province(merged_copy)[1]
    assert (first.split, first.cached) == (3, 0)
    files = _pieces(merged_copy)
    assert len(files) == 6  # a piece and its .json per county
    again = split_province(merged_copy)[1]
    assert (again.split, again.cached) == (0, 3)
    assert _pieces(merged_copy) == files  # not written again

    # the extract changes (one more tagged node): every piece is split again, once
    extract = root / "province.osm.pbf"
    changed = root / "changed.osm.pbf"
    with osmium.SimpleWriter(str(changed)) as writer:
        for obj in osmium.FileProcessor(str(extract), osmium.osm.NODE):
            writer.add_node(obj)
        writer.add_node(osmium.osm.mutable.Node(id=9_999_999_999, location=(117.3, 28.3)))
        for obj in osmium.FileProcessor(str(extract), osmium.osm.WAY):
            writer.add_way(obj)
    changed.replace(extract)
    third = split_province(merged_copy)[1]
    assert (third.split, third.cached) == (3, 0)
    after = _pieces(merged_copy)
    assert len(after) == 6 and not set(after) & set(files)  # the older pieces are gone

    # one county's polygon grows: only its piece is split again
    layer = root / "province_counties.gpkg"
    counties = gpd.read_file(layer, layer="counties")
    counties.loc[1, "geometry"] = counties.geometry[1].buffer(0.01)
    counties.to_file(layer, layer="counties", engine="pyogrio")
    fourth = split_province(merged_copy)[1]
    assert (fourth.split, fourth.cached) == (1, 2)
    renewed = set(_pieces(merged_copy)) - set(after)
    assert {name.split("-")[0] for name in renewed} == {"shimen"}


def _edit(batch: Path, change) -> None:
    raw = yaml.safe_load(batch.read_text("utf-8"))
    change(raw)
    batch.write_text(yaml.safe_dump(raw, allow_unicode=True), "utf-8")


def test_a_boundaries_layer_without_the_name_field_is_a_one_line_error(merged_copy):
    _edit(merged_copy, lambda raw: raw["province"].update(name_field="县名"))
    with pytest.raises(DataError) as err:
        split_province(merged_copy)
    message = str(err.value)
    assert "province_counties.gpkg" in message and "县名" in message and "name" in message
    assert "\n" not in message and err.value.exit_code == 2
    assert not (merged_copy.parent / "runs").exists()  # no empty results folder left


def test_a_county_outside_the_extract_or_not_in_the_layer_fails_alone(merged_copy):
    layer = merged_copy.parent / "province_counties.gpkg"
    counties = gpd.read_file(layer, layer="counties")
    counties.loc[1, "geometry"] = shapely.affinity.translate(counties.geometry[1], xoff=20)
    counties.to_file(layer, layer="counties", engine="pyogrio")
    _edit(merged_copy, lambda raw: raw["counties"][2].update(boundary=361000))
    tasks, report = split_province(merged_copy)
    errors = {t.county: t.error for t in tasks}
    assert errors["qingxi"] == "" and report.split == 1
    assert "outside the provincial extract" in errors["shimen"]
    assert "no feature" in errors["yunling"] and "'361000'" in errors["yunling"]
    assert all("\n" not in e for e in errors.values())
    assert {t.exit_code for t in tasks if t.error} == {2}
    # the county not in the layer keeps its name, and no folder is named for it
    yunling = run_task(next(t for t in tasks if t.county == "yunling"))
    assert (yunling.status, yunling.figures["county"], yunling.out_dir) == ("failed", "云岭县", "")


def test_codes_stored_as_numbers_still_match(merged_copy, caplog):
    layer = merged_copy.parent / "province_counties.gpkg"
    counties = gpd.read_file(layer, layer="counties")
    counties["code"] = counties["code"].astype(float)  # as a Shapefile or Excel keeps them
    counties.to_file(layer, layer="counties", engine="pyogrio")
    assert gpd.read_file(layer, layer="counties")["code"].dtype.kind == "f"
    _edit(merged_copy, lambda raw: raw["counties"][0].update(boundary=361199))
    # a county whose code the layer lacks is matched by its name, with a warning
    _edit(merged_copy, lambda raw: raw["counties"][1].update(set={"county.code": "360000"}))
    tasks, report = split_province(merged_copy)
    assert not report.errors and report.split == 3
    assert "matched by name '石门县' (not by code '360000')" in caplog.text
    # a config without county.code is matched by its name, warned too; every task has the
    # code of its feature (the numbers as the codes they stand for)
    by_name = "1 county matched by name in province_counties.gpkg (no county.code in their"
    assert by_name in caplog.text and caplog.text.count("云岭县") == 1
    assert "青溪县" not in caplog.text  # matched by its boundary: code
    assert [t.code for t in tasks] == ["361199", "361198", "361197"]


def test_schema_errors_name_the_field(merged_copy):
    _edit(merged_copy, lambda raw: raw["province"].update(margin_m=-5))
    with pytest.raises(ConfigError, match=r"province\.margin_m"):
        load_batch(merged_copy)
    _edit(merged_copy, lambda raw: raw["province"].update(margin_m=float("inf")))
    with pytest.raises(ConfigError, match=r"province\.margin_m: .*finite"):
        load_batch(merged_copy)
    _edit(merged_copy, lambda raw: raw["province"].update(margin_m=5, margn_m=5))
    with pytest.raises(
        ConfigError, match=r"unknown key 'province\.margn_m' \(did you mean 'margin_m'\?\)"
    ):
        load_batch(merged_copy)
    _edit(merged_copy, lambda raw: raw["province"].pop("margn_m"))
    _edit(merged_copy, lambda raw: raw["province"].update(cache_dir=""))  # not the batch's folder
    with pytest.raises(ConfigError, match=r"province\.cache_dir: give a path"):
        load_batch(merged_copy)
    _edit(merged_copy, lambda raw: raw["province"].pop("cache_dir"))
    _edit(merged_copy, lambda raw: raw.pop("province"))
    _edit(merged_copy, lambda raw: raw["counties"][0].update(boundary="361199"))
    with pytest.raises(ConfigError, match=r"counties\.0\.boundary applies with a province"):
        load_batch(merged_copy)


def test_a_cache_folder_that_is_a_file_is_refused_and_left_alone(merged_copy):
    mine = merged_copy.parent / "notes.txt"
    mine.write_text("a user's file", "utf-8")
    _edit(merged_copy, lambda raw: raw["province"].update(cache_dir="notes.txt"))
    with pytest.raises(ConfigError, match=r"province\.cache_dir .*notes\.txt: is a file"):
        split_province(merged_copy)
    assert mine.read_text("utf-8") == "a user's file"


def test_a_damaged_piece_is_collected_again_or_named(merged_copy):
    tasks, _ = split_province(merged_copy)
    piece = task_config(tasks[0]).inputs.osm.path
    whole = piece.read_bytes()
    piece.write_bytes(whole[:3000])  # truncated: its size is not the one written
    again, report = split_province(merged_copy)
    assert (report.split, report.cached) == (1, 2)
    assert piece.read_bytes() == whole
    damaged = bytearray(whole)  # the same size, bytes flipped: found when read
    damaged[len(whole) // 2 : len(whole) // 2 + 64] = bytes(64)
    piece.write_bytes(bytes(damaged))
    assert split_province(merged_copy)[1].cached == 3
    with pytest.raises(DataError, match="cannot read the OSM layers") as err:
        read_osm(piece, poi_keys=read_options(task_config(again[0])).poi_keys)
    assert str(piece) in str(err.value) and "\n" not in str(err.value)
    assert "remove it" in str(err.value)


def test_a_cache_folder_that_cannot_be_written_is_refused_before_the_read(merged_copy):
    _edit(merged_copy, lambda raw: raw["province"].update(cache_dir="province.osm.pbf/pieces"))
    with pytest.raises(ConfigError, match=r"province\.cache_dir .*cannot write") as err:
        split_province(merged_copy)
    assert "\n" not in str(err.value)


def test_a_piece_refuses_a_box_beyond_its_own(provinces, tmp_path):
    tasks, _ = split_province(provinces[1], output=tmp_path / "runs")
    config = task_config(tasks[0])
    piece = config.inputs.osm.path
    w, s, e, n = _layers_meta(piece)["box"]
    options = read_options(config)
    kw = {"poi_keys": options.poi_keys}
    assert read_osm(piece, bbox=(w, s, e, n), **kw).roads.highway  # its own box: fine
    with pytest.raises(DataError, match="reaches beyond this piece"):
        read_osm(piece, bbox=(w - 0.1, s, e, n), **kw)


def test_a_piece_read_with_other_options_reads_the_extract(merged_copy, tmp_path):
    tasks, _ = split_province(merged_copy)
    config = task_config(tasks[0])
    piece, extract = config.inputs.osm.path, merged_copy.parent / "province.osm.pbf"
    w, s, e, n = _layers_meta(piece)["box"]
    box = (w + 0.01, s + 0.01, e - 0.01, n - 0.01)
    other = {"buildings": True, "extra_highways": ("track",), "poi_keys": ("tourism",)}
    a, b = read_osm(piece, bbox=box, **other), read_osm(extract, bbox=box, **other)
    np.testing.assert_array_equal(a.roads.node_ids, b.roads.node_ids)
    assert a.roads.highway == b.roads.highway
    for layer in ("pois", "places", "substations", "power_lines", "chargers", "buildings"):
        _frames_equal(getattr(a, layer), getattr(b, layer))
    # the extract changed since: a one-line error, not another extract's layers
    shutil.copy(extract, tmp_path / "old.osm.pbf")
    with extract.open("ab") as f:
        f.write(b"\0")
    with pytest.raises(DataError, match="changed since") as err:
        read_osm(piece, bbox=box, **other)
    assert "\n" not in str(err.value)


def test_demo_province_names_and_limits():
    names = province_names(MAX_PROVINCE)
    assert len({n[0] for n in names}) == len({n[1] for n in names}) == MAX_PROVINCE
    assert names[:3] == [
        ("qingxi", "青溪县", "Qingxi Xian"),
        ("shimen", "石门县", "Shimen Xian"),
        ("yunling", "云岭县", "Yunling Xian"),
    ]
    with pytest.raises(ValueError, match="between 1 and 100"):
        province_names(MAX_PROVINCE + 1)
    assert run_cli("demo", "--province", "101").returncode == 2
    assert run_cli("demo", "--merged").returncode == 2


@pytest.mark.slow
def test_batch_end_to_end_from_one_merged_extract(provinces, tmp_path):
    own, merged = provinces
    batch = merged.parent / "two.yaml"
    spec = yaml.safe_load(merged.read_text("utf-8"))
    spec["counties"] = spec["counties"][:2]
    spec["scenarios"] = [{"name": "base", "set": {"tours.enabled": False}}]
    batch.write_text(yaml.safe_dump(spec, allow_unicode=True), "utf-8")
    res = run_batch(batch, workers=1, output=tmp_path / "runs")
    assert [r.status for r in res.results] == ["done", "done"], res.failed
    assert res.province is not None and res.province.split == 2
    # the configs have no county.code: the codes come from the boundaries layer
    assert [r.code for r in res.results] == ["361199", "361198"]
    summary = (res.out_dir / "batch_summary.csv").read_text("utf-8-sig")
    assert "qingxi,361199,base," in summary
    for r in res.results:
        manifest = json.loads((Path(r.out_dir) / "run.json").read_text("utf-8"))
        osm = [i["path"] for i in manifest["inputs"] if i["role"] == "osm"]
        assert osm and "osm-pieces" in osm[0]
    batch_run = json.loads((res.out_dir / "run.json").read_text("utf-8"))
    assert batch_run["province"]["split"] == 2
    # the same county from its own file makes the same plan
    config = load_config(own.parent / "qingxi" / "qingxi.yaml", overrides=["tours.enabled=false"])
    from planner.pipeline import run_county

    alone = run_county(config, out_dir=tmp_path / "alone").summary
    figures = ("stations", "chargers", "capex_total", "demand_covered_share")
    assert {k: res.results[0].figures[k] for k in figures} == {k: alone[k] for k in figures}
    # a rerun finds the pieces and the counties complete
    again = run_batch(batch, workers=1, output=tmp_path / "runs")
    assert [r.status for r in again.results] == ["skipped", "skipped"]
    assert again.province is not None and (again.province.split, again.province.cached) == (0, 2)
    # a moved results folder (its pieces with it) is still complete, and keeps its run id
    shutil.move(tmp_path / "runs", tmp_path / "moved")
    moved = run_batch(batch, workers=1, output=tmp_path / "moved")
    assert [r.status for r in moved.results] == ["skipped", "skipped"]
    assert moved.out_dir.name.split("-")[1] == again.out_dir.name.split("-")[1]


def test_an_unreachable_scheduler_stops_the_batch_before_the_split(merged_copy, tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens there once closed
    out = tmp_path / "sch"
    with pytest.raises(ConfigError, match="cannot reach the dask scheduler"):
        run_batch(merged_copy, scheduler=f"tcp://127.0.0.1:{port}", output=out)
    assert not out.exists()  # no pieces, no folders
