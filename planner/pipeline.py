"""Run one county: ingest -> demand / candidates -> network -> optimize -> tours -> report.

The report stage's layers and files are made by :mod:`planner.run_outputs`.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd

from planner import columns as C
from planner.candidates import build_candidates, existing_sites, with_existing
from planner.config import Config
from planner.datatypes import CountyData, Plan, RoadGraph, TravelTimes
from planner.demand import LEFT_OUT, RESOLUTION_USED, demand_from_raster, demand_from_settlements
from planner.i18n import run_language
from planner.ingest import load_county
from planner.network import build_graph, compute_travel_times
from planner.optimize.plan import coverage_curve, plan_sites
from planner.paths import atomic_dir, out_lock
from planner.report import build_summary
from planner.report.sections import stopped_note
from planner.report.summary import safety_net
from planner.run_outputs import (
    log_warnings,
    output_layers,
    plan_service_areas,
    write_layers_and_map,
    write_record,
)
from planner.runs import check_home, content_key, new_run
from planner.signals import check_stop
from planner.tours.stage import plan_weekly_tours

logger = logging.getLogger(__name__)

#: Stage names, in order, as reported in timings and progress.
STAGES = ("ingest", "demand", "candidates", "network", "optimize", "tours", "report")


@dataclass
class RunResult:
    """What a county run produced."""

    out_dir: Path  # the run's folder
    summary: dict[str, Any]
    plan: Plan
    files: list[str]
    home: Path | None = None  # the folder holding the run history, when there is one


#: Where a run writes: called with the county's data, gives a context manager that
#: yields ``(temporary folder to write, final folder)``.
Output = Callable[[CountyData, Config], AbstractContextManager[tuple[Path, Path]]]


def default_out_dir(config: Config, root: Path | None = None) -> Path:
    """``data/processed/<county-slug>`` under the project root (or the working folder)."""
    return (root or project_root()) / "data" / "processed" / config.slug


def project_root() -> Path:
    """The source checkout holding this package, else the current folder."""
    here = Path(__file__).resolve().parent.parent
    if (here / "pyproject.toml").is_file() and (here / "data").is_dir():
        return here
    return Path.cwd()


@dataclass
class ModelInputs:
    """What the models take: the county's data, demand, sites and travel times."""

    county: CountyData
    demand: gpd.GeoDataFrame
    candidates: gpd.GeoDataFrame  # new sites only
    sites: gpd.GeoDataFrame  # candidates, then existing chargers' sites when used
    graph: RoadGraph
    times: TravelTimes
    #: raster points and people below demand.min_population (planner.demand.LEFT_OUT)
    left_out: dict[str, float] = field(default_factory=dict)


def _no_stage(name: str) -> AbstractContextManager[None]:
    return nullcontext()


def prepare(
    config: Config, *, stage: Callable[[str], AbstractContextManager[None]] = _no_stage
) -> ModelInputs:
    """Ingest, demand, candidates and network: everything up to the models.

    Parameters
    ----------
    config
        The validated config.
    stage
        Context manager factory wrapped around each stage (for timings and progress).

    Returns
    -------
    ModelInputs
        The inputs of :func:`~planner.optimize.plan.plan_sites`.
    """
    with stage("ingest"):
        county = load_county(config)
    with stage("demand"):
        if county.population is not None:
            demand = demand_from_raster(
                county.population, county.townships, county.crs, params=config.demand
            )
        else:
            demand = demand_from_settlements(
                county.places,
                county.county,
                county.townships,
                params=config.demand,
                buildings=county.buildings,
            )
    with stage("candidates"):
        candidates = build_candidates(
            county.pois,
            county.county,
            county.townships,
            county.substations,
            county.power_lines,
            rules=config.candidates,
            costs=config.costs,
            power_points=county.power_points,
        )
        sites = candidates
        if config.stations.use_existing:
            sites = with_existing(candidates, existing_sites(county.chargers, county.townships))
    with stage("network"):
        graph = build_graph(
            county.roads,
            county.crs,
            speeds_kmh=config.network.speeds_kmh,
            use_maxspeed=config.network.use_maxspeed,
        )
        villages = county.places[county.places.within(county.county.geometry.iloc[0])]
        villages = villages.reset_index(drop=True)
        times = compute_travel_times(
            graph,
            demand,
            sites,
            villages,
            network=config.network,
            station_cutoff_min=config.stations.cutoff_min,
            repair_response_min=config.repair.response_min,
        )
    left_out = dict(demand.attrs.get(LEFT_OUT, {}))
    return ModelInputs(county, demand, candidates, sites, graph, times, left_out)


def run_county(
    config: Config,
    *,
    out_dir: str | Path | None = None,
    on_stage: Callable[[str], None] | None = None,
    argv: list[str] | None = None,
    inputs: ModelInputs | None = None,
    start: Plan | None = None,
) -> RunResult:
    """Run the whole pipeline for one county and add the run to its output folder.

    The run is written to ``<out_dir>/runs/<run id>/`` and ``<out_dir>/latest`` is
    moved to it when it is complete (:mod:`planner.runs`); earlier runs stay.

    Parameters
    ----------
    config
        The validated config.
    out_dir
        The county's output folder; default ``data/processed/<slug>``.
    on_stage
        Called with each stage name as it starts (for progress displays).
    argv
        The command line, for the manifest.
    inputs
        Prepared model inputs (from :func:`prepare` with this config) to reuse.
    start
        A previous plan on the same inputs to warm-start the solver from.

    Returns
    -------
    RunResult
        The run's folder, the summary and the plan.
    """
    home = check_home(
        Path(out_dir) if out_dir is not None else default_out_dir(config), kind="site"
    )
    started = dt.datetime.now(dt.UTC)

    @contextmanager
    def output(county: CountyData, cfg: Config) -> Iterator[tuple[Path, Path]]:
        with new_run(home, started=started, key=run_key(county, cfg), kind="site") as run:
            yield run.tmp, run.path

    with out_lock(home):  # a second run into the same folder is exit 2, not a race
        res = _run(config, output, on_stage=on_stage, argv=argv, inputs=inputs, start=start)
    res.home = home
    return res


