"""OGC Styled Layer Descriptors (SLD 1.1, as QGIS exports them) of the GIS layers.

One rule per symbol of :mod:`planner.report.styles` (a filter on the layer's field for
categories and classes, ``ElseFilter`` for the other values) and a rule with a
``TextSymbolizer`` for labels. GeoServer, QGIS and most desktop GIS read them; sizes are
in pixels (millimetres at 96 dpi).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from planner.report.styles import LayerStyle, Rule, Symbol

SLD = "http://www.opengis.net/sld"
SE = "http://www.opengis.net/se"
OGC = "http://www.opengis.net/ogc"
XLINK = "http://www.w3.org/1999/xlink"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
#: Pixels per millimetre (96 dpi), as QGIS converts sizes.
PX_PER_MM = 96 / 25.4

_WELL_KNOWN = {"circle": "circle", "square": "square", "triangle": "triangle"}

for _prefix, _uri in (("se", SE), ("ogc", OGC), ("xlink", XLINK), ("xsi", XSI)):
    ET.register_namespace(_prefix, _uri)


def _se(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    el = ET.SubElement(parent, f"{{{SE}}}{tag}", attrs)
    if text is not None:
        el.text = text
    return el


def _param(parent: ET.Element, name: str, value: str) -> None:
    _se(parent, "SvgParameter", value, name=name)


def _px(mm: float) -> str:
    return f"{mm * PX_PER_MM:.2f}".rstrip("0").rstrip(".")


def _fill(parent: ET.Element, colour: str, opacity: float) -> None:
    fill = _se(parent, "Fill")
    _param(fill, "fill", colour)
    if opacity < 1:
        _param(fill, "fill-opacity", f"{opacity:g}")


def _stroke(parent: ET.Element, symbol: Symbol) -> None:
    if symbol.stroke_width <= 0:
        return
    stroke = _se(parent, "Stroke")
    _param(stroke, "stroke", symbol.stroke)
    _param(stroke, "stroke-width", _px(symbol.stroke_width))
    _param(stroke, "stroke-linejoin", "bevel")


def symbolizer(parent: ET.Element, symbol: Symbol) -> None:
    """A ``PointSymbolizer``, ``LineSymbolizer`` or ``PolygonSymbolizer`` of ``symbol``."""
    if symbol.kind == "marker":
        graphic = _se(_se(parent, "PointSymbolizer"), "Graphic")
        mark = _se(graphic, "Mark")
        _se(mark, "WellKnownName", _WELL_KNOWN.get(symbol.shape, "circle"))
        if symbol.fill is not None:
            _fill(mark, symbol.fill, symbol.fill_opacity)
        _stroke(mark, symbol)
        _se(graphic, "Size", _px(symbol.size))
        return
    if symbol.kind == "line":
        _stroke(_se(parent, "LineSymbolizer"), symbol)
        return
    poly = _se(parent, "PolygonSymbolizer")
    if symbol.fill is not None:
        _fill(poly, symbol.fill, symbol.fill_opacity)
    _stroke(poly, symbol)


def _filter(parent: ET.Element, field: str, rule: Rule) -> None:
    filt = ET.SubElement(parent, f"{{{OGC}}}Filter")
    if rule.bounds is not None:
        between = ET.SubElement(filt, f"{{{OGC}}}PropertyIsBetween")
        ET.SubElement(between, f"{{{OGC}}}PropertyName").text = field
        for end, value in zip(("LowerBoundary", "UpperBoundary"), rule.bounds, strict=True):
            boundary = ET.SubElement(between, f"{{{OGC}}}{end}")
            ET.SubElement(boundary, f"{{{OGC}}}Literal").text = f"{value:g}"
        return
    equal = ET.SubElement(filt, f"{{{OGC}}}PropertyIsEqualTo")
    ET.SubElement(equal, f"{{{OGC}}}PropertyName").text = field
    ET.SubElement(equal, f"{{{OGC}}}Literal").text = rule.value or ""


def _rule(parent: ET.Element, label: str) -> ET.Element:
    rule = _se(parent, "Rule")
    _se(rule, "Name", label)
    _se(_se(rule, "Description"), "Title", label)
    return rule


def _label_rule(parent: ET.Element, style: LayerStyle) -> None:
    if style.label_field is None:
        return
    polygon = style.geometry == "polygon"
    text = _se(_rule(parent, style.label_field), "TextSymbolizer")
    label = _se(text, "Label")
    ET.SubElement(label, f"{{{OGC}}}PropertyName").text = style.label_field
    font = _se(text, "Font")
    _param(font, "font-size", "13" if polygon else "11")
    if polygon:
        _param(font, "font-weight", "bold")
    point = _se(_se(text, "LabelPlacement"), "PointPlacement")
    anchor = _se(point, "AnchorPoint")
    _se(anchor, "AnchorPointX", "0.5" if polygon else "0")
    _se(anchor, "AnchorPointY", "0.5")
    if not polygon:
        shift = _se(point, "Displacement")
        _se(shift, "DisplacementX", "6")
        _se(shift, "DisplacementY", "0")
    halo = _se(text, "Halo")
    _se(halo, "Radius", "2")
    _fill(halo, "#ffffff", 1.0)
    _fill(text, "#555555" if polygon else "#1e272e", 1.0)


def sld_document(style: LayerStyle) -> str:
    """The SLD of one layer (field names as the file spells them).

    Returns
    -------
    str
        An XML document (UTF-8 declaration included).
    """
    root = ET.Element(
        f"{{{SLD}}}StyledLayerDescriptor",
        {
            "version": "1.1.0",
            f"{{{XSI}}}schemaLocation": (
                "http://www.opengis.net/sld "
                "http://schemas.opengis.net/sld/1.1.0/StyledLayerDescriptor.xsd"
            ),
        },
    )
    layer = ET.SubElement(root, f"{{{SLD}}}NamedLayer")
    _se(layer, "Name", style.layer)
    user = ET.SubElement(layer, f"{{{SLD}}}UserStyle")
    _se(user, "Name", style.layer)
    _se(_se(user, "Description"), "Title", style.title)
    fts = _se(user, "FeatureTypeStyle")
    if style.mode == "single" or not style.rules or style.field is None:
        symbolizer(_rule(fts, style.title), style.symbol)
    else:
        for item in style.rules:
            rule = _rule(fts, item.label)
            _filter(rule, style.field, item)
            symbolizer(rule, item.symbol)
        if style.mode == "categorized":
            rule = _rule(fts, style.other_label)
            _se(rule, "ElseFilter")
            symbolizer(rule, style.symbol)
    _label_rule(fts, style)
    ET.indent(root)
    ET.register_namespace("", SLD)  # the default namespace of this document (KML sets its own)
    text = ET.tostring(root, encoding="unicode")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + text + "\n"
