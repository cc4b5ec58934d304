"""Starting a county (issue 13, item 7): `planner init`, `planner schema`, described fields."""

from __future__ import annotations

import json
import typing
from pathlib import Path

import pytest
import yaml
from pydantic import BaseModel

from planner.config import Config, load_config
from planner.config.template import TODO, template_yaml
from tests.conftest import latest, run_cli

PBF = (
    Path(__file__).resolve().parents[2]
    / "shared"
    / "data"
    / "osm"
    / "liechtenstein-2021-10.osm.pbf"
)


def _fields(model: type[BaseModel], prefix: str = "") -> list[tuple[str, object]]:
    """Every field of the config, nested sections included, as (dotted name, FieldInfo)."""
    out: list[tuple[str, object]] = []
    for name, field in model.model_fields.items():
        out.append((prefix + name, field))
        for t in (field.annotation, *typing.get_args(field.annotation)):
            for inner in (t, *typing.get_args(t)):
                if isinstance(inner, type) and issubclass(inner, BaseModel):
                    out += _fields(inner, f"{prefix}{name}.")
    return out


def test_every_config_field_is_described():
    missing = []
    for name, field in _fields(Config):
        section = [
            t
            for t in (field.annotation, *typing.get_args(field.annotation))
            if isinstance(t, type) and issubclass(t, BaseModel)
        ]
        described = field.description or (section and section[0].__doc__)
        if not described:
            missing.append(name)
    assert missing == []


def test_the_template_has_every_field_and_loads_once_filled(tmp_path):
    text = template_yaml({"county.name": "婺源县", "stations.budget": 8e6})
    raw = yaml.safe_load(text)
    assert raw["county"]["name"] == "婺源县" and raw["stations"]["budget"] == 8e6
    assert raw["stations"]["cutoff_min"] == 15 and raw["solver"]["name"] == "highs"
    assert "# Plan repair points (false: stations only)" in text  # descriptions as comments
    assert "#   path: TODO" in text  # optional sections shown commented out
    raw["inputs"]["boundaries"]["path"] = "b.gpkg"
    raw["inputs"]["osm"]["path"] = "c.osm.pbf"
    path = tmp_path / "wuyuan.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    config = load_config(path)
    assert config.slug == "wuyuanxian" and config.stations.budget == 8e6


def test_init_writes_a_template_and_never_replaces_one(tmp_path):
    out = tmp_path / "counties"
    pbf = tmp_path / "wuyuan.osm.pbf"
    pbf.write_bytes(b"")
    r = run_cli("init", "婺源县", "--from-osm", str(pbf), "--admin-level", "8", "--out", str(out))
    assert r.returncode == 0, r.stderr
    path = out / "wuyuanxian.yaml"
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert raw["inputs"]["boundaries"]["source"] == "osm"
    assert raw["inputs"]["boundaries"]["county_name"] == "婺源县"
    assert raw["inputs"]["boundaries"]["township_admin_level"] == 8
    assert raw["inputs"]["osm"]["path"] == str(pbf.resolve())
    assert raw["stations"]["budget"] == TODO
    before = path.read_bytes()
    r = run_cli("init", "婺源县", "--out", str(out))
    assert r.returncode == 2 and "already exists" in r.stderr
    assert path.read_bytes() == before
    r = run_cli("site", "--config", str(path), "--out", str(tmp_path / "o"))
    assert r.returncode == 2 and "stations.budget" in r.stderr and TODO in r.stderr
    r = run_cli("init", "婺源县", "--from-osm", str(tmp_path / "missing.pbf"), "--out", str(out))
    assert r.returncode == 2 and "missing.pbf" in r.stderr


def test_schema_is_the_configs_json_schema(tmp_path):
    r = run_cli("schema", "--out", str(tmp_path / "s.json"))
    assert r.returncode == 0, r.stderr
    schema = json.loads((tmp_path / "s.json").read_text(encoding="utf-8"))
    assert schema["properties"].keys() == Config.model_json_schema()["properties"].keys()
    assert schema["required"] == ["county", "inputs", "stations"]
    assert json.loads(run_cli("schema").stdout) == schema
    r = run_cli("schema", "--out", str(tmp_path / "no" / "s.json"))
    assert r.returncode == 2 and "give a file in an existing folder" in r.stderr
    r = run_cli("init", "婺源县", "--out", str(tmp_path / "s.json"))
    assert r.returncode == 2 and "is a file, not a folder" in r.stderr


@pytest.mark.slow
@pytest.mark.skipif(not PBF.is_file(), reason=f"real OSM extract not found at {PBF}")
def test_a_county_from_init_runs(tmp_path):
    """`planner init` on a real extract, the TODO filled in: the county is planned."""
    out = tmp_path / "counties"
    r = run_cli(
        "init", "Liechtenstein", "--from-osm", str(PBF), "--admin-level", "8", "--out", str(out)
    )
    assert r.returncode == 0, r.stderr
    r = run_cli(
        "site",
        "--config", str(out / "liechtenstein.yaml"),
        "--out", str(tmp_path / "o"),
        "--set", "stations.budget=null",
        "--set", "stations.max_stations=14",
        "--set", "inputs.boundaries.county_admin_level=2",
        "--set", "report.document=false",  # the plan is what is checked here
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    summary = json.loads((latest(tmp_path / "o") / "summary.json").read_text(encoding="utf-8"))
    assert summary["status"] == "optimal" and summary["stations"] > 0


def test_the_program_exits_with_its_output_whole_and_its_code():
    """``python -m planner`` ends without tearing the interpreter down (planner.cli.run):
    a long output through a pipe still arrives whole, and errors keep their exit code."""
    r = run_cli("schema", process=True)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == json.loads(run_cli("schema").stdout)
    r = run_cli("site", "--config", "/nonexistent/county.yaml", process=True)
    assert r.returncode == 2 and r.stderr.startswith("error:") and "Traceback" not in r.stderr
    r = run_cli("no-such-command", process=True)
    assert r.returncode == 2 and "No such command" in r.stderr
