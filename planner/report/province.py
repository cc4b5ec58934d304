"""Batch outputs: the summary table, the index page and the province map."""

from __future__ import annotations

import csv
import logging
import os
from collections import Counter
from pathlib import Path
from typing import Any

import geopandas as gpd
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd

from planner.batch_config import FIGURES
from planner.datatypes import TaskResult
from planner.i18n import Lang, translator
from planner.paths import replace_file
from planner.report.batch_page import index_html as _index_html
from planner.report.figures import save_png
from planner.report.fonts import figure_style
from planner.report.formats import safe_cell
from planner.report.sections import english

logger = logging.getLogger(__name__)


def province_map(run_dirs: list[Path], target: Path, *, lang: Lang | None = None) -> None:
    """A PNG of every county's townships and planned stations (from their sites.gpkg)."""
    lang = english(lang)
    towns, stations = [], []
    for d in run_dirs:
        gpkg = d / "sites.gpkg"
        if not gpkg.is_file():
            continue
        towns.append(gpd.read_file(gpkg, layer="townships", engine="pyogrio"))
        stations.append(gpd.read_file(gpkg, layer="stations", engine="pyogrio"))
    with figure_style():
        fig, ax = plt.subplots(figsize=(10, 8), dpi=100)
        if towns:
            t = pd.concat(towns, ignore_index=True)
            gpd.GeoDataFrame(t, crs=towns[0].crs).plot(
                ax=ax,
                column="covered_share",
                cmap="RdYlGn",
                vmin=0,
                vmax=1,
                edgecolor="#666",
                linewidth=0.3,
                legend=True,
                legend_kwds={"label": lang("Share of sessions covered")},
            )
        if stations:
            st = pd.concat(stations, ignore_index=True)
            if len(st):
                gpd.GeoDataFrame(st, crs=stations[0].crs).plot(
                    ax=ax, color="#0b3d91", markersize=4 + 2 * st["chargers"].to_numpy(), alpha=0.8
                )
        ax.set_title(lang("Planned charging stations of {n} counties", n=len(run_dirs)))
        ax.set_xlabel(lang("longitude"))
        ax.set_ylabel(lang("latitude"))
        fig.tight_layout()
        save_png(fig, target)
        plt.close(fig)


def write_batch_outputs(
    root: Path, results: list[TaskResult], *, run_id: str | None = None
) -> list[str]:
    """``batch_summary.csv``, ``index.html`` and ``province_map.png`` in ``root``.

    The page and the map are in the counties' report language (Chinese for Chinese
    counties); the total and the map are of each county's first scenario (a county
    whose first scenario failed is left out of both).
    """
    lang = translator(_language(results))
    rows = [_row(r, root) for r in results]
    replace_file(root / "batch_summary.csv", lambda p: _write_csv(p, rows))
    page = _index_html(rows, lang=lang, run_id=run_id)
    replace_file(root / "index.html", lambda p: p.write_text(page, encoding="utf-8"))
    files = ["batch_summary.csv", "index.html"]
    done = _first_scenario(results)
    if done:
        replace_file(root / "province_map.png", lambda p: province_map(done, p, lang=lang))
        files.append("province_map.png")
    return files


def _language(results: list[TaskResult]) -> str:
    """The counties' report language: the most common among finished runs (zh if none)."""
    found = Counter(r.language for r in results if r.language)
    return found.most_common(1)[0][0] if found else "zh"


def _first_scenario(results: list[TaskResult]) -> list[Path]:
    """The run folder of each county's first scenario, unless that scenario failed."""
    firsts: dict[str, TaskResult] = {}
    for r in results:
        firsts.setdefault(r.county, r)
    return [Path(r.out_dir) for r in firsts.values() if r.status != "failed" and r.out_dir]


#: The summary figures (:data:`planner.batch_config.FIGURES`) under the names of their
#: columns: the county's name and the solver's status are not the run's county and status.
_FIGURE_COLUMNS = {k: {"county": "name", "status": "solver_status"}.get(k, k) for k in FIGURES}

_COLUMNS = (
    "county",
    "code",
    "scenario",
    "status",
    *_FIGURE_COLUMNS.values(),
    "seconds",
    "exit_code",
    "error",
    "folder",
)


def _row(r: TaskResult, root: Path) -> dict[str, Any]:
    try:
        folder = os.path.relpath(r.out_dir, root) if r.out_dir else ""
    except ValueError:  # another drive
        folder = r.out_dir
    figures = {column: r.figures.get(k, "") for k, column in _FIGURE_COLUMNS.items()}
    return {
        "county": r.county,
        "code": r.code,
        "scenario": r.scenario,
        "status": r.status,
        **figures,
        "seconds": round(r.seconds, 2),
        "exit_code": r.exit_code if r.status == "failed" else 0,
        "error": r.error,
        "folder": folder,
    }


def _write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    with path.open("w", newline="", encoding="utf-8-sig") as fh:
        w = csv.DictWriter(fh, fieldnames=_COLUMNS)
        w.writeheader()
        w.writerows({k: safe_cell(v) for k, v in r.items()} for r in rows)
