"""VRPTW benchmark: PyVRP, the engine of the weekly repair tours, on Solomon's instances.

``python scripts/benchmark.py vrptw ../shared/bench/vrptw/solomon/*.txt --time-limit 5``
solves each instance for that many seconds and prints CSV
``instance,method,objective,best_known,gap,seconds``, then ``feasible: N/M``,
``max_gap: X`` and a closing ``mean_gap: X`` line (gaps are fractions:
``(found - best_known) / best_known``).

The objective is the total distance (vehicles free up to the file's fleet), as in
``solomon_bks_distance.csv``. PyVRP works in integers: distances are scaled by
:data:`SCALE` and rounded to the nearest unit for the objective, and rounded up for the
travel times, so a schedule that keeps the time windows in integers keeps them with the
exact Euclidean times too. The objective printed is recomputed from the routes with the
Euclidean distances in double precision, and the routes are checked against the
capacity and the time windows in double precision (a failed check makes the instance
infeasible: no objective, no gap).
"""

from __future__ import annotations

import csv
import itertools
import logging
import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import numpy as np
import pandas as pd

from planner.errors import data_error

logger = logging.getLogger(__name__)

HEADER = ("instance", "method", "objective", "best_known", "gap", "seconds")
#: Distances and times are multiplied by this before rounding to integers for PyVRP.
SCALE = 1000
#: Slack of the double-precision time-window check (the file's times are integers).
_EPS = 1e-6


@dataclass
class Solomon:
    """A Solomon VRPTW instance; row 0 is the depot."""

    name: str
    vehicles: int
    capacity: int
    x: np.ndarray
    y: np.ndarray
    demand: np.ndarray
    ready: np.ndarray
    due: np.ndarray
    service: np.ndarray

    def distances(self) -> np.ndarray:
        """Euclidean distances between all rows, in double precision."""
        return np.hypot(self.x[:, None] - self.x[None, :], self.y[:, None] - self.y[None, :])


def read_solomon(path: str | Path) -> Solomon:
    """Read a Solomon text file.

    Parameters
    ----------
    path
        The instance name on the first line, a ``VEHICLE`` block (count and capacity),
        then a ``CUSTOMER`` block: per row id, x, y, demand, ready time, due date and
        service time; row 0 is the depot.

    Returns
    -------
    Solomon
        The instance.

    Raises
    ------
    DataError
        The file does not follow that layout.
    """
    path = Path(path)
    try:
        lines = path.read_text().splitlines()
        name = lines[0].strip() or path.stem
        words = [ln.split() for ln in lines]
        v_at = next(i for i, w in enumerate(words) if w[:1] == ["VEHICLE"])
        fleet = next(w for w in words[v_at + 1 :] if w and w[0].isdigit())
        c_at = next(i for i, w in enumerate(words) if w[:1] == ["CUSTOMER"])
        rows = [w for w in words[c_at + 1 :] if w and w[0].isdigit()]
        table = np.array(rows, dtype=float)
    except (OSError, StopIteration, ValueError) as err:
        raise data_error(path, f"not a Solomon VRPTW file ({err})") from None
    if table.ndim != 2 or table.shape[1] != 7 or table[0, 0] != 0:
        raise data_error(path, "not a Solomon VRPTW file (7 columns, depot first)")
    return Solomon(
        name=name,
        vehicles=int(fleet[0]),
        capacity=int(fleet[1]),
        x=table[:, 1],
        y=table[:, 2],
        demand=table[:, 3].astype(np.int64),
        ready=table[:, 4],
        due=table[:, 5],
        service=table[:, 6],
    )


def solve_solomon(
    inst: Solomon,
    *,
    time_limit_s: float | None = None,
    iterations: int | None = None,
    seed: int = 1,
) -> tuple[list[list[int]] | None, float]:
    """Solve an instance with PyVRP for a time or a number of iterations.

    Parameters
    ----------
    inst
        The instance.
    time_limit_s
        Seconds of search (PyVRP's ``MaxRuntime``).
    iterations
        Iterations of search (``MaxIterations``: the same result on any machine); the
        search stops at whichever limit comes first, and one must be given.
    seed
        PyVRP's random seed.

    Returns
    -------
    routes, seconds
        The customers (row numbers) of each route in order, None when PyVRP found no
        feasible solution; and the wall-clock seconds of the model build and solve.
    """
    from pyvrp import Model
    from pyvrp.stop import MaxIterations, MaxRuntime, MultipleCriteria, StoppingCriterion

    limits: list[StoppingCriterion] = []
    if time_limit_s is not None:
        limits.append(MaxRuntime(time_limit_s))
    if iterations is not None:
        limits.append(MaxIterations(iterations))
    if not limits:
        msg = "solve_solomon: give time_limit_s or iterations"
        raise ValueError(msg)
    t0 = time.perf_counter()
    d = inst.distances() * SCALE
    dist = np.rint(d).astype(np.int64)
    dur = np.ceil(d - 1e-9).astype(np.int64)
    model = Model()
    locs = [model.add_location(x=float(x), y=float(y)) for x, y in zip(inst.x, inst.y, strict=True)]
    depot = model.add_depot(locs[0], tw_early=_scaled(inst.ready[0]), tw_late=_scaled(inst.due[0]))
    model.add_vehicle_type(
        num_available=inst.vehicles,
        capacity=inst.capacity,
        start_depot=depot,
        end_depot=depot,
        tw_early=_scaled(inst.ready[0]),
        tw_late=_scaled(inst.due[0]),
    )
    for i in range(1, len(locs)):
        model.add_client(
            locs[i],
            delivery=int(inst.demand[i]),
            service_duration=_scaled(inst.service[i]),
            tw_early=_scaled(inst.ready[i]),
            tw_late=_scaled(inst.due[i]),
        )
    for i, a in enumerate(locs):
        for j, b in enumerate(locs):
            if i != j:
                model.add_edge(a, b, distance=int(dist[i, j]), duration=int(dur[i, j]))
    result = model.solve(stop=MultipleCriteria(limits), seed=seed, display=False)
    seconds = time.perf_counter() - t0
    if not result.is_feasible():
        return None, seconds
    # PyVRP numbers the clients from 0, in the order added: the file's rows 1..n
    routes = [[a.idx + 1 for a in route if a.is_client()] for route in result.best.routes()]
    return routes, seconds


