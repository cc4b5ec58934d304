"""Siting: the candidate sites, the road network, the costs and the two models' rules.

The rules are those of the station model (maximal covering with sizing) and of the
repair-point model.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from planner.config.base import PolicyClass, Section, with_defaults
from planner.vocab import POLICY_CLASSES

#: OSM tag -> policy class. When several tags of one site match, the first here wins.
DEFAULT_OSM_CLASSES: dict[str, PolicyClass | None] = {
    "amenity=townhall": "township_government",
    "amenity=fuel": "fuel_station",
    "amenity=bus_station": "transport_hub",
    "public_transport=station": "transport_hub",
    "amenity=parking": "car_park",
    "amenity=marketplace": "commercial_outlet",
    "shop=supermarket": "commercial_outlet",
    "shop=convenience": "commercial_outlet",
    "shop=mall": "commercial_outlet",
    "shop=department_store": "commercial_outlet",
    "shop=general": "commercial_outlet",
    "shop=car_repair": "commercial_outlet",
    "amenity=post_office": "institution",
    "amenity=school": "institution",
    "amenity=clinic": "institution",
    "amenity=hospital": "institution",
    "amenity=doctors": "institution",
    "amenity=college": "institution",
    "amenity=police": "institution",
    "amenity=community_centre": "institution",
}


class CandidatesSection(Section):
    """Which outlets become candidate sites."""

    classes: list[PolicyClass] = Field(
        default_factory=lambda: list(POLICY_CLASSES),
        description="Policy classes that give candidates",
    )
    osm_classes: dict[str, PolicyClass | None] = Field(
        default_factory=lambda: dict(DEFAULT_OSM_CLASSES),
        description="OSM 'key=value' -> policy class (null: not a candidate); merged with the "
        "defaults, which a planner can override tag by tag",
    )
    category_classes: dict[str, PolicyClass | None] = Field(
        default_factory=dict,
        description="Outlet-table category -> policy class (e.g. 超市: commercial_outlet); "
        "rows whose category is not listed are reported and left out",
    )
    merge_within_m: float = Field(
        default=50, ge=0, description="Candidates closer than this are merged into one"
    )

    @field_validator("osm_classes", mode="before")
    @classmethod
    def _merge_osm(cls, value: object) -> object:
        if isinstance(value, dict):
            bad = [k for k in value if "=" not in str(k)]
            if bad:
                msg = f"osm_classes keys are 'key=value' tags, got {bad[0]!r}"
                raise ValueError(msg)
        return with_defaults(DEFAULT_OSM_CLASSES, value)


#: Rural China road speeds (km/h) by OSM highway class, where maxspeed is missing.
DEFAULT_SPEEDS_KMH = {
    "motorway": 100.0,
    "trunk": 70.0,
    "primary": 60.0,
    "secondary": 50.0,
    "tertiary": 40.0,
    "unclassified": 30.0,
    "residential": 25.0,
    "living_street": 10.0,
    "service": 15.0,
    "road": 30.0,
}


class NetworkSection(Section):
    """Road network and speeds."""

    speeds_kmh: dict[str, float] = Field(
        default_factory=lambda: dict(DEFAULT_SPEEDS_KMH),
        description="Speed per highway class where maxspeed is missing (_link classes use "
        "their base class); rural China defaults, merged with what the config gives",
    )
    use_maxspeed: bool = Field(default=True, description="Use OSM maxspeed tags where present")
    extra_highways: list[str] = Field(
        default_factory=list,
        description="Highway classes to drive on besides the usual ones (e.g. track); give "
        "their speeds in speeds_kmh",
    )
    access_speed_kmh: float = Field(
        default=15, gt=0, description="Speed of the off-road leg from a point to its node"
    )
    max_snap_m: float = Field(
        default=3000, gt=0, description="Points farther than this from a road are reported"
    )
    workers: int = Field(
        default=1,
        ge=1,
        description="Processes for the travel-time Dijkstra and threads for the service "
        "areas (1 inside `planner batch`, whose workers run one county each)",
    )
    parallel_min_cells: int = Field(
        default=10_000_000,
        ge=0,
        description="Sources x road nodes from which the Dijkstra uses the workers",
    )

    @field_validator("speeds_kmh", mode="before")
    @classmethod
    def _merge_speeds(cls, value: object) -> object:
        return with_defaults(DEFAULT_SPEEDS_KMH, value)

    @field_validator("speeds_kmh")
    @classmethod
    def _positive(cls, value: dict[str, float]) -> dict[str, float]:
        bad = [k for k, v in value.items() if v <= 0]
        if bad:
            msg = f"speeds must be positive: {', '.join(bad)}"
            raise ValueError(msg)
        return value


class CostsSection(Section):
    """Costs in CNY."""

    station_capex: float = Field(default=300_000, ge=0, description="Fixed cost per station")
    charger_capex: float = Field(default=80_000, ge=0, description="Cost per charger")
    connection_per_km: float = Field(
        default=250_000, ge=0, description="10 kV connection cost per km of line"
    )
    connection_default: float | None = Field(
        default=None,
        ge=0,
        description="Connection cost per site (CNY) when the inputs hold no 10 kV line or "
        "substation to measure from; None: connection costs are 'not included' (left "
        "empty in the exports, said so in summary.json and the report)",
    )
    repair_point_capex: float = Field(default=150_000, ge=0, description="Cost per repair point")
    repair_at_station_capex: float = Field(
        default=60_000,
        ge=0,
        description="Cost of a repair point at an open charging station (shared land, power "
        "and staff); at most repair_point_capex",
    )

    @model_validator(mode="after")
    def _check(self) -> CostsSection:
        if self.repair_at_station_capex > self.repair_point_capex:
            msg = "costs: repair_at_station_capex is above repair_point_capex"
            raise ValueError(msg)
        return self


class StationsSection(Section):
    """Charging-station model: maximal covering with sizing."""

    objective: Literal["coverage", "cost"] = Field(
        default="coverage",
        description="'coverage': most charging sessions covered within the budget / station "
        "count; 'cost': least capex that covers min_coverage_share",
    )
    cutoff_min: float = Field(default=15, gt=0, description="Drive time that counts as covered")
    max_stations: int | None = Field(
        default=None, ge=1, description="At most this many new stations"
    )
    budget: float | None = Field(
        default=None,
        gt=0,
        description="Total capex cap (CNY); with repair.mode 'joint' it covers the repair "
        "points too",
    )
    min_coverage_share: float | None = Field(
        default=None,
        gt=0,
        le=1,
        description="Share of all sessions/day that must be covered (the target of objective "
        "'cost'; a constraint with 'coverage')",
    )
    use_existing: bool = Field(
        default=True,
        description="Existing public chargers serve the demand in their reach with their "
        "charging points (capacity, tag or table column); they cost nothing, count for "
        "township_min and not for max_stations",
    )
    township_min: bool = Field(default=True, description="Every township gets a station")
    charger_kw: float = Field(default=60, gt=0, description="Power per charger (kW)")
    sessions_per_charger_per_day: float = Field(
        default=10,
        gt=0,
        description="Service-level rule: sessions one charger serves per day "
        "(utilisation cap x 24 h / session hours)",
    )
    min_chargers: int = Field(default=2, ge=1, description="Chargers per station, at least")
    max_chargers: int = Field(default=12, ge=1, description="Chargers per station, at most")
    respect_headroom: bool = Field(
        default=True,
        description="The chargers fed by one substation may not draw more than its known "
        "headroom (substations without a headroom figure are not limited)",
    )
    power_factor: float = Field(
        default=0.9,
        gt=0,
        le=1,
        description="Turns a substation's rated kVA into kW: its headroom is rated_kva x "
        "power_factor - peak_load_kw (from inputs.substations)",
    )
    required: list[str] = Field(
        default_factory=list,
        description="Candidates that must be stations, by osm_id (n123, w456) or table "
        "source (file.xlsx#3: the row as Excel numbers it, the header being row 1)",
    )
    excluded: list[str] = Field(
        default_factory=list, description="Candidates that must not be stations (same ids)"
    )

    @model_validator(mode="after")
    def _check(self) -> StationsSection:
        if self.objective == "coverage" and self.max_stations is None and self.budget is None:
            msg = "stations: give max_stations or budget (or both)"
            raise ValueError(msg)
        if self.objective == "cost" and self.min_coverage_share is None:
            msg = "stations: objective 'cost' needs min_coverage_share"
            raise ValueError(msg)
        if self.min_chargers > self.max_chargers:
            msg = "stations: min_chargers is above max_chargers"
            raise ValueError(msg)
        return self


class RepairSection(Section):
    """Repair points: every village and every station within the response time of one."""

    enabled: bool = Field(default=True, description="Plan repair points (false: stations only)")
    mode: Literal["joint", "after"] = Field(
        default="joint",
        description="'joint': stations and repair points in one model (one budget, a repair "
        "point at a station is cheaper); 'after': stations first, then the cheapest repair "
        "points for them",
    )
    response_min: float = Field(default=30, gt=0, description="Repair response drive time")
    unreachable: Literal["error", "warn"] = Field(
        default="error",
        description="Villages no candidate reaches within response_min: 'error' stops "
        "(exit 3, listing them); 'warn' plans for the others and reports them",
    )
