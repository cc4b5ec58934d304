"""Why a station model cannot be feasible, found before solving.

:func:`station_problems` checks the configured limits against the candidate sites (and,
when given, the demand in reach) and names every cause it finds, so that
:func:`~planner.optimize.plan.plan_sites` can refuse an infeasible set-up with a message
that says what to change instead of a solver's bare "infeasible".
"""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd

from planner import columns as C
from planner.config import Config
from planner.costs import site_capex
from planner.datatypes import TravelTimes
from planner.errors import ConfigError
from planner.optimize.inputs import names_list, site_indices

logger = logging.getLogger(__name__)


def station_problems(
    candidates: gpd.GeoDataFrame,
    townships: gpd.GeoDataFrame,
    config: Config,
    *,
    demand: gpd.GeoDataFrame | None = None,
    times: TravelTimes | None = None,
) -> list[str]:
    """Reasons the station model cannot be feasible, found before solving.

    Parameters
    ----------
    candidates
        With ``township_id`` and ``station_capex``.
    townships
        With ``township_id`` and ``township_name``.
    config
        Station limits and costs.
    demand, times
        When given, a coverage target above the demand in reach of any site is found.

    Returns
    -------
    list of str
        Empty when nothing is wrong.

    Raises
    ------
    ConfigError
        When a site is both required and excluded.
    """
    st = config.stations
    # the cheapest station at each site: its fixed cost and the fewest chargers
    fixed = candidates[C.STATION_CAPEX]
    min_station = pd.Series(
        site_capex(fixed, st.min_chargers, config.costs.charger_capex), index=candidates.index
    )
    required = site_indices(candidates, st.required)
    excluded = site_indices(candidates, st.excluded)
    both = np.intersect1d(required, excluded)
    if len(both):
        ids = candidates[C.OSM_ID].to_numpy()[both].tolist()
        msg = f"stations.required and stations.excluded both name {names_list(ids)}"
        raise ConfigError(msg)
    new = (
        candidates[C.EXISTING_CHARGERS].fillna(0).to_numpy() == 0
        if C.EXISTING_CHARGERS in candidates.columns
        else np.ones(len(candidates), dtype=bool)
    )
    causes, too_small = _required_problems(candidates, required, min_station, config)
    too_small &= new  # chargers in place need no more headroom: an existing site serves
    if demand is not None and times is not None and st.min_coverage_share is not None:
        causes += _coverage_problems(candidates, demand, times, required, config)
    # existing chargers cost nothing
    min_station = pd.Series(
        site_capex(fixed, st.min_chargers, config.costs.charger_capex, existing=~new),
        index=candidates.index,
    )
    if st.budget is not None and new.any() and st.budget < float(min_station[new].min()):
        cheapest = f"{float(min_station[new].min()):,.0f} CNY with {st.min_chargers} chargers"
        if (~new).any():  # chargers in place: a plan without new stations (a pause year)
            logger.warning(
                "stations.budget %s is below the cheapest new station (%s): the plan opens "
                "none and counts on the chargers in place",
                f"{st.budget:,.0f}",
                cheapest,
            )
        else:
            causes.append(
                f"stations.budget {st.budget:,.0f} is below the cheapest station ({cheapest})"
            )
    if st.township_min:
        causes += _township_problems(
            candidates, townships, config, usable=~too_small, excluded=excluded, cost=min_station
        )
        if st.respect_headroom:
            causes += _shared_headroom_problems(
                candidates, townships, config, usable=~too_small, excluded=excluded, new=new
            )
    return causes


