"""Commands on one county: ``site`` (run the job), ``export`` and ``clean`` (its runs)."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.table import Table

from planner.cli import (
    _config_option,
    _demo_dir,
    _err,
    _out,
    _out_option,
    _set_option,
)
from planner.cli.plan_table import plan_table
from planner.config.report import DEFAULT_KML_LAYERS
from planner.errors import ConfigError

if TYPE_CHECKING:
    from planner.pipeline import RunResult


@click.command()
@_config_option(required=False, help_text="County config (YAML).")
@click.option(
    "--demo", "use_demo", is_flag=True, help="Run the demo county (built first if missing)."
)
@_out_option("Output folder (default: data/processed/<county-slug>).")
@_set_option("Override a config field, e.g. --set stations.budget=8e6 (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def site(
    config_path: Path | None,
    use_demo: bool,
    out_dir: Path | None,
    overrides: tuple[str, ...],
    as_json: bool,
) -> None:
    """Run the siting job for one county."""
    from planner.cli.display import progress_display
    from planner.config import load_config
    from planner.pipeline import run_county

    config_path = _site_config(config_path, use_demo=use_demo)
    config = load_config(config_path, overrides=list(overrides))
    t0 = time.perf_counter()
    with progress_display(_err) as progress:
        result = run_county(config, out_dir=out_dir, on_stage=progress.stage, argv=sys.argv)
        progress.finish()
    if as_json:
        click.echo(json.dumps(result.summary, ensure_ascii=False, indent=2))
        return
    _out.print(_plan_table(result, time.perf_counter() - t0))


def _site_config(config_path: Path | None, *, use_demo: bool) -> Path:
    """The config ``site`` runs: ``--config``, or the demo's (built first if missing)."""
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
    return config_path


def _plan_table(result: RunResult, seconds: float) -> Table:
    """The plan of a ``site`` run at a glance, with where its files are."""
    assert result.home is not None  # run_county keeps its runs in a home folder
    return plan_table(
        result.summary,
        seconds=seconds,
        out_dir=result.out_dir,
        home=result.home,
        report="report.html" in result.files,
    )


@click.command(name="export")
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
    default=None,
    help="GeoPackage, Shapefile, GeoJSON, CSV (lon/lat; polygons as WKT) or KML.",
)
@click.option(
    "--to",
    "to_url",
    default=None,
    metavar="postgresql://USER@HOST:PORT/DB",
    help="Publish the run's layers to a PostGIS database instead of files (the password "
    "from PGPASSWORD or ~/.pgpass, never in the URL).",
)
@click.option(
    "--schema",
    default=None,
    help="With --to: the schema of the tables (default planner; created when missing).",
)
@click.option(
    "--if-exists",
    "if_exists",
    type=click.Choice(["fail", "replace"]),
    default=None,
    help="With --to, when the run is already published there: fail (the default) or "
    "replace its rows (other runs' rows stay).",
)
@click.option(
    "--crs",
    default=None,
    help="4326 (WGS84), 4490 (CGCS2000), any EPSG code, or gk (the county's CGCS2000 "
    "3-degree Gauss-Kruger zone). Default 4326 for files; with --to 4490 for a county "
    "in China, else 4326.",
)
@click.option(
    "--encoding",
    type=click.Choice(["utf-8", "gbk", "gb18030"], case_sensitive=False),
    default="utf-8",
    show_default=True,
    help="Text encoding of Shapefiles (written in the .cpg); other formats are UTF-8.",
)
@click.option(
    "--kml-layers",
    default=",".join(DEFAULT_KML_LAYERS),
    show_default=True,
    help="Layers of a KML export, comma-separated (also candidates, demand, "
    "existing_chargers, service_areas, tour_stops).",
)
@_out_option("Folder to write (default: RUN_DIR/exports/<format>_EPSG<code>).")
def export_cmd(  # noqa: PLR0913 - one parameter per click option
    run_dir: Path,
    run_id: str | None,
    fmt: str | None,
    to_url: str | None,
    schema: str | None,
    if_exists: str | None,
    crs: str | None,
    encoding: str,
    kml_layers: str,
    out_dir: Path | None,
) -> None:
    """Export the layers of a finished run again (reads its sites.gpkg; no solving).

    RUN_DIR is a run folder, or a county's output folder (its latest run, or --run ID).
    Give --format for files, or --to to publish the layers to a PostGIS database.
    """
    from planner.report.reexport import export_run, saved_language
    from planner.runs import resolve_run

    t0 = time.perf_counter()
    if (fmt is None) == (to_url is None):
        msg = "give exactly one of --format FORMAT or --to postgresql://USER@HOST:PORT/DB"
        raise ConfigError(msg)
    run = resolve_run(run_dir, run_id)
    if to_url is not None:
        files_only = (
            ("--encoding", encoding.lower() != "utf-8"),
            ("--out", out_dir is not None),
            ("--kml-layers", kml_layers != ",".join(DEFAULT_KML_LAYERS)),
        )
        for name, given in files_only:
            if given:
                msg = f"{name} applies to --format only, not to --to (a database)"
                raise ConfigError(msg)
        _publish(run, to_url, schema=schema, crs=crs, if_exists=if_exists, t0=t0)
        return
    assert fmt is not None
    for name, value in (("--schema", schema), ("--if-exists", if_exists)):
        if value is not None:
            msg = f"{name} applies to --to only, not to --format {fmt}"
            raise ConfigError(msg)
    crs = crs or "4326"
    if fmt != "kml" and kml_layers != ",".join(DEFAULT_KML_LAYERS):
        msg = f"--kml-layers applies to --format kml only, not {fmt}"
        raise ConfigError(msg)
    folder, files = export_run(
        run,
        fmt=fmt,
        crs=crs,
        encoding=encoding.lower(),
        out=out_dir,
        kml_layers=[x.strip() for x in kml_layers.split(",") if x.strip()],
        lang=saved_language(run),
    )
    _out.print(
        f"{fmt} written to {folder} in {time.perf_counter() - t0:.1f} s ({len(files)} files)",
        highlight=False,
    )


def _publish(
    run: Path, url: str, *, schema: str | None, crs: str | None, if_exists: str | None, t0: float
) -> None:
    """``planner export RUN --to URL``: the run's layers into PostGIS."""
    from planner.report.postgis import DEFAULT_SCHEMA, publish_run

    res = publish_run(
        run, url, schema=schema or DEFAULT_SCHEMA, crs=crs, if_exists=if_exists or "fail"
    )
    rows = sum(res.layers.values())
    verb = "replaced" if res.replaced else "published"
    _out.print(
        f"run {res.run_id} {verb} in {res.url} schema {res.schema} (SRID {res.srid}): "
        f"{len(res.layers)} tables, {rows} rows in {time.perf_counter() - t0:.1f} s",
        highlight=False,
        markup=False,
        soft_wrap=True,
    )


@click.command()
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
