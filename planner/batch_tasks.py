"""The tasks of a batch: one per county and scenario, with its overrides and output folder.

:func:`plan_tasks` reads every county config of a batch with its overrides and each
scenario's, checks them before any county runs, and gives one :class:`Task` per county and
scenario with the folder it writes to (:func:`scenario_dir`); a county whose config
cannot be read gets tasks that fail with its error. :mod:`planner.batch` runs them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from planner.batch_config import BatchConfig, BatchCounty
from planner.errors import ConfigError, PlannerError
from planner.province import CountyRef


@dataclass(frozen=True)
class Task:
    """One county under one scenario."""

    county: str  # slug (or ``<config stem>#<position>`` when the config cannot be read)
    scenario: str
    config: str  # absolute path of the county config
    overrides: tuple[str, ...]
    out_dir: str  # empty when the config cannot be read
    error: str = ""  # the config's own error: the task fails without running
    exit_code: int = 0
    code: str = ""  # the county's code in the province's boundaries layer, if matched there
    name: str = ""  # the county's name, for the outputs of a task that cannot run


def _overrides(values: dict[str, Any]) -> list[str]:
    return [f"{k}={yaml.safe_dump(v, default_flow_style=True).strip()}" for k, v in values.items()]


def plan_tasks(batch: BatchConfig, base: Path, *, output: Path | None = None) -> list[Task]:
    """One task per county and scenario, with its output folder.

    The folder is ``<output>/<county-slug>`` with one scenario, else
    ``<output>/<county-slug>/<scenario>``, unless the county's folder already holds its
    runs in the other layout (:func:`scenario_dir`). With a ``province`` section, every
    county reads the provincial extract (:func:`run_batch` then points it at its piece).
    """
    return plan_batch(batch, base, output=output)[0]


def plan_batch(
    batch: BatchConfig, base: Path, *, output: Path | None = None
) -> tuple[list[Task], dict[str, CountyRef]]:
    """The tasks (see :func:`plan_tasks`), and what the split of the province needs to
    know of each county whose config can be read (by slug; empty without a province)."""
    from planner.config import load_config
    from planner.province import county_buffer, county_ref, province_overrides

    root = (output or (base / batch.output)).resolve()
    tasks = []
    refs: dict[str, CountyRef] = {}
    seen: dict[str, tuple[int, Path]] = {}
    first = province_overrides(batch, base)
    for position, item in enumerate(batch.counties, start=1):
        cfg_path = (base / item.config).resolve()
        county = first + _overrides(item.set)
        try:
            config = load_config(cfg_path, overrides=county, overrides_from="the batch file")
        except PlannerError as err:
            tasks += _broken_tasks(batch, cfg_path, position, item, err)
            continue
        _check_scenarios(batch, cfg_path, county)
        slug = config.slug
        if slug in seen:
            raise ConfigError(_shared_slug_message(slug, root, seen[slug], (position, cfg_path)))
        seen[slug] = (position, cfg_path)
        if batch.province is not None:
            label = f"county {position} ({config.county.name}, {cfg_path})"
            refs[slug] = county_ref(
                slug, label, config, item.boundary, county_buffer(batch, config)
            )
        for index, sc in enumerate(batch.scenarios):
            out = scenario_dir(root / slug, sc.name, index, len(batch.scenarios))
            tasks.append(
                Task(
                    county=slug,
                    scenario=sc.name,
                    config=str(cfg_path),
                    overrides=tuple(county + _overrides(sc.set)),
                    out_dir=str(out),
                    name=config.county.name,
                )
            )
    return tasks, refs


def scenario_dir(county_dir: Path, scenario: str, index: int, n_scenarios: int) -> Path:
    """The output folder of a county's scenario: where its runs already are, else by layout.

    A county of a one-scenario batch writes into its own folder, of several scenarios
    into ``<county>/<scenario>``. A county folder of the other layout keeps it: the
    scenario's own folder if it holds runs; the county folder of a one-scenario batch
    is the first scenario's, so adding scenarios to a finished batch reuses its runs
    (skipped when complete) and leaves one ``latest`` per scenario.

    Parameters
    ----------
    county_dir
        ``<results>/<county slug>``.
    scenario, index, n_scenarios
        The scenario's name, its position in the batch (from 0), how many there are.
    """
    own = county_dir / scenario
    if _holds_runs(own):
        return own
    if n_scenarios == 1 or (index == 0 and _holds_runs(county_dir)):
        return county_dir
    return own


def _holds_runs(folder: Path) -> bool:
    """The folder is one county's output: it has run history (or its ``latest.json``)."""
    from planner.runs import LATEST_JSON, RUNS

    return (folder / RUNS).is_dir() or (folder / LATEST_JSON).is_file()


def _check_scenarios(batch: BatchConfig, cfg_path: Path, county: list[str]) -> None:
    """Stop before any county runs when a scenario's overrides make a config invalid."""
    from planner.config import load_config

    for sc in batch.scenarios:
        if sc.set:
            load_config(
                cfg_path,
                overrides=county + _overrides(sc.set),
                overrides_from=f"the batch file's scenario {sc.name!r}",
            )


def _shared_slug_message(
    slug: str, root: Path, first: tuple[int, Path], second: tuple[int, Path]
) -> str:
    """Two counties of a batch would write into one folder: which, and what to do."""
    return (
        f"two counties of the batch share the slug {slug!r}, so both would write to "
        f"{root / slug}: county {first[0]} ({first[1]}) and county {second[0]} "
        f"({second[1]}). Give each its own county.slug, in its config or in the batch "
        f"file, e.g. `set: {{county.slug: {slug}-{second[0]}}}` under county {second[0]}; "
        "without county.slug the slug is county.code, else the county name in pinyin "
        "with the config file's name"
    )


def _broken_tasks(
    batch: BatchConfig, cfg_path: Path, position: int, item: BatchCounty, err: PlannerError
) -> list[Task]:
    """Failed tasks of a county whose config (with its overrides) cannot be read.

    They are labelled ``<config stem>#<position in the batch>``, so two such counties of
    one shared config never collide, and carry the config's error instead of running.
    """
    label = f"{cfg_path.stem}#{position}"
    message = f"{cfg_path} (county {position} of the batch): {str(err).splitlines()[0]}"
    name, code = _raw_county(cfg_path, item)
    overrides = tuple(_overrides(item.set))
    return [
        Task(label, sc.name, str(cfg_path), overrides, "", message, err.exit_code, code, name)
        for sc in batch.scenarios
    ]


def _raw_county(cfg_path: Path, item: BatchCounty) -> tuple[str, str]:
    """The county's name and code as the batch file or its config gives them, unchecked
    (for the outputs of a county whose config cannot be read); empty where unknown."""
    try:
        raw = yaml.safe_load(cfg_path.read_text(encoding="utf-8"))
        county = raw.get("county") if isinstance(raw, dict) else None
    except (OSError, UnicodeError, yaml.YAMLError):
        county = None
    county = county if isinstance(county, dict) else {}
    found = []
    for key in ("name", "code"):
        value = item.set.get(f"county.{key}", county.get(key))
        found.append(str(value) if isinstance(value, str | int) else "")
    return found[0], found[1]
