"""The ``planner`` command.

Exit codes: 0 done; 2 bad input or config; 3 model infeasible; 1 anything unexpected.
Commands that run several plans (sweep, rollout, batch) exit 0 when all are done, 4 when
some failed (listed on stderr), and the single-run code when all failed the same way.
Errors print one line on stderr, without a traceback (``--debug`` shows it).
SIGINT (Ctrl-C) and SIGTERM stop any command within about a second, even mid-solve: the
temporary folders and the solver's process are removed, and the exit code is 130 or 143.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from pathlib import Path

import click
from rich.console import Console
from rich.logging import RichHandler
from rich.table import Table
from rich.text import Text

from planner import __version__
from planner.errors import ConfigError, Interrupted, PlannerError, multi_run_exit_code
from planner.signals import check_stop, handle_signals, remove_stale_temp

# user text (paths, names, --year values) goes into these messages: never read it as
# Rich markup ("[/x]") or emoji codes (":abc:"); styles are given as Text objects
_err = Console(stderr=True, markup=False, emoji=False)
_out = Console(markup=False, emoji=False)


def _styled(label: str, text: str) -> Text:
    """``label`` in bold red, then ``text`` exactly as given."""
    return Text.assemble((label, "bold red"), " ", text)


def _setup_logging(verbose: int) -> None:
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    handler = RichHandler(console=_err, show_path=False, show_time=False, markup=False)
    logging.basicConfig(level=level, handlers=[handler], format="%(message)s", force=True)
    for noisy in ("pyogrio", "distributed", "tornado", "bokeh"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))


def _demo_dir() -> Path:
    """Where ``site --demo`` finds the demo: data/raw/demo, or $PLANNER_DEMO_DIR."""
    from planner.pipeline import project_root

    override = os.environ.get("PLANNER_DEMO_DIR")
    return Path(override) if override else project_root() / "data" / "raw" / "demo"


#: Commands that write several runs: a signal keeps the runs they finished before it.
_MULTI_RUN = ("sweep", "rollout", "batch")


def _interrupted(ctx: click.Context, err: Interrupted) -> None:
    """One line on what a signal left, then exit 130 (SIGINT) or 143 (SIGTERM)."""
    if ctx.invoked_subcommand in _MULTI_RUN:
        left = "the run in progress was not written; finished runs and previous outputs are intact"
    else:
        left = "nothing was written; the previous outputs are intact"
    _err.print(_styled("interrupted", f"({err.signame}): {left}"), highlight=False, soft_wrap=True)
    ctx.exit(err.exit_code)


class _PlannerGroup(click.Group):
    """Turns planner errors and signals into one line and an exit code."""

    debug = False

    def invoke(self, ctx: click.Context) -> object:
        try:
            with handle_signals():
                try:
                    return super().invoke(ctx)
                except Exception:
                    check_stop()  # an error the signal caused (e.g. a worker it ended)
                    raise
        except Interrupted as err:
            _interrupted(ctx, err)
        except PlannerError as err:
            if _PlannerGroup.debug:
                raise
            _err.print(_styled("error:", _line(err)), highlight=False, soft_wrap=True)
            ctx.exit(err.exit_code)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except KeyboardInterrupt:
            _err.print("interrupted")
            ctx.exit(130)
        except Exception as err:  # anything unexpected: exit 1, still one line
            if _PlannerGroup.debug:
                raise
            _err.print(
                _styled(
                    "unexpected error:",
                    f"{type(err).__name__}: {_line(err)} (run with --debug for the traceback)",
                ),
                highlight=False,
                soft_wrap=True,
            )
            ctx.exit(1)
        return None


@click.group(cls=_PlannerGroup)
@click.version_option(__version__, prog_name="planner")
@click.option("-v", "--verbose", count=True, help="More log output (-v info, -vv debug).")
@click.option("--debug", is_flag=True, help="Show tracebacks of errors.")
def main(verbose: int, debug: bool) -> None:
    """Site public EV charging stations and repair points for a rural county."""
    _PlannerGroup.debug = debug
    _setup_logging(verbose)
    remove_stale_temp()  # what runs killed outright (SIGKILL) left in the temporary folder


@main.command()
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Folder to write (default: data/raw/demo).",
)
@click.option(
    "--scale",
    type=click.FloatRange(0.05, 50),
    default=1.0,
    show_default=True,
    help="Multiply area, villages and roads (1: about 4,300 road nodes; 20: about 100,000).",
)
@click.option("--seed", type=int, default=None, help="Random seed (default: fixed).")
@click.option(
    "--province",
    type=click.IntRange(1, 10),
    default=None,
    help="Build this many different demo counties and a batch config for `planner batch` "
    "(default folder: data/raw/province).",
)
def demo(out_dir: Path | None, scale: float, seed: int | None, province: int | None) -> None:
    """Build the synthetic demo county's input files and config."""
    from planner.demo import DEFAULT_SEED, build_demo, build_province

    t0 = time.perf_counter()
    seed = DEFAULT_SEED if seed is None else seed
    if province is not None:
        from planner.pipeline import project_root

        out_dir = out_dir or project_root() / "data" / "raw" / "province"
        cfg = build_province(out_dir, province, scale=scale, seed=seed)
        _out.print(
            f"{province} demo counties written to {out_dir} in {time.perf_counter() - t0:.1f} s"
        )
        _out.print(f"batch config: {cfg}")
        return
    out_dir = out_dir or _demo_dir()
    cfg = build_demo(out_dir, scale=scale, seed=seed)
    _out.print(f"demo county written to {out_dir} in {time.perf_counter() - t0:.1f} s")
    _out.print(f"config: {cfg}")


