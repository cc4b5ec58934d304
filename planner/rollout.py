"""Multi-year rollout for one county: stations opened in earlier years stay open.

:func:`rollout` plans year by year. Each year has its own budget (new spending), EV
adoption and optional coverage target; the stations opened before are in place that
year (:func:`with_opened`):

- they are sites with their chargers: they serve the demand in reach at no cost, count
  for the township minimum and are not re-sited;
- they may get more chargers (the operators' existing chargers may not): up to
  ``stations.max_chargers``, each added one at ``costs.charger_capex`` (no station cost
  again) and drawing ``stations.charger_kw`` from its substation's headroom; the year's
  plan lists them with the chargers added and their cost in its capex, and
  ``rollout.csv`` has a row of that year for each expansion (``chargers`` the chargers
  added, ``opened_year`` the year the station opened);
- their chargers draw on their substation: each substation's headroom that year is what
  the stations opened before have left of it, so no year promises a substation power an
  earlier year already took;
- they are listed with the operators' chargers in the year's ``existing_chargers`` layer
  and report (with the year they opened), so the year's figures add up.

Each year gets its usual run folder; the rollout folder gets ``rollout.csv`` (each station
and the year it opens, each expansion and the year it is built), ``rollout_years.csv`` and
``rollout.html``. A year that cannot be
planned stops the rollout (later years build on it): the years after it are listed as not
run. A year whose budget is below the cheapest new station opens none: the stations
opened before carry it (a pause year).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from planner import columns as C
from planner.config import Config, load_config
from planner.crs import CGCS2000
from planner.errors import ConfigError, PlannerError
from planner.pipeline import ModelInputs, prepare, write_run
from planner.progress import Step, report_stage, stage_reported
from planner.runs import check_home, content_key
from planner.sweep import SweepResult, failure, in_new_run, page_language

logger = logging.getLogger(__name__)

#: The status of a year after one that failed.
NOT_RUN = "not_run"


@dataclass
class YearPlan:
    """One year of a rollout."""

    year: int
    budget: float
    ev_adoption: float
    target: float | None = None  # share of sessions to cover that year (a constraint)


@dataclass(frozen=True)
class Opened:
    """A station a rollout opened: the year, its chargers and their power (kW)."""

    year: int
    chargers: int
    kw: float


def _year_overrides(y: YearPlan, overrides: list[str] | None) -> list[str]:
    sets = [
        *(overrides or []),
        f"stations.budget={y.budget}",
        f"demand.ev_adoption={y.ev_adoption}",
        "repair.enabled=false",
        "tours.enabled=false",  # the vans start from repair points: none in a rollout year
    ]
    if y.target is not None:
        sets.append(f"stations.min_coverage_share={y.target}")
    return sets


def _year_config(config_path: str | Path, y: YearPlan, overrides: list[str] | None) -> Config:
    """The year's config; an error names the ``--year`` or ``--set`` its value came from."""
    sets = _year_overrides(y, overrides)
    user = len(overrides or [])  # _year_overrides puts the user's --set items first
    labels = [*["--set"] * user, *[f"--year {y.year}"] * (len(sets) - user)]
    return load_config(config_path, overrides=sets, overrides_from=labels)


def rollout(
    config_path: str | Path,
    years: list[YearPlan],
    out_dir: str | Path,
    *,
    overrides: list[str] | None = None,
) -> SweepResult:
    """Plan year by year; stations opened in earlier years stay open (see the module).

    Each year is solved with its own budget (new spending that year), EV adoption
    (demand grows along the adoption path) and optional coverage target (the share of
    that year's sessions that must be covered; a year that cannot reach it stops the
    rollout with the diagnosis). The rollout plans stations only (the budget is all
    theirs); plan the repair points on the final network with ``planner site``.

    Parameters
    ----------
    config_path
        The county config.
    years
        Budget and EV adoption per year, in order.
    out_dir
        The rollout folder: one run folder per year, ``rollout.csv`` (one row per
        station with the year it opens) and ``rollout.html``.
    overrides
        ``--set`` overrides for every year.

    Returns
    -------
    SweepResult
        One row per year.
    """
    seen: set[int] = set()
    for y in years:
        if y.year in seen:
            msg = f"--year {y.year} is given twice: give each year once"
            raise ConfigError(msg)
        seen.add(y.year)
    home = check_home(out_dir, kind="rollout")  # writable, before any ingest or solve
    started = dt.datetime.now(dt.UTC)
    # every year's config is checked before anything runs or is written
    plans = [(y, _year_config(config_path, y, overrides)) for y in years]
    plans.sort(key=lambda item: item[0].year)
    from planner.report.sweep_page import Held, write_rollout_page

    rows: list[dict[str, Any]] = []
    stations_rows: list[dict[str, Any]] = []
    setting = plans[0][1].report.language if plans else None
    varied = ("stations.budget", "demand.ev_adoption", "stations.min_coverage_share")
    held = Held(str(config_path), tuple(overrides or ()), plans[0][1] if plans else None, varied)
    return in_new_run(
        home,
        rows,
        kind="rollout",
        started=started,
        key=content_key(*(c.model_dump_json() for _, c in plans)),
        solve=lambda folder, rid: _run_years(plans, folder, rows, stations_rows, run_id=rid),
        page=lambda folder, rid: write_rollout_page(
            folder,
            rows,
            stations_rows,
            language=page_language(rows, setting),
            run_id=rid,
            held=held,
        ),
        record={
            "config_path": str(config_path),
            "years": [
                f"{y.year}:{y.budget:g}:{y.ev_adoption:g}"
                + ("" if y.target is None else f":{y.target:g}")
                for y in years
            ],
            "set": list(overrides or []),
        },
    )