def _scaled(value: float) -> int:
    return round(float(value) * SCALE)


def route_distance(inst: Solomon, routes: list[list[int]]) -> float:
    """Total Euclidean distance of routes from and back to the depot, double precision."""
    d = inst.distances()
    total = 0.0
    for r in routes:
        stops = [0, *r, 0]
        total += float(sum(d[a, b] for a, b in itertools.pairwise(stops)))
    return total


def check_routes(inst: Solomon, routes: list[list[int]]) -> str | None:
    """Why routes are not a feasible solution in double precision, or None if they are.

    Every customer once, at most the fleet, the capacity on each route, service started
    within each customer's window (waiting when early) and the depot reached by its due
    date.
    """
    d = inst.distances()
    seen = sorted(c for r in routes for c in r)
    if seen != list(range(1, len(inst.x))):
        return "customers not served exactly once"
    if sum(1 for r in routes if r) > inst.vehicles:
        return f"{len(routes)} routes for {inst.vehicles} vehicles"
    for r in routes:
        if int(inst.demand[r].sum()) > inst.capacity:
            return f"route {r} over capacity"
        t, prev = float(inst.ready[0]), 0
        for c in r:
            t = max(t + d[prev, c], float(inst.ready[c]))
            if t > inst.due[c] + _EPS:
                return f"customer {c} reached at {t:.4f} after its due date {inst.due[c]:g}"
            t += float(inst.service[c])
            prev = c
        if t + d[prev, 0] > inst.due[0] + _EPS:
            return f"route {r} back after the depot's due date"
    return None


def read_best_known(path: Path) -> dict[str, float]:
    """Best-known total distances by instance name (``solomon_bks_distance.csv``)."""
    table = pd.read_csv(path)
    return dict(
        zip(table["instance"].astype(str), table["best_known_distance"].astype(float), strict=True)
    )


def best_known_file(files: list[Path]) -> Path | None:
    """``solomon_bks_distance.csv`` beside the instance files or in their parent folder."""
    for folder in {f.resolve().parent for f in files}:
        for cand in (
            folder / "solomon_bks_distance.csv",
            folder.parent / "solomon_bks_distance.csv",
        ):
            if cand.is_file():
                return cand
    return None


def run_vrptw(
    files: list[Path],
    *,
    time_limit_s: float,
    seed: int = 1,
    best_known: Path | None = None,
    out: TextIO = sys.stdout,
) -> list[dict[str, object]]:
    """Solve Solomon instances with PyVRP and print the CSV and the gaps.

    Parameters
    ----------
    files
        Solomon ``.txt`` files.
    time_limit_s
        Seconds per instance.
    seed
        PyVRP's seed.
    best_known
        The best-known distances; default ``solomon_bks_distance.csv`` beside the files
        or in their parent folder.
    out
        Where the CSV and the closing lines go.

    Returns
    -------
    list of dict
        One row per instance: the CSV's columns (objective and gap None when infeasible).
    """
    bks_path = best_known or best_known_file(files)
    bks = read_best_known(bks_path) if bks_path is not None else {}
    writer = csv.writer(out)
    writer.writerow(HEADER)
    rows: list[dict[str, object]] = []
    for path in files:
        inst = read_solomon(path)
        routes, seconds = solve_solomon(inst, time_limit_s=time_limit_s, seed=seed)
        why = "no feasible solution found" if routes is None else check_routes(inst, routes)
        objective = None if routes is None or why else route_distance(inst, routes)
        if why:
            logger.warning("%s: infeasible: %s", inst.name, why)
        known = bks.get(inst.name)
        gap = None if objective is None or known is None else (objective - known) / known
        rows.append(
            {
                "instance": inst.name,
                "method": "pyvrp",
                "objective": objective,
                "best_known": known,
                "gap": gap,
                "seconds": seconds,
            }
        )
        writer.writerow(
            (
                inst.name,
                "pyvrp",
                "" if objective is None else f"{objective:.2f}",
                "" if known is None else f"{known:g}",
                "" if gap is None else f"{round(gap, 5) + 0.0:.5f}",
                f"{seconds:.2f}",
            )
        )
        out.flush()
    _closing(rows, out)
    return rows


def _closing(rows: list[dict[str, object]], out: TextIO) -> None:
    """The ``feasible``, ``max_gap`` and closing ``mean_gap`` lines."""
    feasible = sum(r["objective"] is not None for r in rows)
    gaps = [float(g) for r in rows if isinstance(g := r["gap"], float)]
    print(f"feasible: {feasible}/{len(rows)}", file=out)
    if gaps:
        print(f"max_gap: {max(gaps):.5f}", file=out)
    print(f"mean_gap: {sum(gaps) / len(gaps) if gaps else math.nan:.5f}", file=out)