@main.command()
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
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Results folder (default: the batch config's output).",
)
def batch(
    batch_path: Path, workers: int, scheduler: str | None, force: bool, out_dir: Path | None
) -> None:
    """Run every county (and scenario) of a batch config on dask.

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


def _exit_multi(done: int, failed: list[tuple[str, str, int]]) -> None:
    """List the failed runs on stderr and exit by the multi-run rule.

    Parameters
    ----------
    done
        Runs that finished.
    failed
        ``(run, error, exit code)`` of each failed run.
    """
    for name, error, _ in failed:
        _err.print(f"failed: {name}: {error}", highlight=False, soft_wrap=True)
    code = multi_run_exit_code(done, [c for _, _, c in failed])
    if code:
        sys.exit(code)


def _exit_rows(rows: list[dict], name_key: str) -> None:
    """:func:`_exit_multi` for the rows of a sweep or rollout."""
    failed = [r for r in rows if r.get("status") == "failed"]
    _exit_multi(
        len(rows) - len(failed),
        [(str(r[name_key]), r.get("error", ""), r.get("exit_code", 1)) for r in failed],
    )


@main.command()
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path),
    default=None,
    help="County config (YAML).",
)
@click.option(
    "--demo", "use_demo", is_flag=True, help="Run the demo county (built first if missing)."
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Output folder (default: data/processed/<county-slug>).",
)
@click.option(
    "--set",
    "overrides",
    multiple=True,
    metavar="KEY=VALUE",
    help="Override a config field, e.g. --set stations.budget=8e6 (repeatable).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def site(
    config_path: Path | None,
    use_demo: bool,
    out_dir: Path | None,
    overrides: tuple[str, ...],
    as_json: bool,
) -> None:
    """Run the siting job for one county."""
    from planner.config import load_config
    from planner.pipeline import STAGES, run_county

    if use_demo == (config_path is not None):
        msg = "give exactly one of --config FILE or --demo"
        raise ConfigError(msg)
    if use_demo:
        from planner.demo import DEMO_SLUG, build_demo

        config_path = _demo_dir() / f"{DEMO_SLUG}.yaml"
        if not config_path.is_file():
            _err.print(f"building the demo county in {config_path.parent} ...")
            build_demo(config_path.parent)
    assert config_path is not None
    config = load_config(config_path, overrides=list(overrides))
    t0 = time.perf_counter()
    with _err.status("starting ...") as status:

        def on_stage(name: str) -> None:
            k = STAGES.index(name) + 1
            status.update(f"[{k}/{len(STAGES)}] {name} ...")

        result = run_county(config, out_dir=out_dir, on_stage=on_stage, argv=sys.argv)
    s = result.summary
    if as_json:
        click.echo(json.dumps(s, ensure_ascii=False, indent=2))
        return
    home = result.home
    assert home is not None  # run_county keeps its runs in a home folder
    table = Table(title=f"{s['county']}: plan", show_header=False)
    rows = [
        (
            "stations / chargers",
            f"{s['stations']} / {s['chargers']} ({s['charger_kw_total']:,.0f} kW)",
        ),
        ("repair points", str(s["repair_points"])),
        ("sessions/day covered", f"{s['demand_covered_share']:.1%} of {s['sessions_day']:,.0f}"),
        ("townships with a station", f"{s['townships_with_station']} of {s['townships_total']}"),
        (
            "mean drive time",
            f"{_num(s['mean_travel_min'], '.1f')} min to the assigned station, "
            f"{_num(s['mean_nearest_min'], '.1f')} min to the nearest",
        ),
        ("capex", f"{s['capex_total']:,.0f} CNY"),
        (
            "solver",
            f"{s['solver']} {s['status']} (worst gap of {len(s['solves'])} passes: "
            f"{_pct(s['gap'])})",
        ),
        ("passes", _passes_line(s)),
        ("time", f"{time.perf_counter() - t0:.1f} s"),
        ("outputs", str(result.out_dir)),
        ("latest", f"{home / 'latest'} (earlier runs kept in {home / 'runs'})"),
    ]
    if s["safety_net"]:
        rows.insert(0, ("WARNING", _safety_net_text(s)))
    if "report.html" in result.files:
        rows.append(("report", str(result.out_dir / "report.html")))
    for k, v in rows:
        table.add_row(k, v)
    _out.print(table)


def _passes_line(s: dict) -> str:
    """``coverage optimal 0.02% · capex optimal 0.48% · ...`` from a summary."""
    done = [f"{p.get('pass') or p['model']} {p['status']} {_pct(p['gap'])}" for p in s["solves"]]
    skipped = [f"{name} skipped (solver.drive_time_max_pairs)" for name in s["skipped_passes"]]
    return " · ".join(done + skipped)


def _safety_net_text(s: dict) -> str:
    return (
        f"the {', '.join(s['safety_net'])} pass stopped at solver.time_limit_s before proving "
        "its gap: this plan depends on the machine's speed and load (raise the limit)"
    )


@main.command(name="export")
@click.argument("run_dir", type=click.Path(path_type=Path))
@click.option(
    "--run",
    "run_id",
    default=None,
    help="With a county's output folder as RUN_DIR: a run id from its runs/ folder, or "
    "latest (the default).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["gpkg", "shp", "geojson", "csv", "kml"]),
    required=True,
    help="GeoPackage, Shapefile, GeoJSON, CSV (lon/lat; polygons as WKT) or KML.",
)
@click.option(
    "--crs",
    default="4326",
    show_default=True,
    help="4326 (WGS84), 4490 (CGCS2000), any EPSG code, or gk (the county's CGCS2000 "
    "3-degree Gauss-Kruger zone).",
)
@click.option(
    "--encoding",
    type=click.Choice(["utf-8", "gbk"], case_sensitive=False),
    default="utf-8",
    show_default=True,
    help="Text encoding of Shapefiles (written in the .cpg).",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Folder to write (default: RUN_DIR/exports/<format>_EPSG<code>).",
)
def export_cmd(
    run_dir: Path, run_id: str | None, fmt: str, crs: str, encoding: str, out_dir: Path | None
) -> None:
    """Export the layers of a finished run again (reads its sites.gpkg; no solving).

    RUN_DIR is a run folder, or a county's output folder (its latest run, or --run ID).
    """
    from planner.report.export import export_run
    from planner.runs import resolve_run

    t0 = time.perf_counter()
    run = resolve_run(run_dir, run_id)
    folder, files = export_run(run, fmt=fmt, crs=crs, encoding=encoding.lower(), out=out_dir)
    _out.print(
        f"{fmt} written to {folder} in {time.perf_counter() - t0:.1f} s ({len(files)} files)",
        highlight=False,
    )


@main.command()
@click.argument("folder", type=click.Path(path_type=Path))
@click.option("--keep", type=int, required=True, help="How many of the newest runs to keep.")
@click.option("--dry-run", is_flag=True, help="Only list what would be removed.")
def clean(folder: Path, keep: int, dry_run: bool) -> None:
    """Remove old runs from an output folder, keeping the newest KEEP and latest.

    A run holding a file the planner did not write (e.g. your notes), or made read-only,
    is kept and listed.
    """
    from planner.runs import clean as clean_runs

    res = clean_runs(folder, keep=keep, dry_run=dry_run)
    verb = "would remove" if dry_run else "removed"
    for run in res.removed:
        _out.print(f"{verb}: {run}", highlight=False, markup=False, soft_wrap=True)
    for run, why in res.kept:
        _err.print(f"kept: {run}: {why}", highlight=False, markup=False, soft_wrap=True)
    _out.print(
        f"{verb} {len(res.removed)} run(s); {len(res.kept)} old run(s) kept", highlight=False
    )


def _line(err: BaseException) -> str:
    """The error as one line of text."""
    return " ".join(str(err).split())


def _num(x: float | None, fmt: str) -> str:
    return "n/a" if x is None else format(x, fmt)


def _pct(x: float | None) -> str:
    return "unknown" if x is None else f"{x:.2%}"


def _default_folder(config_path: Path, overrides: list[str], suffix: str) -> Path:
    from planner.config import load_config
    from planner.pipeline import default_out_dir

    base = default_out_dir(load_config(config_path, overrides=overrides))
    return base.with_name(f"{base.name}-{suffix}")


def _print_rows(rows: list[dict], keys: list[str]) -> None:
    table = Table(*keys)
    for r in rows:
        table.add_row(*(_cell(r.get(k)) for k in keys))
    _out.print(table)


def _cell(v: object) -> str:
    if isinstance(v, float):
        return f"{v:,.4g}" if abs(v) < 1e4 else f"{v:,.0f}"
    return "" if v is None else str(v)


@main.command()
@click.option("--config", "config_path", type=click.Path(path_type=Path), required=True)
@click.option(
    "--vary",
    multiple=True,
    required=True,
    metavar="FIELD=V1,V2,...",
    help="A config field and its values, e.g. stations.budget=8e6,12e6,16e6 (once or twice).",
)
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE", help="For every run.")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Sweep folder (default: data/processed/<slug>-sweep).",
)
def sweep(
    config_path: Path, vary: tuple[str, ...], overrides: tuple[str, ...], out_dir: Path | None
) -> None:
    """Solve one county for every combination of one or two fields' values."""
    from planner.sweep import parse_vary
    from planner.sweep import sweep as run_sweep

    pairs = [parse_vary(v) for v in vary]
    out = out_dir or _default_folder(config_path, list(overrides), "sweep")
    res = run_sweep(config_path, pairs, out, overrides=list(overrides))
    keys = [f for f, _ in pairs] + [
        "status",
        "stations",
        "chargers",
        "capex_total",
        "demand_covered_share",
        "capex_per_covered_ev",
    ]
    _print_rows(res.rows, keys)
    _out.print(f"sweep: {res.out_dir / 'sweep.html'}", highlight=False, markup=False)
    _exit_rows(res.rows, "scenario")


