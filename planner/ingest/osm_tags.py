"""OpenStreetMap tag vocabulary: which ways drive, which nodes are places, substations,
power lines or points of interest, and the parsers of voltage and socket counts."""

from __future__ import annotations

import re

import osmium

#: Highway classes cars use; footways, paths, tracks and the like are excluded.
DRIVABLE = frozenset(
    {
        "motorway",
        "motorway_link",
        "trunk",
        "trunk_link",
        "primary",
        "primary_link",
        "secondary",
        "secondary_link",
        "tertiary",
        "tertiary_link",
        "unclassified",
        "residential",
        "living_street",
        "service",
        "road",
    }
)

PLACE_TYPES = frozenset(
    {"city", "town", "village", "hamlet", "isolated_dwelling", "suburb", "quarter"}
)
POWER_LINES = frozenset({"line", "minor_line", "cable"})
#: ``power=*`` values of substations: the current tag, the legacy misspelling
#: ``sub_station`` and the deprecated ``station`` (unless it is a power plant).
SUBSTATION_VALUES = frozenset({"substation", "sub_station", "station"})
#: Tags that make a ``power=station`` a power plant, not a substation.
_PLANT_KEYS = ("generator:source", "plant:source", "plant:output:electricity")
#: Keys that make a node or area a point of interest (more come from the class mapping).
POI_KEYS = ("amenity", "shop", "public_transport")


def parse_voltage_kv(value: str | None) -> float | None:
    """Highest voltage in kV from an OSM ``voltage`` tag (volts, ``;``-separated).

    Parameters
    ----------
    value
        The tag value, e.g. ``"110000;10000"``.

    Returns
    -------
    float or None
        The highest voltage in kV, or None when no number can be read.
    """
    if not value:
        return None
    volts = []
    for part in re.split(r"[;,]", value):
        m = re.match(r"\s*(\d+(?:\.\d+)?)\s*(kv)?", part.lower())
        if m:
            v = float(m.group(1))
            volts.append(v * 1000 if m.group(2) else v)
    return max(volts) / 1000 if volts else None


def is_substation(tags: osmium.osm.TagList | dict[str, str]) -> bool:
    """Whether an OSM node or area is a substation.

    Parameters
    ----------
    tags
        The object's tags.

    Returns
    -------
    bool
        True for ``power=substation``, the legacy ``power=sub_station``, and the
        deprecated ``power=station`` unless plant tags (``generator:source``,
        ``plant:source``, ``plant:output:electricity``) make it a power plant.
    """
    power = tags.get("power")
    if power not in SUBSTATION_VALUES:
        return False
    return power != "station" or not any(tags.get(k) for k in _PLANT_KEYS)


def parse_int(value: str | None) -> float | None:
    if not value:
        return None
    if value.isdecimal():  # the common case, as the pattern below reads it
        return float(value)
    m = re.match(r"\s*(\d[\d,\s]*)", value)
    if not m:
        return None
    digits = re.sub(r"[,\s]", "", m.group(1))
    return float(digits) if digits else None


def sockets(tags: osmium.osm.TagList | dict[str, str]) -> float | None:
    """Charging points: the ``capacity`` tag, else the sum of ``socket:<type>`` counts."""
    capacity = parse_int(tags.get("capacity"))
    if capacity is not None:
        return capacity
    parsed = [
        parse_int(v)
        for k, v in (tags.items() if isinstance(tags, dict) else ((t.k, t.v) for t in tags))
        if k.startswith("socket:") and k.count(":") == 1
    ]
    counts = [c for c in parsed if c is not None]
    return float(sum(counts)) if counts else None


def all_poi_keys(extra: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys((*POI_KEYS, *extra)))
