"""Candidate sites: outlets and institutions typed by policy class, with grid costs."""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import ArrayLike
from scipy.spatial import cKDTree

from planner import columns as C
from planner.config import CandidatesSection, CostsSection
from planner.costs import fixed_capex
from planner.grid_feed import feeding_substations, tap_substations
from planner.spatial import assign_townships
from planner.vocab import CLASS_PRIORITY, EXISTING_CLASS

logger = logging.getLogger(__name__)

#: How a site's connection cost was found (the ``connection_basis`` column).
BASIS_DISTANCE, BASIS_DEFAULT, BASIS_NONE, BASIS_EXISTING = (
    "grid distance",
    "default",
    "not included",
    "existing site",
)
#: Lines at or below this voltage (kV) count as medium-voltage lines a site can tap.
MV_MAX_KV = 20.0
#: Substations up to this voltage (kV) are 10 kV connection points themselves (a 220 kV
#: substation feeds sites through its lines, not at its fence).
DIRECT_MAX_KV = 110.0


def is_medium_voltage(power: ArrayLike, voltage_kv: ArrayLike) -> np.ndarray:
    """Whether each line is medium voltage (a 10 kV tap for a site) or high voltage.

    The one rule the model's connection cost and the map both use: a tagged voltage
    decides (at most :data:`MV_MAX_KV`); without one, ``power=minor_line`` is
    distribution (medium voltage) and ``power=line`` or ``cable`` counts as high voltage,
    as untagged ``power=line`` ways in OSM are mostly transmission lines. Grid-company
    lines without a voltage come in as ``minor_line`` (see
    :func:`planner.ingest.tables.read_lines`).

    Parameters
    ----------
    power
        The OSM ``power`` value of each line.
    voltage_kv
        Its highest voltage in kV (NaN or None: not tagged).

    Returns
    -------
    ndarray of bool
        True for medium voltage.
    """
    kv = pd.to_numeric(pd.Series(np.asarray(voltage_kv, dtype=object)), errors="coerce")
    kinds = pd.Series(np.asarray(power, dtype=object))
    return np.where(kv.notna(), kv <= MV_MAX_KV, kinds == "minor_line").astype(bool)


def classify(pois: gpd.GeoDataFrame, osm_classes: dict[str, str | None]) -> pd.Series:
    """Policy class of each POI (None when it gives no candidate).

    Rows that carry a ``policy_class`` already (outlet tables) keep it; OSM rows take
    the class of their first tag found in ``osm_classes`` (``"key=value"`` keys).
    """
    if C.POLICY_CLASS in pois.columns:
        out = pois[C.POLICY_CLASS].astype(object).where(pois[C.POLICY_CLASS].notna(), None)
    else:
        out = pd.Series([None] * len(pois), index=pois.index, dtype=object)
    decided = out.notna()
    for tag, cls in osm_classes.items():
        key, value = tag.split("=", 1)
        if key not in pois.columns:
            continue
        hit = ~decided & (pois[key] == value)
        out[hit] = cls
        decided |= hit
    return out


def build_candidates(
    pois: gpd.GeoDataFrame,
    county: gpd.GeoDataFrame,
    townships: gpd.GeoDataFrame,
    substations: gpd.GeoDataFrame,
    power_lines: gpd.GeoDataFrame,
    *,
    rules: CandidatesSection,
    costs: CostsSection,
    power_points: gpd.GeoDataFrame | None = None,
) -> gpd.GeoDataFrame:
    """Candidate sites with policy class, township, grid connection and capex.

    Parameters
    ----------
    pois
        OSM points of interest (metric CRS).
    county, townships
        Boundaries (metric CRS).
    substations
        With ``substation_id`` and ``headroom_kw``.
    power_lines
        With ``power`` and ``voltage_kv``.
    power_points
        Transformers and poles: medium-voltage taps too (unless tagged above 20 kV).
    rules
        Which classes, and the merge distance.
    costs
        Station and connection costs.

    Returns
    -------
    GeoDataFrame
        ``candidate_id``, ``name``, ``policy_class``, ``osm_id``, ``source``,
        ``township_id``, ``grid_distance_m``, ``connection_cost`` (NaN: not included),
        ``connection_basis``, ``substation_id``, ``headroom_kw``, ``station_capex``.
    """
    cls = classify(pois, rules.osm_classes)
    sel = cls.notna() & cls.isin(rules.classes)
    cand = pois.loc[sel, [C.OSM_ID, C.NAME, "amenity", "shop", pois.geometry.name]].copy()
    cand[C.POLICY_CLASS] = cls[sel]
    tag_source = pd.Series(
        np.where(
            cand["amenity"].notna(),
            "amenity=" + cand["amenity"].astype(str),
            "shop=" + cand["shop"].astype(str),
        ),
        index=cand.index,
    )
    if C.SOURCE in pois.columns:  # table rows name their file and row
        given = pois.loc[sel, C.SOURCE]
        tag_source = given.where(given.notna(), tag_source)
    cand[C.SOURCE] = tag_source
    inside = cand.within(county.geometry.iloc[0])
    if (~inside).any():
        logger.info("%d outlets outside the county are not candidates", int((~inside).sum()))
    cand = cand[inside]
    cand = _merge_close(cand, rules.merge_within_m)
    cand = cand.drop(columns=["amenity", "shop"]).reset_index(drop=True)
    cand.insert(0, C.CANDIDATE_ID, [f"c{i:04d}" for i in range(len(cand))])
    cand[C.TOWNSHIP_ID] = assign_townships(cand, townships, label="candidates")
    _attach_grid(cand, substations, power_lines, costs, power_points)
    # a connection cost that is not included adds nothing (the summary says so)
    cand[C.STATION_CAPEX] = fixed_capex(cand[C.CONNECTION_COST], costs)
    counts = cand[C.POLICY_CLASS].value_counts().to_dict()
    logger.info("%d candidates: %s", len(cand), counts)
    return cand


