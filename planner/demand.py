"""Charging demand from a population raster."""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import CRS, Transformer
from scipy.spatial import cKDTree

from planner import columns as C
from planner.config import DemandSection
from planner.datatypes import PopulationGrid
from planner.errors import DataError
from planner.spatial import assign_townships
from planner.squares import cell_xy, demand_resolution, raster_cell_m, resolution_text

logger = logging.getLogger(__name__)


def sessions_per_person(params: DemandSection) -> float:
    """Public charging sessions per resident per day under the adoption scenario."""
    return params.vehicles_per_1000 / 1000.0 * params.ev_adoption * params.sessions_per_ev_per_day


#: Above this share of the people left out by ``min_population``, a warning says so.
_LOST_SHARE_WARNED = 0.005
#: Key of the demand frame's ``attrs`` with the points and people ``min_population`` left
#: out (``{"points": int, "population": float}``), for the run's summary and report.
LEFT_OUT = "left_out"
#: ``attrs`` key of a raster demand frame: the side (m) of its squares, or "native".
RESOLUTION_USED = "resolution_used"


def demand_from_raster(
    grid: PopulationGrid,
    townships: gpd.GeoDataFrame,
    crs: CRS,
    *,
    params: DemandSection,
) -> gpd.GeoDataFrame:
    """Aggregate population cells to demand points every ``resolution_m``.

    The populated raster cells are grouped by the square of side ``params.resolution_m``
    (in ``crs``) that their centre falls in; each square with at least
    ``min_population`` people is a demand point at the population-weighted centre of
    its cells, so a village's point falls on the village. With ``resolution_m`` set to
    ``"native"``, or finer than the raster's cells (a warning then), each populated
    cell is a point at its centre. The total population is the same at every
    resolution, apart from the points below ``min_population`` (logged).

    Parameters
    ----------
    grid
        The population window (cells outside the county are 0).
    townships
        Township polygons in ``crs``, with ``township_id``.
    crs
        The metric CRS.
    params
        Resolution and the EV adoption scenario.

    Returns
    -------
    GeoDataFrame
        ``demand_id``, ``population``, ``evs``, ``sessions_day``, ``kwh_day``,
        ``township_id``, points in ``crs``.
    """
    rows, cols = np.nonzero(grid.values > 0)
    pop = grid.values[rows, cols]
    to_metric = Transformer.from_crs(grid.crs, crs, always_xy=True)
    xs, ys = cell_xy(grid, cols + 0.5, rows + 0.5)
    mx, my = (np.asarray(v, dtype=float) for v in to_metric.transform(xs, ys))
    side = demand_resolution(grid, crs, params.resolution_m)
    if side is None:  # the cells in the squares' order: west to east, south to north
        width, height = raster_cell_m(grid, crs)
        order = np.lexsort((my, mx, np.floor(my / height), np.floor(mx / width)))
        p, px, py = pop[order], mx[order], my[order]
    else:
        agg = _squares(mx, my, pop, side)
        p = agg["p"].to_numpy()
        px, py = agg["px"].to_numpy() / p, agg["py"].to_numpy() / p
    small = p < params.min_population
    if small.any():
        lost = float(p[small].sum())
        share = lost / max(float(p.sum()), 1e-9)
        # a fine resolution splits sparse settlement into many cells below the minimum
        log = logger.warning if share > _LOST_SHARE_WARNED else logger.info
        log(
            "demand: %d points with %.0f people in all (%.1f%% of the county's) fall below "
            "demand.min_population=%g at resolution_m=%s and are left out",
            int(small.sum()),
            lost,
            100 * share,
            params.min_population,
            resolution_text(params.resolution_m),
        )
    if small.all():
        msg = "population raster: no cell reaches demand.min_population inside the county"
        raise DataError(msg)
    keep = ~small
    left_out = {
        "points": int(small.sum()),
        "population": round(float(p[small].sum()), 1),
        "min_population": float(params.min_population),
    }
    pts = gpd.GeoDataFrame(
        {C.POPULATION: np.round(p[keep], 2)},
        geometry=gpd.points_from_xy(px[keep], py[keep]),
        crs=crs,
    )
    logger.info("demand: %d points from %d populated raster cells", len(pts), len(pop))
    out = _finish(pts, townships, params)
    out.attrs[LEFT_OUT] = left_out
    out.attrs[RESOLUTION_USED] = "native" if side is None else side
    return out


