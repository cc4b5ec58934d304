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

from benchmarks.instances import (
    CAP_CAPACITIES,
    read_cap,
    read_pmed,
    read_points_csv,
    read_sites_csv,
)
from planner.datatypes import SparseTimes
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


def run_mclp(  # noqa: PLR0913 - the instance, then the methods and their limits
    path: Path | None,
    *,
    sites: tuple[Path, Path] | None = None,
    p: int,
    radius: float,
    methods: list[str],
    time_limit_s: float,
    mip_gap: float = 0.0,
    node_limit: int | None = None,
    checkpoints: tuple[float, ...] = (),
    out: TextIO = sys.stdout,
) -> list[Row]:
    """Maximal covering with Euclidean distances, every method on the same pairs.

    Parameters
    ----------
    path
        CSV of ``x, y, weight`` whose points are both demand and candidates (a point
        covers itself); or None with ``sites``.
    sites
        ``(sites CSV of x, y; demand CSV of x, y, weight)``.
    p
        Number of sites to open.
    radius
        Covering distance, in the units of ``x`` and ``y``.
    methods
        ``planner`` (:func:`~planner.optimize.mclp_large.solve_mclp`), ``highs`` (the
        compact model of :func:`~planner.optimize.mclp.mclp` in HiGHS), ``spopt``.
    time_limit_s
        Seconds per solve (a safety net: a solve it stops says ``time_limit``).
    mip_gap
        Relative gap at which a solve may stop as optimal.
    node_limit
        Branch-and-bound nodes per solve (None: none).
    checkpoints
        Seconds at which the planner's gap is also printed.
    out
        Where the CSV, the ratios and the gaps go.

    Returns
    -------
    list of Row
        One row per method.
    """
    if sites is not None:
        site_xy = read_sites_csv(sites[0])
        xy, w = read_points_csv(sites[1])
        name = Path(sites[1]).stem
        reach = _reach(xy, site_xy, radius, same=False)
    elif path is not None:
        xy, w = read_points_csv(path)
        site_xy, name = xy, path.stem
        reach = _reach(xy, xy, radius, same=True)
    else:
        raise DataError("mclp: give a points CSV or --sites SITES.csv DEMAND.csv")
    writer = csv.writer(out)
    writer.writerow(HEADER)
    rows: list[Row] = []
    notes: list[str] = []
    for method in methods:
        t0 = time.perf_counter()
        try:
            if method not in MCLP_METHODS:
                continue
            obj, bound, status, extra = MCLP_METHODS[method](
                reach, w, xy, site_xy, p, radius, time_limit_s, mip_gap, node_limit, checkpoints
            )
        except Exception as err:
            logger.warning("%s failed: %s", method, err)
            obj, bound, status, extra = None, None, "error", []
        row = Row(name, method, obj, bound, status, time.perf_counter() - t0)
        rows.append(row)
        writer.writerow(_fmt(row))
        out.flush()
        notes += [f"{method}_{line}" for line in extra]
        gap = _gap_text(obj, bound)
        notes.append(f"gap_{method}: {gap} in {row.seconds:.1f} s ({status})")
    print_ratios(rows, out=out)
    for line in notes:
        print(line, file=out)
    return rows


def _reach(demand: np.ndarray, site_xy: np.ndarray, radius: float, *, same: bool) -> SparseTimes:
    """Demand x site pairs within ``radius`` (distance as minutes)."""
    from scipy.spatial import cKDTree

    pairs = cKDTree(demand).sparse_distance_matrix(
        cKDTree(site_xy), radius, output_type="coo_matrix"
    )
    rows_i, cols_j, dist = pairs.row, pairs.col, pairs.data
    if same:  # a point covers itself (distance 0 is not stored)
        n = len(demand)
        rows_i = np.concatenate([rows_i, np.arange(n)])
        cols_j = np.concatenate([cols_j, np.arange(n)])
        dist = np.concatenate([dist, np.zeros(n)])
    key = rows_i.astype(np.int64) * len(site_xy) + cols_j
    _, first = np.unique(key, return_index=True)
    return SparseTimes(rows_i[first], cols_j[first], dist[first], (len(demand), len(site_xy)))


