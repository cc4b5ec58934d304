"""Shared fixtures. Small data is built in code; the demo county is generated once."""

from __future__ import annotations

from pathlib import Path

import pytest
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
def demo_config(demo_dir: Path) -> Path:
    return demo_dir / f"{DEMO_SLUG}.yaml"


@pytest.fixture(scope="session")
def demo_run(demo_config: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`planner site` on the demo county through the CLI; returns the output folder."""
    out = tmp_path_factory.mktemp("run") / "qingxi"
    result = CliRunner().invoke(
        main, ["site", "--config", str(demo_config), "--out", str(out)], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    return out
