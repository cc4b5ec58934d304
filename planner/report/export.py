"""GIS hand-off: GeoPackage layers and CSV tables in WGS84, plus the data dictionary."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
from pyproj import CRS

from planner import columns as C

#: Layers of sites.gpkg, in order.
LAYERS = ("stations", "repair_points", "candidates", "demand", "townships", "existing_chargers")


def _with_lonlat(gdf: gpd.GeoDataFrame) -> pd.DataFrame:
    g = gdf.to_crs(4326)
    out = pd.DataFrame(g.drop(columns=g.geometry.name))
    out[C.LON] = g.geometry.x.round(7)
    out[C.LAT] = g.geometry.y.round(7)
    return out


def write_exports(
    out_dir: Path,
    layers: dict[str, gpd.GeoDataFrame],
    assignments: pd.DataFrame,
    *,
    extra_crs: list[str] | None = None,
) -> list[str]:
    """Write ``sites.gpkg``, the CSV tables and ``data_dictionary.csv``.

    Parameters
    ----------
    out_dir
        The run folder (being written).
    layers
        GeoDataFrames keyed by the names in :data:`LAYERS`, any CRS.
    assignments
        Demand-to-station assignments.
    extra_crs
        Further CRSs to write the GeoPackage in (``sites_EPSG4490.gpkg`` ...).

    Returns
    -------
    list of str
        The files written.
    """
    files = []
    for crs in ["EPSG:4326", *(extra_crs or [])]:
        code = CRS.from_user_input(crs).to_string().replace(":", "")
        gpkg = out_dir / ("sites.gpkg" if crs == "EPSG:4326" else f"sites_{code}.gpkg")
        for name in LAYERS:
            layers[name].to_crs(crs).to_file(gpkg, layer=name, engine="pyogrio")
        files.append(gpkg.name)
    _with_lonlat(layers["stations"]).to_csv(out_dir / "stations.csv", index=False)
    _with_lonlat(layers["repair_points"]).to_csv(out_dir / "repair_points.csv", index=False)
    assignments.to_csv(out_dir / "assignments.csv", index=False)
    used = set()
    for gdf in layers.values():
        used.update(c for c in gdf.columns if c != gdf.geometry.name)
    used.update(assignments.columns)
    used.update((C.LON, C.LAT))
    rows = [
        {"column": c, "description": C.DICTIONARY[c][0], "unit": C.DICTIONARY[c][1]}
        for c in sorted(used)
        if c in C.DICTIONARY
    ]
    missing = sorted(c for c in used if c not in C.DICTIONARY)
    rows += [{"column": c, "description": "(not documented)", "unit": ""} for c in missing]
    pd.DataFrame(rows).to_csv(out_dir / "data_dictionary.csv", index=False)
    return [*files, "stations.csv", "repair_points.csv", "assignments.csv", "data_dictionary.csv"]


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Write JSON as UTF-8 (Chinese text kept readable)."""
    path.write_text(
        json.dumps(data, ensure_ascii=False, indent=2, default=_default) + "\n", encoding="utf-8"
    )


def _default(obj: Any) -> Any:
    if hasattr(obj, "item"):
        return obj.item()
    return str(obj)
