"""Scenario sweeps and multi-year rollouts for one county.

:func:`sweep` solves the county for every combination of values of one or two config
fields (e.g. ``stations.budget`` and ``demand.ev_adoption``). Scenarios whose inputs
are the same (only model fields change) share one ingest and travel-time stage. Each is
solved from scratch, exactly as `planner site` would solve it (a warm start could pick
another plan within the MIP gap), so a scenario's plan is that of the same config run alone.
:func:`rollout` plans year by year: the stations opened in earlier years stay open (they
serve demand for free with their chargers) and each year has its own budget and EV adoption.

Each scenario or year gets its usual run folder; the sweep or rollout folder gets a
table (CSV) and a page (HTML) with the chart.
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from planner import columns as C
from planner.config import Config, load_config
from planner.errors import ConfigError, Interrupted, PlannerError
from planner.paths import out_lock
from planner.pipeline import ModelInputs, prepare, write_run
from planner.progress import Step, report_stage, stage_reported
from planner.runs import check_home, content_key, new_run

logger = logging.getLogger(__name__)

#: Config sections that change the model inputs (ingest, demand, candidates, network).
_INPUT_KEYS = ("county", "inputs", "crs", "demand", "candidates", "network")


@dataclass
class SweepResult:
    """One row per scenario (or year), and the run's folder."""

    rows: list[dict[str, Any]]
    out_dir: Path  # this sweep's (rollout's) run folder
    home: Path | None = None  # the folder holding the runs


def parse_vary(spec: str) -> tuple[str, list[Any]]:
    """``field=v1,v2,...`` to the field and its values (each read as YAML)."""
    if "=" not in spec:
        msg = f"--vary {spec!r}: use FIELD=V1,V2,... e.g. stations.budget=8e6,12e6"
        raise ConfigError(msg)
    name, values = spec.split("=", 1)
    items = [_scalar(v.strip()) for v in values.split(",") if v.strip()]
    if not name.strip() or not items:
        msg = f"--vary {spec!r}: give a field and at least one value"
        raise ConfigError(msg)
    return name.strip(), items


def _scalar(text: str) -> Any:
    """A number when the text is one (``8e6`` too, which YAML reads as text), else YAML."""
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return yaml.safe_load(text)


def _input_key(config: Config) -> str:
    dump = config.model_dump(mode="json")
    key = {k: dump[k] for k in _INPUT_KEYS}
    key["cutoffs"] = [config.stations.cutoff_min, config.repair.response_min]
    key["use_existing"] = config.stations.use_existing
    return yaml.safe_dump(key, sort_keys=True)


def _changes_inputs(name: str) -> bool:
    return name.split(".")[0] in _INPUT_KEYS or name in (
        "stations.cutoff_min",
        "repair.response_min",
        "stations.use_existing",
    )


def _label(fields: list[str], values: tuple[Any, ...], *, sep: str = "-", join: str = "_") -> str:
    parts = []
    for f, v in zip(fields, values, strict=True):
        text = f"{v:g}" if isinstance(v, float) else str(v)
        parts.append(f"{f.rsplit('.', 1)[-1]}{sep}{text}")
    return join.join(parts).replace("/", "-")


def sweep(
    config_path: str | Path,
    vary: list[tuple[str, list[Any]]],
    out_dir: str | Path,
    *,
    overrides: list[str] | None = None,
) -> SweepResult:
    """Solve the county for every combination of the varied fields' values.

    Parameters
    ----------
    config_path
        The county config.
    vary
        One or two ``(field, values)`` pairs, e.g. ``("stations.budget", [8e6, 12e6])``.
    out_dir
        The sweep folder: one run folder per scenario, ``sweep.csv`` and ``sweep.html``.
    overrides
        ``--set`` overrides applied to every scenario.

    Returns
    -------
    SweepResult
        One row per scenario: the varied values, stations, chargers, repair points, capex,
        covered share, EVs covered, capex per covered EV, solver status and gap, or the
        error of a scenario that could not be planned.
    """
    if not 1 <= len(vary) <= 2:
        msg = "a sweep varies one or two fields"
        raise ConfigError(msg)
    home = check_home(out_dir)  # writable, before any ingest or solve
    started = dt.datetime.now(dt.UTC)
    # fields that change the inputs vary slowest, so scenarios share their inputs
    vary = sorted(vary, key=lambda fv: not _changes_inputs(fv[0]))
    fields = [f for f, _ in vary]
    # every scenario's config is checked before anything runs or is written
    scenarios = [
        (
            values,
            load_config(
                config_path,
                overrides=[
                    *(overrides or []),
                    *(f"{f}={v}" for f, v in zip(fields, values, strict=True)),
                ],
            ),
        )
        for values in itertools.product(*(sorted(v, key=_sort_key) for _, v in vary))
    ]
    from planner.report.sweep_page import write_sweep_page

    rows: list[dict[str, Any]] = []
    return _in_new_run(
        home,
        rows,
        kind="sweep",
        started=started,
        key=content_key(*(c.model_dump_json() for _, c in scenarios)),
        solve=lambda folder: _run_scenarios(scenarios, fields, folder, rows),
        page=lambda folder: write_sweep_page(folder, rows, fields),
    )