def _run_years(
    plans: list[tuple[YearPlan, Config]],
    folder: Path,
    rows: list[dict[str, Any]],
    stations_rows: list[dict[str, Any]],
    *,
    run_id: str = "",
) -> None:
    """Solve year after year into ``folder/<year>``, adding rows per year and per station
    (a year's report names its run ``<run_id>/<year>``)."""
    opened: dict[str, Opened] = {}  # candidate id -> when and how it opened
    spent = 0.0
    for i, (y, config) in enumerate(plans, 1):
        step = Step("year", i, len(plans), str(y.year))
        row: dict[str, Any] = {
            "year": y.year,
            "budget": y.budget,
            "ev_adoption": y.ev_adoption,
            "target": y.target,
        }
        try:
            inputs = with_opened(prepare(config, stage=stage_reported), opened)
            res = write_run(
                config,
                folder / str(y.year),
                inputs=inputs,
                on_stage=report_stage,
                run_id=f"{run_id}/{y.year}" if run_id else None,
            )
        except PlannerError as err:
            row.update(failure(err))
            rows.append(row)
            logger.warning("rollout %d: %s", y.year, row["error"])
            step.done("failed")
            rows.extend(_not_run(later, y.year) for later, _ in plans[i:])
            return  # later years build on this one
        st = res.plan.stations
        names = inputs.county.townships.set_index(C.TOWNSHIP_ID)[C.TOWNSHIP_NAME]
        kw = config.stations.charger_kw
        grown = _expansions(res.plan.existing_sites, opened)
        where = st.geometry.to_crs(CGCS2000)
        for (_, r), x, y_ in zip(st.iterrows(), where.x, where.y, strict=True):
            n = int(r[C.CHARGERS])
            opened[str(r[C.CANDIDATE_ID])] = Opened(y.year, n, n * kw)
            town = names.get(r[C.TOWNSHIP_ID], "")
            stations_rows.append(_station_row(y.year, r, town, (float(x), float(y_))))
        where = grown.geometry.to_crs(CGCS2000)
        added = 0
        for (_, r), x, y_ in zip(grown.iterrows(), where.x, where.y, strict=True):
            was = opened[str(r[C.CANDIDATE_ID])]
            n = int(r[C.CHARGERS])
            opened[str(r[C.CANDIDATE_ID])] = Opened(was.year, n, n * kw)
            added += n - was.chargers
            town = names.get(r[C.TOWNSHIP_ID], "")
            line = _station_row(y.year, r, town, (float(x), float(y_)))
            line.update({C.CHARGERS: n - was.chargers, C.OPENED_YEAR: was.year})
            stations_rows.append(line)
        s = res.summary
        spent += float(s["capex_total"] or 0)
        row.update(
            status=s["status"],
            gap=s["gap"],
            new_stations=s["stations"],
            stations_open=len(opened),
            stations_expanded=len(grown),
            chargers_added=added,
            chargers_new=s["chargers"] + added,
            chargers_open=sum(o.chargers for o in opened.values()),
            capex_total=s["capex_total"],
            capex_cumulative=spent,
            demand_covered_share=s["demand_covered_share"],
            evs=s["evs"],
            evs_covered=s["evs_covered"],
            error="",
            language=s.get("language"),
        )
        rows.append(row)
        step.done(row["status"])


def _expansions(used: gpd.GeoDataFrame | None, opened: dict[str, Opened]) -> gpd.GeoDataFrame:
    """The stations opened in earlier years that the year's plan gave more chargers
    (rows of its ``existing_sites``, ``chargers`` their count after, ``capex`` that of the
    chargers added)."""
    if used is None or len(used) == 0:
        return gpd.GeoDataFrame(geometry=[])
    ids = used[C.CANDIDATE_ID].astype(str)
    before = ids.map(lambda c: opened[c].chargers if c in opened else None)
    more = before.notna() & (used[C.CHARGERS] > before.fillna(0))
    return used.loc[more.to_numpy()]


