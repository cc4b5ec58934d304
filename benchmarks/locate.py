"""Location benchmarks: p-median, capacitated facility location and maximal covering on
published or generated instances, against baselines timed in the same run.

Each benchmark prints CSV to stdout: ``instance,method,objective,bound,status,seconds``
(status ``optimal`` only when the gap is proven 0), then one ``ratio_vs_<method>: X``
line per baseline: the baseline's total seconds over ours, on the instances both solved
to a proven optimum.
"""

from __future__ import annotations

import csv
import logging
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import numpy as np
import pandas as pd

from benchmarks.instances import CAP_CAPACITIES, read_cap, read_pmed, read_points_csv
from planner.errors import DataError

logger = logging.getLogger(__name__)

HEADER = ("instance", "method", "objective", "bound", "status", "seconds")


@dataclass
class Row:
    """One instance solved by one method."""

    instance: str
    method: str
    objective: float | None
    bound: float | None
    status: str
    seconds: float


def _pmed_planner(
    d: np.ndarray, p: int, time_limit_s: float
) -> tuple[float | None, float | None, str]:
    from planner.optimize.pmedian import p_median

    r = p_median(d, np.ones(len(d)), p, time_limit_s=time_limit_s, mip_gap=0.0)
    return r.objective, r.info.bound, r.info.status


def _pmed_dense(
    d: np.ndarray, p: int, time_limit_s: float
) -> tuple[float | None, float | None, str]:
    """The textbook model (ReVelle & Swain) through PuLP with HiGHS: n^2 assignments."""
    import pulp

    from planner.config import SolverSection
    from planner.optimize.solve import solve

    n = len(d)
    prob = pulp.LpProblem("pmedian_dense", pulp.LpMinimize)
    y = [prob.add_variable(f"y_{j}", cat=pulp.LpBinary) for j in range(n)]
    x = [[prob.add_variable(f"x_{i}_{j}", lowBound=0) for j in range(n)] for i in range(n)]
    prob += pulp.LpAffineExpression([(x[i][j], float(d[i, j])) for i in range(n) for j in range(n)])
    prob += pulp.lpSum(y) == p
    for i in range(n):
        prob += pulp.lpSum(x[i]) == 1
        for j in range(n):
            prob += x[i][j] <= y[j]
    info = solve(
        prob, solver=SolverSection(time_limit_s=time_limit_s, mip_gap=0.0), model="pmedian_dense"
    )
    return info.objective, info.bound, _status(info.objective, info.bound, info.status)


def _pmed_spopt(
    d: np.ndarray, p: int, time_limit_s: float
) -> tuple[float | None, float | None, str]:
    """PySAL spopt's PMedian with CBC (the open-source reference)."""
    import pulp
    from spopt.locate import PMedian

    model = PMedian.from_cost_matrix(d, np.ones(len(d)), p_facilities=p)
    model = model.solve(pulp.PULP_CBC_CMD(msg=False, timeLimit=time_limit_s))
    status = pulp.LpStatus[model.problem.status].lower()
    objective = float(pulp.value(model.problem.objective))
    return objective, None, "optimal" if status == "optimal" else status


def _status(objective: float | None, bound: float | None, status: str) -> str:
    if objective is None or bound is None:
        return status
    gap = abs(objective - bound) / max(abs(objective), 1e-9)
    return "optimal" if gap <= 1e-9 else ("time_limit" if status == "time_limit" else status)


PMED_METHODS: dict[
    str, Callable[[np.ndarray, int, float], tuple[float | None, float | None, str]]
] = {
    "planner": _pmed_planner,
    "dense": _pmed_dense,
    "spopt": _pmed_spopt,
}


def available(methods: Iterable[str]) -> list[str]:
    """The methods that can run here (spopt is an optional extra).

    Parameters
    ----------
    methods
        Method names, e.g. ``planner``, ``dense``, ``spopt``.

    Returns
    -------
    list of str
        ``methods`` without those whose package is not installed (each logged).
    """
    out = []
    for m in methods:
        if m == "spopt":
            try:
                import spopt  # noqa: F401
            except ImportError:
                logger.warning("spopt is not installed (pip install -e '.[bench]'): skipped")
                continue
        out.append(m)
    return out


