"""Writing the demo again keeps the user's files and never replaces an edited one."""

from __future__ import annotations

import json

import pytest

from planner.demo import build_demo, build_province
from planner.errors import ConfigError
from planner.generated import RECORD
from planner.paths import sha256_file


def _hashes(folder):
    return {p.name: sha256_file(p) for p in folder.iterdir() if p.is_file()}


def test_writing_the_demo_again_keeps_other_files(tmp_path):
    out = tmp_path / "demo"
    build_demo(out, scale=0.3)
    first = _hashes(out)
    (out / "my_notes.txt").write_text("mine", "utf-8")
    (out / "sub").mkdir()
    (out / "sub" / "f.txt").write_text("x", "utf-8")
    build_demo(out, scale=0.4)  # other files: the demo's own are replaced
    assert (out / "my_notes.txt").read_text("utf-8") == "mine"
    assert (out / "sub" / "f.txt").read_text("utf-8") == "x"
    second = _hashes(out)
    assert second["qingxi.osm.pbf"] != first["qingxi.osm.pbf"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".demo")]  # no temp left


def test_an_edited_demo_file_stops_the_write_before_anything_moves(tmp_path):
    out = tmp_path / "demo"
    build_demo(out, scale=0.3)
    cfg = out / "qingxi.yaml"
    cfg.write_text(cfg.read_text("utf-8") + "# my change\n", "utf-8")
    before = _hashes(out)
    with pytest.raises(ConfigError, match=r"qingxi\.yaml: changed since planner demo wrote it"):
        build_demo(out, scale=0.4)
    assert _hashes(out) == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".demo")]
    # a file of a demo name the demo never wrote is the user's too
    (out / RECORD).write_text(json.dumps({"qingxi.yaml": sha256_file(cfg)}), "utf-8")
    with pytest.raises(ConfigError, match="not written by planner demo"):
        build_demo(out, scale=0.4)


def test_a_folder_of_other_files_is_refused_and_an_old_demo_is_taken(tmp_path):
    other = tmp_path / "docs"
    other.mkdir()
    (other / "report.docx").write_bytes(b"x")
    with pytest.raises(ConfigError, match="not a planner output"):
        build_demo(other, scale=0.3)
    assert [p.name for p in other.iterdir()] == ["report.docx"]
    old = tmp_path / "old"
    build_demo(old, scale=0.3)
    (old / RECORD).unlink()  # written before the record existed
    build_demo(old, scale=0.4)
    assert (old / RECORD).is_file()


def test_a_province_written_again_keeps_the_users_files(tmp_path):
    out = tmp_path / "prov"
    build_province(out, 2, scale=0.3, merged=True)
    (out / "qingxi" / "mine.txt").write_text("mine", "utf-8")
    build_province(out, 2, scale=0.3, merged=True)
    assert (out / "qingxi" / "mine.txt").read_text("utf-8") == "mine"
    assert not (out / "qingxi" / "qingxi.osm.pbf").exists()  # merged: the county's own goes
    batch = out / "batch.yaml"
    batch.write_text(batch.read_text("utf-8") + "# mine\n", "utf-8")
    counties = _hashes(out / "qingxi")
    with pytest.raises(ConfigError, match=r"batch\.yaml: changed since"):
        build_province(out, 2, scale=0.4, merged=True)
    assert _hashes(out / "qingxi") == counties  # checked before any county was written
