"""Default slugs: Chinese-named counties get their own folders (issue 11, item 3)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from planner.batch import load_batch, plan_tasks
from planner.config import config_from_dict, load_config
from planner.errors import ConfigError
from planner.pipeline import default_out_dir
from planner.slugs import default_slug, transliterate


def county(name: str, **fields: object) -> dict:
    """A minimal county config (its input files need not exist to be loaded)."""
    return {
        "county": {"name": name, **fields},
        "inputs": {"boundaries": {"path": "b.gpkg"}, "osm": {"path": "roads.osm.pbf"}},
        "stations": {"max_stations": 5},
    }


def write(folder: Path, name: str, data: dict) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("text", "slug"),
    [
        ("婺源县", "wuyuanxian"),
        ("德兴市", "dexingshi"),
        ("绿春县", "lvchunxian"),  # ü as v, no tones
        ("A县 2030", "a-xian-2030"),
        ("Zürich", "zurich"),
        ("test_county", "test-county"),
        ("𠮷县", "u20bb7xian"),  # a character without a reading keeps its code point
        ("Москва", ""),
        ("--", ""),
    ],
)
def test_transliterate(text, slug):
    assert transliterate(text) == slug


@pytest.mark.parametrize(
    ("name", "stem", "slug"),
    [
        ("婺源县", "jiangxi", "wuyuanxian-jiangxi"),  # the file name adds something
        ("婺源县", "婺源县", "wuyuanxian"),  # the same text: not repeated
        ("婺源县", "wuyuan", "wuyuanxian"),  # contained in the name
        ("婺源县", "婺源县_2030", "wuyuanxian-2030"),  # the file name holds the name
        ("Liechtenstein", "liechtenstein", "liechtenstein"),
        ("2030", "wuyuan", "wuyuan"),  # no letters in the name: the file name
        ("Москва", "moskva", "moskva"),
        ("婺源县", None, "wuyuanxian"),  # a config without a file
        ("Москва", "--", None),  # nothing: the caller asks for county.slug
    ],
)
def test_default_slug_from_name_and_file(name, stem, slug):
    assert default_slug(name, stem=stem) == slug


def test_the_code_wins_over_name_and_file(tmp_path):
    assert default_slug("婺源县", code="361130", stem="jiangxi") == "361130"
    cfg = load_config(write(tmp_path, "jiangxi.yaml", county("婺源县", code=361130)))
    assert cfg.county.code == "361130" and cfg.slug == "361130"  # YAML's number as text


@pytest.mark.parametrize("code", ["36113", "3611300", "061130", "36113a", "３６１１３０", 36113])
def test_a_code_is_six_digits_not_starting_with_0(tmp_path, code):
    with pytest.raises(ConfigError, match=r"'county.code': a county code is 6 digits"):
        load_config(write(tmp_path, "wuyuan.yaml", county("婺源县", code=code)))


def test_the_file_name_is_added_unless_it_repeats_the_name(tmp_path):
    assert load_config(write(tmp_path, "jiangxi.yaml", county("婺源县"))).slug == (
        "wuyuanxian-jiangxi"
    )
    assert load_config(write(tmp_path, "婺源县.yaml", county("婺源县"))).slug == "wuyuanxian"
    assert load_config(write(tmp_path, "德兴.base.yaml", county("德兴市"))).slug == "dexingshi"


def test_an_explicit_slug_is_kept(tmp_path):
    data = county("婺源县", slug="wuyuan_2030", code="361130")
    cfg = load_config(write(tmp_path, "jiangxi.yaml", data))
    assert cfg.slug == cfg.county.slug == "wuyuan_2030"
    over = load_config(
        write(tmp_path, "婺源县.yaml", county("婺源县")), overrides=["county.slug=wy"]
    )
    assert over.slug == "wy"


def test_overrides_of_name_and_code_change_the_default(tmp_path):
    path = write(tmp_path, "shared.yaml", county("婺源县"))
    assert load_config(path, overrides=["county.name=德兴市"]).slug == "dexingshi-shared"
    assert load_config(path, overrides=["county.code=361181"]).slug == "361181"


def test_no_slug_at_all_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match=r"no folder name \(slug\).*set county\.slug"):
        load_config(write(tmp_path, "——.yaml", county("Москва")))
    # a config made in code (no file name): the name alone
    assert config_from_dict(county("德兴市"), base_dir=tmp_path).slug == "dexingshi"


def test_chinese_named_configs_get_their_own_output_folders(tmp_path):
    wuyuan = load_config(write(tmp_path, "婺源县.yaml", county("婺源县")))
    dexing = load_config(write(tmp_path, "德兴市.yaml", county("德兴市")))
    folders = {default_out_dir(c, root=tmp_path) for c in (wuyuan, dexing)}
    assert folders == {
        tmp_path / "data" / "processed" / "wuyuanxian",
        tmp_path / "data" / "processed" / "dexingshi",
    }


def batch_of(tmp_path: Path, counties: list[dict]) -> list:
    path = write(tmp_path, "batch.yaml", {"output": "runs", "counties": counties})
    batch, base = load_batch(path)
    return plan_tasks(batch, base)


def test_a_batch_of_chinese_named_configs_without_slugs_does_not_collide(tmp_path):
    write(tmp_path / "wuyuan", "婺源县.yaml", county("婺源县"))
    write(tmp_path / "dexing", "德兴市.yaml", county("德兴市"))
    tasks = batch_of(tmp_path, [{"config": "wuyuan/婺源县.yaml"}, {"config": "dexing/德兴市.yaml"}])
    assert [Path(t.out_dir) for t in tasks] == [
        tmp_path / "runs" / "wuyuanxian",
        tmp_path / "runs" / "dexingshi",
    ]


def test_a_batch_slug_collision_names_both_configs_and_the_fix(tmp_path):
    first = write(tmp_path / "wuyuan", "婺源县.yaml", county("婺源县", slug="jx"))
    second = write(tmp_path / "dexing", "德兴市.yaml", county("德兴市"))
    counties = [
        {"config": "wuyuan/婺源县.yaml"},
        {"config": "dexing/德兴市.yaml", "set": {"county.slug": "jx"}},
    ]
    with pytest.raises(ConfigError) as err:
        batch_of(tmp_path, counties)
    msg = str(err.value)
    assert "share the slug 'jx'" in msg and str(tmp_path / "runs" / "jx") in msg
    assert f"county 1 ({first.resolve()})" in msg and f"county 2 ({second.resolve()})" in msg
    assert "set: {county.slug: jx-2}" in msg