def _required_problems(
    candidates: gpd.GeoDataFrame, required: np.ndarray, min_station: pd.Series, config: Config
) -> tuple[list[str], pd.Series]:
    """Required stations beyond the count, the budget or their substations' headroom.

    Also returns which sites are fed by a substation without headroom for a station
    (all False when headroom is not respected).
    """
    st = config.stations
    causes = []
    if st.max_stations is not None and len(required) > st.max_stations:
        causes.append(
            f"{len(required)} required stations exceed stations.max_stations={st.max_stations}"
        )
    if st.budget is not None and len(required):
        need = float(min_station.iloc[required].sum())
        if need > st.budget:
            causes.append(
                f"the required stations cost at least {need:,.0f} CNY, above stations.budget "
                f"{st.budget:,.0f}"
            )
    if not st.respect_headroom:
        return causes, pd.Series(False, index=candidates.index)
    too_small = candidates[C.HEADROOM_KW] < st.min_chargers * st.charger_kw
    if too_small.iloc[required].any() if len(required) else False:
        ids = candidates[C.OSM_ID].to_numpy()[required][too_small.iloc[required].to_numpy()]
        causes.append(
            f"required stations {names_list(ids.tolist())} are fed by substations without "
            f"headroom for {st.min_chargers} chargers"
        )
    return causes, too_small


def _coverage_problems(
    candidates: gpd.GeoDataFrame,
    demand: gpd.GeoDataFrame,
    times: TravelTimes,
    required: np.ndarray,
    config: Config,
) -> list[str]:
    """A coverage target above the sessions in reach, or above what stations can serve."""
    st = config.stations
    assert st.min_coverage_share is not None
    causes = []
    sessions = demand[C.SESSIONS_DAY].to_numpy(dtype=float)
    reachable = np.zeros(len(sessions), dtype=bool)
    reachable[times.demand_to_candidate.rows] = True
    total = float(sessions.sum())
    share = float(sessions[reachable].sum()) / total if total > 0 else 0.0
    if share + 1e-9 < st.min_coverage_share:
        causes.append(
            f"stations.min_coverage_share={st.min_coverage_share:g} but only {share:.1%} "
            f"of the sessions are within {st.cutoff_min:g} min of any candidate site"
        )
    # the most every site could serve: max chargers at new sites (fewer where the
    # station count caps them), the installed points at existing ones
    installed = (
        candidates[C.EXISTING_CHARGERS].fillna(0).to_numpy()
        if C.EXISTING_CHARGERS in candidates.columns
        else np.zeros(len(candidates))
    )
    n_new = int((installed == 0).sum())
    if st.max_stations is not None:
        n_new = min(n_new, st.max_stations + len(required))
    capacity = st.sessions_per_charger_per_day * (n_new * st.max_chargers + installed.sum())
    need = st.min_coverage_share * total
    if capacity + 1e-9 < need:
        causes.append(
            f"stations.min_coverage_share={st.min_coverage_share:g} needs {need:,.0f} "
            f"sessions/day but the stations can serve at most {capacity:,.0f} "
            f"({n_new} stations x {st.max_chargers} chargers x "
            f"{st.sessions_per_charger_per_day:g} sessions, plus existing chargers)"
        )
    return causes


def _township_problems(
    candidates: gpd.GeoDataFrame,
    townships: gpd.GeoDataFrame,
    config: Config,
    *,
    usable: pd.Series,
    excluded: np.ndarray,
    cost: pd.Series,
) -> list[str]:
    """Townships the township minimum cannot serve: no site, no usable site, no money.

    ``usable`` marks the sites with headroom for a station, ``cost`` is the cheapest
    station at each site (0 at existing chargers).
    """
    st = config.stations
    causes = []
    has = set(candidates[C.TOWNSHIP_ID])
    empty = townships[~townships[C.TOWNSHIP_ID].isin(has)]
    if len(empty):
        names = [f"{r[C.TOWNSHIP_NAME]} ({r[C.TOWNSHIP_ID]})" for _, r in empty.iterrows()]
        causes.append(
            f"{len(empty)} townships have no candidate site but stations.township_min "
            f"is on: {names_list(names)}"
        )
    usable = usable.copy()
    usable.iloc[excluded] = False
    blocked = townships[
        townships[C.TOWNSHIP_ID].isin(has)
        & ~townships[C.TOWNSHIP_ID].isin(set(candidates.loc[usable, C.TOWNSHIP_ID]))
    ]
    if len(blocked):
        names = [f"{r[C.TOWNSHIP_NAME]} ({r[C.TOWNSHIP_ID]})" for _, r in blocked.iterrows()]
        causes.append(
            f"in {len(blocked)} townships every candidate is excluded or fed by a "
            f"substation without headroom for {st.min_chargers} chargers: {names_list(names)}"
            + _feeders(candidates, set(blocked[C.TOWNSHIP_ID]), excluded)
        )
    n_needed = len(townships) - len(empty)
    if st.max_stations is not None and st.max_stations < n_needed:
        causes.append(
            f"stations.max_stations={st.max_stations} is below the {n_needed} townships "
            "that each need a station"
        )
    if st.budget is not None and len(candidates):
        cheapest = cost.groupby(candidates[C.TOWNSHIP_ID]).min()
        if st.budget < float(cheapest.sum()):
            causes.append(
                f"stations.budget {st.budget:,.0f} is below the {float(cheapest.sum()):,.0f} "
                "CNY needed for the cheapest station in every township"
            )
    return causes


