"""The report stage of a county run: its output layers and the files written from them.

:func:`~planner.pipeline.run_county` (and :func:`~planner.pipeline.write_run`) hand the
plan here once it is made: the repair points' service areas along the roads, the output
layers (the plan's sites with township names, and the outcomes of demand, townships and
existing chargers), the GIS files and map.html, the plan's warnings in the log, and the
report, plan.xlsx, summary.json and run.json.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd

from planner import columns as C
from planner.config import Config
from planner.datatypes import CountyData, Plan, RoadGraph
from planner.i18n import Lang, translator
from planner.isochrones import service_areas
from planner.report import (
    build_manifest,
    build_map,
    demand_outcome,
    existing_outcome,
    export_crss,
    plan_warnings,
    road_lines,
    run_dictionary,
    township_outcome,
    write_document,
    write_exports,
    write_json,
    write_map,
)
from planner.report.assumptions import map_credit
from planner.report.sections import unknown_loaded
from planner.report.substation_loads import substation_layer
from planner.report.summary import drawing_stations
from planner.report.workbook import WORKBOOK_FILE, write_workbook

if TYPE_CHECKING:
    from planner.pipeline import ModelInputs

logger = logging.getLogger(__name__)


def plan_service_areas(graph: RoadGraph, plan: Plan, config: Config) -> gpd.GeoDataFrame:
    """The repair points' service areas along the roads, with their ids."""
    t0 = time.perf_counter()
    areas = service_areas(
        graph,
        plan.repair_points,
        config.repair.response_min,
        access_speed_kmh=config.network.access_speed_kmh,
        buffer_m=config.report.service_area_buffer_m,
        workers=config.network.workers,
    )
    areas.insert(0, C.REPAIR_ID, plan.repair_points[C.REPAIR_ID].to_numpy())
    logger.info("service areas: %.1f s", time.perf_counter() - t0)
    return areas


def output_layers(
    inp: ModelInputs, plan: Plan, areas: gpd.GeoDataFrame, config: Config
) -> dict[str, gpd.GeoDataFrame]:
    """The output layers: the plan's sites with township names, the outcomes, and the
    substations with what the plan asks of each."""
    demand_out = demand_outcome(inp.demand, plan)
    townships_out = township_outcome(inp.county.townships, demand_out, plan)
    names = townships_out.set_index(C.TOWNSHIP_ID)[C.TOWNSHIP_NAME]
    stations = plan.stations.assign(**{C.TOWNSHIP_NAME: plan.stations[C.TOWNSHIP_ID].map(names)})
    # the id the demand, the assignments and the existing chargers use: one join key
    stations.insert(0, C.STATION_ID, stations[C.CANDIDATE_ID].to_numpy())
    return {
        "stations": stations,
        "repair_points": plan.repair_points.assign(
            **{C.TOWNSHIP_NAME: plan.repair_points[C.TOWNSHIP_ID].map(names)}
        ),
        "candidates": inp.candidates,
        "demand": demand_out,
        "townships": townships_out,
        "existing_chargers": existing_outcome(inp.county.chargers, plan, names),
        "service_areas": areas,
        "substations": substation_layer(drawing_stations(plan, config), inp.county.substations),
    }


def write_layers_and_map(
    tmp: Path,
    county: CountyData,
    layers: dict[str, gpd.GeoDataFrame],
    plan: Plan,
    config: Config,
    *,
    lang: Lang,
    run_id: str,
    warning: str | None = None,
) -> list[str]:
    """The GIS files in every format asked for, and map.html (``warning``: a line under
    its title, e.g. that a time limit stopped a pass); returns their names."""
    note = lang(
        "{county}: charging and repair plan, run {run_id}. Road data: {credit}.",
        county=county.name,
        run_id=run_id,
        credit=map_credit(config),
    )
    files = write_exports(
        tmp,
        layers,
        plan.assignments,
        formats=config.report.formats,
        extra_crs=export_crss(config.report.extra_crs, county.county),
        shapefile_encoding=config.report.shapefile_encoding,
        kml_layers=config.report.kml_layers,
        lang=lang,
        note=note,
    )
    m = build_map(
        county,
        layers["townships"],
        layers["demand"],
        layers["candidates"],
        plan,
        service_areas=layers["service_areas"],
        response_min=config.repair.response_min,
        settings=config.report,
        lang=lang,
        roads=road_lines(county.roads),
        tours=layers.get("tours"),
        tour_stops=layers.get("tour_stops"),
        credit=map_credit(config),
        warning=warning,
    )
    write_map(m, tmp / "map.html")
    return [*files, "map.html"]


def log_warnings(summary: dict[str, Any]) -> None:
    """The plan's warnings and the substations above their headroom, in the log."""
    for warning in plan_warnings(summary):
        logger.warning("%s", warning)
    for item in summary["substations_over_headroom"]:
        logger.warning(
            "substation %s: planned chargers draw %.0f kW, above its %.0f kW headroom",
            item["substation_id"],
            item["charger_kw"],
            item["headroom_kw"],
        )
    why = (
        "no row in the headroom table"
        if summary.get("headroom_table", True)
        else "no headroom table given in inputs.substations"
    )
    for item in unknown_loaded(summary):
        logger.warning(
            "substation %s: planned chargers draw %.0f kW, and its headroom is unknown (%s): "
            "the plan is not limited there",
            item["substation_id"],
            item["charger_kw"],
            why,
        )


def write_record(  # noqa: PLR0913 - the run's parts, then where it goes
    tmp: Path,
    county: CountyData,
    layers: dict[str, gpd.GeoDataFrame],
    plan: Plan,
    summary: dict[str, Any],
    config: Config,
    argv: list[str] | None,
    files: list[str],
    run_id: str | None = None,
) -> list[str]:
    """The report and plan.xlsx (when asked for), summary.json and run.json; their names."""
    written = []
    if config.report.document:
        dictionary = run_dictionary(
            layers,
            plan.assignments,
            formats=config.report.formats,
            extra_crs=export_crss(config.report.extra_crs, county.county),
        )
        lang = translator(summary["language"])
        written += write_document(
            tmp,
            summary,
            layers,
            dictionary,
            files=[*files, WORKBOOK_FILE, "summary.json", "run.json"],
            config=config,
            lang=lang,
            run_id=run_id,
        )
        write_workbook(
            tmp / WORKBOOK_FILE, summary, layers, dictionary, config, lang=lang, run_id=run_id
        )
        written.append(WORKBOOK_FILE)
    write_json(tmp / "summary.json", summary)
    write_json(tmp / "run.json", build_manifest(county, config, summary, argv=argv))
    return [*written, "summary.json", "run.json"]