def _squares(mx: np.ndarray, my: np.ndarray, pop: np.ndarray, side: float) -> pd.DataFrame:
    """People and people-weighted coordinates summed per square of ``side`` metres.

    Returns columns ``p``, ``px`` and ``py``, one row per square with people, ordered
    by the square's column then row (west to east, south to north).
    """
    cells = pd.DataFrame(
        {
            "gx": np.floor(mx / side).astype(np.int64),
            "gy": np.floor(my / side).astype(np.int64),
            "p": pop,
            "px": pop * mx,
            "py": pop * my,
        }
    )
    return cells.groupby(["gx", "gy"], sort=True)[["p", "px", "py"]].sum()


def _finish(
    pts: gpd.GeoDataFrame, townships: gpd.GeoDataFrame, params: DemandSection
) -> gpd.GeoDataFrame:
    """Ids, townships, EVs, sessions and energy for demand points with a population."""
    pts[C.TOWNSHIP_ID] = assign_townships(pts, townships, label="demand points")
    width = max(5, len(str(len(pts) - 1)))  # ids keep their order when sorted as text
    pts.insert(0, C.DEMAND_ID, [f"d{i:0{width}d}" for i in range(len(pts))])
    per_person = sessions_per_person(params)
    pts[C.EVS] = pts[C.POPULATION] * params.vehicles_per_1000 / 1000.0 * params.ev_adoption
    pts[C.SESSIONS_DAY] = pts[C.POPULATION] * per_person
    pts[C.KWH_DAY] = pts[C.SESSIONS_DAY] * params.kwh_per_session
    warn_townships_without_demand(pts, townships)
    return pts


def townships_without_demand(
    demand: gpd.GeoDataFrame, townships: gpd.GeoDataFrame
) -> gpd.GeoDataFrame:
    """The townships none of whose demand points has a charging session.

    Parameters
    ----------
    demand
        Demand points with ``township_id`` and ``sessions_day``.
    townships
        With ``township_id`` (and ``township_name`` when known).

    Returns
    -------
    GeoDataFrame
        The rows of ``townships`` without demand, in their order.
    """
    with_demand = demand.loc[demand[C.SESSIONS_DAY] > 0, C.TOWNSHIP_ID]
    return townships[~townships[C.TOWNSHIP_ID].isin(set(with_demand))]


def warn_townships_without_demand(
    demand: gpd.GeoDataFrame, townships: gpd.GeoDataFrame, *, shown: int = 10
) -> None:
    """Log a warning counting and naming the townships without demand (if any)."""
    empty = townships_without_demand(demand, townships)
    if empty.empty:
        return
    names = empty[C.TOWNSHIP_NAME] if C.TOWNSHIP_NAME in empty else empty[C.TOWNSHIP_ID]
    labels = [f"{n} ({i})" for n, i in zip(names, empty[C.TOWNSHIP_ID], strict=True)]
    more = f" and {len(labels) - shown} more" if len(labels) > shown else ""
    logger.warning(
        "%d of %d townships have no demand (population 0 or no charging sessions): %s%s; "
        "check that the population data covers them",
        len(empty),
        len(townships),
        ", ".join(labels[:shown]),
        more,
    )


def demand_from_settlements(
    places: gpd.GeoDataFrame,
    county: gpd.GeoDataFrame,
    townships: gpd.GeoDataFrame,
    *,
    params: DemandSection,
    buildings: gpd.GeoDataFrame | None = None,
) -> gpd.GeoDataFrame:
    """Demand points at OSM ``place=*`` settlements, for counties without a raster.

    A settlement's population is its ``population`` tag, else the default for its place
    type (``params.place_population``). With ``params.population_total`` (a census
    figure) all populations are scaled so that the county sums to it.

    Parameters
    ----------
    places
        Settlements with ``place`` and ``population`` (metric CRS).
    county, townships
        Boundaries in the same CRS.
    params
        Place defaults, total and the EV adoption scenario.
    buildings
        Building centroids; with ``params.weight_by_buildings`` a settlement without a
        population tag gets ``people_per_building`` times the buildings nearest to it.

    ``params.resolution_m`` does not apply: settlements are points already (a warning
    when the config sets it).

    Returns
    -------
    GeoDataFrame
        As :func:`demand_from_raster` returns, plus ``name`` and ``place``.
    """
    if "resolution_m" in params.model_fields_set:
        logger.warning(
            "demand.resolution_m=%s does not apply to settlement demand (one point per "
            "settlement); it sets the squares a population raster is aggregated to",
            resolution_text(params.resolution_m),
        )
    sizes = params.place_population.as_dict()
    inside = _counted_places(places[places.within(county.geometry.iloc[0])], sizes)
    if inside.empty:
        msg = "no OSM place=* settlements inside the county: give a population raster"
        raise DataError(msg)
    tagged = inside[C.POPULATION].notna()
    defaults = inside[C.PLACE].map(sizes)
    unknown = ~tagged & defaults.isna()
    if unknown.any():
        kinds = ", ".join(sorted(set(inside.loc[unknown, C.PLACE])))
        msg = (
            f"{int(unknown.sum())} settlements of type {kinds} have no population tag and "
            "no default: add them to demand.place_population"
        )
        raise DataError(msg)
    pop = inside[C.POPULATION].where(tagged, defaults).astype(float)
    if params.weight_by_buildings:
        if buildings is None or buildings.empty:
            msg = "demand.weight_by_buildings is on but the OSM data has no buildings"
            raise DataError(msg)
        pop, counted = _building_weighted(inside, pop, tagged, buildings, params)
    else:
        counted = pd.Series(False, index=inside.index)
    filled = inside.loc[~tagged & ~counted, C.PLACE].value_counts().to_dict()
    if filled:
        logger.warning(
            "%d of %d settlements have no population tag; type defaults used: %s",
            sum(filled.values()),
            len(inside),
            filled,
        )
    if params.population_total is not None:
        pop = _scale_to_total(pop, params.population_total)
    pts = gpd.GeoDataFrame(
        {
            C.POPULATION: np.round(pop.to_numpy(), 2),
            C.NAME: inside[C.NAME].to_numpy(),
            C.PLACE: inside[C.PLACE].to_numpy(),
        },
        geometry=inside.geometry.to_numpy(),
        crs=places.crs,
    )
    pts = pts[pts[C.POPULATION] > 0].reset_index(drop=True)
    return _finish(pts, townships, params)


