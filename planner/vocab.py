"""Vocabulary of candidate sites: policy classes, their display labels, colours and rank.

The one place where the policy classes are written out. The config's ``PolicyClass``
type, the merging of close candidates and the map's colours and legend all read them
from here.
"""

from __future__ import annotations

from typing import NamedTuple


class PolicyClassInfo(NamedTuple):
    """How one policy class is shown and ranked.

    Attributes
    ----------
    label
        Label for display (legends).
    colour
        Colour of its sites on the map.
    rank
        Which site is kept when close candidates are merged: the lowest rank wins.
    """

    label: str
    colour: str
    rank: int


#: Policy classes of candidate sites, in the order the config and the map list them.
POLICY_CLASS_INFO: dict[str, PolicyClassInfo] = {
    "commercial_outlet": PolicyClassInfo("commercial outlet", "#1f77b4", 4),
    "township_government": PolicyClassInfo("township government", "#d62728", 0),
    "fuel_station": PolicyClassInfo("fuel station", "#ff7f0e", 1),
    "car_park": PolicyClassInfo("car park", "#7f7f7f", 3),
    "transport_hub": PolicyClassInfo("transport hub", "#9467bd", 2),
    "institution": PolicyClassInfo("institution", "#17becf", 5),
}

#: Names of the policy classes (the values a config may give).
POLICY_CLASSES: tuple[str, ...] = tuple(POLICY_CLASS_INFO)

#: Policy class -> label for display.
CLASS_LABELS: dict[str, str] = {k: v.label for k, v in POLICY_CLASS_INFO.items()}

#: Policy class -> colour of its sites on the map.
CLASS_COLOURS: dict[str, str] = {k: v.colour for k, v in POLICY_CLASS_INFO.items()}

#: Policy class -> rank when close candidates are merged (0 is kept first).
CLASS_PRIORITY: dict[str, int] = {k: v.rank for k, v in POLICY_CLASS_INFO.items()}

#: Policy class of existing public chargers used as open sites (not a config value).
EXISTING_CLASS = "existing_charger"
