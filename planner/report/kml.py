"""KML for Google Earth and 奥维地图: placemarks with names, styles and descriptions.

GDAL writes the layers (one folder per layer, attributes as ``ExtendedData``);
:func:`style_kml` then adds what GDAL does not: a ``Style`` per layer and per class of
:mod:`planner.report.styles` (``IconStyle``, ``LineStyle``, ``PolyStyle``, ``LabelStyle``),
a ``styleUrl`` on every placemark, a ``description`` listing its attributes with their
labels and units in the report language, and the layer titles as folder names.
"""

from __future__ import annotations

import html
import logging
import math
import numbers
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio

from planner import columns as C
from planner.i18n import Lang, translator
from planner.report.styles import LayerStyle, Rule, Symbol, hex_rgb, layer_style
from planner.tours.layers import DAY_NAMES, KIND_NAMES

logger = logging.getLogger(__name__)

KML_NS = "http://www.opengis.net/kml/2.2"
#: Google Earth's stock icons (white, tinted by the style's colour) per marker shape.
ICONS = {
    "circle": "http://maps.google.com/mapfiles/kml/shapes/placemark_circle.png",
    "square": "http://maps.google.com/mapfiles/kml/shapes/placemark_square.png",
    "triangle": "http://maps.google.com/mapfiles/kml/shapes/triangle.png",
}
#: Units left out of descriptions (they say nothing a reader needs).
_NO_UNIT = ("", "-", "true/false", "0-1", "HH:MM")
_OTHER_NS = {
    "gx": "http://www.google.com/kml/ext/2.2",
    "atom": "http://www.w3.org/2005/Atom",
    "xal": "urn:oasis:names:tc:ciq:xsdschema:xAL:2.0",
}
for _prefix, _uri in _OTHER_NS.items():
    ET.register_namespace(_prefix, _uri)


def kml_driver() -> str:
    """``LIBKML`` where GDAL has it (richer schema support), else ``KML``."""
    drivers = pyogrio.list_drivers(write=True)
    return "LIBKML" if "LIBKML" in drivers else "KML"


def kml_frame(gdf: gpd.GeoDataFrame, *, layer: str, lang: Lang | None = None) -> gpd.GeoDataFrame:
    """A layer ready for KML: WGS84 and a ``name`` for each placemark.

    Layers without a ``name`` column label their placemarks with the township name or
    the layer's id column (``<layer> <n>`` as a last resort); an empty ``name`` falls
    back the same way. A tour is named by its van and day (the day in ``lang``, English
    when None); a tour's stop by its order in the tour and its name.
    """
    g = gdf.to_crs(4326)
    tour = C.VAN in g.columns and C.DAY in g.columns
    label = _fallback_names(g, layer, tour=tour, lang=lang or translator("en"))
    if C.NAME in g.columns:
        name = g[C.NAME]
        g[C.NAME] = name.where(name.notna() & (name.astype(str) != ""), label)
        if tour and C.ORDER in g.columns:  # a stop of a tour: its order first
            g[C.NAME] = g[C.ORDER].astype(str) + ". " + g[C.NAME].astype(str)
    else:
        g.insert(0, C.NAME, label)
    return g


def _fallback_names(g: pd.DataFrame, layer: str, *, tour: bool, lang: Lang) -> pd.Series:
    """Placemark names of a layer without names: van and day of a tour, else a name or
    id column, else ``<layer> <n>``."""
    label = pd.Series([f"{layer} {i + 1}" for i in range(len(g))], index=g.index, dtype=object)
    if tour:
        days = g[C.DAY].map(lambda d: display_value(C.DAY, d, lang=lang))
        return g[C.VAN].astype(str) + " " + days
    for col in (C.TOWNSHIP_NAME, C.REPAIR_ID, C.CANDIDATE_ID, C.DEMAND_ID, C.TOWNSHIP_ID):
        if col in g.columns:
            return g[col].where(g[col].notna() & (g[col].astype(str) != ""), label)
    return label


def kml_colour(colour: str | None, opacity: float = 1.0) -> str:
    """A colour as KML writes it: ``aabbggrr`` in hex."""
    if colour is None:
        return "00000000"
    r, g, b = hex_rgb(colour)
    return f"{round(255 * max(0.0, min(opacity, 1.0))):02x}{b:02x}{g:02x}{r:02x}"


def style_id(layer: str, rule: Rule | None) -> str:
    """Id of the KML style of a layer's rule (None: its plain or fallback symbol)."""
    return f"style-{layer}" if rule is None else f"style-{layer}-{rule.key}"


def _sub(parent: ET.Element, tag: str, text: str | None = None) -> ET.Element:
    el = ET.SubElement(parent, f"{{{KML_NS}}}{tag}")
    if text is not None:
        el.text = text
    return el


def style_element(sid: str, symbol: Symbol, *, labelled: bool) -> ET.Element:
    """A KML ``Style``: an icon for markers, a line, or outline and fill for polygons."""
    el = ET.Element(f"{{{KML_NS}}}Style", id=sid)
    if symbol.kind == "marker":
        icon = _sub(el, "IconStyle")
        _sub(icon, "color", kml_colour(symbol.fill or symbol.stroke, symbol.fill_opacity))
        _sub(icon, "scale", f"{symbol.size / 3.0:.2f}")
        _sub(_sub(icon, "Icon"), "href", ICONS.get(symbol.shape, ICONS["circle"]))
    else:
        line = _sub(el, "LineStyle")
        _sub(line, "color", kml_colour(symbol.stroke))
        _sub(line, "width", f"{max(symbol.stroke_width * 96 / 25.4, 1.0):.1f}")
    if symbol.kind == "fill":
        poly = _sub(el, "PolyStyle")
        _sub(poly, "color", kml_colour(symbol.fill, symbol.fill_opacity))
        _sub(poly, "fill", "1" if symbol.fill is not None else "0")
        _sub(poly, "outline", "1" if symbol.stroke_width > 0 else "0")
    _sub(_sub(el, "LabelStyle"), "scale", "0.8" if labelled else "0")
    return el


