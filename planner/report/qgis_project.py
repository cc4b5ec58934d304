"""A QGIS 3 project (``plan.qgs``) that opens a GeoPackage's layers, styled, in its CRS.

The project refers to the layers by paths relative to itself (``./sites.gpkg|layername=
stations``), so the folder can be moved or zipped whole. Its CRS is that of the
GeoPackage; layers are listed top to bottom in :data:`planner.report.styles.DRAW_ORDER`
(stations on top), each with the renderer, labels and aliases of :mod:`planner.report.qml`.
"""

from __future__ import annotations

import uuid
import warnings
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass

from pyproj import CRS

from planner.report.qml import DOCTYPE, QGIS_VERSION, style_elements
from planner.report.styles import LayerStyle

#: Namespace of the layer ids (stable ids: the same export gives the same project).
_IDS = uuid.UUID("5d1b7d3e-3c55-4e1f-9a57-6a3f1f0c2b61")


@dataclass(frozen=True)
class ProjectLayer:
    """One layer of a project.

    Attributes
    ----------
    style
        Its style.
    source
        The data source as QGIS writes it (``./sites.gpkg|layername=stations``).
    fields
        The fields of the layer in the file, in order (``fid`` first).
    geometry_type
        ``Point``, ``MultiPolygon`` ... as the file declares it.
    extent
        (xmin, ymin, xmax, ymax) in the project CRS; None for an empty layer.
    visible
        Whether it is ticked in the layer list.
    """

    style: LayerStyle
    source: str
    fields: Sequence[str]
    geometry_type: str
    extent: tuple[float, float, float, float] | None
    visible: bool = True

    @property
    def layer_id(self) -> str:
        """A QGIS layer id: the layer name and a UUID derived from the source."""
        return f"{self.style.layer}_{uuid.uuid5(_IDS, self.source).hex}"


def spatialrefsys(crs: CRS) -> ET.Element:
    """A ``spatialrefsys`` element: QGIS reads ``authid`` first, ``wkt`` as a fallback."""
    el = ET.Element("spatialrefsys", nativeFormat="Wkt")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pyproj warns that PROJ strings lose detail
        proj4 = crs.to_proj4() or ""
    auth = crs.to_authority()
    texts = {
        "wkt": crs.to_wkt(version="WKT2_2019"),
        "proj4": proj4,
        "srid": auth[1] if auth else "",
        "authid": f"{auth[0]}:{auth[1]}" if auth else "",
        "description": crs.name,
        "projectionacronym": _proj_name(proj4),
        "geographicflag": "true" if crs.is_geographic else "false",
    }
    for tag, text in texts.items():
        ET.SubElement(el, tag).text = text
    return el


def _proj_name(proj4: str) -> str:
    for part in proj4.split():
        if part.startswith("+proj="):
            return part.removeprefix("+proj=")
    return ""


def _extent(parent: ET.Element, box: tuple[float, float, float, float] | None) -> None:
    el = ET.SubElement(parent, "extent")
    for tag, value in zip(
        ("xmin", "ymin", "xmax", "ymax"), box or (0.0, 0.0, 0.0, 0.0), strict=True
    ):
        ET.SubElement(el, tag).text = repr(float(value))


Box = tuple[float, float, float, float]


def _union(boxes: Sequence[Box | None]) -> Box | None:
    have = [b for b in boxes if b is not None]
    if not have:
        return None
    xmin, ymin = min(b[0] for b in have), min(b[1] for b in have)
    xmax, ymax = max(b[2] for b in have), max(b[3] for b in have)
    pad = 0.05 * max(xmax - xmin, ymax - ymin, 1e-6)
    return (xmin - pad, ymin - pad, xmax + pad, ymax + pad)


def _maplayer(layer: ProjectLayer, crs: CRS) -> ET.Element:
    style = layer.style
    geometry = {"point": ("Point", "0"), "line": ("Line", "1"), "polygon": ("Polygon", "2")}
    name, code = geometry[style.geometry]
    el = ET.Element(
        "maplayer",
        type="vector",
        geometry=name,
        wkbType=layer.geometry_type,
        styleCategories="AllStyleCategories",
        labelsEnabled="1" if style.label_field else "0",
        hasScaleBasedVisibilityFlag="0",
        minScale="100000000",
        maxScale="0",
        readOnly="0",
        autoRefreshTime="0",
        refreshOnNotifyEnabled="0",
    )
    _extent(el, layer.extent)
    for tag, text in (
        ("id", layer.layer_id),
        ("datasource", layer.source),
        ("layername", style.title),
    ):
        ET.SubElement(el, tag).text = text
    ET.SubElement(el, "srs").append(spatialrefsys(crs))
    ET.SubElement(el, "provider", encoding="UTF-8").text = "ogr"
    manager = ET.SubElement(el, "map-layer-style-manager", current="default")
    ET.SubElement(manager, "map-layer-style", name="default")
    flags = ET.SubElement(el, "flags")
    for tag, value in (("Identifiable", "1"), ("Removable", "1"), ("Searchable", "1")):
        ET.SubElement(flags, tag).text = value
    el.extend(style_elements(style, layer.fields))
    ET.SubElement(el, "previewExpression").text = (
        f'"{style.label_field}"' if style.label_field else ""
    )
    ET.SubElement(el, "layerGeometryType").text = code
    return el


def project_document(layers: Sequence[ProjectLayer], *, crs: CRS, title: str) -> str:
    """The text of a QGIS project.

    Parameters
    ----------
    layers
        Its layers, top of the layer list first.
    crs
        The project CRS.
    title
        Project title.

    Returns
    -------
    str
        A ``.qgs`` document (XML).
    """
    root = ET.Element("qgis", version=QGIS_VERSION, projectname=title)
    ET.SubElement(root, "homePath", path="")
    ET.SubElement(root, "title").text = title
    ET.SubElement(root, "projectCrs").append(spatialrefsys(crs))
    tree = ET.SubElement(root, "layer-tree-group")
    ET.SubElement(tree, "customproperties")
    for layer in layers:
        item = ET.SubElement(
            tree,
            "layer-tree-layer",
            id=layer.layer_id,
            name=layer.style.title,
            source=layer.source,
            providerKey="ogr",
            checked="Qt::Checked" if layer.visible else "Qt::Unchecked",
            expanded="1" if layer.visible else "0",
        )
        ET.SubElement(item, "customproperties")
    order = ET.SubElement(tree, "custom-order", enabled="0")
    for layer in layers:
        ET.SubElement(order, "item").text = layer.layer_id
    canvas = ET.SubElement(root, "mapcanvas", name="theMapCanvas", annotationsVisible="1")
    ET.SubElement(canvas, "units").text = "degrees" if crs.is_geographic else "meters"
    _extent(canvas, _union([layer.extent for layer in layers]))
    ET.SubElement(canvas, "rotation").text = "0"
    ET.SubElement(canvas, "destinationsrs").append(spatialrefsys(crs))
    ET.SubElement(canvas, "rendermaptile").text = "0"
    project = ET.SubElement(root, "projectlayers")
    for layer in layers:
        project.append(_maplayer(layer, crs))
    layerorder = ET.SubElement(root, "layerorder")
    for layer in layers:
        ET.SubElement(layerorder, "layer", id=layer.layer_id)
    paths = ET.SubElement(ET.SubElement(root, "properties"), "Paths")
    ET.SubElement(paths, "Absolute", type="bool").text = "false"
    ET.indent(root)
    return DOCTYPE + "\n" + ET.tostring(root, encoding="unicode") + "\n"
