"""Former module of the interactive map, now the package :mod:`planner.report.map`.

Kept so that imports of ``planner.report.maps`` keep working; new code imports from
:mod:`planner.report.map`.
"""

from planner.report.map import (
    BASEMAPS,
    CLASS_COLOURS,
    NO_BASEMAP,
    NO_DEMAND_COLOUR,
    TIANDITU_KEY_ENV,
    build_map,
    write_map,
)

# imported by tests/test_data_checks.py under its old name
from planner.report.map.layers import grid_layer as _grid_layer  # noqa: F401

__all__ = [
    "BASEMAPS",
    "CLASS_COLOURS",
    "NO_BASEMAP",
    "NO_DEMAND_COLOUR",
    "TIANDITU_KEY_ENV",
    "build_map",
    "write_map",
]
