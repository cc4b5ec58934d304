"""Model inputs from a run's tables: site ids, cover sets, the station rules.

:func:`station_rules` turns the demand, the candidate sites and the config into the
:class:`~planner.optimize.rules.StationRules` the station models take;
:func:`village_cover` and :func:`site_cover` are the cover sets of the repair tier.
"""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np

from planner import columns as C
from planner.config import Config
from planner.datatypes import SparseTimes, TravelTimes
from planner.errors import ConfigError, InfeasibleError
from planner.optimize.rules import Sizing, StationRules

logger = logging.getLogger(__name__)

_LIST_MAX = 5


def names_list(items: list[str]) -> str:
    """The first few ``items``, comma-separated, and how many more there are."""
    shown = ", ".join(items[:_LIST_MAX])
    more = len(items) - _LIST_MAX
    return shown + (f" and {more} more" if more > 0 else "")


def site_indices(candidates: gpd.GeoDataFrame, ids: list[str]) -> np.ndarray:
    """Positions of candidates named by ``osm_id`` or ``source``; unknown ids are errors."""
    if not ids:
        return np.zeros(0, dtype=np.int64)
    keys = {str(v): k for k, v in enumerate(candidates[C.OSM_ID])}
    keys.update({str(v): k for k, v in enumerate(candidates[C.SOURCE]) if str(v) not in keys})
    missing = [i for i in ids if i not in keys]
    if missing:
        msg = (
            f"stations.required/excluded: {names_list(missing)} are not candidate sites "
            "(use the osm_id or source column of candidates in sites.gpkg)"
        )
        raise ConfigError(msg)
    return np.array(sorted({keys[i] for i in ids}), dtype=np.int64)


def headroom_limits(
    candidates: gpd.GeoDataFrame,
) -> tuple[tuple[np.ndarray, float], ...]:
    """``(sites, kW)`` per substation with a known headroom figure."""
    known = candidates[candidates[C.HEADROOM_KW].notna()]
    out = []
    for _, group in known.groupby(C.SUBSTATION_ID):
        sites = candidates.index.get_indexer(group.index)
        out.append((sites, float(group[C.HEADROOM_KW].iloc[0])))
    return tuple(out)


def existing_sites(sites: gpd.GeoDataFrame) -> np.ndarray:
    """Boolean per site: an existing public charger (``existing_chargers`` > 0)."""
    if C.EXISTING_CHARGERS not in sites.columns:
        return np.zeros(len(sites), dtype=bool)
    return sites[C.EXISTING_CHARGERS].fillna(0).to_numpy() > 0


def _covers(times: SparseTimes) -> list[np.ndarray]:
    """Rows that reach each column (the transposed neighbour lists)."""
    t = SparseTimes(times.cols, times.rows, times.minutes, (times.shape[1], times.shape[0]))
    return t.neighbours()


def village_cover(times: TravelTimes, config: Config) -> tuple[list[np.ndarray], list[str]]:
    """Sites within the response time of each reachable village, and the unreachable ones.

    Raises :class:`InfeasibleError` for unreachable villages unless
    ``repair.unreachable`` is ``warn``.
    """
    villages = times.villages
    by_village = _covers(times.candidate_to_village)
    unreachable = [k for k, m in enumerate(by_village) if len(m) == 0]
    names = [str(villages.iloc[k][C.NAME] or villages.iloc[k][C.OSM_ID]) for k in unreachable]
    if unreachable:
        what = (
            f"{len(unreachable)} villages have no candidate site within "
            f"repair.response_min={config.repair.response_min:g} min: {names_list(names)}"
        )
        if config.repair.unreachable == "error":
            msg = f"repair model infeasible: {what} (repair.unreachable: warn plans the rest)"
            raise InfeasibleError(msg)
        logger.warning("repair points: %s; they are left out of the repair plan", what)
    return [m for m in by_village if len(m)], names


def site_cover(times: TravelTimes) -> list[np.ndarray]:
    """Sites within the response time of each site, the site itself always included."""
    return [
        np.union1d(m, [j]).astype(np.int64)
        for j, m in enumerate(_covers(times.candidate_to_candidate))
    ]


def expandable_sites(sites: gpd.GeoDataFrame, is_existing: np.ndarray) -> np.ndarray | None:
    """Boolean per site: an existing site that may get more chargers, i.e. a station a
    rollout opened in an earlier year (``opened_year`` set, see
    :func:`~planner.rollout.with_opened`); None when there is none. The operators'
    existing chargers never grow."""
    if C.OPENED_YEAR not in sites.columns:
        return None
    grow = sites[C.OPENED_YEAR].notna().to_numpy() & is_existing
    return grow if grow.any() else None


def station_rules(
    demand: gpd.GeoDataFrame,
    sites: gpd.GeoDataFrame,
    townships: gpd.GeoDataFrame,
    config: Config,
) -> StationRules:
    """The station side of a run, shared by :func:`~planner.optimize.mclp.mclp` and
    :func:`~planner.optimize.two_tier.two_tier`.

    Parameters
    ----------
    demand
        Demand points with ``sessions_day``.
    sites
        Candidate sites (and existing chargers' sites) with ``station_capex``,
        ``township_id``, ``osm_id``, ``source``, ``headroom_kw``, ``substation_id``.
    townships
        With ``township_id`` (the groups of the township minimum).
    config
        Station limits and costs (``stations``, ``costs``).

    Returns
    -------
    StationRules
        Site costs, sizing, budget, limits, fixed and existing sites, coverage floor and
        objective of ``config``; the solver settings are not part of them.
    """
    st = config.stations
    sessions = demand[C.SESSIONS_DAY].to_numpy(dtype=float)
    is_existing = existing_sites(sites)
    groups = None
    if st.township_min:
        tid = sites[C.TOWNSHIP_ID].to_numpy()
        groups = {t: np.flatnonzero(tid == t) for t in townships[C.TOWNSHIP_ID]}
    installed = (
        sites[C.EXISTING_CHARGERS].fillna(0).to_numpy(dtype=int) if is_existing.any() else None
    )
    sizing = Sizing(
        sessions=sessions,
        per_charger=st.sessions_per_charger_per_day,
        min_chargers=st.min_chargers,
        max_chargers=st.max_chargers,
        charger_cost=config.costs.charger_capex,
        charger_kw=st.charger_kw,
        headroom=headroom_limits(sites) if st.respect_headroom else (),
        installed=installed,
        expandable=expandable_sites(sites, is_existing),
    )
    share = st.min_coverage_share
    return StationRules(
        site_cost=sites[C.STATION_CAPEX].to_numpy(dtype=float),
        sizing=sizing,
        budget=st.budget,
        max_sites=st.max_stations,
        groups=groups,
        required=site_indices(sites, st.required),
        excluded=site_indices(sites, st.excluded),
        existing=np.flatnonzero(is_existing),
        min_cover=None if share is None else share * float(sessions.sum()),
        objective=st.objective,
    )
