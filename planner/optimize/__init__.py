"""Optimisation: facility-location models and their solver backends.

One module per model family, each with its formulation in its docstring:
:mod:`~planner.optimize.mclp` (maximal covering, sized stations),
:mod:`~planner.optimize.two_tier` (stations and repair points under one budget),
:mod:`~planner.optimize.lscp` (set covering), :mod:`~planner.optimize.pcenter`; the shared
station block is :mod:`~planner.optimize.station`, the station rules and results
:mod:`~planner.optimize.rules`. Planning a county from its tables is
:mod:`~planner.optimize.plan` (with :mod:`~planner.optimize.diagnose`,
:mod:`~planner.optimize.inputs`, :mod:`~planner.optimize.curve` and
:mod:`~planner.optimize.tables`). The exact solvers for the benchmarks' p-median and
capacitated facility location are :mod:`~planner.optimize.pmedian` (with
:mod:`~planner.optimize.benders` and :mod:`~planner.optimize.pmedian_search`) and
:mod:`~planner.optimize.cflp` (with :mod:`~planner.optimize.cflp_branch`,
:mod:`~planner.optimize.cflp_lagrangian` and :mod:`~planner.optimize.cflp_heuristic`). The
covering models start from :mod:`~planner.optimize.greedy`. PuLP models
are solved by :func:`~planner.optimize.solve.solve`, through the backends
:mod:`~planner.optimize.highs` and :mod:`~planner.optimize.cbc` (the latter under
:mod:`~planner.optimize.watchdog`).
"""

from planner.optimize.lscp import CoverResult, lscp
from planner.optimize.mclp import mclp
from planner.optimize.pcenter import CenterResult, pcenter
from planner.optimize.rules import CoverageResult, Sizing, StationRules
from planner.optimize.solve import solve
from planner.optimize.two_tier import two_tier
from planner.optimize.two_tier_repair import TwoTierResult

__all__ = [
    "CenterResult",
    "CoverResult",
    "CoverageResult",
    "Sizing",
    "StationRules",
    "TwoTierResult",
    "lscp",
    "mclp",
    "pcenter",
    "solve",
    "two_tier",
]
