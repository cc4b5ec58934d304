"""Batch outputs: the summary table, the index page and the province map."""

from __future__ import annotations

import csv
import html
import logging
import os
from pathlib import Path
from typing import Any

import geopandas as gpd
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd

from planner.batch_config import FIGURES
from planner.datatypes import TaskResult
from planner.paths import replace_file
from planner.report.figures import save_png
from planner.report.formats import safe_cell

logger = logging.getLogger(__name__)


def province_map(run_dirs: list[Path], target: Path) -> None:
    """A PNG of every county's townships and planned stations (from their sites.gpkg)."""
    towns, stations = [], []
    for d in run_dirs:
        gpkg = d / "sites.gpkg"
        if not gpkg.is_file():
            continue
        towns.append(gpd.read_file(gpkg, layer="townships", engine="pyogrio"))
        stations.append(gpd.read_file(gpkg, layer="stations", engine="pyogrio"))
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
            legend_kwds={"label": "share of sessions covered"},
        )
    if stations:
        st = pd.concat(stations, ignore_index=True)
        if len(st):
            gpd.GeoDataFrame(st, crs=stations[0].crs).plot(
                ax=ax, color="#0b3d91", markersize=4 + 2 * st["chargers"].to_numpy(), alpha=0.8
            )
    ax.set_title(f"Planned charging stations: {len(run_dirs)} county runs")
    ax.set_xlabel("longitude")
    ax.set_ylabel("latitude")
    fig.tight_layout()
    save_png(fig, target)
    plt.close(fig)


def write_batch_outputs(root: Path, results: list[TaskResult]) -> list[str]:
    """``batch_summary.csv``, ``index.html`` and ``province_map.png`` in ``root``."""
    rows = [_row(r, root) for r in results]
    replace_file(root / "batch_summary.csv", lambda p: _write_csv(p, rows))
    replace_file(root / "index.html", lambda p: p.write_text(_index_html(rows), encoding="utf-8"))
    files = ["batch_summary.csv", "index.html"]
    done = [Path(r.out_dir) for r in results if r.status != "failed"]
    if done:
        replace_file(root / "province_map.png", lambda p: province_map(done, p))
        files.append("province_map.png")
    return files


#: The summary figures (:data:`planner.batch_config.FIGURES`) under the names of their
#: columns: the county's name and the solver's status are not the run's county and status.
_FIGURE_COLUMNS = {k: {"county": "name", "status": "solver_status"}.get(k, k) for k in FIGURES}

_COLUMNS = (
    "county",
    "scenario",
    "status",
    *_FIGURE_COLUMNS.values(),
    "seconds",
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
        "scenario": r.scenario,
        "status": r.status,
        **figures,
        "seconds": round(r.seconds, 2),
        "error": r.error,
        "folder": folder,
    }


def _write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    with path.open("w", newline="", encoding="utf-8-sig") as fh:
        w = csv.DictWriter(fh, fieldnames=_COLUMNS)
        w.writeheader()
        w.writerows({k: safe_cell(v) for k, v in r.items()} for r in rows)


def _index_html(rows: list[dict[str, Any]]) -> str:
    e = html.escape
    n_failed = sum(r["status"] == "failed" for r in rows)
    head = "".join(
        f"<th>{e(c)}</th>"
        for c in (
            "county",
            "scenario",
            "status",
            "stations",
            "chargers",
            "repair points",
            "covered",
            "capex (CNY)",
            "mean min",
            "solver",
            "links / error",
        )
    )
    body = []
    for r in rows:
        if r["status"] == "failed":
            tail = f'<td class="err">{e(str(r["error"]))}</td>'
        else:
            folder = r["folder"].replace(os.sep, "/")
            tail = (
                f'<td><a href="{e(folder)}/map.html">map</a> · '
                f'<a href="{e(folder)}/report.html">report</a></td>'
            )
        share = r["demand_covered_share"]
        capex = r["capex_total"]
        gap = r["gap"]
        solver = f"{r['solver_status']}" + (f", gap {gap:.2%}" if isinstance(gap, float) else "")
        body.append(
            "<tr>"
            f"<td>{e(str(r['name'] or r['county']))}</td><td>{e(r['scenario'])}</td>"
            f'<td class="{e(r["status"])}">{e(r["status"])}</td>'
            f"<td>{e(str(r['stations']))}</td><td>{e(str(r['chargers']))}</td>"
            f"<td>{e(str(r['repair_points']))}</td>"
            f"<td>{f'{share:.1%}' if isinstance(share, float) else ''}</td>"
            f"<td>{f'{capex:,.0f}' if isinstance(capex, int | float) else ''}</td>"
            f"<td>{e(str(r['mean_travel_min']))}</td><td>{e(solver)}</td>{tail}</tr>"
        )
    img = '<p><img src="province_map.png" alt="stations of all counties"></p>'
    return (
        '<!doctype html><html lang="zh"><head><meta charset="utf-8">'
        "<title>Batch: charging plans</title><style>"
        "body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:4px 8px}.failed,.err{color:#b00}"
        "img{max-width:100%}</style></head><body>"
        f"<h1>Charging plans: {len(rows)} runs, {n_failed} failed</h1>"
        f"<table><tr>{head}</tr>{''.join(body)}</table>{img}"
        "<p>Figures in batch_summary.csv.</p></body></html>"
    )
