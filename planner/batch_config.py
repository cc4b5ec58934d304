"""The batch config: its schema, reading it, and the figures a batch records.

The format is described in :mod:`planner.batch`, which runs it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from planner.config.base import (
    CHINA_SYSTEMS,
    crs_text,
    is_bare_int,
    is_crs,
    unknown_key_message,
)
from planner.errors import ConfigError

#: Key figures from summary.json copied into batch_summary.csv and index.html.
FIGURES = (
    "county",
    "stations",
    "chargers",
    "repair_points",
    "demand_covered_share",
    "capex_total",
    "mean_travel_min",
    "status",
    "gap",
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class BatchCounty(_Strict):
    """One county of the batch."""

    config: Path = Field(description="County config, relative to the batch file")
    set: dict[str, Any] = Field(
        default_factory=dict, description="Overrides for this county, e.g. stations.budget"
    )
    boundary: str | None = Field(
        default=None,
        description="With a province section: this county's value of the boundaries "
        "layer's code_field (else of its name_field); default: the config's county.code, "
        "else its county.name",
    )

    @field_validator("boundary", mode="before")
    @classmethod
    def _code_text(cls, value: object) -> object:
        # YAML reads a bare code (361130) as a number
        return str(value) if is_bare_int(value) else value


class ProvinceInput(_Strict):
    """One provincial OSM extract and one layer of county polygons, for all counties.

    The extract is split into one piece per county in a single read (see
    :mod:`planner.province`); each county reads its piece instead of ``inputs.osm``.
    """

    osm: Path = Field(
        description="The provincial extract (.osm.pbf, .osm, .osm.bz2), relative to the "
        "batch file; replaces every county's inputs.osm"
    )
    boundaries: Path = Field(
        description="County polygons, one feature per county (GeoPackage, Shapefile, "
        "GeoJSON), relative to the batch file"
    )
    layer: str | None = Field(default=None, description="Layer of the file; the first if None")
    code_field: str | None = Field(
        default="code",
        description="Field of county codes, matched against county.code (None: names only)",
    )
    name_field: str = Field(default="name", description="Field of county names")
    encoding: str | None = Field(
        default=None, description="Text encoding of a Shapefile's .dbf (e.g. gbk); auto if None"
    )
    crs: str | None = Field(
        default=None,
        description="CRS of the layer's coordinates: None (the file's), an EPSG code, or "
        "gcj02 / bd09 degrees",
    )
    margin_m: float = Field(
        default=1000,
        ge=0,
        description="Each county's piece reaches this far beyond its polygon plus its road "
        "buffer (inputs.osm.clip_buffer_m), for county configs whose own boundary differs "
        "slightly from the layer's",
    )
    cache_dir: Path | None = Field(
        default=None,
        description="Folder of the pieces, relative to the batch file; default: "
        "osm-pieces in the results folder. A piece is named by a hash of the extract's "
        "content, the county polygon, the buffer and the splitter's version, and reused "
        "while they stay the same",
    )

    @field_validator("osm", "boundaries", "cache_dir", mode="before")
    @classmethod
    def _a_path(cls, value: Any) -> Any:
        """A path must be given as text: not empty (``''`` would be the batch's folder)."""
        if value is None or (isinstance(value, str) and not value.strip()):
            raise ValueError("give a path (relative to the batch file), or leave the key out")
        return value

    @field_validator("crs", mode="before")
    @classmethod
    def _crs_code(cls, value: object) -> object:
        return f"EPSG:{value}" if is_bare_int(value) else value

    @field_validator("crs")
    @classmethod
    def _known_crs(cls, value: str | None) -> str | None:
        if value is None or value.lower() in CHINA_SYSTEMS:
            return value.lower() if value is not None else None
        if not is_crs(crs_text(value)):
            msg = f"{value!r} is not a CRS (use e.g. EPSG:4490, gcj02 or bd09)"
            raise ValueError(msg)
        return crs_text(value)


class Scenario(_Strict):
    """A named set of overrides applied to every county."""

    name: str = Field(description="Folder-safe name: letters, digits, - and _")
    set: dict[str, Any] = Field(default_factory=dict)

    @field_validator("name")
    @classmethod
    def _safe(cls, value: str) -> str:
        if not value or not all(c.isascii() and (c.isalnum() or c in "-_") for c in value):
            msg = f"scenario name {value!r}: use letters, digits, - and _"
            raise ValueError(msg)
        return value


class BatchConfig(_Strict):
    """A batch: counties, scenarios and where the results go."""

    output: Path = Field(default=Path("runs"), description="Results folder")
    province: ProvinceInput | None = Field(
        default=None,
        description="One provincial extract and county layer instead of OSM per county",
    )
    counties: list[BatchCounty] = Field(min_length=1)
    scenarios: list[Scenario] = Field(default_factory=lambda: [Scenario(name="base")])

    @field_validator("scenarios")
    @classmethod
    def _unique(cls, value: list[Scenario]) -> list[Scenario]:
        names = [s.name for s in value]
        if len(set(names)) != len(names) or not names:
            msg = "scenario names must be unique (and at least one scenario given)"
            raise ValueError(msg)
        return value

    @model_validator(mode="after")
    def _boundary_needs_province(self) -> BatchConfig:
        for k, county in enumerate(self.counties):
            if county.boundary is not None and self.province is None:
                msg = f"counties.{k}.boundary applies with a province section"
                raise ValueError(msg)
        return self


def load_batch(path: str | Path) -> tuple[BatchConfig, Path]:
    """Read and validate a batch config; returns it and the folder paths are relative to."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        msg = f"{path}: batch config not found"
        raise ConfigError(msg) from None
    except yaml.YAMLError as err:
        msg = f"{path}: not valid YAML ({str(err).splitlines()[0]})"
        raise ConfigError(msg) from None
    try:
        return BatchConfig.model_validate(raw or {}), path.resolve().parent
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top level)"
        if first["type"] == "extra_forbidden":
            msg = f"{path}: {unknown_key_message(BatchConfig, tuple(first['loc']))}"
        else:
            text = str(first["msg"]).removeprefix("Value error, ")
            msg = f"{path}: {where}: {text} (got {first.get('input')!r})"
        raise ConfigError(msg) from None
