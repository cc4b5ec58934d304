"""The batch config: its schema, reading it, and the figures a batch records.

The format is described in :mod:`planner.batch`, which runs it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

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
    model_config = ConfigDict(extra="forbid")


class BatchCounty(_Strict):
    """One county of the batch."""

    config: Path = Field(description="County config, relative to the batch file")
    set: dict[str, Any] = Field(
        default_factory=dict, description="Overrides for this county, e.g. stations.budget"
    )


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
        msg = f"{path}: {where}: {first['msg']}"
        raise ConfigError(msg) from None
