"""Ingest: read a county's input files into a :class:`~planner.datatypes.CountyData`."""

from __future__ import annotations

from planner.crs import metric_crs
from planner.ingest.boundaries import read_boundaries
from planner.ingest.county import load_county
from planner.ingest.osm import read_osm
from planner.ingest.osm_boundaries import read_osm_boundaries
from planner.ingest.vector import read_layer

__all__ = [
    "load_county",
    "metric_crs",
    "read_boundaries",
    "read_layer",
    "read_osm",
    "read_osm_boundaries",
]