def _merge_close(cand: gpd.GeoDataFrame, within_m: float) -> gpd.GeoDataFrame:
    """Keep one site of each group closer than ``within_m`` (the highest-priority class)."""
    if within_m <= 0 or len(cand) < 2:
        return cand
    cand = cand.assign(_p=cand[C.POLICY_CLASS].map(CLASS_PRIORITY)).sort_values(
        ["_p", C.OSM_ID], kind="stable"
    )
    xy = np.column_stack([cand.geometry.x, cand.geometry.y])
    tree = cKDTree(xy)
    taken = np.zeros(len(cand), dtype=bool)
    keep = np.zeros(len(cand), dtype=bool)
    for i in range(len(cand)):
        if taken[i]:
            continue
        keep[i] = True
        taken[tree.query_ball_point(xy[i], within_m)] = True
    merged = int((~keep).sum())
    if merged:
        logger.info("%d candidates merged into a site within %.0f m", merged, within_m)
    return cand[keep].drop(columns="_p").sort_values(C.OSM_ID, kind="stable")


def _attach_grid(
    cand: gpd.GeoDataFrame,
    substations: gpd.GeoDataFrame,
    power_lines: gpd.GeoDataFrame,
    costs: CostsSection,
    power_points: gpd.GeoDataFrame | None,
) -> None:
    """Each site's connection: the nearest 10 kV line, tap or substation prices it, and
    the substation feeding that line, tap or substation books its load (headroom)."""
    pts = cand.geometry.to_numpy()
    mv = power_lines[is_medium_voltage(power_lines["power"], power_lines[C.VOLTAGE_KV])]
    lines = mv.geometry.to_numpy()
    subs = substations.geometry.to_numpy()
    # a site connects at a substation's 10 kV bus only up to 110 kV substations
    direct = np.flatnonzero(~(_voltages(substations) > DIRECT_MAX_KV))
    taps = np.zeros(0, dtype=object)
    if power_points is not None and len(power_points):
        taps = power_points[~(power_points["voltage_kv"] > MV_MAX_KV)].geometry.to_numpy()
    targets = np.concatenate([lines, subs[direct], taps]).astype(object)
    idx = np.zeros(0, dtype=np.int64)
    if len(targets):
        dist = np.zeros(0)
        if len(pts):
            idx = shapely.STRtree(targets).nearest(pts)
            dist = shapely.distance(pts, targets[idx])
        cand[C.CONNECTION_COST] = np.round(dist / 1000.0 * costs.connection_per_km)
        cand[C.CONNECTION_BASIS] = BASIS_DISTANCE
    else:
        dist = np.full(len(pts), np.nan)
        _without_grid(cand, costs)
    cand[C.GRID_DISTANCE_M] = np.round(dist, 1)
    if len(subs) and len(pts):
        line_feed = feeding_substations(lines, subs)
        feed = np.concatenate([line_feed, direct, tap_substations(taps, lines, line_feed, subs)])
        s_idx = feed[idx]
        cand[C.SUBSTATION_ID] = substations[C.SUBSTATION_ID].to_numpy()[s_idx]
        cand[C.HEADROOM_KW] = substations[C.HEADROOM_KW].to_numpy()[s_idx]
    else:
        cand[C.SUBSTATION_ID] = None
        cand[C.HEADROOM_KW] = np.nan


def _voltages(substations: gpd.GeoDataFrame) -> np.ndarray:
    """The substations' highest voltages in kV (NaN: not known)."""
    if C.VOLTAGE_KV not in substations.columns:
        return np.full(len(substations), np.nan)
    return pd.to_numeric(substations[C.VOLTAGE_KV], errors="coerce").to_numpy(dtype=float)


