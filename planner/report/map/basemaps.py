"""Basemaps of map.html: tile sources, the Tianditu key and Gaode's GCJ-02 tiles.

None is shown until the user picks one (the offline basemap comes first). Gaode/AMap
tiles are in GCJ-02: on them ``map.js`` draws the overlays shifted to GCJ-02, for
display only.
"""

from __future__ import annotations

import logging
import os
import re
from typing import Any

from planner.config import ReportSection
from planner.i18n import N_, Lang, translator

logger = logging.getLogger(__name__)

#: Environment variable read for the Tianditu key when the config gives none.
TIANDITU_KEY_ENV = "TIANDITU_KEY"

_TIANDITU = (
    "https://t{s}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
    "&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}"
    "&TILECOL={x}&tk={key}"
)
_GAODE = "https://{host}0{{s}}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style={style}&x={{x}}&y={{y}}&z={{z}}"
_OSM_ATTR = N_("&copy; OpenStreetMap contributors")
_TDT_ATTR = N_("&copy; 天地图 Tianditu")
_GAODE_ATTR = N_("&copy; 高德地图 AutoNavi")

#: Basemaps: config name -> (label, tile layers (url template, options), GCJ-02 tiles).
#: Labels and attributions are in English, translated where shown.
BASEMAPS: dict[str, tuple[str, list[tuple[str, dict[str, Any]]], bool]] = {
    "osm": (
        "OpenStreetMap",
        [
            (
                "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
                {"attribution": _OSM_ATTR, "maxZoom": 19},
            )
        ],
        False,
    ),
    "tianditu_vector": (
        N_("天地图 Tianditu (vector)"),
        [
            (_TIANDITU.replace("{layer}", "vec"), {"attribution": _TDT_ATTR}),
            (_TIANDITU.replace("{layer}", "cva"), {}),
        ],
        False,
    ),
    "tianditu_imagery": (
        N_("天地图 Tianditu (imagery)"),
        [
            (_TIANDITU.replace("{layer}", "img"), {"attribution": _TDT_ATTR}),
            (_TIANDITU.replace("{layer}", "cia"), {}),
        ],
        False,
    ),
    "gaode_vector": (
        N_("高德 Gaode/AMap (vector, GCJ-02)"),
        [(_GAODE.format(host="webrd", style=8), {"attribution": _GAODE_ATTR})],
        True,
    ),
    "gaode_imagery": (
        N_("高德 Gaode/AMap (imagery, GCJ-02)"),
        [
            (_GAODE.format(host="webst", style=6), {"attribution": _GAODE_ATTR}),
            (_GAODE.format(host="webst", style=8), {}),
        ],
        True,
    ),
}
_SUBDOMAINS = {"osm": "", "tianditu": "01234567", "gaode": "1234"}

#: Label of the default basemap: no tiles at all (works offline).
NO_BASEMAP = N_("No basemap (offline)")

#: Shown on the map while a GCJ-02 basemap is on.
GCJ_NOTICE = N_("Overlays shifted to GCJ-02 to match Gaode tiles (display only)")


def tianditu_key(settings: ReportSection) -> str | None:
    """The Tianditu key: the config's, else ``$TIANDITU_KEY``; None if neither is valid.

    Parameters
    ----------
    settings
        The config's ``report`` section.

    Returns
    -------
    str or None
        A key of 8-64 letters and digits (anything else is ignored, with a warning).
    """
    key = settings.tianditu_key or os.environ.get(TIANDITU_KEY_ENV) or None
    if key is not None and not re.fullmatch(r"[A-Za-z0-9]{8,64}", key):
        logger.warning("%s is not a Tianditu key (letters and digits): ignored", TIANDITU_KEY_ENV)
        return None
    return key


def basemap_specs(
    settings: ReportSection, *, lang: Lang | None = None
) -> list[tuple[str, dict[str, Any]]]:
    """(label, spec) of each configured basemap, the offline one first.

    Parameters
    ----------
    settings
        The config's ``report`` section (``basemaps``, ``tianditu_key``).
    lang
        Language of the labels and attributions (None: English).

    Returns
    -------
    list of (str, dict)
        Specs for ``plannerMap.basemap`` (``tiles``: url and options; ``gcj02``).
        Tianditu basemaps are left out, with a log line, when there is no key.
    """
    lang = lang or translator("en")
    out: list[tuple[str, dict[str, Any]]] = [
        (lang.gettext(NO_BASEMAP), {"tiles": [], "gcj02": False})
    ]
    key = tianditu_key(settings)
    skipped = []
    for name in settings.basemaps:
        label, tiles, gcj = BASEMAPS[name]
        if name.startswith("tianditu") and key is None:
            skipped.append(name)
            continue
        sub = _SUBDOMAINS[name.split("_")[0]]
        specs = []
        for url, options in tiles:
            opts = {**options, "maxZoom": options.get("maxZoom", 18)}
            if "attribution" in opts:
                opts["attribution"] = lang.gettext(opts["attribution"])
            if sub:
                opts["subdomains"] = sub
            specs.append({"url": url.replace("{key}", key or ""), "options": opts})
        out.append((lang.gettext(label), {"tiles": specs, "gcj02": gcj}))
    if skipped:
        logger.info(
            "map: Tianditu basemaps left out (%s): no key in report.tianditu_key or $%s",
            ", ".join(skipped),
            TIANDITU_KEY_ENV,
        )
    return out
