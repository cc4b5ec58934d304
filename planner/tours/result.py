"""The weekly tours found: tours per van and day, their stops, and the visits left out."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from planner.i18n import N_, Lang

#: Why a stop's visits are not in the plan: reason code -> text (translated when shown).
UNSERVED_REASONS = {
    "round_trip": N_("round trip and service longer than a shift"),
    "time_window": N_("its hours leave no time to get there and back within a shift"),
    "unreachable": N_("no road from any repair point with vans"),
    "fleet": N_(
        "it does not fit into the week as planned (tried in every tour of its days from its "
        "repair point and in a spare van there); more vans, longer shifts or a longer search "
        "(tours.iterations) may fit it"
    ),
    "visit_days": N_(
        "a van has room for it only on a day too close to its other visits: a stop's visits "
        "are kept tours.min_gap_days working days apart (by default 2 where they fit); a "
        "smaller tours.min_gap_days lets that van take it"
    ),
}


def reason_text(code: object, *, lang: Lang | None = None) -> str:
    """Why a stop's visits are left out, in words (:data:`UNSERVED_REASONS`) in ``lang``
    (English by default); an unknown code as it is."""
    text = str(code)
    if text not in UNSERVED_REASONS:
        return text
    return lang.gettext(UNSERVED_REASONS[text]) if lang is not None else UNSERVED_REASONS[text]


def van_name(repair_id: str, number: int) -> str:
    """A van's name: its repair point's id and its number there (``r000-1``)."""
    return f"{repair_id}-{number}"


def van_key(van: object) -> tuple[tuple[int, int | str], ...]:
    """Sort key of a van's name (or any id) in natural order: numbers as numbers, so
    ``r000-2`` comes before ``r000-10``."""
    parts = re.split(r"(\d+)", str(van))
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in parts if p)


@dataclass(frozen=True)
class Visit:
    """One stop of a tour; times in minutes after midnight of the tour's day."""

    order: int  # 1-based position in the tour
    stop: int  # row of the stop table
    stop_id: str
    name: str
    kind: str  # villages | stations
    visit: int  # which of the stop's weekly visits (1-based)
    per_week: int
    arrival_min: float
    start_min: float  # service starts (after any wait, and after lunch if it fell between)
    departure_min: float
    wait_min: float  # from arrival to the service's start (early for its hours, or lunch)
    km_from_previous: float
    lunch_min: float | None = None  # the lunch break, if taken on the way here or here


@dataclass(frozen=True)
class Tour:
    """One van's route on one day, from its repair point and back."""

    van: str  # repair point id and van number, e.g. R3-1
    repair_id: str
    depot: int  # row of the repair point (its matrix point)
    day: str  # mon ... sun
    visits: list[Visit]
    km: float
    drive_h: float
    start_min: float  # leaves the repair point
    end_min: float  # back at the repair point
    lunch_min: float | None  # start of the lunch break taken on the way, if any
    points: list[int]  # matrix points in driving order, the repair point at both ends


@dataclass(frozen=True)
class Unserved:
    """A stop with visits left out of the plan, and why."""

    stop: int
    stop_id: str
    name: str
    kind: str
    per_week: int
    missing: int  # weekly visits not in the plan
    reason: str  # a key of UNSERVED_REASONS
    detail: str = ""

    def reason_text(self, *, lang: Lang | None = None) -> str:
        """The reason in words, in ``lang`` (English by default)."""
        return reason_text(self.reason, lang=lang)


@dataclass
class TourPlan:
    """The weekly plan: tours, unserved stops and how the search ran."""

    tours: list[Tour]
    unserved: list[Unserved]
    days: list[str]
    vans: dict[str, int]  # repair point id -> vans based there
    visits_asked: int
    visits_served: int
    objective_km: float  # total distance of the week
    seed: int
    iterations: int  # the stopping criterion asked for
    iterations_done: int
    time_limit_s: float | None
    stopped_by: str  # iterations | time_limit
    runtime_s: float  # the search
    build_s: float  # the model
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def drive_h(self) -> float:
        """Drive hours of the week."""
        return sum(t.drive_h for t in self.tours)

    def record(self) -> dict[str, Any]:
        """What ``run.json`` keeps of the search: seed, stopping criterion and outcome."""
        return {
            "engine": "pyvrp",
            "engine_version": _pyvrp_version(),
            "seed": self.seed,
            "stop": {
                "criterion": "iterations",
                "iterations": self.iterations,
                "time_limit_s": self.time_limit_s,
            },
            "stopped_by": self.stopped_by,
            "iterations_done": self.iterations_done,
            "runtime_s": round(self.runtime_s, 3),
            "build_s": round(self.build_s, 3),
            "objective_km": round(self.objective_km, 3),
            "tours": len(self.tours),
            "visits_asked": self.visits_asked,
            "visits_served": self.visits_served,
            "unserved_stops": len(self.unserved),
            "vans": dict(self.vans),
            "days": list(self.days),
            **self.extra,
        }


def _pyvrp_version() -> str:
    from importlib.metadata import version

    return version("pyvrp")
