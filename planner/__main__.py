"""``python -m planner`` runs the command line."""

from planner.cli import run

run()
