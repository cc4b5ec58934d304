"""Rows of the config's point tables (outlets, chargers, substations) as OSM-like layers."""

from __future__ import annotations

import logging
import re
import unicodedata

import geopandas as gpd
import numpy as np
import pandas as pd

from planner import columns as C
from planner.config import Config, PointTableInput
from planner.errors import data_error
from planner.ingest.sheets import id_text, require_columns
from planner.ingest.voltage import voltage_kv

logger = logging.getLogger(__name__)


def _field(table: gpd.GeoDataFrame, spec: PointTableInput, field: str | None) -> pd.Series:
    if field is None:
        return pd.Series([None] * len(table), index=table.index, dtype=object)
    require_columns(table, spec.where(), (field,))
    return table[field].replace("", None)


def as_outlets(table: gpd.GeoDataFrame, spec: PointTableInput, config: Config) -> gpd.GeoDataFrame:
    """Table outlets as POIs with their policy class set."""
    if spec.policy_class is not None:
        cls = pd.Series(spec.policy_class, index=table.index, dtype=object)
    elif spec.category_field is not None:
        cat = _field(table, spec, spec.category_field).astype(str).str.strip()
        mapping = config.candidates.category_classes
        cls = cat.map(lambda c: mapping.get(c))
        unmapped = cat[~cat.isin(mapping.keys())]
        if len(unmapped):
            counts = unmapped.value_counts().head(8).to_dict()
            logger.warning(
                "%s: %d outlets left out, their category is not in candidates.category_classes: %s",
                spec.where(),
                len(unmapped),
                counts,
            )
    else:
        raise data_error(
            spec.where(), "outlets need a policy_class or a category_field in the config"
        )
    out = gpd.GeoDataFrame(
        {
            C.OSM_ID: table[C.SOURCE].to_numpy(),
            C.NAME: table[C.NAME].to_numpy(),
            C.POLICY_CLASS: cls.to_numpy(),
            C.SOURCE: table[C.SOURCE].to_numpy(),
        },
        geometry=table.geometry.to_numpy(),
        crs=table.crs,
    )
    return out[out[C.POLICY_CLASS].notna()]


#: A count as written in tables: ``8``, ``8.0``, ``8个``, ``8 枪``, ``8 sockets``.
_COUNT = re.compile(r"^\s*([0-9]+(?:\.0*)?)\s*(?:个|把|枪|台|桩|根|支|套|sockets?|pcs)?\s*$", re.I)


def sockets_column(table: gpd.GeoDataFrame, spec: PointTableInput) -> np.ndarray:
    """Charging points per row (NaN: blank or not a count, with a warning naming rows).

    Full-width forms (``８个``) read as their ASCII ones.

    Parameters
    ----------
    table
        The chargers read (``source``: file and row).
    spec
        Their input, with ``sockets_field``.

    Returns
    -------
    ndarray
        Floats; a count may carry a unit (``8个``, ``8 枪``).
    """
    raw = _field(table, spec, spec.sockets_field)
    # full-width digits and spaces (８个) as their ASCII forms
    text = raw.fillna("").astype(str).map(lambda v: unicodedata.normalize("NFKC", v).strip())
    count = pd.to_numeric(text.str.extract(_COUNT, expand=False), errors="coerce")
    bad = (text != "") & count.isna()
    if bad.any():
        rows = bad.to_numpy().nonzero()[0]
        examples = ", ".join(f"{table[C.SOURCE].iloc[i]} {text.iloc[i]!r}" for i in rows[:3])
        logger.warning(
            "%s, field '%s': %d values are not a count of charging points (%s%s): "
            "each such charger is counted as 1 charging point",
            spec.where(),
            spec.sockets_field,
            len(rows),
            examples,
            ", ..." if len(rows) > 3 else "",
        )
    return count.to_numpy(dtype=float)


def as_chargers(table: gpd.GeoDataFrame, spec: PointTableInput) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            C.OSM_ID: table[C.SOURCE].to_numpy(),
            C.NAME: table[C.NAME].to_numpy(),
            "operator": _field(table, spec, spec.operator_field).to_numpy(),
            C.SOCKETS: sockets_column(table, spec),
        },
        geometry=table.geometry.to_numpy(),
        crs=table.crs,
    )


def as_substations(table: gpd.GeoDataFrame, spec: PointTableInput) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            C.OSM_ID: table[C.SOURCE].to_numpy(),
            "ref": id_text(_field(table, spec, spec.id_field)).to_numpy(),
            C.NAME: table[C.NAME].to_numpy(),
            C.VOLTAGE_KV: _voltages(table, spec),
        },
        geometry=table.geometry.to_numpy(),
        crs=table.crs,
    )


def _voltages(table: gpd.GeoDataFrame, spec: PointTableInput) -> np.ndarray:
    """The substations' voltages in kV (NaN: not given or not readable)."""
    values = _field(table, spec, spec.voltage_field)
    where = f"{spec.where()}, field {spec.voltage_field!r}"
    return voltage_kv(values, where=where).to_numpy()
