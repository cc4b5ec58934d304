"""Commands that make or run several plans: ``demo``, ``batch``, ``sweep`` and ``rollout``."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from planner.cli import (
    _F,
    _config_option,
    _demo_dir,
    _err,
    _exit_multi,
    _exit_rows,
    _out,
    _out_option,
    _set_option,
)
from planner.errors import ConfigError

if TYPE_CHECKING:
    from planner.rollout import YearPlan
    from planner.sweep import SweepResult


@click.command()
@_out_option("Folder to write (default: data/raw/demo).")
@click.option(
    "--scale",
    type=click.FloatRange(0.05, 100),
    default=1.0,
    show_default=True,
    help="Multiply area, villages and roads (1: about 4,300 road nodes; 20: about 100,000; "
    "100: about 760,000).",
)
@click.option("--seed", type=int, default=None, help="Random seed (default: fixed).")
@click.option(
    "--province",
    type=click.IntRange(1, 100),
    default=None,
    help="Build this many different demo counties and a batch config for `planner batch` "
    "(default folder: data/raw/province).",
)
@click.option(
    "--merged",
    is_flag=True,
    help="With --province: one provincial OSM extract (province.osm.pbf) and one county "
    "boundaries layer (province_counties.gpkg) for all counties; the batch splits it.",
)
def demo(
    out_dir: Path | None, scale: float, seed: int | None, province: int | None, merged: bool
) -> None:
    """Build the synthetic demo county's input files and config."""
    from planner.demo import DEFAULT_SEED, build_demo, build_province

    t0 = time.perf_counter()
    seed = DEFAULT_SEED if seed is None else seed
    if merged and province is None:
        msg = "--merged applies with --province N"
        raise ConfigError(msg)
    if province is not None:
        from planner.pipeline import project_root

        out_dir = out_dir or project_root() / "data" / "raw" / "province"
        cfg = build_province(out_dir, province, scale=scale, seed=seed, merged=merged)
        _out.print(
            f"{province} demo counties written to {out_dir} in {time.perf_counter() - t0:.1f} s"
        )
        _out.print(f"batch config: {cfg}")
        return
    out_dir = out_dir or _demo_dir()
    cfg = build_demo(out_dir, scale=scale, seed=seed)
    _out.print(f"demo county written to {out_dir} in {time.perf_counter() - t0:.1f} s")
    _out.print(f"config: {cfg}")


@click.command()
@click.argument("batch_path", metavar="BATCH", type=click.Path(path_type=Path))
@click.option(
    "--workers",
    type=click.IntRange(1, 256),
    default=2,
    show_default=True,
    help="Worker processes of the local dask cluster.",
)
@click.option(
    "--scheduler",
    default=None,
    metavar="tcp://HOST:PORT",
    help="Use the workers of a running dask scheduler instead.",
)
@click.option("--force", is_flag=True, help="Run counties again even when complete.")
@_out_option("Results folder (default: the batch config's output).")
def batch(
    batch_path: Path, workers: int, scheduler: str | None, force: bool, out_dir: Path | None
) -> None:
    """Run every county (and scenario) of a batch config on dask.

    With a ``province`` section (one provincial OSM extract and one county boundaries
    layer), the extract is first split for every county in one read; the pieces are
    cached by content hash (default: osm-pieces in the results folder).

    Exit code 0 when every county is done or already complete, 4 when some failed (their
    errors are in index.html and batch_summary.csv), the counties' own code when all
    failed the same way.
    """
    import dask

    from planner.batch import quiet_dask_logs, run_batch

    quiet_dask_logs(max(logging.getLogger().level, logging.WARNING))
    preload = dask.config.get("distributed.worker.preload", None) or []
    preload = [preload] if isinstance(preload, str) else list(preload)
    # the local workers leave signals to this process, which closes them cleanly
    with dask.config.set({"distributed.worker.preload": [*preload, "planner.signals"]}):
        res = run_batch(
            batch_path,
            workers=workers,
            scheduler=scheduler,
            force=force,
            output=out_dir,
            on_progress=lambda line: _err.print(line, highlight=False, markup=False),
        )
    counts = {s: sum(r.status == s for r in res.results) for s in ("done", "skipped", "failed")}
    _out.print(
        f"{len(res.results)} runs: {counts['done']} done, {counts['skipped']} skipped "
        f"(already complete), {counts['failed']} failed; index: {res.out_dir / 'index.html'}",
        highlight=False,
    )
    _exit_multi(
        sum(r.status != "failed" for r in res.results),
        [(f"{r.county}/{r.scenario}", r.error, r.exit_code) for r in res.failed],
    )


def _default_out(
    out_dir: Path | None, config_path: Path, overrides: tuple[str, ...], kind: str
) -> Path:
    """``--out``, else the county's output folder with ``-<kind>`` (e.g. ``qingxi-sweep``)."""
    if out_dir:
        return out_dir
    from planner.config import load_config
    from planner.pipeline import default_out_dir

    base = default_out_dir(load_config(config_path, overrides=list(overrides)))
    return base.with_name(f"{base.name}-{kind}")