def run_pmed(
    files: list[Path], methods: list[str], *, time_limit_s: float, out: TextIO = sys.stdout
) -> list[Row]:
    """Run the p-median benchmark and print its CSV and ratios.

    Parameters
    ----------
    files
        OR-Library ``pmedN.txt`` files; one that cannot be read is logged and skipped.
    methods
        Keys of :data:`PMED_METHODS`; a method that fails gives a row of status ``error``.
    time_limit_s
        Seconds per solve.
    out
        Where the CSV goes.

    Returns
    -------
    list of Row
        One row per file and method.
    """
    rows: list[Row] = []
    writer = csv.writer(out)
    writer.writerow(HEADER)
    for f in files:
        try:
            d, p = read_pmed(f)
        except DataError as err:
            logger.warning("skipped: %s", err)
            continue
        for method in methods:
            t0 = time.perf_counter()
            try:
                obj, bound, status = PMED_METHODS[method](d, p, time_limit_s)
            except Exception as err:  # a baseline that fails is reported, not fatal
                logger.warning("%s on %s failed: %s", method, f.name, err)
                obj, bound, status = None, None, "error"
            row = Row(Path(f).stem, method, obj, bound, status, time.perf_counter() - t0)
            rows.append(row)
            writer.writerow(_fmt(row))
            out.flush()
    print_ratios(rows, out=out)
    return rows


def _fmt(row: Row) -> list[str]:
    def num(x: float | None) -> str:
        return "" if x is None else f"{x:.6f}".rstrip("0").rstrip(".")

    return [
        row.instance,
        row.method,
        num(row.objective),
        num(row.bound),
        row.status,
        f"{row.seconds:.3f}",
    ]


def print_ratios(rows: list[Row], *, out: TextIO = sys.stdout, ours: str = "planner") -> None:
    """Print ``ratio_vs_<method>``: baseline seconds / ours, where both proved optimality.

    Parameters
    ----------
    rows
        The rows of one benchmark.
    out
        Where the lines go.
    ours
        The method the baselines are compared with.
    """
    table = pd.DataFrame([r.__dict__ for r in rows])
    if table.empty:
        return
    mine = table[table["method"] == ours].set_index("instance")
    for method in sorted(set(table["method"]) - {ours}):
        other = table[table["method"] == method].set_index("instance")
        both = [
            i
            for i in other.index
            if i in mine.index
            and other.loc[i, "status"] == "optimal"
            and mine.loc[i, "status"] == "optimal"
        ]
        unsolved = int((other["status"] != "optimal").sum())
        if both:
            ratio = other.loc[both, "seconds"].sum() / max(mine.loc[both, "seconds"].sum(), 1e-9)
            print(
                f"ratio_vs_{method}: {ratio:.2f} (on {len(both)} instances both solved; "
                f"{method} did not finish {unsolved})",
                file=out,
            )
        else:
            print(f"ratio_vs_{method}: n/a ({method} solved none of these to optimality)", file=out)


def _published_cap_optima(files: list[Path]) -> dict[str, float]:
    """Published optima by row name (``cap41``, ``capa-8000``) from ``known_optima.csv``.

    The file is looked for beside the instances' folder (``bench/known_optima.csv``);
    missing, it gives no optima.
    """
    out: dict[str, float] = {}
    for path in {Path(f).resolve().parent.parent / "known_optima.csv" for f in files}:
        if not path.is_file():
            continue
        table = pd.read_csv(path)
        for name, value in table.loc[table["family"] == "cflp", ["instance", "optimum"]].values:
            out[str(name).replace("@", "-")] = float(value)
    return out


