"""The whole config: the county, its sections, and the checks that span sections."""

from __future__ import annotations

from pydantic import Field, field_validator, model_validator

from planner.config.base import Section, is_bare_int
from planner.config.demand import DemandSection
from planner.config.inputs import Inputs
from planner.config.report import ReportSection
from planner.config.siting import (
    CandidatesSection,
    CostsSection,
    NetworkSection,
    RepairSection,
    StationsSection,
)
from planner.config.solver import CurveSection, SolverSection
from planner.config.tours import ToursSection
from planner.errors import ConfigError
from planner.slugs import default_slug


class CountySection(Section):
    """Which county this is."""

    name: str = Field(description="County name as shown in reports, e.g. 青溪县")
    code: str | None = Field(
        default=None,
        description="The county's 6-digit administrative division code (GB/T 2260), e.g. "
        "361130 for 婺源县; the default slug when it is given",
    )
    slug: str | None = Field(
        default=None,
        pattern=r"^[a-z0-9][a-z0-9_-]*$",
        description="Folder-safe id, the name of the default output folder; default: "
        "county.code, else the name in pinyin followed by the config file's name unless "
        "one contains the other (婺源县 in jiangxi.yaml: wuyuanxian-jiangxi; in 婺源县.yaml: "
        "wuyuanxian), see planner.slugs",
    )

    @field_validator("code", mode="before")
    @classmethod
    def _code_text(cls, value: object) -> object:
        # YAML reads a bare code (361130) as a number
        if is_bare_int(value):
            return str(value)
        return value

    @field_validator("code")
    @classmethod
    def _six_digits(cls, value: str | None) -> str | None:
        if value is None:
            return None
        text = value.strip()
        if len(text) != 6 or not text.isascii() or not text.isdigit() or text[0] == "0":
            msg = "a county code is 6 digits, not starting with 0 (GB/T 2260, e.g. 361130)"
            raise ValueError(msg)
        return text


class CrsSection(Section):
    """Coordinate reference systems."""

    metric: str = Field(
        default="auto",
        description=(
            "CRS for distances: 'auto' picks the CGCS2000 3-degree Gauss-Kruger zone in "
            "China (EPSG:4534-4554) and UTM elsewhere; or any 'EPSG:nnnn'"
        ),
    )


class Config(Section):
    """A county run config."""

    county: CountySection
    inputs: Inputs
    crs: CrsSection = Field(default_factory=CrsSection)
    demand: DemandSection = Field(default_factory=DemandSection)
    candidates: CandidatesSection = Field(default_factory=CandidatesSection)
    network: NetworkSection = Field(default_factory=NetworkSection)
    costs: CostsSection = Field(default_factory=CostsSection)
    stations: StationsSection
    repair: RepairSection = Field(default_factory=RepairSection)
    curve: CurveSection = Field(default_factory=CurveSection)
    solver: SolverSection = Field(default_factory=SolverSection)
    report: ReportSection = Field(default_factory=ReportSection)
    tours: ToursSection = Field(default_factory=ToursSection)

    @model_validator(mode="after")
    def _check(self) -> Config:
        if self.demand.source == "raster" and self.inputs.population is None:
            msg = "demand.source is 'raster' but inputs.population is not given"
            raise ValueError(msg)
        if self.inputs.osm.source == "overpass" and self.inputs.boundaries.source == "osm":
            msg = (
                "boundaries from OSM relations need an OSM file; with Overpass give the "
                "boundaries as a file (inputs.boundaries.path)"
            )
            raise ValueError(msg)
        if (self.curve.budgets or self.curve.steps) and self.stations.objective != "coverage":
            msg = "curve: a coverage-vs-budget curve needs stations.objective 'coverage'"
            raise ValueError(msg)
        if self.curve.steps and not self.curve.budgets and self.stations.budget is None:
            msg = "curve.steps needs stations.budget (the top of the curve) or curve.budgets"
            raise ValueError(msg)
        if self.tours.enabled and not self.repair.enabled:
            msg = "tours: the vans start from the repair points, but repair.enabled is false"
            raise ValueError(msg)
        return self

    @property
    def slug(self) -> str:
        """The county's folder-safe id: ``county.slug``, else from its code or name.

        Raises
        ------
        ConfigError
            Neither ``county.slug``, ``county.code`` nor the name gives one.
        """
        if self.county.slug:
            return self.county.slug
        slug = default_slug(self.county.name, code=self.county.code)
        if slug is None:
            raise ConfigError(no_slug_message("config", self.county.name))
        return slug


def no_slug_message(source: str, name: str, stem: str | None = None) -> str:
    """Why a config has no slug, and what to set."""
    whence = f"county.name {name!r}" + (f" or the file name {stem!r}" if stem else "")
    return (
        f"{source}: no folder name (slug) can be made from {whence}: they have no Chinese "
        "or Latin letters or digits; set county.slug (lower-case letters, digits, - and _) "
        "or county.code (the 6-digit GB/T 2260 code)"
    )
