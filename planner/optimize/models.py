"""The covering models' former home, kept so that old imports keep working.

The models now live one family per module: :mod:`~planner.optimize.mclp`,
:mod:`~planner.optimize.two_tier`, :mod:`~planner.optimize.lscp`,
:mod:`~planner.optimize.pcenter`, with the shared station block in
:mod:`~planner.optimize.station` and their inputs and results in
:mod:`~planner.optimize.rules`. Import from there (or from :mod:`planner.optimize`).
"""

from planner.optimize.lscp import CoverResult, lscp
from planner.optimize.mclp import mclp
from planner.optimize.pcenter import CenterResult, pcenter
from planner.optimize.rules import CoverageResult, Objective, Sizing, StationRules
from planner.optimize.solve import solve
from planner.optimize.two_tier import TwoTierResult, two_tier

__all__ = [
    "CenterResult",
    "CoverResult",
    "CoverageResult",
    "Objective",
    "Sizing",
    "StationRules",
    "TwoTierResult",
    "lscp",
    "mclp",
    "pcenter",
    "solve",
    "two_tier",
]
