"""Moved to :mod:`planner.crs`; kept so ``planner.ingest.crs`` imports keep working."""

from planner.crs import crs_hint, gk3_zone_crs, guess_crs, metric_crs, reproject, to_crs_valid

__all__ = ["crs_hint", "gk3_zone_crs", "guess_crs", "metric_crs", "reproject", "to_crs_valid"]
