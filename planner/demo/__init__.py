"""The embedded demo county: a deterministic, seeded, synthetic rural county in China.

:func:`build_demo` writes real files in the formats real data arrives in, so the demo
runs through exactly the ingest code real data uses:

- ``<slug>_boundaries.gpkg``: layers ``county`` and ``townships`` (EPSG:4490, CGCS2000),
  townships with Chinese names, pinyin and 9-digit codes;
- ``<slug>.osm.pbf``: roads (trunk, secondary, tertiary, unclassified, residential),
  outlets and institutions, ``place=*`` nodes with population, existing charging
  stations, substations and 10/35 kV lines, all with OSM tags;
- ``<slug>_substations.csv``: substation headroom table;
- ``<slug>_operator_chargers.csv``: an operator's charger list, GBK text with GCJ-02
  coordinates, as Chinese operators' lists arrive;
- ``<slug>_population.tif``: Cloud-Optimised GeoTIFF, 100 m cells in UTM 50N, people
  per cell, consistent with the settlements' population (neighbouring counties'
  villages lie outside the county polygon and must be clipped away);
- ``<slug>.yaml``: the run config pointing at these files.

The county is fictional (青溪县, placed around 117.3 E, 28.3 N in hilly south-east China);
nothing in it is real data.

Modules, one job each: :mod:`~planner.demo.names` (name tables and invented names),
:mod:`~planner.demo.params` (:class:`DemoParams`, the generator's knobs),
:mod:`~planner.demo.layout` (county outline, settlements, townships, codes),
:mod:`~planner.demo.roads` (road generator and the OSM elements under construction),
:mod:`~planner.demo.assets` (places, outlets, chargers, population values),
:mod:`~planner.demo.power` (substations, lines and the substation table),
:mod:`~planner.demo.writers` (file writers, :func:`build_demo`) and
:mod:`~planner.demo.province` (:func:`build_province`: many counties, optionally in one
provincial extract).
"""

from planner.demo.names import (
    DEMO_NAME,
    DEMO_SLUG,
    MAX_PROVINCE,
    PROVINCE_NAMES,
    QINGXI,
    DemoIdentity,
)
from planner.demo.params import DEFAULT_SEED, DemoParams
from planner.demo.province import build_province
from planner.demo.writers import build_demo, demo_config_text

__all__ = [
    "DEFAULT_SEED",
    "DEMO_NAME",
    "DEMO_SLUG",
    "MAX_PROVINCE",
    "PROVINCE_NAMES",
    "QINGXI",
    "DemoIdentity",
    "DemoParams",
    "build_demo",
    "build_province",
    "demo_config_text",
]
