"""The tours stage of a run: from the plan's repair points to the week's tours and layers."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
from pyproj import CRS

from planner import columns as C
from planner.config import Config
from planner.datatypes import Plan, RoadGraph
from planner.squares import merge_squares
from planner.tours.layers import shown, tour_layers, van_week
from planner.tours.problem import STOP_ID, STOP_TOWNSHIP
from planner.tours.result import TourPlan
from planner.tours.stops import stop_table, weekly_tours

logger = logging.getLogger(__name__)

#: Raster demand finer than this (m) is merged into squares of this side for the tours.
VILLAGE_SQUARE_M = 1000.0


@dataclass
class TourOutcome:
    """The tours of a run.

    Attributes
    ----------
    plan
        The weekly plan (tours, unserved stops, how the search ran).
    stops
        The stops asked for (``stop_id``, ``name``, ``kind``, ``evs``, ``township_id``).
    tours
        Layer ``tours``: one line along the roads per van and day.
    tour_stops
        Layer ``tour_stops``: the visits in order, with arrival and departure.
    """

    plan: TourPlan
    stops: gpd.GeoDataFrame
    tours: gpd.GeoDataFrame
    tour_stops: gpd.GeoDataFrame

    def summary(self) -> dict[str, Any]:
        """The week's figures for summary.json and run.json (the search's record too)."""
        week = van_week(self.plan)
        # the sums of the tours' figures as the tables show them (to 0.1), so that the
        # headline equals the total of the vans' table; objective_km keeps the search's
        return {
            **self.plan.record(),
            "km_week": shown(float(week["km"].sum())),
            "drive_h_week": shown(float(week["drive_h"].sum())),
            "vans_total": int(sum(self.plan.vans.values())),
            "km_per_van_max": round(float(week["km"].max()), 1) if len(week) else 0.0,
            "unserved": [
                {"stop_id": u.stop_id, "name": u.name, "missing": u.missing, "reason": u.reason}
                for u in self.plan.unserved
            ],
        }


def plan_weekly_tours(
    graph: RoadGraph,
    plan: Plan,
    demand: gpd.GeoDataFrame,
    config: Config,
    *,
    crs: CRS,
    places: gpd.GeoDataFrame | None = None,
) -> TourOutcome:
    """Plan the repair vans' week for a run whose config enables ``tours``.

    Parameters
    ----------
    graph
        The county's road graph.
    plan
        The siting plan (its repair points are the vans' bases; its stations may be stops).
    demand
        The demand points (villages with EVs are stops, see :func:`tour_villages`), in
        the graph's CRS.
    config
        The run's config (``tours``, ``network``).
    crs
        The metric CRS of the graph, the plan and the demand points.
    places
        Named places: a village stop without a name takes the nearest one's.

    Returns
    -------
    TourOutcome

    Raises
    ------
    ConfigError
        No repair point in the plan, or a stop no shift can reach (see
        :func:`planner.tours.plan_tours`).
    """
    t0 = time.perf_counter()
    stops = stop_table(
        config.tours, demand=tour_villages(demand, config), stations=plan.stations, places=places
    )
    week, matrix = weekly_tours(
        graph, plan.repair_points, stops, config.tours, network=config.network
    )
    tours, tour_stops = tour_layers(week, graph, matrix, crs=crs)
    if STOP_TOWNSHIP in stops:  # where each stop is, for the schedule's readers
        town = stops.drop_duplicates(STOP_ID).set_index(STOP_ID)[STOP_TOWNSHIP]
        tour_stops[STOP_TOWNSHIP] = tour_stops[STOP_ID].map(town)
    fleet = [u for u in week.unserved if u.reason == "fleet"]
    if fleet:
        logger.warning(
            "tours: %d visits at %d stops do not fit into the vans' week as planned, not even "
            "alone (more vans, longer shifts or a longer search: tours.iterations)",
            sum(u.missing for u in fleet),
            len(fleet),
        )
    by_days = [u for u in week.unserved if u.reason == "visit_days"]
    if by_days:
        logger.warning(
            "tours: %d visits at %d stops fit only on days too close to the stop's other "
            "visits (a smaller tours.min_gap_days lets the vans take them)",
            sum(u.missing for u in by_days),
            len(by_days),
        )
    logger.info(
        "tours: %d van-days, %d of %d visits, %.0f km in the week (%.1f s)",
        len(week.tours),
        week.visits_served,
        week.visits_asked,
        week.objective_km,
        time.perf_counter() - t0,
    )
    return TourOutcome(week, stops, tours, tour_stops)


def tour_villages(demand: gpd.GeoDataFrame, config: Config) -> gpd.GeoDataFrame:
    """The demand points the vans may visit as villages.

    Raster demand finer than :data:`VILLAGE_SQUARE_M` (``demand.resolution_m`` 100 or
    ``native``) is merged into squares of that side first, so that a village is one
    stop with all its EVs, as at the default resolution, and not a few 100 m cells with
    a share of them each. A square takes the ``demand_id`` of its most populous point.
    Settlement demand (points with ``place``) stays as it is.

    Parameters
    ----------
    demand
        The run's demand points (metric CRS).
    config
        The run's config (``demand.resolution_m``).

    Returns
    -------
    GeoDataFrame
        ``demand`` itself, or its squares (see :func:`planner.squares.merge_squares`).
    """
    res = config.demand.resolution_m
    if C.PLACE in demand or (res != "native" and float(res) >= VILLAGE_SQUARE_M):
        return demand
    merged = merge_squares(demand, VILLAGE_SQUARE_M)
    logger.info(
        "tours: %d demand points merged into %d squares of %g m as villages",
        len(demand),
        len(merged),
        VILLAGE_SQUARE_M,
    )
    return merged
