"""Weekly tours of the mobile repair vans from the chosen repair points (off by default)."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from planner.config.base import Section

#: Day names of the week, Monday first (the order of the weekly schedule).
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
#: The kinds of stops a van visits.
STOP_KINDS = ("villages", "stations")
StopKind = Literal["villages", "stations"]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def _workweek() -> list[Weekday]:
    return ["mon", "tue", "wed", "thu", "fri"]


def _villages_only() -> list[StopKind]:
    return ["villages"]


_CLOCK = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


def clock_minutes(text: str) -> int:
    """Minutes after midnight of an ``HH:MM`` time (``"08:30"`` -> 510)."""
    m = _CLOCK.match(text.strip())
    if m is None:
        msg = f"a time of day is HH:MM (e.g. 08:00), got {text!r}"
        raise ValueError(msg)
    return int(m.group(1)) * 60 + int(m.group(2))


def _clock_text(value: object) -> object:
    # YAML 1.1 reads an unquoted 8:30 as a base-60 number (510) where a config comes from
    # another reader (a batch file's set:): turn it back, also past midnight (25:00 is
    # 1500), so that the check below names the time typed
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return f"{value // 60:02d}:{value % 60:02d}"
    return value


def _clock_normal(text: str) -> str:
    """A checked time of day as ``HH:MM`` (``8:30`` is ``08:30``)."""
    minutes = clock_minutes(text)
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


class StopClass(Section):
    """What one kind of stop asks of the vans: service time, visits per week, hours."""

    service_min: float | None = Field(
        default=None,
        gt=0,
        description="Minutes a van spends at each stop of this kind; default: tours.service_min",
    )
    per_week: int = Field(
        default=1,
        ge=1,
        le=7,
        description="Visits per week to each stop of this kind (at most the working days); on "
        "different working days, spread over the week",
    )
    per_week_by_evs: dict[int, int] = Field(
        default_factory=dict,
        description="More visits for stops with many EVs: minimum EV count -> visits per week "
        "(e.g. {200: 2, 500: 3}); a stop gets the largest of per_week and the visits of the "
        "highest threshold it reaches (stops without an EV count: per_week)",
    )
    min_evs: float = Field(
        default=0,
        ge=0,
        description="Stops with an EV count visit only from this many EVs on (villages: the "
        "demand points with at least this many EVs; those with none are never stops)",
    )
    time_window: tuple[str, str] | None = Field(
        default=None,
        description="Hours (HH:MM, HH:MM) within which each visit's service must start and "
        "end, e.g. [09:00, 16:00] for a station's opening hours; default: the whole shift",
    )

    @field_validator("time_window", mode="before")
    @classmethod
    def _window_text(cls, value: object) -> object:
        if isinstance(value, list | tuple):
            return tuple(_clock_text(v) for v in value)
        return value

    @field_validator("time_window")
    @classmethod
    def _window_order(cls, value: tuple[str, str] | None) -> tuple[str, str] | None:
        if value is None:
            return value
        start, end = _clock_normal(value[0]), _clock_normal(value[1])
        if clock_minutes(start) >= clock_minutes(end):
            msg = f"a time window's start is before its end, got {start}-{end}"
            raise ValueError(msg)
        return start, end

    @field_validator("per_week_by_evs")
    @classmethod
    def _thresholds(cls, value: dict[int, int]) -> dict[int, int]:
        bad = [k for k, v in value.items() if k < 0 or not 1 <= v <= 7]
        if bad:
            msg = "per_week_by_evs maps an EV count (>= 0) to 1-7 visits per week"
            raise ValueError(msg)
        return dict(sorted(value.items()))

    def max_per_week(self) -> int:
        """The most visits per week any stop of this kind can get."""
        return max([self.per_week, *self.per_week_by_evs.values()])


class ToursSection(Section):
    """Weekly tours of mobile repair vans from the repair points (a periodic VRP, PyVRP)."""

    enabled: bool = Field(default=False, description="Plan the vans' weekly tours")
    vans_per_point: int = Field(
        default=1,
        ge=1,
        description="Vans based at each chosen repair point (when fleet_size is not given)",
    )
    fleet_size: int | None = Field(
        default=None,
        ge=1,
        description="Vans in all; shared among the repair points in proportion to the weekly "
        "visits nearest each (a point may get none); replaces vans_per_point",
    )
    days: list[Weekday] = Field(
        default_factory=_workweek,
        min_length=1,
        description="Working days of the vans (mon ... sun)",
    )
    shift_start: str = Field(
        default="08:00", description="Time (HH:MM) the vans may leave their repair point"
    )
    shift_end: str = Field(
        default="17:00", description="Time (HH:MM) the vans are back at their repair point"
    )
    lunch_start: str | None = Field(
        default=None,
        description="Start (HH:MM) of a fixed lunch break within the shift: no driving and "
        "no service from then for lunch_min minutes (the van stops where it is); "
        "default: no break",
    )
    lunch_min: float = Field(default=60, gt=0, description="Length of the lunch break (minutes)")
    service_min: float = Field(default=30, gt=0, description="Minutes a van spends at each stop")
    stops: list[StopKind] = Field(
        default_factory=_villages_only,
        min_length=1,
        description="What the vans visit: 'villages' (demand points with EVs) and/or "
        "'stations' (the charging stations, for inspection)",
    )
    villages: StopClass = Field(
        default_factory=StopClass, description="Service time, visits and hours of villages"
    )
    stations: StopClass = Field(
        default_factory=StopClass,
        description="Service time, visits and hours of charging stations",
    )
    min_gap_days: int | None = Field(
        default=None,
        ge=1,
        description="Working days at least between two visits to a stop in one week; "
        "default: 2 when the stop's visits fit so, else 1 (visits on different days)",
    )
    unservable: Literal["error", "report"] = Field(
        default="error",
        description="Stops no van can serve within a shift (round trip plus service too "
        "long, or outside their time window): 'error' stops the run naming them (exit 2); "
        "'report' plans the others and lists them as unserved",
    )
    decompose_above: int | None = Field(
        default=1000,
        ge=0,
        description="With more stops than this, each repair point's vans get their own "
        "problem over the stops nearest them (a stop goes to the point with vans and the "
        "shortest round trip that can serve it), solved with its own travel matrix: "
        "counties with thousands of stops in minutes; 0: always, None: one problem for all",
    )
    seed: int = Field(default=1, ge=0, description="Random seed of the VRP search")
    iterations: int = Field(
        default=10_000,
        ge=1,
        description="Iterations of the VRP search (the stopping criterion: the same seed and "
        "iterations give the same tours); each repair point's problem runs as many when "
        "decomposed (decompose_above)",
    )
    time_limit_s: float | None = Field(
        default=None,
        gt=0,
        description="Safety net: stop the VRP search after this many seconds even before "
        "its iterations (the tours then depend on the machine's speed); default: none",
    )

    @field_validator("shift_start", "shift_end", "lunch_start", mode="before")
    @classmethod
    def _clock_field(cls, value: object) -> object:
        return _clock_text(value)

    @field_validator("shift_start", "shift_end", "lunch_start")
    @classmethod
    def _clock_format(cls, value: str | None) -> str | None:
        return None if value is None else _clock_normal(value)

    @field_validator("days")
    @classmethod
    def _week_order(cls, value: list[Weekday]) -> list[Weekday]:
        if len(set(value)) != len(value):
            msg = "working days are listed once each"
            raise ValueError(msg)
        return sorted(value, key=WEEKDAYS.index)

    @model_validator(mode="after")
    def _check(self) -> ToursSection:
        start, end = clock_minutes(self.shift_start), clock_minutes(self.shift_end)
        if start >= end:
            msg = f"tours: shift_start {self.shift_start} is not before shift_end {self.shift_end}"
            raise ValueError(msg)
        if self.lunch_start is not None:
            lunch = clock_minutes(self.lunch_start)
            if not start < lunch < lunch + self.lunch_min < end:
                msg = (
                    f"tours: the lunch break {self.lunch_start} + {self.lunch_min:g} min is "
                    f"not inside the shift {self.shift_start}-{self.shift_end}"
                )
                raise ValueError(msg)
        for kind in self.stops:
            most = self.stop_class(kind).max_per_week()
            if most > len(self.days):
                msg = (
                    f"tours: {kind} get up to {most} visits per week but the vans work "
                    f"{len(self.days)} days ({', '.join(self.days)})"
                )
                raise ValueError(msg)
            cls = self.stop_class(kind)
            service = self.service_of(kind)
            if cls.time_window is not None:
                open_min = clock_minutes(cls.time_window[1]) - clock_minutes(cls.time_window[0])
                if open_min < service:
                    msg = (
                        f"tours: {kind}' time window {'-'.join(cls.time_window)} is shorter "
                        f"than their service time ({service:g} min)"
                    )
                    raise ValueError(msg)
            gap = self.min_gap_days
            if gap is not None and (most - 1) * gap + 1 > len(self.days):
                # checked here, not after the siting solve (tours.timing.visit_days)
                msg = (
                    f"tours: {most} visits per week at least {gap} working days apart need "
                    f"{(most - 1) * gap + 1} working days, the vans work {len(self.days)} "
                    "(lower tours.min_gap_days or the visits per week)"
                )
                raise ValueError(msg)
        return self

    def stop_class(self, kind: str) -> StopClass:
        """The settings of one kind of stop ('villages' or 'stations')."""
        return self.villages if kind == "villages" else self.stations

    def service_of(self, kind: str) -> float:
        """Minutes a van spends at a stop of a kind: its own, else ``service_min``."""
        own = self.stop_class(kind).service_min
        return own if own is not None else self.service_min

    @property
    def shift_minutes(self) -> float:
        """Working minutes of a shift, lunch break excluded."""
        span = clock_minutes(self.shift_end) - clock_minutes(self.shift_start)
        return span - (self.lunch_min if self.lunch_start is not None else 0)
