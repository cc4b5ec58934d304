"""The interactive map (map.html): Folium, self-contained so that it works offline.

Leaflet's script and stylesheet are inlined from an installed package
(:mod:`planner.report.assets`) and Folium's default CDN links (jQuery, Bootstrap,
Font Awesome, awesome-markers) are dropped, so the file renders with no network. Each
theme is one toggleable overlay drawn on a canvas (``prefer_canvas``), fed by compact
GeoJSON; tooltips, popups and the legend are built in the browser with ``textContent``
(``map.js``), so no text from the data is ever parsed as HTML. Basemaps are optional:
none is shown until the user picks one, and on Gaode/AMap tiles (GCJ-02) the overlays
are drawn shifted to GCJ-02 for display only.

Modules: :mod:`~planner.report.map.build` (the page, :func:`build_map`,
:func:`write_map`), :mod:`~planner.report.map.layers` and
:mod:`~planner.report.map.sites` (the overlays), :mod:`~planner.report.map.tours` (the
repair vans' routes and numbered stops, one overlay per working day),
:mod:`~planner.report.map.style` (colours, sizes, legend),
:mod:`~planner.report.map.roads` (the county's roads, :func:`road_lines`),
:mod:`~planner.report.map.encode` (GeoJSON, display text and all escaping),
:mod:`~planner.report.map.elements` (the Folium elements) and
:mod:`~planner.report.map.basemaps`.

Every text is in the run's language (``lang``, from the message catalogs; domain
``map``). The page also names the townships from a zoom where they have room, has a
search box over stations, repair points, townships and the vans' tours, a metric scale
bar, and starts with the layer control and the legend collapsed on small screens.
"""

from planner.report.map.basemaps import BASEMAPS, NO_BASEMAP, TIANDITU_KEY_ENV
from planner.report.map.build import build_map, write_map
from planner.report.map.roads import road_lines
from planner.report.map.style import CLASS_COLOURS, NO_DEMAND_COLOUR

__all__ = [
    "BASEMAPS",
    "CLASS_COLOURS",
    "NO_BASEMAP",
    "NO_DEMAND_COLOUR",
    "TIANDITU_KEY_ENV",
    "build_map",
    "road_lines",
    "write_map",
]
