"""What map.html is made of: GeoJSON, compact point rows, display text, and all escaping.

Text from the data reaches the page only through this module: as JSON inside the
page's scripts (:func:`js_json`, which cannot close its ``<script>`` element), where
the browser shows it with ``textContent`` (``map.js``); as HTML text (:func:`html_text`)
for the few strings Leaflet and the page show as HTML (layer names, the title); and
inlined scripts pass through :func:`script_safe`.
"""

from __future__ import annotations

import html
import json
import re
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from planner.i18n import Lang, translator

# -- escaping ----------------------------------------------------------------------------


def html_text(text: str) -> str:
    """Text escaped for HTML (``&``, ``<``, ``>`` and quotes).

    Parameters
    ----------
    text
        Plain text.

    Returns
    -------
    str
        The text as HTML that shows it verbatim.
    """
    return html.escape(text)


def js_json(obj: object) -> str:
    """JSON safe to place inside a ``<script>`` element.

    Parameters
    ----------
    obj
        Anything :func:`json.dumps` takes (no NaN).

    Returns
    -------
    str
        Compact JSON with ``<``, ``>`` and ``&`` written as ``\\u`` escapes.
    """
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def script_safe(code: str) -> str:
    """Script text that cannot close its ``<script>`` element early.

    Parameters
    ----------
    code
        JavaScript to inline.

    Returns
    -------
    str
        The code with each ``</script`` written as ``<\\/script``.
    """
    return re.sub(r"</(script)", r"<\\/\1", code, flags=re.IGNORECASE)


# -- display text ------------------------------------------------------------------------


def display_text(value: object) -> str:
    """A cell as display text; missing values (None, NaN, NA) as ''."""
    scalar = not isinstance(value, str) and pd.api.types.is_scalar(value)
    # pandas-stubs type pd.isna for named scalar types only; a cell may hold any scalar
    if value is None or (scalar and pd.isna(value)):  # type: ignore[call-overload]
        return ""
    return str(value)


def number_text(x: float | None, digits: int = 0) -> str:
    """A number with thousands separators and ``digits`` decimals; missing as ''; a
    positive number that would print as 0 as ``<0.1`` (``<1``, ...), not as nothing."""
    if x is None or pd.isna(x):
        return ""
    step = 10.0**-digits
    if 0 < float(x) < step / 2:
        return f"<{step:.{digits}f}"
    return f"{float(x):,.{digits}f}"


def money_text(x: float | None, *, lang: Lang | None = None) -> str:
    """An amount of yuan, whole, with its unit: ``1,010,323 CNY`` / ``1,010,323 元``, as
    the report and the workbook print it (so that figures compare without converting).

    Parameters
    ----------
    x
        Yuan; missing as ''.
    lang
        The language (None: English).
    """
    if x is None or pd.isna(x):
        return ""
    lang = lang or translator("en")
    return lang("{amount} CNY", amount=number_text(round(float(x))))


def connection_text(cost: float | None, *, lang: Lang | None = None) -> str:
    """A connection cost for a popup: empty in the data means it is not included."""
    if cost is None or pd.isna(cost):
        return (lang or translator("en"))("not included")
    return money_text(cost, lang=lang)


def unit_text(x: float | None, unit: str, digits: int = 0, *, lang: Lang | None = None) -> str:
    """A number with thousands separators and its unit in ``lang`` (``180 kW``, ``180 千瓦``)."""
    text = number_text(x, digits)
    return f"{text} {(lang or translator('en')).unit(unit)}" if text else ""


# -- geometry ----------------------------------------------------------------------------


def simplified(gdf: gpd.GeoDataFrame, tolerance_m: float) -> gpd.GeoDataFrame:
    """``gdf`` with its geometries simplified (topology kept); as is for tolerance 0."""
    if tolerance_m <= 0 or len(gdf) == 0:
        return gdf
    out = gdf.copy()
    out[out.geometry.name] = out.geometry.simplify(tolerance_m, preserve_topology=True)
    return out


def _rounded(geoms: gpd.GeoSeries, digits: int) -> np.ndarray:
    return shapely.transform(geoms.to_numpy(), lambda xy: np.round(xy, digits))


def collection(
    gdf: gpd.GeoDataFrame, props: list[dict[str, Any]], *, digits: int = 6
) -> dict[str, Any]:
    """A GeoJSON FeatureCollection (WGS84) of ``gdf`` with the given display properties.

    Parameters
    ----------
    gdf
        Features in any CRS.
    props
        The properties of each row of ``gdf``.
    digits
        Decimals kept of the coordinates (degrees).

    Returns
    -------
    dict
        The collection; rows with an empty or missing geometry are left out.
    """
    geoms = _rounded(gdf.to_crs(4326).geometry, digits)
    features = [
        {"type": "Feature", "geometry": shapely.geometry.mapping(g), "properties": p}
        for g, p in zip(geoms, props, strict=True)
        if g is not None and not g.is_empty
    ]
    return {"type": "FeatureCollection", "features": features}


def points(gdf: gpd.GeoDataFrame, props: list[dict[str, Any]]) -> list[list[Any]]:
    """Point features as compact ``[lon, lat, properties]`` rows (WGS84, ~0.1 m).

    Parameters
    ----------
    gdf
        Points in any CRS.
    props
        The properties of each row of ``gdf``.

    Returns
    -------
    list
        One row per point; empty or missing points are left out.
    """
    g = gdf.to_crs(4326).geometry
    ok = (~g.is_empty & g.notna()).to_numpy()
    lon, lat = np.round(g.x.to_numpy(), 6), np.round(g.y.to_numpy(), 6)
    return [[float(x), float(y), p] for x, y, p, k in zip(lon, lat, props, ok, strict=True) if k]
