"""Shared fixtures. Small data is built in code; the demo county is generated once."""

from __future__ import annotations

import inspect
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely
from click.testing import CliRunner

from planner.cli import main
from planner.demo import DEMO_SLUG, build_demo


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo county's input files (default scale and seed), built once per session."""
    out = tmp_path_factory.mktemp("demo") / "qingxi"
    build_demo(out)
    return out


@pytest.fixture(scope="session")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small demo county's config (scale 0.3: a run takes a few seconds), built once.

    Tests must not change its files: copy the folder first (``shutil.copytree``).
    """
    return build_demo(tmp_path_factory.mktemp("small") / "qingxi", scale=0.3)


@pytest.fixture(scope="session")
def demo_config(demo_dir: Path) -> Path:
    return demo_dir / f"{DEMO_SLUG}.yaml"


#: The override that turns the repair vans' tours off, for runs whose tests do not look
#: at tours (the demo config plans them: 1-3 s of PyVRP in every run) ...
TOURS_OFF = "tours.enabled=false"
#: ... and the same as ``--set`` options.
NO_TOURS = ("--set", TOURS_OFF)
#: Overrides for runs whose tests look at neither the tours nor the report document
#: (report.html, report.md, map.png: about a second of matplotlib and templates); the
#: plan's tables, GIS files, map.html, summary.json and run.json are written as ever ...
PLAN_ONLY = (TOURS_OFF, "report.document=false")
#: ... and the same as ``--set`` options.
PLAN_ONLY_SETS = tuple(opt for pair in PLAN_ONLY for opt in ("--set", pair))


@dataclass
class DemoSession:
    """The session's demo run: its folder, and what its report stage was given."""

    folder: Path
    written: dict[str, Any]  # county, layers, plan, config (see pipeline's map writer)


@pytest.fixture(scope="session")
def demo_session(demo_config: Path, tmp_path_factory: pytest.TempPathFactory) -> DemoSession:
    """`planner site` on the demo county through the CLI, once per session.

    The pipeline's writer of layers and map is watched (called unchanged), so that tests
    of the map can build their own pages from the same plan without planning it again.
    Tests must not change the folder's files or these objects (copy them first).
    """
    from planner import pipeline, run_outputs

    out = tmp_path_factory.mktemp("run") / "qingxi"
    write = run_outputs.write_layers_and_map
    written: dict[str, Any] = {}

    def watched(*args: Any, **kwargs: Any) -> Any:
        written.update(inspect.signature(write).bind(*args, **kwargs).arguments)
        return write(*args, **kwargs)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(pipeline, "write_layers_and_map", watched)
        result = CliRunner().invoke(
            main, ["site", "--config", str(demo_config), "--out", str(out)], catch_exceptions=False
        )
    assert result.exit_code == 0, result.output
    assert written, "the demo run wrote no layers"
    return DemoSession(latest(out), written)


@pytest.fixture(scope="session")
def demo_run(demo_session: DemoSession) -> Path:
    """`planner site` on the demo county through the CLI; returns the run's folder."""
    return demo_session.folder


@pytest.fixture(scope="session")
def demo_summary(demo_run: Path) -> dict[str, Any]:
    """summary.json of the session's demo run (what `planner site --json` prints)."""
    import json

    return json.loads((demo_run / "summary.json").read_text(encoding="utf-8"))


@dataclass
class SmallSession:
    """The session's run of the small demo county: its folder and what the CLI printed."""

    folder: Path
    stdout: str  # the plan's summary table (in Chinese: the county lies in China)


@pytest.fixture(scope="session")
def small_session(small: Path, tmp_path_factory: pytest.TempPathFactory) -> SmallSession:
    """`planner site` on the small demo county (:data:`PLAN_ONLY`), once per session.

    Tests must not change its files.
    """
    out = tmp_path_factory.mktemp("small_run") / "qingxi"
    r = site_proc(small, out, *PLAN_ONLY_SETS)
    assert r.returncode == 0, r.stderr
    return SmallSession(latest(out), r.stdout)


@pytest.fixture(scope="session")
def small_run(small_session: SmallSession) -> Path:
    """The folder of the session's run of the small demo county (see small_session)."""
    return small_session.folder


def latest(home: Path) -> Path:
    """The run folder ``latest`` points at in an output folder (asserts there is one)."""
    from planner.runs import latest_run

    run = latest_run(home)
    assert run is not None, f"no latest run in {home}"
    return run


def site_json(config: Path, out: Path, *options: str) -> dict:
    """Run `planner site --json` in-process; assert success; return the summary."""
    import json

    r = CliRunner().invoke(
        main, ["site", "--config", str(config), "--out", str(out), "--json", *options]
    )
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)


def sets(*pairs: str) -> list[str]:
    """``--set`` options for each ``key=value``."""
    return [opt for pair in pairs for opt in ("--set", pair)]


def run_cli(*args: str, process: bool = False) -> subprocess.CompletedProcess:
    """`planner ARGS` with its exit code, stdout and stderr.

    In this process (click's CliRunner) by default: the same command, error handling and
    exit codes, without a new interpreter per call. ``process=True`` runs
    ``python -m planner`` in a new process, for what only a process shows (signals,
    the module entry point, a clean import).
    """
    if process:
        return subprocess.run(
            [sys.executable, "-m", "planner", *args],
            capture_output=True,
            text=True,
            timeout=300,
        )
    r = CliRunner().invoke(main, list(args))
    if r.exception is not None and not isinstance(r.exception, SystemExit):
        raise r.exception  # a bug in the test set-up, not a CLI outcome
    return subprocess.CompletedProcess(["planner", *args], r.exit_code, r.stdout, r.stderr)


def site_proc(config: Path, out: Path, *options: str) -> subprocess.CompletedProcess:
    """`planner site --config CONFIG --out OUT OPTIONS...` (see :func:`run_cli`)."""
    return run_cli("site", "--config", str(config), "--out", str(out), *options)


@contextmanager
def lock_held_elsewhere(folder: Path) -> Iterator[None]:
    """Another process holds the output lock of ``folder`` inside the block."""
    code = (
        "import sys, time\nfrom pathlib import Path\nfrom planner.paths import out_lock\n"
        "with out_lock(Path(sys.argv[1])):\n    print('held', flush=True)\n    time.sleep(120)\n"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", code, str(folder)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        yield
    finally:
        holder.kill()
        holder.wait()


#: The browser of the browser tests: Debian's chromium, driven by Playwright.
CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless chromium for all browser tests (Playwright's sync API runs one at a time)."""
    if not CHROMIUM.is_file():
        pytest.skip(f"{CHROMIUM} is absent (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright not installed")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"])
        yield b
        b.close()


def close_geometries(a: object, b: object, tol: float) -> bool:
    """Whether two arrays of geometries are missing at the same rows and within ``tol``
    (Hausdorff distance) of each other at the others."""
    ga, gb = np.asarray(a, dtype=object), np.asarray(b, dtype=object)
    na, nb = shapely.is_missing(ga), shapely.is_missing(gb)
    if ga.shape != gb.shape or not (na == nb).all():
        return False
    return bool((shapely.hausdorff_distance(ga[~na], gb[~nb]) < tol).all())
