"""CLI entry points and messages: user text is shown as typed (issue 11, items 15 and 17)."""

from __future__ import annotations

import subprocess
import sys

import pytest
from click.testing import CliRunner

from planner.cli import main


def test_python_m_planner_cli_has_every_command():
    # a process of its own: the program's exit ends the interpreter (planner.cli.run)
    r = subprocess.run(
        [sys.executable, "-m", "planner.cli", "--help"], capture_output=True, text=True, timeout=120
    )
    assert r.returncode == 0, r.stderr
    for command in ("site", "batch", "export", "sweep", "rollout", "demo"):
        assert f"  {command} " in r.stdout, r.stdout


@pytest.mark.slow
def test_year_text_is_not_read_as_emoji_or_markup(tmp_path):
    r = CliRunner().invoke(
        main,
        ["rollout", "--config", str(tmp_path / "c.yaml"), "--year", "2025:abc:0.1[/b]"],
    )
    assert r.exit_code == 2
    assert "--year '2025:abc:0.1[/b]': use YEAR:BUDGET:ADOPTION" in r.stderr
    assert r.stderr.startswith("error: ")


@pytest.mark.slow
def test_vary_text_is_shown_as_typed(tmp_path):
    r = CliRunner().invoke(
        main,
        ["sweep", "--config", str(tmp_path / "c.yaml"), "--vary", ":smile:[red]x"],
    )
    assert r.exit_code == 2
    assert "--vary ':smile:[red]x'" in r.stderr
