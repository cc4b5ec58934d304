"""QGIS layer styles (QML, QGIS 3) of the GIS layers, from :mod:`planner.report.styles`.

A QML file holds the renderer (``renderer-v2``: one symbol, categories or graduated
classes), the labels (``labeling``) and the field aliases (``aliases``) of one layer. QGIS
reads it beside a Shapefile (``stations.qml``), from the ``layer_styles`` table of a
GeoPackage, and inside a project (``plan.qgs``, see :mod:`planner.report.qgis_project`),
which reuses :func:`style_elements`.

Symbol layers carry their properties twice, as ``Option`` maps (QGIS 3.26 and later) and
as ``prop`` elements (earlier QGIS 3), so every QGIS 3 reads them.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence

from planner.report.styles import LayerStyle, Symbol, hex_rgb

#: The QGIS version the files declare (3.28 LTR: every later QGIS opens them quietly).
QGIS_VERSION = "3.28.0-Firenze"
#: First line of QML and project files.
DOCTYPE = "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>"
#: Style categories a QML file holds.
QML_CATEGORIES = "Symbology|Labeling|Fields"

_SHAPES = {"circle": "circle", "square": "square", "triangle": "triangle"}
_CLASSES = {"marker": "SimpleMarker", "line": "SimpleLine", "fill": "SimpleFill"}


def rgba(colour: str | None, opacity: float = 1.0) -> str:
    """A colour as QGIS writes it: ``r,g,b,a`` (0-255); None is fully transparent."""
    if colour is None:
        return "0,0,0,0"
    r, g, b = hex_rgb(colour)
    return f"{r},{g},{b},{round(255 * max(0.0, min(opacity, 1.0)))}"


def _num(value: float) -> str:
    return f"{value:g}"


def _symbol_props(symbol: Symbol) -> dict[str, str]:
    outline = "solid" if symbol.stroke_width > 0 else "no"
    common = {
        "joinstyle": "bevel",
        "outline_color": rgba(symbol.stroke),
        "outline_style": outline,
        "outline_width": _num(symbol.stroke_width),
        "outline_width_unit": "MM",
    }
    if symbol.kind == "line":
        return {
            "capstyle": "round",
            "joinstyle": "round",
            "line_color": rgba(symbol.stroke),
            "line_style": "solid",
            "line_width": _num(symbol.stroke_width),
            "line_width_unit": "MM",
        }
    if symbol.kind == "marker":
        return {
            "angle": "0",
            "color": rgba(symbol.fill, symbol.fill_opacity),
            "name": _SHAPES.get(symbol.shape, "circle"),
            "scale_method": "diameter",
            "size": _num(symbol.size),
            "size_unit": "MM",
            **common,
        }
    return {
        "color": rgba(symbol.fill, symbol.fill_opacity),
        "style": "solid" if symbol.fill is not None else "no",
        **common,
    }


def symbol_element(symbol: Symbol, name: str) -> ET.Element:
    """A ``symbol`` element of one simple marker or simple fill layer."""
    el = ET.Element(
        "symbol",
        {"type": symbol.kind, "name": name, "alpha": "1", "clip_to_extent": "1", "force_rhr": "0"},
    )
    layer = ET.SubElement(
        el,
        "layer",
        {
            "class": _CLASSES[symbol.kind],
            "enabled": "1",
            "locked": "0",
            "pass": "0",
        },
    )
    props = _symbol_props(symbol)
    options = ET.SubElement(layer, "Option", type="Map")
    for key, value in props.items():
        ET.SubElement(options, "Option", type="QString", name=key, value=value)
    for key, value in props.items():
        ET.SubElement(layer, "prop", k=key, v=value)
    return el


def renderer_element(style: LayerStyle) -> ET.Element:
    """The ``renderer-v2`` element: single symbol, categorized or graduated."""
    attrs = {"symbollevels": "0", "forceraster": "0", "enableorderby": "0"}
    if style.mode == "single" or not style.rules or style.field is None:
        el = ET.Element("renderer-v2", {"type": "singleSymbol", **attrs})
        ET.SubElement(el, "symbols").append(symbol_element(style.symbol, "0"))
        return el
    if style.mode == "categorized":
        el = ET.Element("renderer-v2", {"type": "categorizedSymbol", "attr": style.field, **attrs})
        items = ET.SubElement(el, "categories")
        for i, rule in enumerate(style.rules):
            ET.SubElement(
                items,
                "category",
                render="true",
                symbol=str(i),
                value=rule.value or "",
                label=rule.label,
                type="string",
            )
        # an empty value stands for all other values
        other = str(len(style.rules))
        ET.SubElement(
            items, "category", render="true", symbol=other, value="", label=style.other_label
        )
        symbols = [*(r.symbol for r in style.rules), style.symbol]
    else:
        el = ET.Element(
            "renderer-v2",
            {"type": "graduatedSymbol", "attr": style.field, "graduatedMethod": "GraduatedSize"}
            | attrs,
        )
        items = ET.SubElement(el, "ranges")
        for i, rule in enumerate(style.rules):
            low, high = rule.bounds or (0.0, 0.0)
            ET.SubElement(
                items,
                "range",
                render="true",
                symbol=str(i),
                lower=f"{low:.6f}",
                upper=f"{high:.6f}",
                label=rule.label,
            )
        symbols = [r.symbol for r in style.rules]
    holder = ET.SubElement(el, "symbols")
    for i, symbol in enumerate(symbols):
        holder.append(symbol_element(symbol, str(i)))
    ET.SubElement(el, "source-symbol").append(symbol_element(style.symbol, "0"))
    ET.SubElement(el, "rotation")
    ET.SubElement(el, "sizescale")
    return el


def labeling_element(style: LayerStyle) -> ET.Element | None:
    """The ``labeling`` element (simple labels from ``style.label_field``), if any."""
    if style.label_field is None:
        return None
    polygon = style.geometry == "polygon"
    el = ET.Element("labeling", type="simple")
    settings = ET.SubElement(el, "settings", calloutType="simple")
    text = ET.SubElement(
        settings,
        "text-style",
        fieldName=style.label_field,
        isExpression="0",
        fontSize="10" if polygon else "8",
        fontSizeUnit="Point",
        fontWeight="75" if polygon else "50",
        fontItalic="0",
        textColor=rgba("#555555" if polygon else "#1e272e"),
        textOpacity="1",
        multilineHeight="1",
        blendMode="0",
        capitalization="0",
        allowHtml="0",
    )
    ET.SubElement(
        text,
        "text-buffer",
        bufferDraw="1",
        bufferSize="0.8",
        bufferSizeUnits="MM",
        bufferColor=rgba("#ffffff"),
        bufferOpacity="1",
        bufferNoFill="1",
        bufferJoinStyle="128",
        bufferBlendMode="0",
    )
    ET.SubElement(settings, "text-format", wrapChar="", multilineAlign="3", formatNumbers="0")
    ET.SubElement(
        settings,
        "placement",
        # 1: over the centroid (polygons); 6: cartographic positions around a point
        placement="1" if polygon else "6",
        dist="1",
        distUnits="MM",
        centroidInside="1",
        priority="5",
    )
    ET.SubElement(
        settings,
        "rendering",
        obstacle="1",
        displayAll="0",
        scaleVisibility="0",
        drawLabels="1",
        labelPerPart="0",
        mergeLines="0",
        upsidedownLabels="0",
    )
    return el


def aliases_element(style: LayerStyle, fields: Sequence[str]) -> ET.Element:
    """The ``aliases`` element: every field of the file, with its alias (may be empty)."""
    el = ET.Element("aliases")
    for i, field in enumerate(fields):
        ET.SubElement(el, "alias", field=field, index=str(i), name=style.aliases.get(field, ""))
    return el


def style_elements(style: LayerStyle, fields: Sequence[str]) -> list[ET.Element]:
    """Renderer, labels (when the layer has any) and aliases of one layer."""
    labels = labeling_element(style)
    return [
        renderer_element(style),
        *([labels] if labels is not None else []),
        aliases_element(style, fields),
    ]


def qml_document(style: LayerStyle, *, fields: Sequence[str]) -> str:
    """A QML file of one layer.

    Parameters
    ----------
    style
        The layer's style (field names as the file spells them, see
        :meth:`planner.report.styles.LayerStyle.renamed`).
    fields
        The fields of the file in order, as QGIS lists them (a GeoPackage's ``fid`` first).

    Returns
    -------
    str
        The QML text.
    """
    root = ET.Element(
        "qgis",
        version=QGIS_VERSION,
        styleCategories=QML_CATEGORIES,
        labelsEnabled="1" if style.label_field else "0",
    )
    root.extend(style_elements(style, fields))
    ET.indent(root)
    return DOCTYPE + "\n" + ET.tostring(root, encoding="unicode") + "\n"
