"""Matching the counties of a batch to the features of the province's boundaries layer.

A county matches by its config's ``county.code`` in ``province.code_field``, else by its
``county.name`` in ``province.name_field``, or by its ``boundary:`` in the batch file
(a code, else a name). A county whose code no feature has and that matches by name is
warned about by itself; the counties matched by name alone (no code in their configs),
in one warning. The matched feature's code is the county's code in the batch's outputs
when its config has none.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import pandas as pd
import shapely

from planner.batch_config import ProvinceInput
from planner.errors import ConfigError, data_error
from planner.ingest.sheets import id_text

if TYPE_CHECKING:
    from planner.province import CountyRef

logger = logging.getLogger(__name__)

__all__ = ["match_county", "read_counties", "warn_by_name"]


def read_counties(path: Path, spec: ProvinceInput) -> gpd.GeoDataFrame:
    """The county polygons in WGS84, with the code and name fields checked."""
    from planner.ingest.boundaries import read_polygons

    gdf = read_polygons(path, layer=spec.layer, encoding=spec.encoding, crs=spec.crs)
    fields = [spec.name_field] + ([spec.code_field] if spec.code_field else [])
    for name in fields:
        if name not in gdf.columns:
            raise data_error(
                path,
                "field not found",
                layer=spec.layer,
                field=name,
                hint=f"set province.{'name' if name == spec.name_field else 'code'}_field "
                f"in the batch file; fields are: "
                f"{', '.join(map(str, gdf.columns.drop('geometry')))}",
            )
    return gdf


def match_county(
    ref: CountyRef, polygons: gpd.GeoDataFrame, spec: ProvinceInput
) -> tuple[Any, str, bool]:
    """The county's polygon, its feature's code (empty without ``code_field``) and whether
    it matched by name alone: the first key that matches exactly one feature. A county
    whose code no feature has, matched by its name, is warned about here."""
    tried = []
    for kind, value in ref.keys:
        fields: list[str | None] = [spec.code_field, spec.name_field]
        if kind != "any":
            fields = [spec.code_field if kind == "code" else spec.name_field]
        for name in fields:
            if name is None:
                continue
            hits = polygons[id_text(polygons[name]) == value.strip()]
            tried.append(f"{name} {value!r}")
            if len(hits) > 1:
                msg = (
                    f"{ref.label}: {len(hits)} features of {spec.boundaries} have {name} "
                    f"{value!r}; give the county `boundary:` in the batch file (a code or "
                    "name only its feature has)"
                )
                raise ConfigError(msg)
            if len(hits) == 1:
                if len(tried) > 1 and kind == "name":
                    logger.warning("%s: matched by %s (not by %s)", ref.label, tried[-1], tried[0])
                code = id_text(hits[spec.code_field]).iloc[0] if spec.code_field else ""
                code = "" if pd.isna(code) else code
                geom = shapely.union_all(hits.geometry.to_numpy())
                return geom, str(code), kind == "name" and len(tried) == 1
    msg = (
        f"{ref.label}: no feature of {spec.boundaries} has {' or '.join(tried)}; set "
        "`boundary:` under the county in the batch file, or province.code_field/name_field"
    )
    raise ConfigError(msg)


def warn_by_name(refs: list[CountyRef], spec: ProvinceInput) -> None:
    """One warning for the counties matched by their names alone (a name may be spelt
    otherwise in the layer, or shared): which, and how to match them by code."""
    if not refs:
        return
    if spec.code_field is None:
        why = "province.code_field is not set"
    else:
        why = "no county.code in their configs; set it, or `boundary:` in the batch file"
    names = [r.keys[-1][1] for r in refs]
    shown = ", ".join(names[:10]) + (f" and {len(names) - 10} more" if len(names) > 10 else "")
    counties = "county" if len(refs) == 1 else "counties"
    logger.warning(
        "%d %s matched by name in %s (%s): %s", len(refs), counties, spec.boundaries, why, shown
    )
