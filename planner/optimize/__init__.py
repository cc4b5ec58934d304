"""Optimisation: facility-location models and their solver backends."""

from planner.optimize.models import CoverageResult, CoverResult, Sizing, lscp, mclp
from planner.optimize.solve import solve

__all__ = ["CoverResult", "CoverageResult", "Sizing", "lscp", "mclp", "solve"]
