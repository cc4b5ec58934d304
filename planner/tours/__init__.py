"""Weekly tours of the mobile repair vans from the chosen repair points.

A periodic vehicle-routing problem solved with PyVRP: vans based at the repair points
work a shift on each working day; every stop (a village with EVs, a charging station)
gets its visits per week on different days. Modules, by job:

- :mod:`planner.tours.matrix`: drive times and distances along the roads, leg paths and
  their geometry;
- :mod:`planner.tours.timing`: the shift, the lunch break and the days of each visit;
- :mod:`planner.tours.problem`: the weekly model for PyVRP;
- :mod:`planner.tours.solve`: :func:`plan_tours`, the search and the tours it found;
- :mod:`planner.tours.repair`: the visits the search left out, inserted where they fit;
- :mod:`planner.tours.decompose`: the same one repair point at a time, for thousands of
  stops;
- :mod:`planner.tours.result`: the tours, visits and unserved stops;
- :mod:`planner.tours.layers`: tables and map layers of a plan;
- :mod:`planner.tours.stops`: the stops from the plan's tables, and the stage in one call
  (:func:`weekly_tours`).
"""

from planner.tours.decompose import plan_tours_by_point
from planner.tours.layers import (
    DAY_NAMES,
    schedule_frame,
    tour_layers,
    tours_frame,
    township_visits,
    unserved_frame,
    van_week,
)
from planner.tours.matrix import (
    RoadPoints,
    TravelMatrix,
    leg_paths,
    road_points,
    route_geometry,
    travel_matrix,
)
from planner.tours.problem import STOP_EVS, STOP_ID, STOP_KIND, STOP_NAME, STOP_TOWNSHIP
from planner.tours.result import UNSERVED_REASONS, Tour, TourPlan, Unserved, Visit
from planner.tours.solve import plan_tours, visits_per_stop
from planner.tours.stops import stop_table, weekly_tours

__all__ = [
    "DAY_NAMES",
    "STOP_EVS",
    "STOP_ID",
    "STOP_KIND",
    "STOP_NAME",
    "STOP_TOWNSHIP",
    "UNSERVED_REASONS",
    "RoadPoints",
    "Tour",
    "TourPlan",
    "TravelMatrix",
    "Unserved",
    "Visit",
    "leg_paths",
    "plan_tours",
    "plan_tours_by_point",
    "road_points",
    "route_geometry",
    "schedule_frame",
    "stop_table",
    "tour_layers",
    "tours_frame",
    "township_visits",
    "travel_matrix",
    "unserved_frame",
    "van_week",
    "visits_per_stop",
    "weekly_tours",
]
