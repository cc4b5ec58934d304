"""Readers of the benchmark instances: OR-Library p-median and capacitated location files,
and point sets for maximal covering (CSV of ``x, y, weight`` for demand, ``x, y`` for
candidate sites), with generators for both.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import shortest_path

from planner.errors import data_error


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


def read_points_csv(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """``x, y, weight`` columns of a CSV as coordinates and weights.

    Parameters
    ----------
    path
        A CSV with columns ``x``, ``y`` and ``weight`` (others are ignored).

    Returns
    -------
    xy, weight
        (n, 2) coordinates and (n,) weights.
    """
    table = _read_columns(path, ("x", "y", "weight"), "the MCLP demand wants x, y, weight")
    return table[["x", "y"]].to_numpy(dtype=float), table["weight"].to_numpy(dtype=float)


def read_sites_csv(path: str | Path) -> np.ndarray:
    """``x, y`` columns of a CSV of candidate sites, as (n, 2) coordinates."""
    table = _read_columns(path, ("x", "y"), "the MCLP sites want x, y")
    return table[["x", "y"]].to_numpy(dtype=float)


def _read_columns(path: str | Path, columns: tuple[str, ...], hint: str) -> pd.DataFrame:
    path = Path(path)
    try:
        table = pd.read_csv(path)
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        raise data_error(path, f"cannot read ({err})") from None
    for col in columns:
        if col not in table.columns:
            raise data_error(path, "column not found", field=col, hint=hint)
    bad = ~np.isfinite(table[list(columns)].to_numpy(dtype=float)).all(axis=1)
    if bad.any():
        raise data_error(path, "not a finite number", row=int(np.flatnonzero(bad)[0]) + 2)
    return table


def uniform_sites_and_demand(
    n_sites: int,
    n_demand: int,
    *,
    square: float = 30.0,
    weights: tuple[int, int] = (1, 100),
    seed: int = 1,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Candidate sites and weighted demand uniform in a square (the large MCLP class).

    Parameters
    ----------
    n_sites, n_demand
        Number of sites and of demand points.
    square
        Side of the square ``[0, square]^2``.
    weights
        Smallest and largest integer weight (both included).
    seed
        Seed of the random generator (sites are drawn first, then demand, then weights).

    Returns
    -------
    sites, demand
        Columns ``x, y`` and ``x, y, weight``.
    """
    rng = np.random.default_rng(seed)
    sites = rng.uniform(0, square, size=(n_sites, 2))
    demand = rng.uniform(0, square, size=(n_demand, 2))
    w = rng.integers(weights[0], weights[1] + 1, n_demand)
    return (
        pd.DataFrame({"x": sites[:, 0], "y": sites[:, 1]}),
        pd.DataFrame({"x": demand[:, 0], "y": demand[:, 1], "weight": w}),
    )


def random_points(n: int, *, seed: int = 1) -> pd.DataFrame:
    """Clustered random points with integer weights, for the MCLP benchmark.

    Parameters
    ----------
    n
        Number of points (in clusters of about 50 around uniform centres on 100 x 100).
    seed
        Seed of the random generator.

    Returns
    -------
    DataFrame
        Columns ``x``, ``y`` and ``weight`` (1-99).
    """
    rng = np.random.default_rng(seed)
    centres = rng.uniform(0, 100, size=(max(1, n // 50), 2))
    which = rng.integers(len(centres), size=n)
    xy = centres[which] + rng.normal(0, 4, size=(n, 2))
    return pd.DataFrame(
        {"x": xy[:, 0].round(3), "y": xy[:, 1].round(3), "weight": rng.integers(1, 100, n)}
    )
