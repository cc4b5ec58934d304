"""The covering models' former home, kept so that old imports keep working."""

from planner.optimize.station import (
    CenterResult,
    CoverageResult,
    CoverResult,
    Sizing,
    TwoTierResult,
    lscp,
    mclp,
    pcenter,
    solve,
    two_tier,
)

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