def write_run(
    config: Config,
    folder: Path,
    *,
    inputs: ModelInputs | None = None,
    argv: list[str] | None = None,
    on_stage: Callable[[str], None] | None = None,
    run_id: str | None = None,
) -> RunResult:
    """Run the pipeline into the new folder ``folder`` (a scenario or a year of a run).

    The folder appears only when the run is complete; no history, no ``latest``.
    ``on_stage`` is called with each stage's name as it starts (progress display).
    ``run_id`` is the run number its report and workbook print (default: the folder's
    name; a sweep gives ``<its run>/<scenario>``).
    """

    @contextmanager
    def output(county: CountyData, cfg: Config) -> Iterator[tuple[Path, Path]]:
        with atomic_dir(folder, marker=None) as tmp:
            yield tmp, Path(folder).resolve()

    return _run(
        config, output, on_stage=on_stage, argv=argv, inputs=inputs, start=None, run_id=run_id
    )


def run_key(county: CountyData, config: Config) -> str:
    """Short hash of the config and the input files' hashes (part of the run id)."""
    dump = json.dumps(config.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
    return content_key(dump, *(f.sha256 for f in county.inputs))


def _run(
    config: Config,
    output: Output,
    *,
    on_stage: Callable[[str], None] | None,
    argv: list[str] | None,
    inputs: ModelInputs | None,
    start: Plan | None,
    run_id: str | None = None,
) -> RunResult:
    """The pipeline, writing through ``output``: prepare, optimize, report (``run_id``:
    the run number printed, default the output folder's name)."""
    timings: dict[str, float] = {}
    stage = _stage_timer(timings, on_stage)
    inp = inputs if inputs is not None else prepare(config, stage=stage)
    with stage("optimize"):
        plan = plan_sites(
            inp.demand, inp.sites, inp.county.townships, inp.times, config, start=start
        )
        curve = coverage_curve(inp.demand, inp.sites, inp.county.townships, inp.times, config)
    tours = None
    if config.tours.enabled:
        with stage("tours"):
            tours = plan_weekly_tours(
                inp.graph, plan, inp.demand, config, crs=inp.county.crs, places=inp.county.places
            )
    if on_stage is not None:
        on_stage("report")
    t_report = time.perf_counter()
    areas = plan_service_areas(inp.graph, plan, config)
    with output(inp.county, config) as (tmp, out):
        layers = output_layers(inp, plan, areas, config)
        if tours is not None:
            names = layers["townships"].set_index(C.TOWNSHIP_ID)[C.TOWNSHIP_NAME]
            stops = tours.tour_stops
            if C.TOWNSHIP_ID in stops:
                stops = stops.assign(**{C.TOWNSHIP_NAME: stops[C.TOWNSHIP_ID].map(names)})
            layers |= {"tours": tours.tours, "tour_stops": stops}
        lang = run_language(config.report.language, inp.county.county)
        tour_record = tours.summary() if tours is not None else None
        stopped = {"safety_net": safety_net(plan, tour_record), "tours": tour_record}
        files = write_layers_and_map(
            tmp,
            inp.county,
            layers,
            plan,
            config,
            lang=lang,
            run_id=run_id or out.name,
            warning=stopped_note(stopped, lang=lang),
        )
        # the report time covers all but writing the two small JSON files themselves
        timings["report"] = time.perf_counter() - t_report
        summary = build_summary(
            inp.county,
            layers["demand"],
            inp.candidates,
            layers["townships"],
            plan,
            config,
            timings=timings,
            graph={"nodes": inp.times.graph_nodes, "edges": inp.times.graph_edges},
        )
        if inp.left_out:
            summary["demand_left_out"] = inp.left_out
        used = inp.demand.attrs.get(RESOLUTION_USED)
        if used is not None:  # the squares used: the raster's cells for a finer value
            summary["demand_resolution_used"] = used
        if curve:
            summary["coverage_curve"] = curve
        summary["language"] = lang.code
        if tour_record is not None:
            summary["tours"] = tour_record
        summary["safety_net"] = stopped["safety_net"]
        log_warnings(summary)
        files += write_record(
            tmp, inp.county, layers, plan, summary, config, argv, files, run_id=run_id or out.name
        )
    logger.info("wrote %s", out)
    return RunResult(out_dir=out, summary=summary, plan=plan, files=files)


def _stage_timer(
    timings: dict[str, float], on_stage: Callable[[str], None] | None
) -> Callable[[str], AbstractContextManager[None]]:
    """A context manager per stage: checks for a stop, reports and times the stage."""

    @contextmanager
    def stage(name: str) -> Iterator[None]:
        check_stop()  # a batch worker being closed stops between stages too
        if on_stage is not None:
            on_stage(name)
        logger.info("stage %s", name)
        t0 = time.perf_counter()
        yield
        timings[name] = time.perf_counter() - t0

    return stage
