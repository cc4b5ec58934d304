"""The run config: one validated schema with documented defaults.

A county config is a YAML file whose keys mirror the classes of this package. Unknown
keys are errors; relative paths are resolved against the config file's folder. Any field
can be overridden on the command line with ``--set section.field=value`` (the value is
parsed as YAML, so ``--set stations.budget=8e6`` gives a number).
"""

from planner.config.base import CHINA_SYSTEMS, PolicyClass
from planner.config.demand import DemandSection, PlacePopulation
from planner.config.inputs import (
    BoundariesInput,
    Inputs,
    LineLayerInput,
    OsmInput,
    PointTableInput,
    PopulationInput,
    SubstationTableInput,
)
from planner.config.load import apply_overrides, config_from_dict, load_config
from planner.config.report import (
    BASEMAP_NAMES,
    DEFAULT_FORMATS,
    Basemap,
    ExportFormat,
    ReportSection,
)
from planner.config.schema import Config, CountySection, CrsSection
from planner.config.siting import (
    DEFAULT_OSM_CLASSES,
    DEFAULT_SPEEDS_KMH,
    CandidatesSection,
    CostsSection,
    NetworkSection,
    RepairSection,
    StationsSection,
)
from planner.config.solver import CurveSection, SolverSection
from planner.config.tours import StopClass, ToursSection
from planner.errors import ConfigError

__all__ = [
    "BASEMAP_NAMES",
    "CHINA_SYSTEMS",
    "DEFAULT_FORMATS",
    "DEFAULT_OSM_CLASSES",
    "DEFAULT_SPEEDS_KMH",
    "Basemap",
    "BoundariesInput",
    "CandidatesSection",
    "Config",
    "ConfigError",
    "CostsSection",
    "CountySection",
    "CrsSection",
    "CurveSection",
    "DemandSection",
    "ExportFormat",
    "Inputs",
    "LineLayerInput",
    "NetworkSection",
    "OsmInput",
    "PlacePopulation",
    "PointTableInput",
    "PolicyClass",
    "PopulationInput",
    "RepairSection",
    "ReportSection",
    "SolverSection",
    "StationsSection",
    "StopClass",
    "SubstationTableInput",
    "ToursSection",
    "apply_overrides",
    "config_from_dict",
    "load_config",
]
