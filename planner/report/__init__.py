"""Report: the map, GIS exports, summary and manifest of a run."""

from planner.report.dictionary import data_dictionary
from planner.report.document import plan_warnings, write_document
from planner.report.export import export_crss, run_dictionary, write_exports, write_json
from planner.report.formats import FORMATS, LAYERS, resolve_crs, write_layers
from planner.report.map import build_map, road_lines, write_map
from planner.report.outcomes import demand_outcome, existing_outcome, township_outcome
from planner.report.reexport import export_run, read_run_layers
from planner.report.summary import build_manifest, build_summary

__all__ = [
    "FORMATS",
    "LAYERS",
    "build_manifest",
    "build_map",
    "build_summary",
    "data_dictionary",
    "demand_outcome",
    "existing_outcome",
    "export_crss",
    "export_run",
    "plan_warnings",
    "read_run_layers",
    "resolve_crs",
    "road_lines",
    "run_dictionary",
    "township_outcome",
    "write_document",
    "write_exports",
    "write_json",
    "write_layers",
    "write_map",
]
