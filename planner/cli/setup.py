"""Commands that start a county: ``init`` (a commented config) and ``schema`` (for editors)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from planner.cli import _out
from planner.errors import ConfigError


@click.command()
@click.argument("name")
@click.option(
    "--from-osm",
    "osm",
    type=click.Path(path_type=Path),
    default=None,
    help="An OSM extract with the county's boundary relations (roads, POIs and boundaries).",
)
@click.option(
    "--admin-level",
    type=click.IntRange(1, 12),
    default=None,
    help="admin_level of the townships in that extract (8 in China).",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path),
    default=Path("counties"),
    show_default=True,
    help="Folder for the new config.",
)
def init(name: str, osm: Path | None, admin_level: int | None, out_dir: Path) -> None:
    """Write a commented config for the county NAME, every field with its default.

    The file is ``<out>/<slug>.yaml``; an existing file is never replaced.
    """
    from planner.config.template import init_values, template_yaml
    from planner.errors import check_input_file
    from planner.paths import replace_file
    from planner.slugs import default_slug

    if osm is not None:
        check_input_file(osm, "OSM extract")
        osm = osm.resolve()
    slug = default_slug(name)
    if not slug:
        msg = f"county name {name!r}: cannot make a file name of it; use a Chinese or Latin name"
        raise ConfigError(msg)
    target = out_dir / f"{slug}.yaml"
    if out_dir.exists() and not out_dir.is_dir():
        msg = f"--out {out_dir}: is a file, not a folder"
        raise ConfigError(msg)
    if target.exists():
        msg = f"{target}: already exists; choose another --out or move it away (never replaced)"
        raise ConfigError(msg)
    out_dir.mkdir(parents=True, exist_ok=True)
    text = template_yaml(init_values(name, osm=osm, township_admin_level=admin_level))
    replace_file(target, lambda p: p.write_text(text, encoding="utf-8"))
    _out.print(f"wrote {target}: fill in the TODO values, then run", highlight=False)
    _out.print(f"  planner site --config {target}", highlight=False, markup=False)


@click.command()
@click.option(
    "--out",
    "out_file",
    type=click.Path(path_type=Path),
    default=None,
    help="File to write (default: print it).",
)
def schema(out_file: Path | None) -> None:
    """The JSON Schema of a county config, for editors (completion and checks)."""
    from planner.config.template import config_schema
    from planner.paths import replace_file

    text = json.dumps(config_schema(), ensure_ascii=False, indent=2) + "\n"
    if out_file is None:
        click.echo(text, nl=False)
        return
    if not out_file.parent.is_dir() or out_file.is_dir():
        msg = f"--out {out_file}: give a file in an existing folder"
        raise ConfigError(msg)
    replace_file(out_file, lambda p: p.write_text(text, encoding="utf-8"))
    _out.print(f"wrote {out_file}", highlight=False, markup=False)
