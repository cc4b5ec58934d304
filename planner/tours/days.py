"""The days of each stop's visits: which layout of the week a stop gets
(:func:`~planner.tours.timing.visit_layouts`)."""

from __future__ import annotations

import numpy as np

from planner.tours.matrix import TravelMatrix


class DaySpread:
    """Chooses each stop's layout of visit days so that no repair point's vans get more
    work on a day than they have time for.

    A stop's work is its service plus the round trip from the nearest point with vans,
    counted on the day of each block with the least work so far (the search picks the
    day within a block). Each stop takes the first layout (the evenly
    spread one, so that neighbours share their days and a van can visit them together)
    unless another leaves less work beyond the vans' working time on some day (the sum
    of squares of the excess): once the evenly spread days fill up, the stops go to the
    layouts whose days still have room.
    """

    def __init__(
        self, matrix: TravelMatrix, depots: np.ndarray, n_days: int, capacity: np.ndarray
    ) -> None:
        self.matrix = matrix
        self.depots = depots
        self.capacity = capacity  # working seconds of the vans of each of ``depots``
        self.load = np.zeros((max(len(depots), 1), n_days))

    def pick(self, point: int, layouts: list[list[list[int]]], secs: int) -> list[list[int]]:
        """The layout for the stop at matrix point ``point``, its load added."""
        trip = self.matrix.seconds[self.depots, point] + self.matrix.seconds[point, self.depots]
        finite = np.isfinite(trip)
        home = int(np.argmin(np.where(finite, trip, np.inf))) if finite.any() else 0
        work = secs + (float(trip[home]) if finite.any() else 0.0)
        row = self.load[home]
        best, best_cost, best_add = layouts[0], np.inf, np.zeros_like(row)
        for layout in layouts:
            add = np.zeros_like(row)
            for block in layout:
                add[min(block, key=lambda d: (row[d] + add[d], d))] += work
            cost = float(np.sum(np.maximum(row + add - self.capacity[home], 0) ** 2))
            if cost < best_cost - 1e-9:
                best, best_cost, best_add = layout, cost, add
        row += best_add
        return best