def _counted_places(places: gpd.GeoDataFrame, sizes: dict[str, float]) -> gpd.GeoDataFrame:
    """The settlements that count: untagged ones whose type default is 0 are left out.

    Suburbs and quarters are parts of a town whose own node stands for its people
    (see :class:`~planner.config.PlacePopulation`); the log counts those left out.
    """
    zero = places[C.POPULATION].isna() & (places[C.PLACE].map(sizes) == 0)
    if zero.any():
        kinds = places.loc[zero, C.PLACE].value_counts().to_dict()
        logger.warning(
            "%d settlements without a population tag are left out, their type counts 0 "
            "people in demand.place_population (parts of a town counted in it): %s",
            int(zero.sum()),
            kinds,
        )
    return places[~zero].copy()


def _scale_to_total(pop: pd.Series, total: float) -> pd.Series:
    """Settlement populations scaled to the county's total, with a warning when far off.

    An estimate above the total (the defaults or tags overcount) or below half of it
    is a warning naming both figures.
    """
    estimate = float(pop.sum())
    factor = total / estimate
    if estimate > total:
        logger.warning(
            "the settlement estimate of %.0f people is above the county's total "
            "demand.population_total=%.0f: settlements scaled down by %.3f (check "
            "demand.place_population and the population tags)",
            estimate,
            total,
            factor,
        )
    else:
        log = logger.warning if factor > 2.0 else logger.info
        log(
            "settlement populations (%.0f) scaled by %.3f to demand.population_total=%.0f",
            estimate,
            factor,
            total,
        )
    return pop * factor


def _building_weighted(
    places: gpd.GeoDataFrame,
    pop: pd.Series,
    tagged: pd.Series,
    buildings: gpd.GeoDataFrame,
    params: DemandSection,
) -> tuple[pd.Series, pd.Series]:
    """Populations of untagged settlements from the buildings nearest to them.

    Returns the populations and which settlements took theirs from buildings.
    """
    xy = np.column_stack([places.geometry.x, places.geometry.y])
    bxy = np.column_stack([buildings.geometry.x, buildings.geometry.y])
    dist, found = cKDTree(xy).query(bxy, distance_upper_bound=params.building_radius_m)
    nearest = np.asarray(found)  # an array for a 2-D query (the stubs allow a scalar)
    near = np.isfinite(dist)
    counts = np.bincount(nearest[near], minlength=len(places))
    far = int((~near).sum())
    if far:
        logger.info(
            "%d of %d buildings are more than %.0f m from any settlement and count for none",
            far,
            len(bxy),
            params.building_radius_m,
        )
    ppb = params.people_per_building
    if ppb is None:
        t = tagged.to_numpy()
        if t.any() and counts[t].sum() > 0:
            ppb = float(pop[t].sum()) / float(counts[t].sum())
        else:
            ppb = 3.0
        logger.info("people per building estimated at %.2f from tagged settlements", ppb)
    from_buildings = pd.Series(counts * ppb, index=pop.index)
    use = ~tagged & (from_buildings > 0)
    logger.info(
        "%d settlements take their population from %d buildings",
        int(use.sum()),
        int(counts[use.to_numpy()].sum()),
    )
    return pop.where(~use, from_buildings), use
