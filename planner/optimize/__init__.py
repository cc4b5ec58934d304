"""Optimisation: facility-location models and their solver backends."""

from planner.optimize.models import (
    CenterResult,
    CoverageResult,
    CoverResult,
    Sizing,
    TwoTierResult,
    lscp,
    mclp,
    pcenter,
    two_tier,
)
from planner.optimize.solve import solve

__all__ = [
    "CenterResult",
    "CoverResult",
    "CoverageResult",
    "Sizing",
    "TwoTierResult",
    "lscp",
    "mclp",
    "pcenter",
    "solve",
    "two_tier",
]
