"""Visits the search left out, put into the week where they still fit (cheapest insertion).

PyVRP's search is a heuristic: it stops after its iterations with the best week it found,
and a visit it left out may still fit into a van-day as planned. After the search, each
visit left out (in the order of the model's client groups) is tried as every copy of it
(its allowed days and parts of the day), at every position of every tour of that day and
as the only stop of a van of that day that has no tour yet; the insertion that keeps its
tour feasible (time windows, shift, lunch in working time) and adds the fewest metres is
made. When none of its copies fits, its *spare* copies are tried the same way: the days
outside its block that keep ``tours.min_gap_days`` to the stop's other visits in the plan
(a visit the layout of the stop's days left no room for may fit on a day the gap allows).
A visit still left out afterwards fits into no van-day as the week is planned, not even
alone; more vans, longer shifts, a longer search or, when a van has room on a day the
gap keeps it from (``WeeklyProblem.kept_by_gap``), a smaller gap may still fit it.

The repair counts the tours it builds and stops at :data:`MAX_TRIES` of them, so it is
bounded and deterministic.
"""

from __future__ import annotations

import logging
from collections import Counter
from typing import Any

from planner.tours.problem import WeeklyProblem
from planner.tours.timing import keeps_gap

logger = logging.getLogger(__name__)

#: Tours built (each checked for feasibility) before the repair stops trying.
MAX_TRIES = 200_000


def insert_left_out(
    problem: WeeklyProblem, routes: list[Any], *, max_tries: int = MAX_TRIES
) -> tuple[list[Any], int]:
    """The routes with the visits they leave out inserted where they fit.

    Parameters
    ----------
    problem
        The weekly problem the routes solve.
    routes
        PyVRP routes of a feasible plan.
    max_tries
        Tours built and checked at most (a deterministic work limit).

    Returns
    -------
    (list, int)
        The routes (new ones for the vans that had none) and the visits inserted.
    """
    import pyvrp

    data: Any = problem.repair
    if data is not problem.data:  # the same clients, the spare copies after them
        routes = [pyvrp.Route(data, _clients(r), r.vehicle_type()) for r in routes]
    copies = problem.copies
    served = {copies[c].group for r in routes for c in _clients(r)}
    days = _Days(problem, routes)
    spare: dict[int, list[int]] = {}
    for c, copy in enumerate(copies):
        if copy.spare:
            spare.setdefault(copy.group, []).append(c)
    original, routes = list(routes), list(routes)
    used = Counter(r.vehicle_type() for r in routes)
    budget = _Budget(max_tries)
    inserted = 0
    for g, group in enumerate(data.groups()):
        if g in served or budget.spent:
            continue
        best = None
        for members in (group.clients, spare.get(g, [])):
            fitting = [c for c in members if days.keeps_gap(c)]
            best = best or _best_insertion(problem, routes, used, fitting, budget)
        if best is None:
            continue
        k, visits, vt = best
        route = pyvrp.Route(data, visits, vt)
        if k < len(routes):
            routes[k] = route
        else:
            routes.append(route)
            used[vt] += 1
        days.add(next(c for c in visits if copies[c].group == g))
        inserted += 1
    if inserted and not pyvrp.Solution(data, routes).is_feasible():  # pragma: no cover
        logger.warning("tours: the insertion repair broke the plan; the search's plan stands")
        return original, 0
    problem.kept_by_gap = _kept_by_gap(problem, routes, used, days, budget)
    if budget.spent:
        logger.warning("tours: the insertion repair stopped at its limit of %d tours", max_tries)
    return routes, inserted


def _kept_by_gap(
    problem: WeeklyProblem, routes: list[Any], used: Counter[int], days: _Days, budget: _Budget
) -> set[int]:
    """The stops with a visit left out that would fit on a day without a visit of the
    stop if the gap between its visits allowed it (the visit-day rule keeps it out)."""
    copies = problem.copies
    served = {copies[c].group for r in routes for c in _clients(r)}
    members: dict[int, list[int]] = {}
    for c, copy in enumerate(copies):
        if copy.group not in served and not days.visited(c):
            members.setdefault(copy.group, []).append(c)
    out: set[int] = set()
    for group in sorted(members):
        stop = copies[members[group][0]].stop
        if budget.spent:
            break
        if stop not in out and _best_insertion(problem, routes, used, members[group], budget):
            out.add(stop)
    return out


def _clients(route: Any) -> list[int]:
    return [a.idx for a in route.schedule() if a.is_client()]


class _Days:
    """The working days each stop is visited on in the routes, and the gap check."""

    def __init__(self, problem: WeeklyProblem, routes: list[Any]) -> None:
        self.problem = problem
        self.index = {w: d for d, w in enumerate(problem.weekdays)}
        self.days: dict[int, set[int]] = {}
        for r in routes:
            for c in _clients(r):
                self.add(c)

    def add(self, client: int) -> None:
        copy = self.problem.copies[client]
        self.days.setdefault(copy.stop, set()).add(self.index[copy.weekday])

    def visited(self, client: int) -> bool:
        """Whether a copy's stop has a visit on the copy's day."""
        copy = self.problem.copies[client]
        return self.index[copy.weekday] in self.days.get(copy.stop, set())

    def keeps_gap(self, client: int) -> bool:
        """Whether a copy's day keeps the gap to its stop's visits in the routes."""
        copy = self.problem.copies[client]
        gap = self.problem.gaps.get(copy.stop, 1)
        return keeps_gap(self.index[copy.weekday], self.days.get(copy.stop, set()), gap)


class _Budget:
    """The tours the repair may still build."""

    def __init__(self, tries: int) -> None:
        self.left = tries

    @property
    def spent(self) -> bool:
        return self.left <= 0

    def take(self) -> bool:
        self.left -= 1
        return self.left >= 0


def _best_insertion(
    problem: WeeklyProblem,
    routes: list[Any],
    used: Counter[int],
    members: list[int],
    budget: _Budget,
) -> tuple[int, list[int], int] | None:
    """The cheapest feasible insertion of one of a group's copies.

    Returns (index of the route, or ``len(routes)`` for a new one; its client visits;
    its vehicle type), or None when no copy fits anywhere.
    """
    import pyvrp

    data: Any = problem.repair
    types = data.vehicle_types()
    best: tuple[int, tuple[int, list[int], int]] | None = None
    for c in members:
        day = problem.copies[c].weekday
        for k, route in enumerate(routes):
            vt = route.vehicle_type()
            if problem.vehicle_types[vt][1] != day:
                continue
            base = [a.idx for a in route.schedule() if a.is_client()]
            for pos in range(len(base) + 1):
                if not budget.take():
                    return None if best is None else best[1]
                visits = [*base[:pos], c, *base[pos:]]
                new = pyvrp.Route(data, visits, vt)
                extra = new.distance() - route.distance()
                if new.is_feasible() and (best is None or extra < best[0]):
                    best = (extra, (k, visits, vt))
        for vt, (_, weekday) in enumerate(problem.vehicle_types):
            if weekday != day or used[vt] >= types[vt].num_available:
                continue
            if not budget.take():
                return None if best is None else best[1]
            new = pyvrp.Route(data, [c], vt)
            if new.is_feasible() and (best is None or new.distance() < best[0]):
                best = (new.distance(), (len(routes), [c], vt))
    return None if best is None else best[1]
