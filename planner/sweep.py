"""Scenario sweeps and multi-year rollouts for one county.

:func:`sweep` solves the county for every combination of values of one or two config
fields (e.g. ``stations.budget`` and ``demand.ev_adoption``). Scenarios whose inputs
are the same (only model fields change) share one ingest and travel-time stage. Each is
solved from scratch, exactly as `planner site` would solve it (a warm start could pick
another plan within the MIP gap), so a scenario's plan is that of the same config run alone.
:func:`planner.rollout.rollout` plans year by year on the same machinery.

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

from planner.config import Config, load_config
from planner.errors import ConfigError, Interrupted, PlannerError
from planner.paths import out_lock
from planner.pipeline import ModelInputs, prepare, write_run
from planner.progress import Step, report_stage, stage_reported
from planner.report.sweep_charts import value_text
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
    """A scenario's folder name (``budget-12000000``) or, with ``sep`` "=", its name."""
    parts = []
    for f, v in zip(fields, values, strict=True):
        whole = isinstance(v, float) and v.is_integer() and abs(v) < 1e15
        text = str(int(v)) if whole else f"{v:g}" if isinstance(v, float) else str(v)
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
    _check_vary(vary)
    home = check_home(out_dir, kind="sweep")  # writable, before any ingest or solve
    started = dt.datetime.now(dt.UTC)
    order = [f for f, _ in vary]  # the page and the CSV keep the user's order
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
                overrides_from=[*["--set"] * len(overrides or []), *["--vary"] * len(fields)],
            ),
        )
        for values in itertools.product(*(sorted(v, key=_sort_key) for _, v in vary))
    ]
    from planner.report.sweep_page import Held, write_sweep_page

    setting = scenarios[0][1].report.language
    held = Held(str(config_path), tuple(overrides or ()), scenarios[0][1], tuple(fields))

    rows: list[dict[str, Any]] = []
    return in_new_run(
        home,
        rows,
        kind="sweep",
        started=started,
        key=content_key(*(c.model_dump_json() for _, c in scenarios)),
        solve=lambda folder, rid: _run_scenarios(scenarios, fields, folder, rows, run_id=rid),
        page=lambda folder, rid: write_sweep_page(
            folder, rows, order, language=page_language(rows, setting), run_id=rid, held=held
        ),
        record={
            "config_path": str(config_path),
            "vary": {f: list(v) for f, v in vary},
            "set": list(overrides or []),
        },
    )


def page_language(rows: list[dict[str, Any]], setting: str | None) -> str:
    """The language of a sweep's or rollout's page: its runs' (by the county's place when
    the config does not set it), else the config's, else Chinese."""
    return next((str(r["language"]) for r in rows if r.get("language")), setting or "zh")


def _check_vary(vary: list[tuple[str, list[Any]]]) -> None:
    """Each field once, each of its values once (a repeat would overwrite a scenario)."""
    names = [f for f, _ in vary]
    for f in sorted({f for f in names if names.count(f) > 1}):
        msg = f"--vary {f} is given twice: give each field once, with all its values"
        raise ConfigError(msg)
    for f, values in vary:
        texts = [value_text(v) for v in values]
        twice = sorted({t for t in texts if texts.count(t) > 1})
        if twice:
            msg = f"--vary {f}: the value {twice[0]} is given twice: give each value once"
            raise ConfigError(msg)


def in_new_run(
    home: Path,
    rows: list[dict[str, Any]],
    *,
    kind: str,
    started: dt.datetime,
    key: str,
    solve: Callable[[Path, str], None],
    page: Callable[[Path, str], None],
    record: dict[str, Any] | None = None,
) -> SweepResult:
    """Solve into a new run of ``home`` and write its page, under the folder's lock.

    ``solve`` adds a row per scenario (year) to ``rows`` (given the folder and the run's
    id) and ``page`` writes the page (the same); a signal stops ``solve``, and the rows
    done so far are kept in the run (which does not become ``latest``) before the
    :class:`Interrupted` goes on. ``record`` goes into the run's ``run.json`` (what was
    run: the config file, the varied fields, the overrides).
    """
    stopped: Interrupted | None = None
    with out_lock(home), new_run(home, started=started, key=key, kind=kind) as run:
        run.manifest.update(record or {})
        try:
            solve(run.tmp, run.id)
        except Interrupted as err:  # the scenarios (years) done so far are kept
            stopped = err
        page(run.tmp, run.id)
        _settle(run, rows, stopped)
    if stopped is not None:
        raise stopped
    return SweepResult(rows=rows, out_dir=run.path, home=home)


def _run_scenarios(
    scenarios: list[tuple[tuple[Any, ...], Config]],
    fields: list[str],
    folder: Path,
    rows: list[dict[str, Any]],
    *,
    run_id: str = "",
) -> None:
    """Solve each scenario into ``folder/<label>``, adding one row each to ``rows``; its
    report's run number is ``<run_id>/<label>``, so that a printout names its sweep."""
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
            res = write_run(
                config,
                folder / label,
                inputs=prepared[1],
                on_stage=report_stage,
                run_id=f"{run_id}/{label}" if run_id else None,
            )
        except PlannerError as err:
            row.update(failure(err))
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
            language=s.get("language"),
            repair_mode=s.get("repair_mode"),
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


def failure(err: PlannerError) -> dict[str, Any]:
    """The row fields of a scenario or year that failed."""
    return {"status": "failed", "error": str(err).splitlines()[0], "exit_code": err.exit_code}


def _sort_key(v: Any) -> tuple[int, Any]:
    return (0, v) if isinstance(v, int | float) else (1, str(v))