def _plan_options(
    kind: str, *values: str, metavar: str, help_text: str, each: str
) -> Callable[[_F], _F]:
    """The options of a sweep or rollout: ``--config``, its values (``values``: the names
    of the repeatable option), ``--set`` and ``--out``."""

    def apply(command: _F) -> _F:
        folder = f"{kind.title()} folder (default: data/processed/<slug>-{kind})."
        command = _set_option(f"For every {each}.")(_out_option(folder)(command))
        command = click.option(
            *values, multiple=True, required=True, metavar=metavar, help=help_text
        )(command)
        return _config_option(required=True)(command)

    return apply


def _run_and_show(
    kind: str,
    run: Callable[..., SweepResult],
    items: list[Any],
    options: tuple[Path, tuple[str, ...], Path | None],
    *,
    keys: list[str],
    name_key: str,
) -> None:
    """Run a sweep or rollout (``run``) of ``items``, print its rows and page, and exit by
    the multi-run rule; ``options`` are the command's ``--config``, ``--set`` and ``--out``."""
    from planner.cli.display import progress_display

    config_path, overrides, out_dir = options
    out = _default_out(out_dir, config_path, overrides, kind)
    with progress_display(_err):
        res = run(config_path, items, out, overrides=list(overrides))
    from planner.cli.multi_table import rows_table
    from planner.i18n import translator
    from planner.sweep import page_language

    _out.print(rows_table(res.rows, keys, lang=translator(page_language(res.rows, None))))
    _out.print(f"{kind}: {res.out_dir / f'{kind}.html'}", highlight=False, markup=False)
    _exit_rows(res.rows, name_key)


@click.command()
@_plan_options(
    "sweep",
    "--vary",
    metavar="FIELD=V1,V2,...",
    help_text="A config field and its values, e.g. stations.budget=8e6,12e6,16e6 (once or twice).",
    each="run",
)
def sweep(
    config_path: Path, vary: tuple[str, ...], overrides: tuple[str, ...], out_dir: Path | None
) -> None:
    """Solve one county for every combination of one or two fields' values."""
    from planner.sweep import parse_vary
    from planner.sweep import sweep as run_sweep

    pairs = [parse_vary(v) for v in vary]
    figures = ["status", "stations", "chargers", "capex_total", "demand_covered_share"]
    keys = [f for f, _ in pairs] + [*figures, "capex_per_covered_ev"]
    _run_and_show(
        "sweep", run_sweep, pairs, (config_path, overrides, out_dir), keys=keys, name_key="scenario"
    )


@click.command()
@_plan_options(
    "rollout",
    "--year",
    "years",
    metavar="YEAR:BUDGET:ADOPTION[:TARGET]",
    help_text="A year's budget (CNY, new spending), EV adoption and optional coverage target "
    "(share of sessions), e.g. 2025:8e6:0.08 or 2026:4e6:0.12:0.95 (repeat).",
    each="year",
)
def rollout(
    config_path: Path, years: tuple[str, ...], overrides: tuple[str, ...], out_dir: Path | None
) -> None:
    """Plan stations year by year; stations opened earlier stay open."""
    from planner.rollout import rollout as run_rollout

    plans = [_year_plan(item) for item in years]
    figures = ["status", "new_stations", "stations_open", "capex_total", "demand_covered_share"]
    keys = ["year", *figures, "error"]
    _run_and_show(
        "rollout", run_rollout, plans, (config_path, overrides, out_dir), keys=keys, name_key="year"
    )


def _year_plan(item: str) -> YearPlan:
    """``YEAR:BUDGET:ADOPTION[:TARGET]`` (a ``--year`` value) to a year of the rollout."""
    from planner.rollout import YearPlan

    try:
        year, budget, adoption, *target = item.split(":")
        if len(target) > 1:
            raise ValueError(item)
        plan = YearPlan(
            int(year), float(budget), float(adoption), float(target[0]) if target else None
        )
    except ValueError:
        msg = (
            f"--year {item!r}: use YEAR:BUDGET:ADOPTION[:TARGET], e.g. 2025:8e6:0.08 or "
            "2026:4e6:0.12:0.9"
        )
        raise ConfigError(msg) from None
    _check_year(plan, item)
    return plan


def _check_year(plan: YearPlan, item: str) -> None:
    """A calendar year, and a budget above 0 (a year without new stations has a budget
    below the cheapest station: the chargers in place carry it)."""
    if not 1900 <= plan.year <= 2200:
        msg = f"--year {item!r}: {plan.year} is not a calendar year (e.g. 2025)"
        raise ConfigError(msg)
    if not plan.budget > 0:
        msg = (
            f"--year {item!r}: the budget must be above 0; for a year without new stations "
            f"give one below the cheapest station (e.g. {plan.year}:1:{plan.ev_adoption:g}): "
            "the stations opened before carry that year"
        )
        raise ConfigError(msg)