def _without_grid(cand: gpd.GeoDataFrame, costs: CostsSection) -> None:
    """Connection costs when no 10 kV line or substation is known: the default, or none."""
    default = costs.connection_default
    if default is None:
        cand[C.CONNECTION_COST] = np.nan
        cand[C.CONNECTION_BASIS] = BASIS_NONE
        logger.warning(
            "no 10 kV lines or substations in the grid data: the connection costs of the %d "
            "candidates are not included (empty in the exports; set costs.connection_default "
            "for a cost per site)",
            len(cand),
        )
    else:
        cand[C.CONNECTION_COST] = float(default)
        cand[C.CONNECTION_BASIS] = BASIS_DEFAULT
        logger.warning(
            "no 10 kV lines or substations in the grid data: the %d candidates take "
            "costs.connection_default=%g CNY as their connection cost",
            len(cand),
            default,
        )


def connection_costs_note(candidates: gpd.GeoDataFrame) -> str:
    """Whether the plan's costs include grid connections, for summary.json and the report.

    Parameters
    ----------
    candidates
        New candidate sites with ``connection_cost`` and ``connection_basis``.

    Returns
    -------
    str
        ``"included"`` (from the distance to the grid), ``"default N CNY per site"``
        (``costs.connection_default``) or ``"not included"``.
    """
    basis = set(candidates[C.CONNECTION_BASIS]) if len(candidates) else {BASIS_DISTANCE}
    if BASIS_NONE in basis:
        return "not included"
    if BASIS_DEFAULT in basis:
        cost = candidates.loc[candidates[C.CONNECTION_BASIS] == BASIS_DEFAULT, C.CONNECTION_COST]
        return f"default {float(cost.iloc[0]):,.0f} CNY per site"
    return "included"


def existing_ids(n: int) -> list[str]:
    """The ids of the ``n`` existing chargers as sites (``e000``...), in their order: the
    ids demand points' ``station_id`` name, and the existing-chargers layer carries."""
    return [f"e{i:03d}" for i in range(n)]


def existing_sites(chargers: gpd.GeoDataFrame, townships: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Existing public chargers as open sites, in the candidates' columns.

    Parameters
    ----------
    chargers
        With ``osm_id``, ``name`` and ``sockets`` (charging points; NaN: unknown), in the
        townships' CRS.
    townships
        With ``township_id``.

    Returns
    -------
    GeoDataFrame
        ``candidate_id`` ``e000``..., ``policy_class`` ``existing_charger``, zero capex,
        and ``existing_chargers``: the charging points in place. A charger without a
        point count is counted as 1 point, with a warning giving how many.
    """
    cols = [C.CANDIDATE_ID, C.NAME, C.POLICY_CLASS, C.OSM_ID, C.SOURCE, C.TOWNSHIP_ID]
    if len(chargers) == 0:
        out = gpd.GeoDataFrame(columns=[*cols, C.EXISTING_CHARGERS], geometry=[], crs=townships.crs)
        return out.astype({C.EXISTING_CHARGERS: int})
    sockets = pd.to_numeric(chargers[C.SOCKETS], errors="coerce")
    unknown = int((sockets.isna() | (sockets < 1)).sum())
    if unknown:
        logger.warning(
            "%d existing chargers have no charging-point count (capacity / socket:* tags or "
            "the sockets column): each is counted as 1 charging point",
            unknown,
        )
    out = gpd.GeoDataFrame(
        {
            C.CANDIDATE_ID: existing_ids(len(chargers)),
            C.NAME: chargers[C.NAME].to_numpy(),
            C.POLICY_CLASS: EXISTING_CLASS,
            C.OSM_ID: chargers[C.OSM_ID].astype(str).to_numpy(),
            C.SOURCE: "existing charger",
        },
        geometry=chargers.geometry.to_numpy(),
        crs=chargers.crs,
    )
    out[C.TOWNSHIP_ID] = assign_townships(out, townships, label="existing chargers")
    out[C.EXISTING_CHARGERS] = sockets.where(sockets >= 1, 1).round().astype(int).to_numpy()
    out[C.STATION_CAPEX] = 0.0
    out[C.CONNECTION_COST] = 0.0
    out[C.CONNECTION_BASIS] = BASIS_EXISTING
    return out


def with_existing(candidates: gpd.GeoDataFrame, existing: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Candidates followed by the existing sites, with ``existing_chargers`` (0: new)."""
    cand = candidates.assign(**{C.EXISTING_CHARGERS: 0})
    if len(existing) == 0:
        return cand
    assert cand.crs is not None  # candidates always have one (to_crs(None) would raise)
    both = pd.concat([cand, existing.to_crs(cand.crs)], ignore_index=True)
    return gpd.GeoDataFrame(both, geometry=cand.geometry.name, crs=cand.crs)