def _in_new_run(
    home: Path,
    rows: list[dict[str, Any]],
    *,
    kind: str,
    started: dt.datetime,
    key: str,
    solve: Callable[[Path], None],
    page: Callable[[Path], None],
) -> SweepResult:
    """Solve into a new run of ``home`` and write its page, under the folder's lock.

    ``solve`` adds a row per scenario (year) to ``rows``; a signal stops it, and the rows
    done so far are kept in the run (which does not become ``latest``) before the
    :class:`Interrupted` goes on.
    """
    stopped: Interrupted | None = None
    with out_lock(home), new_run(home, started=started, key=key, kind=kind) as run:
        try:
            solve(run.tmp)
        except Interrupted as err:  # the scenarios (years) done so far are kept
            stopped = err
        page(run.tmp)
        _settle(run, rows, stopped)
    if stopped is not None:
        raise stopped
    return SweepResult(rows=rows, out_dir=run.path, home=home)


def _run_scenarios(
    scenarios: list[tuple[tuple[Any, ...], Config]],
    fields: list[str],
    folder: Path,
    rows: list[dict[str, Any]],
) -> None:
    """Solve each scenario into ``folder/<label>``, adding one row each to ``rows``."""
    prepared: tuple[str, ModelInputs] | None = None
    for i, (values, config) in enumerate(scenarios, 1):
        label = _label(fields, values)
        step = Step("scenario", i, len(scenarios), _label(fields, values, sep="=", join=" "))
        row: dict[str, Any] = dict(zip(fields, values, strict=True))
        row["scenario"] = label
        key = _input_key(config)
        reuse = prepared is not None and prepared[0] == key
        try:
            if not reuse:
                prepared = (key, prepare(config, stage=stage_reported))
            assert prepared is not None
            res = write_run(config, folder / label, inputs=prepared[1], on_stage=report_stage)
        except PlannerError as err:
            row.update(_failure(err))
            rows.append(row)
            logger.warning("scenario %s: %s", label, row["error"])
            step.done("failed")
            continue
        s = res.summary
        covered_evs = s["evs_covered"]
        row.update(
            status=s["status"],
            gap=s["gap"],
            stations=s["stations"],
            chargers=s["chargers"],
            repair_points=s["repair_points"],
            capex_total=s["capex_total"],
            demand_covered_share=s["demand_covered_share"],
            evs_covered=covered_evs,
            capex_per_covered_ev=round(s["capex_total"] / covered_evs, 1) if covered_evs else None,
            shared_inputs=reuse,
            error="",
        )
        rows.append(row)
        logger.info("scenario %s: %s", label, row["status"])
        step.done(row["status"])


def _settle(run: Any, rows: list[dict[str, Any]], stopped: Interrupted | None) -> None:
    """A run with a failed scenario or year, or stopped by a signal, is kept, but
    ``latest`` stays where it was."""
    failed = [r for r in rows if r.get("status") == "failed"]
    run.publish = not failed and stopped is None
    status = "some_failed" if failed else "done"
    run.manifest["status"] = "interrupted" if stopped is not None else status
    run.manifest["failed"] = len(failed)


def _failure(err: PlannerError) -> dict[str, Any]:
    """The row fields of a scenario or year that failed."""
    return {"status": "failed", "error": str(err).splitlines()[0], "exit_code": err.exit_code}


def _sort_key(v: Any) -> tuple[int, Any]:
    return (0, v) if isinstance(v, int | float) else (1, str(v))