def _feeders(candidates: gpd.GeoDataFrame, townships: set[str], excluded: np.ndarray) -> str:
    """`` (substations: QX-1 -500 kW, ...)``: what feeds the townships' sites not excluded."""
    if C.SUBSTATION_ID not in candidates.columns:
        return ""
    keep = candidates[C.TOWNSHIP_ID].isin(townships).to_numpy().copy()
    keep[excluded] = False
    sites = candidates[keep]
    kw = sites.groupby(sites[C.SUBSTATION_ID].astype(str))[C.HEADROOM_KW].first()
    if kw.empty:
        return ""
    kw = kw.sort_values()
    named = [f"{sid} {h:,.0f} kW" for sid, h in kw.items() if pd.notna(h)]
    return f" (substations' headroom: {names_list(named)})" if named else ""


def _shared_headroom_problems(
    candidates: gpd.GeoDataFrame,
    townships: gpd.GeoDataFrame,
    config: Config,
    *,
    usable: pd.Series,
    excluded: np.ndarray,
    new: np.ndarray,
) -> list[str]:
    """Substations whose headroom cannot hold a station in every township that needs one
    from them.

    A township without an existing charger whose every usable site (not excluded, with
    headroom for a station) is fed by one substation with a known headroom needs a new
    station there of at least ``min_chargers x charger_kw``; together they must fit.
    """
    st = config.stations
    ok = usable.to_numpy(dtype=bool).copy()
    ok[excluded] = False
    tid = candidates[C.TOWNSHIP_ID].to_numpy()[ok]
    sub = candidates[C.SUBSTATION_ID].astype(str).to_numpy()[ok]
    kw = candidates[C.HEADROOM_KW].to_numpy(dtype=float)[ok]
    served = set(candidates[C.TOWNSHIP_ID].to_numpy()[~new])  # an existing charger will do
    names = dict(zip(townships[C.TOWNSHIP_ID], townships[C.TOWNSHIP_NAME], strict=True))
    bound: dict[str, list[str]] = {}
    headroom: dict[str, float] = {}
    for t in sorted(set(tid) - served):
        at = tid == t
        if t in names and len(set(sub[at])) == 1 and not np.isnan(kw[at]).any():
            bound.setdefault(sub[at][0], []).append(f"{names[t]} ({t})")
            headroom[sub[at][0]] = float(kw[at][0])
    station_kw = st.min_chargers * st.charger_kw
    causes = []
    for s, towns in sorted(bound.items()):
        fits = int(headroom[s] // station_kw)
        if len(towns) > fits:
            causes.append(
                f"substation {s} has {headroom[s]:,.0f} kW of headroom, room for {fits} "
                f"stations of {st.min_chargers} x {st.charger_kw:g} kW, but {len(towns)} "
                f"townships can only get a station fed by it: {names_list(towns)} (raise "
                "its headroom in the substation table, or stations.respect_headroom: false)"
            )
    return causes
