"""Report: the map, GIS exports, summary and manifest of a run."""

from planner.report.export import LAYERS, write_exports, write_json
from planner.report.maps import build_map, write_map
from planner.report.summary import build_manifest, build_summary, demand_outcome, township_outcome

__all__ = [
    "LAYERS",
    "build_manifest",
    "build_map",
    "build_summary",
    "demand_outcome",
    "township_outcome",
    "write_exports",
    "write_json",
    "write_map",
]
