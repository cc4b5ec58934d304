"""Which layer an OSM object goes to, as :func:`planner.ingest.osm.read_osm` sorts it.

Shared by the read of one county (:mod:`planner.ingest.osm`) and the single pass that
collects every county of a province (:mod:`planner.ingest.osm_collect`), so that both
sort every object alike. Tags are osmium's (looked up key by key: turning them into a
``dict`` first takes several times as long).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import osmium

from planner.ingest.osm_tags import (
    DRIVABLE,
    PLACE_TYPES,
    POWER_LINES,
    SUBSTATION_VALUES,
    all_poi_keys,
    is_substation,
    parse_int,
    parse_voltage_kv,
    sockets,
)

#: An object's tags: osmium's, or a ``dict``.
Tags = osmium.osm.TagList | dict[str, str]
#: The point layers, in the order :class:`planner.datatypes.OsmData` has them.
POINT_LAYERS = ("pois", "places", "substations", "chargers", "power_points")
#: What a way is read as (:func:`way_kind`).
ROAD, LINE, BUILDING, POINT, NOTHING = "road", "line", "building", "point", ""
#: Keys that make a closed ``building=*`` way a point, not a building.
_NOT_BUILDING = ("amenity", "shop", "power")
#: ``power=*`` values of a node read as a power point.
_POWER_POINTS = ("transformer", "pole")


@dataclass(frozen=True)
class ReadOptions:
    """The options of :func:`planner.ingest.osm.read_osm` that decide what is read."""

    buildings: bool = False
    extra_highways: tuple[str, ...] = ()
    poi_keys: tuple[str, ...] = ()

    @property
    def drivable(self) -> frozenset[str]:
        """Highway classes read as roads."""
        return DRIVABLE | frozenset(self.extra_highways)

    @property
    def all_poi_keys(self) -> tuple[str, ...]:
        """Tag keys that make a point of interest (the defaults first)."""
        return all_poi_keys(self.poi_keys)

    @property
    def filter_keys(self) -> list[str]:
        """The keys an object needs one of to be read at all."""
        keys = ["highway", "place", "power", *self.all_poi_keys]
        return keys + (["building"] if self.buildings else [])

    def as_json(self) -> list[Any]:
        return [self.buildings, list(self.extra_highways), list(self.poi_keys)]


def point_row(
    osm_id: str, tags: Tags, poi_keys: tuple[str, ...]
) -> tuple[str, dict[str, Any]] | None:
    """The point layer and row (without geometry) of a node or closed way, if any.

    Each tag is looked up at most once (a lookup in osmium's tags costs about a
    microsecond, and a province has millions of tagged objects).
    """
    amenity = tags.get("amenity")
    if amenity == "charging_station":
        row = {
            "osm_id": osm_id,
            "name": tags.get("name"),
            "operator": tags.get("operator"),
            "sockets": sockets(tags),
        }
        return "chargers", row
    power = tags.get("power")
    if power is not None:
        if power in _POWER_POINTS and osm_id.startswith("n"):
            row = {"osm_id": osm_id, "power": power, "voltage_kv": _kv(tags)}
            return "power_points", row
        if power in SUBSTATION_VALUES and is_substation(tags):
            row = {
                "osm_id": osm_id,
                "ref": tags.get("ref"),
                "name": tags.get("name"),
                "voltage_kv": _kv(tags),
            }
            return "substations", row
    place = tags.get("place")
    if place in PLACE_TYPES and osm_id.startswith("n"):
        population = parse_int(tags.get("population"))
        row = {"osm_id": osm_id, "name": tags.get("name"), "place": place, "population": population}
        return "places", row
    values = [amenity if k == "amenity" else tags.get(k) for k in poi_keys]
    if any(values):
        row = {"osm_id": osm_id, "name": tags.get("name")}
        row.update(zip(poi_keys, values, strict=True))
        return "pois", row
    return None


def _kv(tags: Tags) -> float | None:
    return parse_voltage_kv(tags.get("voltage"))


def way_kind(tags: Tags, closed: bool, *, buildings: bool, drivable: frozenset[str]) -> str:
    """What a way is read as: a road, a power line, a building, a point (its centroid,
    see :func:`point_row`) or nothing."""
    if tags.get("highway") in drivable and tags.get("area") != "yes":
        return ROAD
    if tags.get("power") in POWER_LINES:
        return LINE
    if not closed:
        return NOTHING
    if buildings and "building" in tags and not any(k in tags for k in _NOT_BUILDING):
        return BUILDING
    return POINT


def road_tags(tags: Tags) -> list[str | None]:
    """highway, maxspeed, oneway, junction, name of a road."""
    return [tags.get(k) for k in ("highway", "maxspeed", "oneway", "junction", "name")]


def line_row(osm_id: str, tags: Tags) -> dict[str, Any]:
    """A power line's row (without geometry)."""
    return {
        "osm_id": osm_id,
        "power": tags.get("power"),
        "voltage_kv": _kv(tags),
        "name": tags.get("name"),
    }
