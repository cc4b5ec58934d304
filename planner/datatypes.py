"""Typed objects passed between the pipeline stages."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from affine import Affine
from pyproj import CRS


@dataclass(frozen=True)
class InputFile:
    """An input file the run read, for the manifest."""

    role: str
    path: Path | str  # a file, or a database's URL (no password) and table or query
    sha256: str
    size_bytes: int  # of the file, or of the rows read from a database


@dataclass
class RoadWays:
    """Drivable OSM ways as read: node ids and lon/lat per node, tags per way."""

    node_ids: np.ndarray  # (n,) int64, unique
    lon: np.ndarray  # (n,)
    lat: np.ndarray  # (n,)
    way_nodes: list[np.ndarray]  # per way, indices into node_ids
    highway: list[str]
    maxspeed: list[str | None]
    oneway: list[str | None]
    names: list[str | None]


@dataclass
class OsmData:
    """What the planner takes from an OSM extract (all in EPSG:4326)."""

    roads: RoadWays
    pois: gpd.GeoDataFrame  # osm_id, name, amenity, shop, ... + geometry (points)
    places: gpd.GeoDataFrame  # osm_id, name, place, population
    substations: gpd.GeoDataFrame  # osm_id, ref, name, voltage_kv
    power_lines: gpd.GeoDataFrame  # osm_id, power, voltage_kv
    chargers: gpd.GeoDataFrame  # osm_id, name, operator, sockets
    power_points: gpd.GeoDataFrame | None = None  # transformers and poles (MV taps)
    buildings: gpd.GeoDataFrame | None = None  # building centroids, when asked for


@dataclass
class PopulationGrid:
    """A window of a population raster covering the county (cells outside are 0)."""

    values: np.ndarray  # (rows, cols) float64 people per cell
    transform: Affine
    crs: CRS
    source_total: float  # people in the window before masking


@dataclass
class CountyData:
    """Everything ingest gives the later stages, in the county's metric CRS."""

    name: str
    slug: str
    crs: CRS
    county: gpd.GeoDataFrame
    townships: gpd.GeoDataFrame  # township_id, township_name, ...
    roads: RoadWays
    pois: gpd.GeoDataFrame
    places: gpd.GeoDataFrame
    substations: gpd.GeoDataFrame  # + rated_kva, peak_load_kw, headroom_kw
    power_lines: gpd.GeoDataFrame
    chargers: gpd.GeoDataFrame
    population: PopulationGrid | None  # None: demand comes from settlements
    buildings: gpd.GeoDataFrame | None = None  # building centroids (demand weighting)
    power_points: gpd.GeoDataFrame | None = None  # transformers and poles (MV taps)
    inputs: list[InputFile] = field(default_factory=list)


@dataclass
class RoadGraph:
    """A directed road graph in CSR form, travel times in seconds."""

    x: np.ndarray  # node coordinates in the metric CRS
    y: np.ndarray
    osm_ids: np.ndarray
    tail: np.ndarray  # edge arrays
    head: np.ndarray
    length_m: np.ndarray
    time_s: np.ndarray
    dropped_nodes: int = 0

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return len(self.x)

    @property
    def n_edges(self) -> int:
        """Number of directed edges."""
        return len(self.tail)


@dataclass
class Snap:
    """Points attached to the road graph."""

    node: np.ndarray  # graph node index per point
    access_s: np.ndarray  # off-road time from point to node
    distance_m: np.ndarray


@dataclass
class SparseTimes:
    """Travel times in minutes for the pairs within a cutoff (COO triplets)."""

    rows: np.ndarray
    cols: np.ndarray
    minutes: np.ndarray
    shape: tuple[int, int]

    def neighbours(self) -> list[np.ndarray]:
        """Column indices in reach of each row."""
        order = np.argsort(self.rows, kind="stable")
        counts = np.bincount(self.rows, minlength=self.shape[0])
        return np.split(self.cols[order], np.cumsum(counts)[:-1])


@dataclass
class TravelTimes:
    """Drive times between demand, candidates and repair targets."""

    demand_to_candidate: SparseTimes  # (n_demand, n_candidates), within station cutoff
    candidate_to_village: SparseTimes  # (n_candidates, n_villages), within response time
    candidate_to_candidate: SparseTimes  # (n_candidates, n_candidates), within response
    villages: gpd.GeoDataFrame  # repair targets (places), metric CRS
    graph_nodes: int
    graph_edges: int
    unsnapped: int


@dataclass
class SolveInfo:
    """How a model solve went."""

    model: str
    solver: str
    status: str  # optimal | time_limit | infeasible | ...
    objective: float | None
    bound: float | None
    gap: float | None
    seconds: float
    build_seconds: float
    n_variables: int
    n_constraints: int
    stage: str = ""  # the pass of a lexicographic plan: coverage | capex | drive_time | repair

    @property
    def proven(self) -> bool:
        """The solve proved its gap (it did not stop on a limit)."""
        return self.status == "optimal"


def worst_status(passes: list[SolveInfo]) -> tuple[str, float | None]:
    """The status of a plan from its solves, and the largest gap among them.

    ``optimal`` only when every solve proved its gap; otherwise the first status that is
    not (``time_limit``, ``node_limit``, ``no_plan``, ...). The gap is None when a solve
    has none.
    """
    status = next((p.status for p in passes if not p.proven), "optimal")
    gaps = [p.gap for p in passes]
    if not gaps or any(g is None for g in gaps):
        return status, None
    return status, max(g for g in gaps if g is not None)


@dataclass
class Plan:
    """The optimisation result."""

    stations: gpd.GeoDataFrame  # candidate_id, chargers, sessions_served, capex, ...
    assignments: pd.DataFrame  # demand_id, station_id, minutes, covered_share
    service: pd.DataFrame  # per demand: demand_id, covered_share, station_id, nearest_station_min
    repair_points: gpd.GeoDataFrame  # candidate_id, targets_covered, capex
    station_solve: SolveInfo
    repair_solve: SolveInfo | None
    villages_unreached: list[str] = field(default_factory=list)  # beyond the response time
    existing_sites: gpd.GeoDataFrame | None = None  # existing chargers used: chargers, sessions
    model_result: object | None = None  # the model's raw result, to warm-start a next solve
    extra_solves: list[SolveInfo] = field(default_factory=list)  # the passes after the first

    @property
    def passes(self) -> list[SolveInfo]:
        """Every solve behind the plan, in order: the station passes, then the repair pass."""
        passes = [self.station_solve, *self.extra_solves]
        if self.repair_solve is not None:
            stage = self.repair_solve.stage or "repair"
            passes.append(replace(self.repair_solve, stage=stage))
        return passes


@dataclass
class TaskResult:
    """What one task gave: its status and key figures, or its error."""

    county: str
    scenario: str
    status: str  # done | skipped | failed
    out_dir: str
    seconds: float = 0.0
    error: str = ""
    exit_code: int = 0
    figures: dict[str, Any] = field(default_factory=dict)
    code: str = ""  # the county's administrative code (county.code), when its config has one
    language: str = ""  # the run's report language (a run that finished)
