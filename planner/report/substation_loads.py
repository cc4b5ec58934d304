"""What the plan asks of each substation: the table a grid company countersigns.

One row per substation that feeds a planned station or has a known headroom: its rated
capacity, peak load and headroom (from ``inputs.substations``), the planned stations it
feeds (their load is booked on the substation of the 10 kV line that prices their
connection, :mod:`planner.grid_feed`), their chargers' rated power drawn all at once,
and what is left. A substation without a headroom row is ``unknown``: the plan is not
limited there, and the report says so.
"""

from __future__ import annotations

import math
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from planner import columns as C
from planner.i18n import N_, Lang
from planner.report.sections import english, label_of, num

#: The state of a substation's headroom under the plan.
WITHIN, OVER, UNKNOWN = "within", "over", "unknown"
#: The table's columns: summary key, header.
_COLUMNS = (
    ("substation_id", N_("Substation")),
    ("name", N_("Name")),
    ("rated_kva", N_("Rated capacity (kVA)")),
    ("peak_load_kw", N_("Peak load (kW)")),
    ("headroom_kw", N_("Headroom (kW)")),
    ("stations", N_("Stations fed")),
    ("charger_kw", N_("Planned charging power (kW)")),
    ("remaining_kw", N_("Headroom left (kW)")),
    ("state", N_("Headroom")),
)
#: The columns of numbers.
_NUMERIC = ("rated_kva", "peak_load_kw", "headroom_kw", "stations", "charger_kw", "remaining_kw")
HEADROOM_STATES = {
    WITHIN: N_("within"),
    OVER: N_("over"),
    UNKNOWN: N_("unknown (no row in the headroom table)"),
}
#: The same states when the run had no headroom table at all.
STATES_WITHOUT_TABLE = {**HEADROOM_STATES, UNKNOWN: N_("unknown (no headroom table given)")}


def substation_loads(
    drawing: gpd.GeoDataFrame, substations: gpd.GeoDataFrame
) -> list[dict[str, Any]]:
    """The substations' rows (summary.json's ``substation_loads``), most loaded first.

    Parameters
    ----------
    drawing
        The stations drawing on a substation (``substation_id``, ``charger_kw``): new
        ones, and chargers added to stations opened before.
    substations
        The county's substations with ``substation_id``, ``name``, ``rated_kva``,
        ``peak_load_kw``, ``headroom_kw``.
    """
    figures: dict[str, dict[str, Any]] = {}
    columns = [c for c in (C.NAME, C.RATED_KVA, C.PEAK_LOAD_KW, C.HEADROOM_KW) if c in substations]
    if C.SUBSTATION_ID not in substations.columns:
        columns, substations = [], gpd.GeoDataFrame({C.SUBSTATION_ID: []})
    for row in substations[[C.SUBSTATION_ID, *columns]].to_dict("records"):
        figures.setdefault(str(row[C.SUBSTATION_ID]), {str(k): v for k, v in row.items()})
    load: dict[str, tuple[float, int]] = {}
    if len(drawing) and C.SUBSTATION_ID in drawing.columns:
        for key, kw in zip(drawing[C.SUBSTATION_ID], drawing[C.CHARGER_KW], strict=True):
            if isinstance(key, str) or not pd.isna(key):
                before = load.get(str(key), (0.0, 0))
                load[str(key)] = (before[0] + float(kw), before[1] + 1)
    known = [k for k, f in figures.items() if _value(f.get(C.HEADROOM_KW)) is not None]
    ids = list(dict.fromkeys([*load, *known]))
    rows = [_row(k, figures.get(k, {}), load.get(k, (0.0, 0))) for k in ids]
    return sorted(rows, key=lambda r: (-r["charger_kw"], r["substation_id"]))


def substation_layer(drawing: gpd.GeoDataFrame, substations: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Every substation of the county with what the plan asks of it (the ``substations``
    layer of the GIS files): the columns of :func:`substation_loads`' rows.

    Parameters
    ----------
    drawing, substations
        As for :func:`substation_loads`.
    """
    rows = {r["substation_id"]: r for r in substation_loads(drawing, substations)}
    ids = (
        substations[C.SUBSTATION_ID].astype(str).to_numpy()
        if C.SUBSTATION_ID in substations.columns
        else np.array([], dtype=str)
    )
    none = _row("", {}, (0.0, 0))
    picked = [rows.get(k, {**none, "substation_id": k}) for k in ids]
    voltage = substations.get(C.VOLTAGE_KV)
    return gpd.GeoDataFrame(
        {
            C.SUBSTATION_ID: ids,
            C.NAME: substations[C.NAME].to_numpy() if C.NAME in substations else None,
            C.VOLTAGE_KV: _floats(voltage if voltage is not None else [None] * len(ids)),
            C.RATED_KVA: _floats(r["rated_kva"] for r in picked),
            C.PEAK_LOAD_KW: _floats(r["peak_load_kw"] for r in picked),
            C.HEADROOM_KW: _floats(r["headroom_kw"] for r in picked),
            C.STATIONS_FED: [r["stations"] for r in picked],
            C.PLANNED_KW: _floats(r["charger_kw"] for r in picked),
            C.HEADROOM_LEFT_KW: _floats(r["remaining_kw"] for r in picked),
            C.HEADROOM_STATE: [r["state"] for r in picked],
        },
        geometry=substations.geometry.to_numpy(),
        crs=substations.crs,
    )


def _floats(values: Any) -> np.ndarray:
    """Figures as floats (NaN: missing), whatever their source's dtype."""
    return np.array([np.nan if v is None or pd.isna(v) else float(v) for v in values], float)


def _value(x: Any) -> float | None:
    """A figure as a float (None: missing)."""
    return None if x is None or pd.isna(x) else float(x)


def _row(key: str, figures: dict[str, Any], load: tuple[float, int]) -> dict[str, Any]:
    kw, stations = load
    headroom = _value(figures.get(C.HEADROOM_KW))
    name = figures.get(C.NAME)
    state = UNKNOWN if headroom is None else OVER if kw > headroom + 1e-6 else WITHIN
    return {
        "substation_id": key,
        "name": name if isinstance(name, str) and name else None,
        "rated_kva": _value(figures.get(C.RATED_KVA)),
        "peak_load_kw": _value(figures.get(C.PEAK_LOAD_KW)),
        "headroom_kw": headroom,
        "stations": stations,
        "charger_kw": kw,
        "remaining_kw": None if headroom is None else headroom - kw,
        "state": state,
    }


def substation_table(summary: dict[str, Any], *, lang: Lang | None = None) -> pd.DataFrame | None:
    """The substations' rows as texts, headers in ``lang`` (None: no rows)."""
    rows = summary.get("substation_loads") or []
    if not rows:
        return None
    lang = english(lang)
    states = HEADROOM_STATES if summary.get("headroom_table", True) else STATES_WITHOUT_TABLE
    out: dict[str, list[Any]] = {}
    for key, head in _COLUMNS:
        values = [r.get(key) for r in rows]
        if key == "state":
            values = [label_of(states, v, lang) for v in values]
        elif key in _NUMERIC:
            values = [_figure(v, lang) for v in values]
        else:
            values = [v or "" for v in values]
        out[lang(head)] = values
    return pd.DataFrame(out)


def _figure(value: float | None, lang: Lang) -> str:
    return "" if value is None or not math.isfinite(value) else num(value, lang=lang)


def numeric_headers(lang: Lang | None = None) -> list[str]:
    """The headers of :func:`substation_table`'s columns of numbers."""
    lang = english(lang)
    return [lang(head) for key, head in _COLUMNS if key in _NUMERIC]
