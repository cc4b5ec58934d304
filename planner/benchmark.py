"""Benchmarks: published instances against baselines, timed in the same run.

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

import numpy as np
import pandas as pd
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import shortest_path

from planner.errors import DataError, data_error

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


def read_pmed(path: str | Path) -> tuple[np.ndarray, int]:
    """An OR-Library p-median file as a shortest-path cost matrix and p.

    Edges are read in order and a repeated edge keeps its last cost (the OR-Library
    convention, which the published optima assume); then all-pairs shortest paths.

    Parameters
    ----------
    path
        ``pmedN.txt``: ``n edges p`` then ``i j cost`` per edge, 1-based, undirected.

    Returns
    -------
    d, p
        The n x n cost matrix and the number of medians.
    """
    path = Path(path)
    try:
        tokens = path.read_text().split()
        n, e, p = int(tokens[0]), int(tokens[1]), int(tokens[2])
        edges = np.array(tokens[3 : 3 + 3 * e], dtype=np.int64).reshape(-1, 3)
    except (OSError, ValueError, IndexError) as err:
        raise data_error(path, f"not an OR-Library p-median file ({err})") from None
    if len(edges) != e:
        raise data_error(path, f"header says {e} edges, the file has {len(edges)}")
    i = np.minimum(edges[:, 0], edges[:, 1]) - 1
    j = np.maximum(edges[:, 0], edges[:, 1]) - 1
    last = pd.DataFrame({"i": i, "j": j, "c": edges[:, 2]}).drop_duplicates(["i", "j"], keep="last")
    graph = csr_matrix((last["c"], (last["i"], last["j"])), shape=(n, n))
    return shortest_path(graph, directed=False), p


def _pmed_planner(d: np.ndarray, p: int, time_limit_s: float) -> tuple[float, float, str]:
    from planner.optimize.pmedian import p_median

    r = p_median(d, np.ones(len(d)), p, time_limit_s=time_limit_s, mip_gap=0.0)
    return r.objective, r.info.bound, r.info.status


def _pmed_dense(d: np.ndarray, p: int, time_limit_s: float) -> tuple[float, float, str]:
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


def _pmed_spopt(d: np.ndarray, p: int, time_limit_s: float) -> tuple[float, float, str]:
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


PMED_METHODS: dict[str, Callable[[np.ndarray, int, float], tuple[float, float, str]]] = {
    "planner": _pmed_planner,
    "dense": _pmed_dense,
    "spopt": _pmed_spopt,
}


def available(methods: Iterable[str]) -> list[str]:
    """The methods that can run here (spopt is an optional extra)."""
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
    files: list[Path], methods: list[str], *, time_limit_s: float, out: object = sys.stdout
) -> list[Row]:
    """Run the p-median benchmark and print its CSV and ratios."""
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


def print_ratios(rows: list[Row], *, out: object = sys.stdout, ours: str = "planner") -> None:
    """``ratio_vs_<method>``: baseline seconds / ours, where both proved optimality."""
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


def run_matrix(
    nodes: int, origins: int, destinations: int, *, seed: int = 1, out: object = sys.stdout
) -> float:
    """Travel-time matrix on a demo county graph of about ``nodes`` nodes vs networkx.

    Both compute the drive times from ``origins`` to ``destinations`` graph nodes on the
    same directed graph (no cutoff); the results must agree. Returns networkx's time
    over ours, also printed as ``ratio_vs_networkx``.
    """
    import tempfile

    import networkx as nx

    from planner.datatypes import Snap
    from planner.demo import build_demo
    from planner.ingest.crs import metric_crs
    from planner.ingest.osm import read_osm
    from planner.network import build_graph, travel_times

    with tempfile.TemporaryDirectory(prefix="planner-bench-") as tmp:
        build_demo(Path(tmp) / "demo", scale=max(0.2, nodes / 5400), seed=seed)
        roads = read_osm(Path(tmp) / "demo" / "qingxi.osm.pbf").roads
    crs = metric_crs(__import__("shapely").Point(117.3, 28.3))
    graph = build_graph(roads, crs, speeds_kmh={})
    rng = np.random.default_rng(seed)
    src = rng.choice(graph.n_nodes, size=min(origins, graph.n_nodes), replace=False)
    dst = rng.choice(graph.n_nodes, size=min(destinations, graph.n_nodes), replace=False)
    zero_s, zero_d = np.zeros(len(src)), np.zeros(len(dst))
    t0 = time.perf_counter()
    ours = travel_times(
        graph,
        Snap(src, zero_s, zero_s),
        Snap(dst, zero_d, zero_d),
        cutoff_min=1e9,
        to_sources=False,
    )
    t_ours = time.perf_counter() - t0
    g = nx.DiGraph()
    g.add_weighted_edges_from(
        zip(graph.tail.tolist(), graph.head.tolist(), graph.time_s.tolist(), strict=True)
    )
    t0 = time.perf_counter()
    ref = np.full((len(src), len(dst)), np.inf)
    for k, s in enumerate(src.tolist()):
        dist = nx.single_source_dijkstra_path_length(g, s, weight="weight")
        ref[k] = [dist.get(t, np.inf) for t in dst.tolist()]
    t_nx = time.perf_counter() - t0
    mine = np.full((len(src), len(dst)), np.inf)
    mine[ours.rows, ours.cols] = ours.minutes * 60.0
    if not np.allclose(mine, ref, rtol=1e-9, atol=1e-6):
        msg = "travel times differ from networkx's"
        raise AssertionError(msg)
    writer = csv.writer(out)
    writer.writerow(("graph_nodes", "graph_edges", "origins", "destinations", "method", "seconds"))
    for method, secs in (("planner", t_ours), ("networkx", t_nx)):
        writer.writerow((graph.n_nodes, graph.n_edges, len(src), len(dst), method, f"{secs:.3f}"))
    ratio = t_nx / max(t_ours, 1e-9)
    print("results equal: yes", file=out)
    print(f"ratio_vs_networkx: {ratio:.1f}", file=out)
    return ratio


#: Capacities at which capa/capb/capc have published optima (OR-Library capopt).
CAP_CAPACITIES = {
    "capa": (8000, 10000, 12000, 14000),
    "capb": (5000, 6000, 7000, 8000),
    "capc": (5000, 5750, 6500, 7250),
}


def read_cap(
    path: str | Path, *, capacity: float | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """An OR-Library capacitated warehouse location file.

    Parameters
    ----------
    path
        ``capN.txt``: ``m n``; m lines ``capacity fixed_cost``; per customer its demand
        and m costs of serving all its demand from each warehouse (lines may wrap).
    capacity
        For capa/capb/capc, whose files say ``capacity`` instead of a number.

    Returns
    -------
    fixed, capacities, demand, cost
        ``cost`` is (customers, warehouses).
    """
    path = Path(path)
    tokens = path.read_text().split()
    try:
        m, n = int(tokens[0]), int(tokens[1])
        pos = 2
        caps, fixed = [], []
        for _ in range(m):
            word = tokens[pos]
            if word == "capacity":
                if capacity is None:
                    raise data_error(
                        path,
                        "capacities are given as the word 'capacity'",
                        hint="pass the capacity to use",
                    )
                caps.append(float(capacity))
            else:
                caps.append(float(word))
            fixed.append(float(tokens[pos + 1]))
            pos += 2
        demand = np.empty(n)
        cost = np.empty((n, m))
        for i in range(n):
            demand[i] = float(tokens[pos])
            cost[i] = np.array(tokens[pos + 1 : pos + 1 + m], dtype=float)
            pos += 1 + m
    except (ValueError, IndexError) as err:
        raise data_error(path, f"not an OR-Library capacitated location file ({err})") from None
    return np.array(fixed), np.array(caps), demand, cost


def run_cap(files: list[Path], *, time_limit_s: float, out: object = sys.stdout) -> list[Row]:
    """Capacitated facility location (splittable demand) on OR-Library files."""
    from planner.optimize.cflp import capacitated_fl

    rows: list[Row] = []
    writer = csv.writer(out)
    writer.writerow(HEADER)
    for f in files:
        stem = Path(f).stem
        runs = [(stem, None)]
        if stem in CAP_CAPACITIES:
            runs = [(f"{stem}-{c}", c) for c in CAP_CAPACITIES[stem]]
        for name, cap in runs:
            try:
                data = read_cap(f, capacity=cap)
            except DataError as err:
                logger.warning("skipped: %s", err)
                break
            t0 = time.perf_counter()
            r = capacitated_fl(*data, time_limit_s=time_limit_s)
            status = _status(r.info.objective, r.info.bound, r.info.status)
            row = Row(
                name, "planner", r.info.objective, r.info.bound, status, time.perf_counter() - t0
            )
            rows.append(row)
            writer.writerow(_fmt(row))
            out.flush()
    return rows


def read_points_csv(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """``x, y, weight`` columns of a CSV as coordinates and weights."""
    path = Path(path)
    try:
        table = pd.read_csv(path)
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        raise data_error(path, f"cannot read ({err})") from None
    for col in ("x", "y", "weight"):
        if col not in table.columns:
            raise data_error(
                path, "column not found", field=col, hint="the MCLP benchmark wants x, y, weight"
            )
    return table[["x", "y"]].to_numpy(dtype=float), table["weight"].to_numpy(dtype=float)


def random_points(n: int, *, seed: int = 1) -> pd.DataFrame:
    """Clustered random points with integer weights, for the MCLP benchmark."""
    rng = np.random.default_rng(seed)
    centres = rng.uniform(0, 100, size=(max(1, n // 50), 2))
    which = rng.integers(len(centres), size=n)
    xy = centres[which] + rng.normal(0, 4, size=(n, 2))
    return pd.DataFrame(
        {"x": xy[:, 0].round(3), "y": xy[:, 1].round(3), "weight": rng.integers(1, 100, n)}
    )


def run_mclp(
    path: Path,
    *,
    p: int,
    radius: float,
    methods: list[str],
    time_limit_s: float,
    out: object = sys.stdout,
) -> list[Row]:
    """Maximal covering: every point is demand and candidate, Euclidean distances."""
    from scipy.spatial import cKDTree

    from planner.config import SolverSection
    from planner.datatypes import SparseTimes
    from planner.optimize.models import mclp

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