def _with_opened(inputs: ModelInputs, opened: dict[str, tuple[int, int]]) -> ModelInputs:
    """The inputs with the stations opened in earlier years as existing chargers."""
    sites = inputs.sites.copy()
    if C.EXISTING_CHARGERS not in sites.columns:
        sites[C.EXISTING_CHARGERS] = 0
    for cid, (_, n) in opened.items():
        sites.loc[sites[C.CANDIDATE_ID] == cid, C.EXISTING_CHARGERS] = n
    return ModelInputs(
        inputs.county, inputs.demand, inputs.candidates, sites, inputs.graph, inputs.times
    )


@dataclass
class YearPlan:
    """One year of a rollout."""

    year: int
    budget: float
    ev_adoption: float
    target: float | None = None  # share of sessions to cover that year (a constraint)


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


def rollout(
    config_path: str | Path,
    years: list[YearPlan],
    out_dir: str | Path,
    *,
    overrides: list[str] | None = None,
) -> SweepResult:
    """Plan year by year; stations opened in earlier years stay open.

    Each year is solved with its own budget (new spending that year), EV adoption
    (demand grows along the adoption path) and optional coverage target (the share of
    that year's sessions that must be covered; a year that cannot reach it stops the
    rollout with the diagnosis). The stations opened before are sites with
    their chargers in place: they serve the demand in reach at no cost, count for the
    township minimum and are not re-sited. The rollout plans stations only (the
    budget is all theirs); plan the repair points on the final network with
    ``planner site``.

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
    home = check_home(out_dir)  # writable, before any ingest or solve
    started = dt.datetime.now(dt.UTC)
    # every year's config is checked before anything runs or is written
    plans = [(y, load_config(config_path, overrides=_year_overrides(y, overrides))) for y in years]
    plans.sort(key=lambda item: item[0].year)
    from planner.report.sweep_page import write_rollout_page

    rows: list[dict[str, Any]] = []
    stations_rows: list[dict[str, Any]] = []
    return _in_new_run(
        home,
        rows,
        kind="rollout",
        started=started,
        key=content_key(*(c.model_dump_json() for _, c in plans)),
        solve=lambda folder: _run_years(plans, folder, rows, stations_rows),
        page=lambda folder: write_rollout_page(folder, rows, stations_rows),
    )


def _run_years(
    plans: list[tuple[YearPlan, Config]],
    folder: Path,
    rows: list[dict[str, Any]],
    stations_rows: list[dict[str, Any]],
) -> None:
    """Solve year after year into ``folder/<year>``, adding rows per year and per station."""
    opened: dict[str, tuple[int, int]] = {}  # candidate id -> (year, chargers)
    for i, (y, config) in enumerate(plans, 1):
        step = Step("year", i, len(plans), str(y.year))
        row: dict[str, Any] = {
            "year": y.year,
            "budget": y.budget,
            "ev_adoption": y.ev_adoption,
            "target": y.target,
        }
        try:
            inputs = _with_opened(prepare(config, stage=stage_reported), opened)
            res = write_run(config, folder / str(y.year), inputs=inputs, on_stage=report_stage)
        except PlannerError as err:
            row.update(_failure(err))
            rows.append(row)
            logger.warning("rollout %d: %s", y.year, row["error"])
            step.done("failed")
            break  # later years build on this one
        st = res.plan.stations
        for _, r in st.iterrows():
            opened[str(r[C.CANDIDATE_ID])] = (y.year, int(r[C.CHARGERS]))
            stations_rows.append(
                {
                    "year": y.year,
                    C.CANDIDATE_ID: r[C.CANDIDATE_ID],
                    C.NAME: r[C.NAME],
                    C.TOWNSHIP_ID: r[C.TOWNSHIP_ID],
                    C.CHARGERS: int(r[C.CHARGERS]),
                    C.CAPEX: float(r[C.CAPEX]),
                }
            )
        s = res.summary
        row.update(
            status=s["status"],
            gap=s["gap"],
            new_stations=s["stations"],
            stations_open=len(opened),
            chargers_new=s["chargers"],
            capex_total=s["capex_total"],
            demand_covered_share=s["demand_covered_share"],
            evs=s["evs"],
            evs_covered=s["evs_covered"],
            error="",
        )
        rows.append(row)
        step.done(row["status"])