def layer_styles(style: LayerStyle) -> list[ET.Element]:
    """Every KML style of a layer: one per rule, and its plain or fallback symbol."""
    labelled = style.label_field is not None
    out = [
        style_element(style_id(style.layer, r), r.symbol, labelled=labelled) for r in style.rules
    ]
    return [*out, style_element(style_id(style.layer, None), style.symbol, labelled=labelled)]


def display_value(column: str, value: object, *, lang: Lang) -> str:
    """A value as a description shows it ('' for a missing one)."""
    if value is None or value is pd.NA:
        return ""
    if isinstance(value, bool | np.bool_):
        return lang.yes_no(bool(value))
    if column == C.POLICY_CLASS:
        return lang.policy_class(str(value))
    if column == C.DAY and str(value) in DAY_NAMES:
        return lang.gettext(DAY_NAMES[str(value)])
    if column == C.KIND and str(value) in KIND_NAMES:
        return lang.gettext(KIND_NAMES[str(value)])
    if isinstance(value, numbers.Integral):
        return f"{int(value):,}"
    if isinstance(value, numbers.Real):
        number = float(value)
        if math.isnan(number):
            return ""
        if number.is_integer():
            return f"{int(number):,}"
        return f"{number:,.2f}".rstrip("0").rstrip(".")
    return str(value)


def description(row: Mapping[str, object], *, lang: Lang, skip: tuple[str, ...] = ()) -> str:
    """An HTML table of a placemark's attributes: label, value and unit per row."""
    lines = []
    for column, value in row.items():
        if column in skip:
            continue
        text = display_value(column, value, lang=lang)
        if text == "":
            continue
        unit = C.DICTIONARY.get(column, ("", ""))[1]
        shown = f"{text} {lang.unit(unit)}" if unit not in _NO_UNIT else text
        lines.append(f"<tr><th align='left'>{html.escape(lang.label(column))}</th>"
                     f"<td>{html.escape(shown)}</td></tr>")  # fmt: skip
    return "<table>" + "".join(lines) + "</table>"


def _mark(mark: ET.Element, row: pd.Series, style: LayerStyle, *, lang: Lang, geom: str) -> None:
    """Add a description and a styleUrl to one placemark, after its name."""
    rule = style.rule_for(row[style.field]) if style.field is not None else None
    children = list(mark)
    at = next((i + 1 for i, c in enumerate(children) if c.tag == f"{{{KML_NS}}}name"), 0)
    for old in mark.findall(f"{{{KML_NS}}}description") + mark.findall(f"{{{KML_NS}}}styleUrl"):
        mark.remove(old)
    text = ET.Element(f"{{{KML_NS}}}description")
    text.text = description({str(k): v for k, v in row.items()}, lang=lang, skip=(geom, C.NAME))
    url = ET.Element(f"{{{KML_NS}}}styleUrl")
    url.text = "#" + style_id(style.layer, rule)
    mark.insert(at, text)
    mark.insert(at + 1, url)


def style_kml(
    path: Path, frames: Mapping[str, gpd.GeoDataFrame], *, lang: Lang | None = None
) -> None:
    """Add styles, style references and descriptions to a KML file GDAL wrote.

    Parameters
    ----------
    path
        The KML file: one folder (or document) per layer named as the layer, its
        placemarks in the order of the layer's rows.
    frames
        The layers as written (:func:`kml_frame`), keyed by name.
    lang
        Language of the descriptions and folder names (None: English, and the folders
        keep the layer names).
    """
    tree = ET.parse(path)
    doc = tree.getroot().find(f"{{{KML_NS}}}Document")
    if doc is None:
        return
    shown = lang or translator("en")
    styles: list[ET.Element] = []
    for box in [c for c in doc if c.tag in (f"{{{KML_NS}}}Document", f"{{{KML_NS}}}Folder")]:
        name = box.find(f"{{{KML_NS}}}name")
        frame = frames.get(name.text or "") if name is not None else None
        if name is None or frame is None:
            continue
        style = layer_style(name.text or "", frame, lang=shown)
        styles += layer_styles(style)
        marks = box.findall(f"{{{KML_NS}}}Placemark")
        if len(marks) != len(frame):
            logger.warning(
                "%s: %d placemarks for %d rows; not styled", name.text, len(marks), len(frame)
            )
            continue
        for mark, (_, row) in zip(marks, frame.iterrows(), strict=True):
            _mark(mark, row, style, lang=shown, geom=str(frame.geometry.name))
        if lang is not None:
            name.text = style.title
    start = 1 if len(doc) and doc[0].tag == f"{{{KML_NS}}}name" else 0
    for i, el in enumerate(styles):
        doc.insert(start + i, el)
    ET.indent(tree)
    ET.register_namespace("", KML_NS)  # the default namespace of this document (SLD sets its own)
    text = ET.tostring(tree.getroot(), encoding="unicode")
    path.write_text('<?xml version="1.0" encoding="UTF-8"?>\n' + text + "\n", encoding="utf-8")
