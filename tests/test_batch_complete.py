"""A county of a batch is complete when its latest run is of the same config on inputs of
the same content, wherever the results folder (and the pieces in it) now is."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

from planner.batch import Task, _batch_key, is_complete, load_batch, plan_tasks, run_task
from planner.config import load_config
from planner.paths import sha256_file
from planner.runs import new_run


def _finished_run(home: Path, config, inputs: dict[str, Path]) -> Path:
    """A run of ``config`` in ``home`` (``latest``) that read ``inputs`` (role -> file)."""
    home.mkdir(parents=True, exist_ok=True)
    with new_run(home, started=dt.datetime.now(dt.UTC), key="k", kind="site") as run:
        (run.tmp / "summary.json").write_text("{}", "utf-8")
        recorded = [
            {"role": role, "path": str(p), "sha256": sha256_file(p)} for role, p in inputs.items()
        ]
        run.manifest.update(config=config.model_dump(mode="json"), inputs=recorded)
    return run.path


def test_a_moved_results_folder_is_complete_by_its_inputs_content(small, tmp_path):
    old = tmp_path / "w1"
    piece = old / "osm-pieces" / "qingxi-abc.osm-layers.npz"
    piece.parent.mkdir(parents=True)
    piece.write_bytes(b"layers")
    population = small.parent / "qingxi_population.tif"
    before = load_config(small, overrides=[f"inputs.osm.path={json.dumps(str(piece))}"])
    run = _finished_run(old / "qingxi", before, {"osm": piece, "population": population})
    assert is_complete(old / "qingxi", before) == run
    shutil.move(old, tmp_path / "u1")  # the folder moved: its piece with it
    moved = tmp_path / "u1" / "osm-pieces" / piece.name
    after = load_config(small, overrides=[f"inputs.osm.path={json.dumps(str(moved))}"])
    home = tmp_path / "u1" / "qingxi"
    assert is_complete(home, after) == home / "runs" / run.name
    # another value of any other field, or another content of the piece, is not complete
    other = load_config(
        small, overrides=[f"inputs.osm.path={json.dumps(str(moved))}", "stations.budget=1e6"]
    )
    assert is_complete(home, other) is None
    moved.write_bytes(b"other layers")
    assert is_complete(home, after) is None
    # an input at its own path that changed is not complete either
    moved.write_bytes(b"layers")
    recorded = json.loads((home / "latest" / "run.json").read_text("utf-8"))
    recorded["inputs"][1]["sha256"] = "0" * 64
    (home / "latest" / "run.json").write_text(json.dumps(recorded), "utf-8")
    assert is_complete(home, after) is None


def test_the_batch_run_id_does_not_depend_on_where_the_results_are(tmp_path):
    def tasks(root: Path) -> list[Task]:
        piece = json.dumps(str(root / "osm-pieces" / "a-1.osm-layers.npz"))
        overrides = ("stations.budget=1", f"inputs.osm.path={piece}")
        return [Task("a", "base", "/cfg/a.yaml", overrides, str(root / "a"))]

    one, two = tmp_path / "w1", tmp_path / "青溪" / "u1"
    assert _batch_key(tasks(one), one) == _batch_key(tasks(two), two)
    changed = [
        t.__class__("a", "base", "/cfg/a.yaml", ("stations.budget=2",), t.out_dir)
        for t in tasks(one)
    ]
    assert _batch_key(changed, one) != _batch_key(tasks(one), one)


def _plan(small: Path, folder: Path, scenarios: list[dict]) -> dict[str, Path]:
    path = folder / "batch.yaml"
    spec = {"counties": [{"config": str(small)}], "scenarios": scenarios}
    path.write_text(json.dumps(spec), "utf-8")
    return {t.scenario: Path(t.out_dir) for t in plan_tasks(*load_batch(path), output=folder)}


def test_a_county_folder_keeps_its_layout_when_scenarios_are_added_or_removed(small, tmp_path):
    one = _plan(small, tmp_path, [{"name": "base"}])
    assert one == {"base": tmp_path / "qingxi"}
    two = [{"name": "base"}, {"name": "lowev", "set": {"demand.ev_adoption": 0.08}}]
    county = tmp_path / "qingxi"
    assert _plan(small, tmp_path, two) == {"base": county / "base", "lowev": county / "lowev"}
    # the county ran alone: its folder is the first scenario's, the others beside it
    (county / "runs").mkdir(parents=True)
    assert _plan(small, tmp_path, two) == {"base": county, "lowev": county / "lowev"}
    # a scenario's own folder with runs stays its folder, with one scenario left too
    (county / "lowev" / "runs").mkdir(parents=True)
    assert _plan(small, tmp_path, two[1:]) == {"lowev": county / "lowev"}
    shutil.rmtree(county / "runs")
    assert _plan(small, tmp_path, two[:1]) == {"base": county}


def test_a_failed_task_keeps_its_code_and_name_and_names_no_folder_never_written(tmp_path):
    task = Task(
        "a", "base", "/cfg/a.yaml", (), str(tmp_path / "a"), "no feature", 2, "361199", "甲县"
    )
    result = run_task(task)
    assert (result.status, result.code, result.exit_code) == ("failed", "361199", 2)
    assert result.figures == {"county": "甲县"} and result.out_dir == ""
    (tmp_path / "a").mkdir()  # the county's folder of earlier runs
    assert run_task(task).out_dir == str(tmp_path / "a")