@main.command()
@click.option("--config", "config_path", type=click.Path(path_type=Path), required=True)
@click.option(
    "--year",
    "years",
    multiple=True,
    required=True,
    metavar="YEAR:BUDGET:ADOPTION[:TARGET]",
    help="A year's budget (CNY, new spending), EV adoption and optional coverage target "
    "(share of sessions), e.g. 2025:8e6:0.08 or 2026:4e6:0.12:0.95 (repeat).",
)
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE", help="For every year.")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Rollout folder (default: data/processed/<slug>-rollout).",
)
def rollout(
    config_path: Path, years: tuple[str, ...], overrides: tuple[str, ...], out_dir: Path | None
) -> None:
    """Plan stations year by year; stations opened earlier stay open."""
    from planner.sweep import YearPlan
    from planner.sweep import rollout as run_rollout

    plans = []
    for item in years:
        try:
            year, budget, adoption, *target = item.split(":")
            if len(target) > 1:
                raise ValueError(item)
            plans.append(
                YearPlan(
                    int(year),
                    float(budget),
                    float(adoption),
                    float(target[0]) if target else None,
                )
            )
        except ValueError:
            msg = (
                f"--year {item!r}: use YEAR:BUDGET:ADOPTION[:TARGET], e.g. 2025:8e6:0.08 or "
                "2026:4e6:0.12:0.9"
            )
            raise ConfigError(msg) from None
    out = out_dir or _default_folder(config_path, list(overrides), "rollout")
    res = run_rollout(config_path, plans, out, overrides=list(overrides))
    _print_rows(
        res.rows,
        [
            "year",
            "status",
            "new_stations",
            "stations_open",
            "capex_total",
            "demand_covered_share",
            "error",
        ],
    )
    _out.print(f"rollout: {res.out_dir / 'rollout.html'}", highlight=False, markup=False)
    _exit_rows(res.rows, "year")


if __name__ == "__main__":  # pragma: no cover
    main()