def run_cap(files: list[Path], *, time_limit_s: float, out: TextIO = sys.stdout) -> list[Row]:
    """Capacitated facility location (splittable demand) on OR-Library files, 1 thread.

    The CSV has two more columns than the others: ``cpu_seconds`` (this process's CPU
    time, which a busy machine does not inflate), and ``vs_published``, the objective over
    the published optimum minus 1 (empty when ``known_optima.csv`` is not found beside
    the instances' folder). A last line sums up: how many instances were proven optimal
    and how many match the published optimum to 1e-6.

    Parameters
    ----------
    files
        ``capN.txt`` files; capa/capb/capc run once per capacity of :data:`CAP_CAPACITIES`.
    time_limit_s
        Seconds per solve (a safety net: the solver stops on its proven gap).
    out
        Where the CSV goes.

    Returns
    -------
    list of Row
        One row per instance (method ``planner``).
    """
    from planner.optimize.cflp import capacitated_fl

    optima = _published_cap_optima(files)
    rows: list[Row] = []
    matched = 0
    writer = csv.writer(out)
    writer.writerow((*HEADER, "cpu_seconds", "vs_published"))
    for f in files:
        stem = Path(f).stem
        runs: list[tuple[str, int | None]] = [(stem, None)]
        if stem in CAP_CAPACITIES:
            runs = [(f"{stem}-{c}", c) for c in CAP_CAPACITIES[stem]]
        for name, cap in runs:
            try:
                data = read_cap(f, capacity=cap)
            except DataError as err:
                logger.warning("skipped: %s", err)
                break
            t0, cpu0 = time.perf_counter(), time.process_time()
            r = capacitated_fl(*data, time_limit_s=time_limit_s, threads=1)
            status = _status(r.info.objective, r.info.bound, r.info.status)
            row = Row(
                name, "planner", r.info.objective, r.info.bound, status, time.perf_counter() - t0
            )
            rows.append(row)
            versus = ""
            if name in optima and r.info.objective is not None:
                ratio = r.info.objective / optima[name] - 1
                matched += abs(ratio) <= 1e-6
                versus = f"{ratio:.1e}"
            writer.writerow((*_fmt(row), f"{time.process_time() - cpu0:.3f}", versus))
            out.flush()
    proven = sum(r.status == "optimal" for r in rows)
    print(
        f"proven_optimal: {proven} of {len(rows)}; at_published_optimum: {matched} of "
        f"{sum(r.instance in optima for r in rows)}",
        file=out,
    )
    return rows


def run_mclp(
    path: Path,
    *,
    p: int,
    radius: float,
    methods: list[str],
    time_limit_s: float,
    out: TextIO = sys.stdout,
) -> list[Row]:
    """Maximal covering: every point is demand and candidate, Euclidean distances.

    Parameters
    ----------
    path
        CSV of ``x, y, weight``.
    p
        Number of sites to open.
    radius
        Covering distance, in the units of ``x`` and ``y``.
    methods
        ``planner`` and/or ``spopt``; others are ignored.
    time_limit_s
        Seconds per solve.
    out
        Where the CSV and ratios go.

    Returns
    -------
    list of Row
        One row per method.
    """
    from scipy.spatial import cKDTree

    from planner.config import SolverSection
    from planner.datatypes import SparseTimes
    from planner.optimize import mclp

    xy, w = read_points_csv(path)
    n = len(xy)
    pairs = cKDTree(xy).sparse_distance_matrix(cKDTree(xy), radius, output_type="coo_matrix")
    rows_i = np.concatenate([pairs.row, np.arange(n)])  # a point covers itself
    cols_j = np.concatenate([pairs.col, np.arange(n)])
    keep = np.unique(rows_i * n + cols_j)
    reach = SparseTimes(keep // n, keep % n, np.zeros(len(keep)), (n, n))
    writer = csv.writer(out)
    writer.writerow(HEADER)
    rows: list[Row] = []
    for method in methods:
        t0 = time.perf_counter()
        try:
            if method == "planner":
                r = mclp(
                    reach,
                    w,
                    site_cost=np.ones(n),
                    max_sites=p,
                    solver=SolverSection(time_limit_s=time_limit_s, mip_gap=0.0),
                )
                obj, bound = r.info.objective, r.info.bound
                status = _status(obj, bound, r.info.status)
            elif method == "spopt":
                import pulp
                from spopt.locate import MCLP

                dist = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))
                model = MCLP.from_cost_matrix(dist, w, service_radius=radius, p_facilities=p)
                model = model.solve(pulp.PULP_CBC_CMD(msg=False, timeLimit=time_limit_s))
                obj = float(pulp.value(model.problem.objective))
                bound = None
                ok = pulp.LpStatus[model.problem.status] == "Optimal"
                status = "optimal" if ok else "not_optimal"
            else:
                continue
        except Exception as err:
            logger.warning("%s failed: %s", method, err)
            obj, bound, status = None, None, "error"
        row = Row(path.stem, method, obj, bound, status, time.perf_counter() - t0)
        rows.append(row)
        writer.writerow(_fmt(row))
    print_ratios(rows, out=out)
    return rows