def _gap_text(obj: float | None, bound: float | None) -> str:
    if obj is None or bound is None:
        return "n/a"
    return f"{100 * (bound - obj) / max(abs(obj), 1e-9):.3f}%"


MclpRun = tuple[float | None, float | None, str, list[str]]


def _mclp_planner(  # noqa: PLR0913 - one signature for every method
    reach: SparseTimes,
    w: np.ndarray,
    xy: np.ndarray,
    site_xy: np.ndarray,
    p: int,
    radius: float,
    time_limit_s: float,
    mip_gap: float,
    node_limit: int | None,
    checkpoints: tuple[float, ...],
) -> MclpRun:
    from planner.optimize.covering_reduce import coverage_matrix
    from planner.optimize.mclp_large import solve_mclp

    cover = coverage_matrix(reach.rows, reach.cols, reach.shape)
    r = solve_mclp(
        cover,
        w,
        max_sites=p,
        mip_gap=mip_gap,
        node_limit=node_limit,
        time_limit_s=time_limit_s,
        checkpoints=checkpoints,
    )
    extra = [
        f"at_{t:g}s_cpu: gap {_gap_text(v, b)} (plan {v:.6g}, bound {b:.6g}, {n} nodes)"
        for t, n, v, b in r.trace
    ]
    extra.append(
        f"detail: heuristic {r.heuristic_weight:.6g}, root bound {r.root_bound:.6g}, "
        f"{r.rows} rows -> {r.merged_rows} merged, {r.sites} sites -> {r.free_sites} "
        f"({r.dominated} dominated), {r.root_fixed} fixed at the root, {r.nodes} nodes, "
        f"{r.lp_iterations} simplex iterations, {r.cuts} row cuts in the relaxation, "
        f"{r.cpu_seconds:.1f} CPU s"
    )
    return r.covered_weight, r.bound, r.status, extra


def _mclp_highs(  # noqa: PLR0913 - one signature for every method
    reach: SparseTimes,
    w: np.ndarray,
    xy: np.ndarray,
    site_xy: np.ndarray,
    p: int,
    radius: float,
    time_limit_s: float,
    mip_gap: float,
    node_limit: int | None,
    checkpoints: tuple[float, ...],
) -> MclpRun:
    from planner.config import SolverSection
    from planner.optimize import mclp

    r = mclp(
        reach,
        w,
        site_cost=np.ones(reach.shape[1]),
        max_sites=p,
        solver=SolverSection(time_limit_s=time_limit_s, mip_gap=mip_gap, node_limit=node_limit),
    )
    obj, bound = r.info.objective, r.info.bound
    return obj, bound, _status(obj, bound, r.info.status), []


def _mclp_spopt(  # noqa: PLR0913 - one signature for every method
    reach: SparseTimes,
    w: np.ndarray,
    xy: np.ndarray,
    site_xy: np.ndarray,
    p: int,
    radius: float,
    time_limit_s: float,
    mip_gap: float,
    node_limit: int | None,
    checkpoints: tuple[float, ...],
) -> MclpRun:
    import pulp
    from spopt.locate import MCLP

    dist = np.hypot(*(xy[:, None, :] - site_xy[None, :, :]).transpose(2, 0, 1))
    model = MCLP.from_cost_matrix(dist, w, service_radius=radius, p_facilities=p)
    model = model.solve(pulp.PULP_CBC_CMD(msg=False, timeLimit=time_limit_s))
    obj = float(pulp.value(model.problem.objective))
    ok = pulp.LpStatus[model.problem.status] == "Optimal"
    return obj, None, "optimal" if ok else "not_optimal", []


MCLP_METHODS: dict[str, Callable[..., MclpRun]] = {
    "planner": _mclp_planner,
    "highs": _mclp_highs,
    "spopt": _mclp_spopt,
}
