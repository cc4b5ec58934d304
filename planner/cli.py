"""The ``planner`` command.

Exit codes: 0 done; 2 bad input or config; 3 model infeasible; 1 anything unexpected.
Errors print one line on stderr, without a traceback (``--debug`` shows it).
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
from rich.markup import escape
from rich.table import Table

from planner import __version__
from planner.errors import ConfigError, PlannerError

_err = Console(stderr=True)
_out = Console()


def _setup_logging(verbose: int) -> None:
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    handler = RichHandler(console=_err, show_path=False, show_time=False, markup=False)
    logging.basicConfig(level=level, handlers=[handler], format="%(message)s", force=True)
    logging.getLogger("pyogrio").setLevel(max(level, logging.WARNING))


def _demo_dir() -> Path:
    """Where ``site --demo`` finds the demo: data/raw/demo, or $PLANNER_DEMO_DIR."""
    from planner.pipeline import project_root

    override = os.environ.get("PLANNER_DEMO_DIR")
    return Path(override) if override else project_root() / "data" / "raw" / "demo"


class _PlannerGroup(click.Group):
    """Turns planner errors into one line and an exit code."""

    debug = False

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except PlannerError as err:
            if _PlannerGroup.debug:
                raise
            _err.print(f"[bold red]error:[/] {_line(err)}", highlight=False, soft_wrap=True)
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
                f"[bold red]unexpected error:[/] {type(err).__name__}: {_line(err)} "
                "(run with --debug for the traceback)",
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
def demo(out_dir: Path | None, scale: float, seed: int | None) -> None:
    """Build the synthetic demo county's input files and config."""
    from planner.demo import DEFAULT_SEED, build_demo

    out_dir = out_dir or _demo_dir()
    t0 = time.perf_counter()
    cfg = build_demo(out_dir, scale=scale, seed=DEFAULT_SEED if seed is None else seed)
    _out.print(f"demo county written to {out_dir} in {time.perf_counter() - t0:.1f} s")
    _out.print(f"config: {cfg}")


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
    table = Table(title=f"{s['county']}: plan", show_header=False)
    rows = [
        (
            "stations / chargers",
            f"{s['stations']} / {s['chargers']} ({s['charger_kw_total']:,.0f} kW)",
        ),
        ("repair points", str(s["repair_points"])),
        ("sessions/day covered", f"{s['demand_covered_share']:.1%} of {s['sessions_day']:,.0f}"),
        ("townships with a station", f"{s['townships_with_station']} of {s['townships_total']}"),
        ("mean drive time", f"{_num(s['mean_travel_min'], '.1f')} min"),
        ("capex", f"{s['capex_total']:,.0f} CNY"),
        ("solver", f"{s['solver']} {s['status']}, gap {_pct(s['gap'])}"),
        ("time", f"{time.perf_counter() - t0:.1f} s"),
        ("outputs", str(result.out_dir)),
    ]
    if "report.html" in result.files:
        rows.append(("report", str(result.out_dir / "report.html")))
    for k, v in rows:
        table.add_row(k, v)
    _out.print(table)


@main.command(name="export")
@click.argument("run_dir", type=click.Path(path_type=Path))
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
def export_cmd(run_dir: Path, fmt: str, crs: str, encoding: str, out_dir: Path | None) -> None:
    """Export the layers of a finished run again (reads its sites.gpkg; no solving)."""
    from planner.report.export import export_run

    t0 = time.perf_counter()
    folder, files = export_run(run_dir, fmt=fmt, crs=crs, encoding=encoding.lower(), out=out_dir)
    _out.print(
        f"{fmt} written to {escape(str(folder))} in {time.perf_counter() - t0:.1f} s "
        f"({len(files)} files)",
        highlight=False,
    )


def _line(err: BaseException) -> str:
    """The error as one line of text, safe from Rich markup."""
    return escape(" ".join(str(err).split()))


def _num(x: float | None, fmt: str) -> str:
    return "n/a" if x is None else format(x, fmt)


def _pct(x: float | None) -> str:
    return "unknown" if x is None else f"{x:.2%}"


if __name__ == "__main__":  # pragma: no cover
    main()
