"""Styles that travel with the GIS files, so they open styled in QGIS and GeoServer.

====================  =============================================================
GeoPackage            a ``layer_styles`` table as QGIS writes it (one default style
                      per layer: QML and SLD), registered in ``gpkg_contents`` as
                      ``attributes``; and a QGIS project beside it, ``plan.qgs``
                      (``plan_EPSG4490.qgs`` for ``sites_EPSG4490.gpkg``)
Shapefile             ``<layer>.qml`` (QGIS reads it on opening the layer) and
                      ``<layer>.sld`` beside each ``.shp``, naming its 10-character
                      fields
====================  =============================================================

Field aliases, legend texts and layer titles are in the report language.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
from pyproj import CRS

from planner.i18n import Lang, translator
from planner.report.formats import layer_order, shapefile_names
from planner.report.qgis_project import ProjectLayer, project_document
from planner.report.qml import qml_document
from planner.report.sld import sld_document
from planner.report.styles import DRAW_ORDER, layer_style

logger = logging.getLogger(__name__)

#: The table of QGIS styles in a GeoPackage.
STYLE_TABLE = "layer_styles"
#: Layers a project lists but leaves unticked (many small features).
HIDDEN_LAYERS = ("candidates", "demand")


def project_name(gpkg_stem: str) -> str:
    """The project file's stem for a GeoPackage's: ``sites`` -> ``plan``,
    ``sites_EPSG4490`` -> ``plan_EPSG4490``, anything else -> ``<stem>_plan``."""
    if gpkg_stem == "sites" or gpkg_stem.startswith("sites_"):
        return "plan" + gpkg_stem.removeprefix("sites")
    return f"{gpkg_stem}_plan"


def _fields(table: pd.DataFrame) -> list[str]:
    geom = getattr(table, "_geometry_column_name", None)
    return [str(c) for c in table.columns if c != geom]


def add_gpkg_styles(
    path: Path, layers: Mapping[str, gpd.GeoDataFrame], *, lang: Lang | None = None
) -> None:
    """Add QGIS's ``layer_styles`` table to a GeoPackage: each layer's default style.

    Parameters
    ----------
    path
        A GeoPackage holding ``layers`` (as :func:`planner.report.formats.write_layers`
        wrote them).
    layers
        The layers, keyed by name.
    lang
        Language of the aliases, legends and descriptions (None: English).
    """
    lang = lang or translator("en")
    rows = []
    for name in layer_order(layers):
        info = pyogrio.read_info(path, layer=name)
        style = layer_style(name, layers[name], lang=lang)
        fields = [info.get("fid_column") or "fid", *map(str, info["fields"])]
        rows.append(
            {
                "f_table_catalog": "",
                "f_table_schema": "",
                "f_table_name": name,
                "f_geometry_column": info.get("geometry_name") or "geom",
                "styleName": name,
                "styleQML": qml_document(style, fields=fields),
                "styleSLD": sld_document(style),
                "useAsDefault": True,
                "description": style.title,
                "owner": "",
                "ui": None,
                "update_time": pd.Timestamp.now(tz="UTC"),
            }
        )
    pyogrio.write_dataframe(
        pd.DataFrame(rows),
        path,
        layer=STYLE_TABLE,
        driver="GPKG",
        append=True,
        layer_options={"FID": "id"},
    )


def write_project(
    gpkg: Path,
    layers: Mapping[str, gpd.GeoDataFrame],
    *,
    crs: CRS,
    lang: Lang | None = None,
) -> Path:
    """Write the QGIS project of a GeoPackage beside it.

    Parameters
    ----------
    gpkg
        The GeoPackage (written in ``crs``).
    layers
        Its layers, keyed by name.
    crs
        The GeoPackage's CRS: the project's.
    lang
        Language of layer titles, legends and aliases (None: English).

    Returns
    -------
    Path
        ``plan.qgs`` (or ``plan_<CRS>.qgs``, see :func:`project_name`).
    """
    lang = lang or translator("en")
    names = [n for n in DRAW_ORDER if n in layers] + [n for n in layers if n not in DRAW_ORDER]
    entries = []
    for name in names:
        info = pyogrio.read_info(gpkg, layer=name)
        bounds = info.get("total_bounds")
        extent = None
        if info["features"] and bounds is not None:
            xmin, ymin, xmax, ymax = map(float, bounds)
            extent = (xmin, ymin, xmax, ymax)
        entries.append(
            ProjectLayer(
                style=layer_style(name, layers[name], lang=lang),
                source=f"./{gpkg.name}|layername={name}",
                fields=[info.get("fid_column") or "fid", *map(str, info["fields"])],
                geometry_type=str(info["geometry_type"]),
                extent=extent,
                visible=name not in HIDDEN_LAYERS,
            )
        )
    path = gpkg.with_name(project_name(gpkg.stem) + ".qgs")
    title = lang("Charging station and repair point plan")
    path.write_text(project_document(entries, crs=crs, title=title), encoding="utf-8")
    return path


def write_shapefile_styles(
    folder: Path, layers: Mapping[str, gpd.GeoDataFrame], *, lang: Lang | None = None
) -> list[Path]:
    """Write ``<layer>.qml`` and ``<layer>.sld`` beside each Shapefile of ``folder``.

    Field names are the Shapefile's (:func:`planner.report.formats.shapefile_names`, the
    same choice :func:`planner.report.formats.write_layers` made).

    Returns
    -------
    list of Path
        The files written.
    """
    lang = lang or translator("en")
    names = layer_order(layers)
    renamed = shapefile_names(c for n in names for c in _fields(layers[n]))
    out = []
    for name in names:
        style = layer_style(name, layers[name], lang=lang).renamed(renamed)
        fields = [renamed.get(c, c) for c in _fields(layers[name])]
        qml, sld = folder / f"{name}.qml", folder / f"{name}.sld"
        qml.write_text(qml_document(style, fields=fields), encoding="utf-8")
        sld.write_text(sld_document(style), encoding="utf-8")
        out += [qml, sld]
    return out


def write_styles(
    layers: Mapping[str, gpd.GeoDataFrame],
    folder: Path,
    *,
    fmt: str,
    crs: CRS,
    name: str = "sites",
    lang: Lang | None = None,
) -> list[Path]:
    """The styles of one format written by :func:`planner.report.formats.write_layers`.

    Parameters
    ----------
    layers
        The layers written, keyed by name.
    folder
        Where they were written.
    fmt
        Their format: ``gpkg`` (a ``layer_styles`` table and a project) and ``shp``
        (QML and SLD files) get styles; the others need none here (KML carries its own).
    crs
        The CRS they were written in.
    name
        The GeoPackage's file name without extension.
    lang
        Language of the styles' texts (None: English).

    Returns
    -------
    list of Path
        The files to list among a run's outputs: the project (a Shapefile's QML and SLD
        are part of it, like its ``.dbf``, and are not listed).
    """
    if fmt == "gpkg":
        gpkg = folder / f"{name}.gpkg"
        add_gpkg_styles(gpkg, layers, lang=lang)
        return [write_project(gpkg, layers, crs=crs, lang=lang)]
    if fmt == "shp":
        write_shapefile_styles(folder, layers, lang=lang)
    return []
