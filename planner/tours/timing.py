"""Time in the weekly model: the shift, its lunch break and the days of each visit.

The model counts seconds from Monday 00:00 in *working time*: a day's clock with its
lunch break cut out. A van that reaches the break while driving or before a service
simply stops for it; in working time the break does not exist, so the VRP engine needs
no break model, and every time is turned back into clock time for the schedule.
Services never straddle the break: each (stop, day) is offered once before lunch
(service ending by the break) and once after, and the solver picks at most one.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from planner.config.tours import WEEKDAYS, ToursSection, clock_minutes
from planner.errors import ConfigError

#: Seconds in a day: day ``w`` of the week (0 = Monday) starts at ``w * DAY_S``.
DAY_S = 86_400


@dataclass(frozen=True)
class Shift:
    """A van's working day, in seconds after midnight (clock time)."""

    start: int
    end: int
    lunch: int | None = None  # start of the lunch break
    lunch_len: int = 0

    @classmethod
    def from_config(cls, tours: ToursSection) -> Shift:
        """The shift and lunch break of the ``tours`` section."""
        lunch = None if tours.lunch_start is None else 60 * clock_minutes(tours.lunch_start)
        return cls(
            start=60 * clock_minutes(tours.shift_start),
            end=60 * clock_minutes(tours.shift_end),
            lunch=lunch,
            lunch_len=round(60 * tours.lunch_min) if lunch is not None else 0,
        )

    @property
    def work_end(self) -> int:
        """The shift's end in working time."""
        return self.work(self.end)

    @property
    def work_seconds(self) -> int:
        """Working seconds of the shift (lunch excluded)."""
        return self.work_end - self.start

    def work(self, clock: int) -> int:
        """Working time of a clock time (a time within the break maps to its start)."""
        if self.lunch is None or clock <= self.lunch:
            return clock
        return max(self.lunch, clock - self.lunch_len)

    def clock_start(self, work: int) -> int:
        """Clock time of something that starts at ``work`` (after the break at its start)."""
        if self.lunch is None or work < self.lunch:
            return work
        return work + self.lunch_len

    def clock_end(self, work: int) -> int:
        """Clock time of something that ends at ``work`` (before the break at its start)."""
        if self.lunch is None or work <= self.lunch:
            return work
        return work + self.lunch_len

    def service_windows(
        self, window: tuple[int, int] | None, service: int
    ) -> list[tuple[int, int]]:
        """Working-time windows in which a service may start, within a day.

        Parameters
        ----------
        window
            Clock seconds (start, end) within which the service must start and end;
            None: the shift.
        service
            Seconds of service.

        Returns
        -------
        list of (int, int)
            One window without a lunch break; with one, a window before it (service done
            by the break) and one after it. Empty windows are left out.
        """
        lo, hi = window if window is not None else (self.start, self.end)
        lo, hi = max(lo, self.start), min(hi, self.end)
        if self.lunch is None:
            parts = [(lo, hi - service)]
        else:
            after = self.lunch + self.lunch_len
            parts = [
                (lo, min(hi, self.lunch) - service),
                (self.work(max(lo, after)), self.work(hi) - service),
            ]
        return [(a, b) for a, b in parts if a <= b]


def clock_text(seconds: float) -> str:
    """``HH:MM`` of a time of day in seconds (rounded to the minute)."""
    minutes = round(seconds / 60)
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def weekday_index(day: str) -> int:
    """0 for ``mon`` ... 6 for ``sun``."""
    return WEEKDAYS.index(day)


def visit_gap(n_days: int, per_week: int, *, min_gap: int | None) -> int:
    """Working days at least between two weekly visits of a stop.

    Parameters
    ----------
    n_days
        Working days in the week.
    per_week
        Visits per week (1 to ``n_days``).
    min_gap
        ``tours.min_gap_days``; None: 2 when the visits fit so, else 1.

    Returns
    -------
    int
        The gap.

    Raises
    ------
    ConfigError
        The visits do not fit into the week with that gap.
    """
    if not 1 <= per_week <= n_days:
        msg = f"tours: {per_week} visits per week over {n_days} working days"
        raise ConfigError(msg)
    gap = min_gap if min_gap is not None else (2 if (per_week - 1) * 2 + 1 <= n_days else 1)
    if (per_week - 1) * gap + 1 > n_days:
        msg = (
            f"tours: {per_week} visits per week at least {gap} working days apart need "
            f"{(per_week - 1) * gap + 1} working days, the vans work {n_days} "
            "(lower tours.min_gap_days or the visits per week)"
        )
        raise ConfigError(msg)
    return gap


def visit_layouts(n_days: int, per_week: int, *, min_gap: int | None) -> list[list[list[int]]]:
    """Every way to cut the week into blocks of days, one block per weekly visit.

    Visit i is made on one day of block i. Consecutive blocks are ``gap`` working days
    apart (block i's last day to block i+1's first, :func:`visit_gap`), so any choice of
    one day per block keeps the gap, and every set of days that keeps it lies in one of
    the layouts: 2 visits over Mon-Fri with a gap of 2 have the layouts Mon | Wed-Fri,
    Mon-Tue | Thu-Fri and Mon-Wed | Fri, which between them allow Mon+Wed, Mon+Thu,
    Mon+Fri, Tue+Thu, Tue+Fri and Wed+Fri.

    Parameters
    ----------
    n_days, per_week, min_gap
        As :func:`visit_gap`.

    Returns
    -------
    list of layouts
        Each a list of blocks (per visit, indices into the working days). The first
        shares the spare days out evenly among the blocks (:func:`visit_days`).
    """
    gap = visit_gap(n_days, per_week, min_gap=min_gap)
    spare = n_days - (per_week - 1) * gap - 1
    even = [1 + (i + 1) * spare // per_week - i * spare // per_week for i in range(per_week)]
    layouts = [_blocks(even, gap)]
    for cut in itertools.combinations(range(spare + per_week - 1), per_week - 1):
        bounds = [-1, *cut, spare + per_week - 1]
        widths = [1 + b - a - 1 for a, b in itertools.pairwise(bounds)]
        if widths != even:
            layouts.append(_blocks(widths, gap))
    return layouts


def _blocks(widths: list[int], gap: int) -> list[list[int]]:
    """Blocks of the given widths, ``gap`` days from one block's last day to the next's first."""
    blocks, first = [], 0
    for width in widths:
        blocks.append(list(range(first, first + width)))
        first += width + gap - 1
    return blocks


def visit_days(n_days: int, per_week: int, *, min_gap: int | None) -> list[list[int]]:
    """The evenly spread layout of :func:`visit_layouts` (2 a week over Mon-Fri with a gap
    of 2: one visit on Mon or Tue, one on Thu or Fri).

    Raises
    ------
    ConfigError
        The visits do not fit into the week with that gap.
    """
    return visit_layouts(n_days, per_week, min_gap=min_gap)[0]


def keeps_gap(day: int, days: set[int] | list[int], gap: int) -> bool:
    """Whether a visit on working day ``day`` is at least ``gap`` days from each of ``days``."""
    return all(abs(day - d) >= gap for d in days)
