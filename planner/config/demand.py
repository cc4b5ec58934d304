"""Demand: how population, from a raster or from OSM settlements, turns into sessions."""

from __future__ import annotations

import logging
from typing import Any, Literal

from pydantic import Field, PositiveFloat, field_validator, model_validator

from planner.config.base import Section

logger = logging.getLogger(__name__)

#: ``demand.resolution_m``: metres, or the raster's own cells.
Resolution = PositiveFloat | Literal["native"]

#: The old name of ``demand.resolution_m``, still read (with a warning).
DEPRECATED_CELL_SIZE = "cell_size_m"


class PlacePopulation(Section):
    """People per OSM ``place=*`` settlement without a ``population`` tag, by place value.

    Defaults for rural China. Suburbs and quarters are parts of a town or city whose
    people its own ``place=town``/``city`` node already stands for: by default they
    count 0 people and are left out of demand (the log counts them), so that a
    ``place=suburb`` node does not make a small town look like a big one.
    """

    city: float = Field(
        default=100_000, ge=0, description="place=city: a city (a county seat of that size)"
    )
    town: float = Field(
        default=8_000, ge=0, description="place=town: a town (镇), e.g. a township seat"
    )
    village: float = Field(
        default=600, ge=0, description="place=village: a village (行政村 or a large 自然村)"
    )
    hamlet: float = Field(default=80, ge=0, description="place=hamlet: a hamlet (自然村, 屯, 组)")
    isolated_dwelling: float = Field(
        default=8, ge=0, description="place=isolated_dwelling: one or two farmsteads"
    )
    suburb: float = Field(
        default=0,
        ge=0,
        description="place=suburb: a district of a town or city, counted in it (0: left out)",
    )
    quarter: float = Field(
        default=0,
        ge=0,
        description="place=quarter: a part of a town or suburb, counted in it (0: left out)",
    )

    def as_dict(self) -> dict[str, float]:
        """Place value -> people."""
        return {k: float(v) for k, v in self.model_dump().items()}


#: The coarsest demand squares (m): a county plan at 10 km squares already puts a
#: township's people at one or two points; a larger value is taken for a typo.
MAX_RESOLUTION_M = 10_000.0


class DemandSection(Section):
    """How population turns into charging demand."""

    source: Literal["auto", "raster", "settlements"] = Field(
        default="auto",
        description="'raster': aggregate inputs.population; 'settlements': OSM place=* nodes; "
        "'auto': the raster when one is given",
    )
    resolution_m: Resolution = Field(
        default=1000.0,
        description="Raster: side (m) of the squares whose populated cells merge into one "
        "demand point, at their population-weighted centre (e.g. 1000, or 100 for 10^5 "
        "points in a county; at most 10,000); 'native': one point per populated raster "
        "cell. A value finer than the raster's cells uses its cells, with a warning. "
        "Settlements are points already: it does not apply to them (a warning when set). "
        "Old name: "
        "cell_size_m (still read, with a warning)",
    )
    min_raster_coverage: float = Field(
        default=0.95,
        ge=0,
        le=1,
        description="Raster: least share of the county's area its extent must cover; less "
        "stops the run (exit 2) naming the file and the share. Nodata cells inside the "
        "extent count as 0 people (a warning gives their share)",
    )
    population_total: float | None = Field(
        default=None,
        gt=0,
        description="Settlements: scale populations so the county totals this (e.g. census)",
    )
    place_population: PlacePopulation = Field(
        default_factory=PlacePopulation,
        description="Settlements: people per place type where the population tag is missing "
        "(one field per OSM place value; unlisted ones keep their defaults)",
    )
    weight_by_buildings: bool = Field(
        default=False,
        description="Settlements: a settlement without a population tag gets people in "
        "proportion to the OSM buildings nearest to it (instead of its type default)",
    )
    people_per_building: float | None = Field(
        default=None,
        gt=0,
        description="With weight_by_buildings: people per building; None estimates it from "
        "the settlements that have a population tag",
    )
    building_radius_m: float = Field(
        default=2000,
        gt=0,
        description="Buildings farther than this from any settlement count for none",
    )
    vehicles_per_1000: float = Field(default=220, ge=0, description="Cars per 1000 people")
    ev_adoption: float = Field(default=0.10, ge=0, le=1, description="EV share of cars")
    sessions_per_ev_per_day: float = Field(
        default=0.15, ge=0, description="Public charging sessions per EV per day"
    )
    kwh_per_session: float = Field(default=25, gt=0, description="Energy per session (kWh)")
    min_population: float = Field(
        default=1.0, ge=0, description="Cells with fewer people are not demand points"
    )

    @model_validator(mode="before")
    @classmethod
    def _old_cell_size(cls, data: Any) -> Any:
        """Read the deprecated ``cell_size_m`` as ``resolution_m``, with a warning."""
        if not isinstance(data, dict) or DEPRECATED_CELL_SIZE not in data:
            return data
        if "resolution_m" in data:
            msg = (
                "give demand.resolution_m only: cell_size_m is its old name (deprecated), delete it"
            )
            raise ValueError(msg)
        logger.warning(
            "demand.cell_size_m is deprecated: write demand.resolution_m instead (same "
            "meaning; cell_size_m=%s read as resolution_m)",
            data[DEPRECATED_CELL_SIZE],
        )
        out = dict(data)
        out["resolution_m"] = out.pop(DEPRECATED_CELL_SIZE)
        return out

    @field_validator("resolution_m", mode="before")
    @classmethod
    def _metres_or_native(cls, value: Any) -> Any:
        """One clear message for anything but a positive number or ``native``."""
        msg = (
            f"a positive number of metres up to {MAX_RESOLUTION_M:,.0f} (e.g. 1000 or 100) or "
            "'native' (the raster's cells)"
        )
        if isinstance(value, str):
            word = value.strip().lower()
            if word == "native":
                return word
            try:
                value = float(word)
            except ValueError:
                raise ValueError(msg) from None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(msg)  # None, a list, a mapping: the same message
        if not 0 < value <= MAX_RESOLUTION_M:  # coarser squares merge whole townships
            raise ValueError(msg)
        return value

    @property
    def cell_size_m(self) -> Resolution:
        """Deprecated name of :attr:`resolution_m` (read-only)."""
        return self.resolution_m
