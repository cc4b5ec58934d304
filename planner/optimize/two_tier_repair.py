"""The repair tier of the joint model and its plan: the tier's data, rows and MIP start.

:func:`~planner.optimize.two_tier.two_tier` (its module holds the formulation) adds
the repair points ``r_k`` and ``u_k`` and their cover rows to its station block here
(:func:`add_repair_tier`), puts a previous plan into them (:func:`set_joint_start`),
re-chooses the repair points at least cost for the chosen stations
(:func:`polish_repair`), and returns a :class:`TwoTierResult`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pulp

from planner.config import SolverSection
from planner.datatypes import SolveInfo
from planner.optimize.lscp import lscp
from planner.optimize.problem import add_cover_rows, site_vars
from planner.optimize.rules import CoverageResult
from planner.optimize.station import StationBlock, Terms
from planner.optimize.station_plan import set_start


@dataclass
class TwoTierResult:
    """Result of :func:`~planner.optimize.two_tier.two_tier`.

    Attributes
    ----------
    stations
        The station tier, as from :func:`~planner.optimize.mclp.mclp`.
    repair_open
        Boolean per site: a repair point there.
    repair_cost
        Cost of each chosen repair point (the reduced price at a station).
    info
        Solver report of the joint model.
    polish
        Report of the least-cost re-choice of repair points (coverage objective).
    """

    stations: CoverageResult
    repair_open: np.ndarray
    repair_cost: np.ndarray
    info: SolveInfo
    polish: SolveInfo | None = None


@dataclass(frozen=True)
class Repair:
    """The repair tier's data: cover sets, prices, fixed choice."""

    village_cover: list[np.ndarray]
    site_cover: list[np.ndarray]
    cost: float
    cost_at_station: float
    fixed: np.ndarray | None = None

    def prices(self, stations_open: np.ndarray) -> np.ndarray:
        """The price of a repair point at each site (the lower one at open stations)."""
        return np.where(stations_open, self.cost_at_station, self.cost)

    def cover_sets(self, stations_open: np.ndarray) -> list[np.ndarray]:
        """``V_v`` of every village and ``M_j`` of every open station."""
        return list(self.village_cover) + [
            self.site_cover[j] for j in np.flatnonzero(stations_open)
        ]


def add_repair_tier(
    prob: pulp.LpProblem, x: list[pulp.LpVariable], repair: Repair
) -> tuple[list[pulp.LpVariable], list[pulp.LpVariable], Terms]:
    """``r_k``, ``u_k``, the village and station cover rows; the repair cost terms."""
    n_site = len(x)
    r = site_vars(prob, n_site, prefix="r")
    if repair.fixed is not None:
        for v, on in zip(r, repair.fixed, strict=True):
            v.lowBound = v.upBound = 1 if on else 0
    add_cover_rows(prob, r, repair.village_cover, prefix="village")
    for j, members in enumerate(repair.site_cover):
        if len(members) == 0:
            msg = f"two_tier: site {j} has no repair site in reach (not even itself)"
            raise ValueError(msg)
        prob += pulp.lpSum(r[k] for k in np.unique(members)) - x[j] >= 0, f"repair_station_{j}"
    saving = repair.cost - repair.cost_at_station
    u = []
    if saving > 0:
        u = [prob.add_variable(f"u_{j}", lowBound=0, upBound=1) for j in range(n_site)]
        for j in range(n_site):
            prob += u[j] - r[j] <= 0, f"shared_r_{j}"
            prob += u[j] - x[j] <= 0, f"shared_x_{j}"
    terms: Terms = [(v, repair.cost) for v in r] + [(v, -saving) for v in u]
    return r, u, terms


def set_joint_start(
    block: StationBlock,
    r: list[pulp.LpVariable],
    u: list[pulp.LpVariable],
    start: TwoTierResult,
) -> None:
    """Put a previous joint plan into the variables (a MIP start)."""
    set_start(block, start.stations)
    both = start.stations.open & start.repair_open
    for j in range(len(r)):
        r[j].setInitialValue(1.0 if start.repair_open[j] else 0.0)
        if u:
            u[j].setInitialValue(1.0 if both[j] else 0.0)


def polish_repair(
    stations_open: np.ndarray, repair_open: np.ndarray, repair: Repair, solver: SolverSection
) -> tuple[np.ndarray, SolveInfo]:
    """Re-choose the repair points at least cost for the stations; the cheaper set stays.

    The coverage objective is indifferent to repair cost.
    """
    cost = repair.prices(stations_open)
    again = lscp(
        repair.cover_sets(stations_open),
        len(stations_open),
        site_cost=cost,
        solver=solver,
        model="repair_polish",
    )
    if cost[again.open].sum() <= cost[repair_open].sum() + 1e-6:
        repair_open = again.open
    return repair_open, again.info


def covered(plan: TwoTierResult, weight: np.ndarray) -> float:
    """The weight a plan's stations cover."""
    return float(np.dot(weight, plan.stations.covered))