def _station_row(
    year: int, r: pd.Series, township: str, lon_lat: tuple[float, float]
) -> dict[str, Any]:
    """A row of ``rollout.csv``: the station, where it is (CGCS2000) and the year it opens
    (an expansion's row sets ``chargers`` to the chargers added and ``opened_year``)."""
    return {
        "year": year,
        C.OPENED_YEAR: year,
        C.CANDIDATE_ID: r[C.CANDIDATE_ID],
        C.NAME: r[C.NAME],
        C.TOWNSHIP_ID: r[C.TOWNSHIP_ID],
        C.TOWNSHIP_NAME: township,
        C.CHARGERS: int(r[C.CHARGERS]),
        C.CAPEX: float(r[C.CAPEX]),
        C.LON: round(lon_lat[0], 7),
        C.LAT: round(lon_lat[1], 7),
    }


def _not_run(y: YearPlan, failed: int) -> dict[str, Any]:
    """The row of a year after the one that failed."""
    return {
        "year": y.year,
        "budget": y.budget,
        "ev_adoption": y.ev_adoption,
        "target": y.target,
        "status": NOT_RUN,
        "error": f"not run: year {failed} could not be planned",
    }


def with_opened(inputs: ModelInputs, opened: dict[str, Opened]) -> ModelInputs:
    """The inputs with the stations opened in earlier years in place (see the module):
    existing chargers at their sites, their power taken from their substations'
    headroom, and rows of the county's existing chargers."""
    if not opened:
        return inputs
    sites = inputs.sites.copy()
    if C.EXISTING_CHARGERS not in sites.columns:
        sites[C.EXISTING_CHARGERS] = 0
    ids = sites[C.CANDIDATE_ID].astype(str)
    at = ids.isin(list(opened))
    sites.loc[at, C.EXISTING_CHARGERS] = ids[at].map(lambda c: opened[c].chargers)
    # the mark of a station a rollout opened: it may get more chargers (see the module)
    sites[C.OPENED_YEAR] = ids.map(lambda c: opened[c].year if c in opened else None).astype(
        "Float64"
    )
    candidates = inputs.candidates
    if C.HEADROOM_KW in sites.columns and C.SUBSTATION_ID in sites.columns:
        kw = ids[at].map(lambda c: opened[c].kw).groupby(sites.loc[at, C.SUBSTATION_ID]).sum()
        sites, candidates = _less_headroom(sites, kw), _less_headroom(candidates, kw)
        logger.info("rollout: headroom of %d substations lowered by earlier years", len(kw))
    chargers = _with_opened_chargers(inputs.county.chargers, sites[at], opened)
    county = replace(inputs.county, chargers=chargers)
    return replace(inputs, county=county, sites=sites, candidates=candidates)


def _less_headroom(frame: gpd.GeoDataFrame, kw: pd.Series) -> gpd.GeoDataFrame:
    """``frame`` with each substation's known headroom lowered by ``kw`` (by substation)."""
    if C.HEADROOM_KW not in frame.columns or C.SUBSTATION_ID not in frame.columns:
        return frame
    taken = frame[C.SUBSTATION_ID].map(kw).fillna(0.0)
    return frame.assign(**{C.HEADROOM_KW: frame[C.HEADROOM_KW] - taken})


def _with_opened_chargers(
    chargers: gpd.GeoDataFrame, sites: gpd.GeoDataFrame, opened: dict[str, Opened]
) -> gpd.GeoDataFrame:
    """The county's existing chargers followed by the stations opened in earlier years
    (``station_id`` their site id, ``opened_year``, ``sockets`` their chargers)."""
    ids = sites[C.CANDIDATE_ID].astype(str)
    crs = chargers.crs if chargers.crs is not None else sites.crs
    assert crs is not None  # the county's layers are in its metric CRS
    extra = gpd.GeoDataFrame(
        {
            C.OSM_ID: sites[C.OSM_ID].to_numpy() if C.OSM_ID in sites else None,
            C.NAME: sites[C.NAME].to_numpy(),
            C.OPERATOR: None,
            C.SOCKETS: [opened[c].chargers for c in ids],
            C.STATION_ID: ids.to_numpy(),
            C.OPENED_YEAR: [opened[c].year for c in ids],
        },
        geometry=sites.geometry.to_crs(crs).to_numpy(),
        crs=crs,
    )
    both = pd.concat([chargers, extra], ignore_index=True)
    return gpd.GeoDataFrame(both, geometry=chargers.geometry.name, crs=crs)
