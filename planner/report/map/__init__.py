"""The interactive map (map.html): Folium, self-contained so that it works offline."""

from planner.report.map.layers import build_map, write_map

__all__ = ["build_map", "write_map"]
