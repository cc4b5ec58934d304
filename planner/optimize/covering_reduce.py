r"""Exact reductions of a maximal covering instance, before any search.

The instance is the classic MCLP of :mod:`~planner.optimize.mclp_large` given as
demand x site pairs. :func:`reduce_cover` returns the smaller problem the search works
on (:class:`CoverInstance`), with the same optimum up to a constant:

* sites fixed open (``required`` and ``existing``) are taken out with the demand they
  cover, whose weight becomes a constant; ``required`` sites use up ``p`` and the budget
  (``existing`` ones do not); groups with a fixed-open member are met;
* ``excluded`` sites, and sites dearer than the budget left, are taken out;
* demand rows no remaining site reaches, and rows of weight 0, are taken out;
* **site dominance**: a free site ``j`` whose rows are a subset of a free site ``k``'s,
  with ``f_k <= f_j`` and every group of ``j`` also a group of ``k``, is taken out
  (in any plan ``j`` can be replaced by ``k``, or dropped if ``k`` is open, without
  losing coverage or breaking a rule); of sites equal in all three, the first stays;
* **row merging**: demand rows reached by the same sites become one row whose weight is
  their sum (the LP and the integer optimum are unchanged).

Site dominance needs the site x site overlap counts ``A^T A``; it is skipped (and logged)
when that product would cost more than :data:`DOMINANCE_MAX_WORK` multiply-adds.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse

from planner.errors import DataError, InfeasibleError

logger = logging.getLogger(__name__)

#: Most multiply-adds (``sum_i |N_i|^2``) spent on the site dominance test.
DOMINANCE_MAX_WORK = 50_000_000


@dataclass
class CoverInstance:
    """A reduced maximal covering instance (see the module docstring).

    Attributes
    ----------
    a
        Rows x free sites, 1.0 where the site reaches the row (CSR, sorted indices).
    at
        Its transpose (CSR: one row per site).
    weight
        Weight of each (merged) row.
    cost
        ``f_j`` of each free site (zeros without a budget).
    max_sites
        Sites that may still open (None: no limit).
    budget
        Budget left (None: no budget).
    groups
        Free-site indices of each group not met yet: at least one must open.
    sites
        Original index of each free site.
    fixed_open
        Original indices of the sites open by rule (required and existing).
    base_weight
        Weight covered by ``fixed_open``.
    total_weight
        Weight of all demand (covered or not).
    dominated
        Sites taken out by dominance.
    """

    a: sparse.csr_matrix
    at: sparse.csr_matrix
    weight: np.ndarray
    cost: np.ndarray
    max_sites: int | None
    budget: float | None
    groups: list[np.ndarray]
    sites: np.ndarray
    fixed_open: np.ndarray
    base_weight: float
    total_weight: float
    dominated: int = 0
    group_of: sparse.csr_matrix = field(init=False)

    def __post_init__(self) -> None:
        n = len(self.sites)
        rows = np.concatenate([g for g in self.groups]) if self.groups else np.zeros(0, int)
        cols = np.repeat(np.arange(len(self.groups)), [len(g) for g in self.groups])
        #: sites x groups incidence (1.0 where the site belongs to the group)
        self.group_of = sparse.csr_matrix(
            (np.ones(len(rows)), (rows, cols)), shape=(n, len(self.groups))
        )

    @functools.cached_property
    def group_cheapest(self) -> np.ndarray:
        """The cheapest cost in each group."""
        return np.array([self.cost[g].min() for g in self.groups])

    @functools.cached_property
    def nnz_row(self) -> np.ndarray:
        """Row of each stored entry of ``a``."""
        return np.repeat(np.arange(self.a.shape[0]), np.diff(self.a.indptr))

    @property
    def n_sites(self) -> int:
        """Free sites."""
        return len(self.sites)

    def covered_weight(self, chosen: np.ndarray) -> float:
        """Weight of the rows reached by the free sites ``chosen`` (indices), without
        the base weight."""
        if len(chosen) == 0:
            return 0.0
        y = np.zeros(self.n_sites)
        y[chosen] = 1.0
        return float(self.weight @ ((self.a @ y) > 0.5))

    def feasible(self, chosen: np.ndarray) -> bool:
        """``chosen`` keeps the count, the budget and every group."""
        chosen = np.asarray(chosen, dtype=np.int64)
        if self.max_sites is not None and len(chosen) > self.max_sites:
            return False
        if self.budget is not None and self.cost[chosen].sum() > self.budget * (1 + 1e-12):
            return False
        if self.groups:
            met = np.asarray(self.group_of[chosen].sum(axis=0)).ravel()
            if (met < 0.5).any():
                return False
        return True


def coverage_matrix(
    rows: np.ndarray, cols: np.ndarray, shape: tuple[int, int]
) -> sparse.csr_matrix:
    """Demand x site pairs as a 0/1 CSR matrix (repeated pairs count once)."""
    a = sparse.csr_matrix(
        (np.ones(len(rows)), (np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64))),
        shape=shape,
    )
    a.sum_duplicates()
    a.data[:] = 1.0
    a.sort_indices()
    return a


def merge_rows(a: sparse.csr_matrix, weight: np.ndarray) -> tuple[sparse.csr_matrix, np.ndarray]:
    """Rows with the same sites merged into one, their weights summed.

    The kept rows are in the order of their first occurrence; empty rows are dropped.
    Rows are keyed by length and two 64-bit sums of random site codes, then each row is
    compared entry by entry with its key's first row, so the merge is exact.
    """
    a = sparse.csr_matrix(a)
    a.sort_indices()
    lens = np.diff(a.indptr)
    keep = np.flatnonzero(lens > 0)
    a, weight, lens = a[keep], np.asarray(weight, dtype=float)[keep], lens[keep]
    if a.shape[0] == 0:
        return a, weight
    rng = np.random.default_rng(20240617)
    codes = rng.integers(1, 2**63, size=(2, a.shape[1]), dtype=np.uint64)
    starts = a.indptr[:-1]
    h1 = np.add.reduceat(codes[0][a.indices], starts)
    h2 = np.add.reduceat(codes[1][a.indices], starts)
    order = np.lexsort((h2, h1, lens))
    change = np.ones(len(order), dtype=bool)
    change[1:] = (
        (lens[order][1:] != lens[order][:-1])
        | (h1[order][1:] != h1[order][:-1])
        | (h2[order][1:] != h2[order][:-1])
    )
    key_id = np.empty(len(order), dtype=np.int64)
    key_id[order] = np.cumsum(change) - 1
    first = np.full(int(key_id.max()) + 1, len(order), dtype=np.int64)
    np.minimum.at(first, key_id, np.arange(len(order)))
    rep = first[key_id]
    # exact check: every row against its key's first row
    pos = np.arange(a.nnz) - np.repeat(starts, lens)
    same = a.indices == a.indices[np.repeat(a.indptr[rep], lens) + pos]
    bad = np.flatnonzero(~np.logical_and.reduceat(same, starts))
    for i in bad:  # a hash collision: the row stays on its own
        rep[i] = i
    group_first, group = np.unique(rep, return_inverse=True)
    merged = np.bincount(group, weights=weight, minlength=len(group_first))
    return a[group_first], merged


def dominated_sites(
    a: sparse.csr_matrix, cost: np.ndarray, group_of: sparse.csr_matrix
) -> np.ndarray:
    """Boolean per site: dominated by another (see the module docstring)."""
    n = a.shape[1]
    lens = np.diff(a.indptr).astype(np.float64)
    work = float((lens**2).sum())
    if work > DOMINANCE_MAX_WORK:
        logger.info("site dominance skipped: %.3g multiply-adds", work)
        return np.zeros(n, dtype=bool)
    at = a.T.tocsr()
    overlap = (at @ a).tocoo()
    deg = np.diff(at.indptr)
    j, k = overlap.row, overlap.col
    sub = (j != k) & (overlap.data == deg[j]) & (cost[k] <= cost[j])
    j, k = j[sub], k[sub]
    if group_of.shape[1]:
        gj = group_of[j]
        gk = group_of[k]
        lacking = np.asarray((gj - gj.multiply(gk)).sum(axis=1)).ravel()
        j, k = j[lacking < 0.5], k[lacking < 0.5]
        gdeg = np.diff(group_of.indptr)
        groups_equal = gdeg[j] == gdeg[k]
    else:
        groups_equal = np.ones(len(j), dtype=bool)
    # equal in rows, cost and groups: the lower index stays
    equal = (deg[j] == deg[k]) & (cost[j] == cost[k]) & groups_equal
    drop = ~equal | (k < j)
    out = np.zeros(n, dtype=bool)
    out[j[drop]] = True
    return out


def reduce_cover(  # noqa: PLR0913 - the instance's arrays, then its rules
    a: sparse.csr_matrix,
    weight: np.ndarray,
    *,
    site_cost: np.ndarray | None = None,
    max_sites: int | None = None,
    budget: float | None = None,
    groups: dict[str, np.ndarray] | list[np.ndarray] | None = None,
    required: np.ndarray | None = None,
    excluded: np.ndarray | None = None,
    existing: np.ndarray | None = None,
    dominance: bool = True,
) -> CoverInstance:
    """The reduced instance (see the module docstring).

    Parameters
    ----------
    a
        Demand x site 0/1 matrix (:func:`coverage_matrix`).
    weight
        Weight of each demand row (finite, at least 0).
    site_cost
        ``f_j`` per site (needed with a budget).
    max_sites, budget, groups, required, excluded, existing
        The rules (see :func:`~planner.optimize.mclp_large.solve_mclp`).
    dominance
        Take out dominated sites.

    Raises
    ------
    DataError
        For a negative or non-finite weight or cost, or a budget without costs.
    InfeasibleError
        When the rules alone leave no plan (a required site excluded, more required
        sites than ``p``, a group with no site left).
    """
    n_dem, n_site = a.shape
    weight = np.asarray(weight, dtype=float)
    _check_values("weight", weight, n_dem)
    if budget is not None and site_cost is None:
        raise DataError("mclp: a budget needs site costs (site_cost)")
    cost = np.zeros(n_site) if site_cost is None else np.asarray(site_cost, dtype=float)
    _check_values("site_cost", cost, n_site)
    req = _index_set(required, n_site, "required")
    exc = _index_set(excluded, n_site, "excluded")
    ext = _index_set(existing, n_site, "existing")
    both = np.intersect1d(np.union1d(req, ext), exc)
    if len(both):
        msg = f"mclp: site {int(both[0])} is both required (or existing) and excluded"
        raise InfeasibleError(msg)
    new_req = np.setdiff1d(req, ext)
    p_left = None if max_sites is None else int(max_sites) - len(new_req)
    if p_left is not None and p_left < 0:
        msg = f"mclp: {len(new_req)} required sites but at most {max_sites} may open"
        raise InfeasibleError(msg)
    b_left = None if budget is None else float(budget) - float(cost[new_req].sum())
    if b_left is not None and b_left < -1e-9 * max(1.0, abs(float(budget or 0))):
        raise InfeasibleError("mclp: the required sites alone cost more than the budget")
    fixed = np.union1d(req, ext)
    is_fixed = np.zeros(n_site)
    is_fixed[fixed] = 1.0
    covered_rows = (a @ is_fixed) > 0.5
    base = float(weight[covered_rows].sum())
    free = np.ones(n_site, dtype=bool)
    free[fixed] = False
    free[exc] = False
    if b_left is not None:
        free &= cost <= max(b_left, 0.0) * (1 + 1e-12)
    if p_left == 0:
        free[:] = False
    open_groups = _groups_left(groups, fixed, free, n_site)
    sites = np.flatnonzero(free)
    rows = np.flatnonzero(~covered_rows & (weight > 0))
    sub = a[rows][:, sites]
    sub, w = merge_rows(sub, weight[rows])
    dropped = 0
    if dominance and len(sites) > 1 and sub.nnz:
        local = _local_groups(open_groups, sites)
        inc = _incidence(local, len(sites))
        drop = dominated_sites(sub, cost[sites], inc)
        dropped = int(drop.sum())
        if dropped:
            keep = np.flatnonzero(~drop)
            sites = sites[keep]
            sub, w = merge_rows(sub[:, keep], w)
    local = _local_groups(open_groups, sites)
    for g, members in zip(open_groups, local, strict=True):
        if len(members) == 0:  # cannot happen after dominance, but never silently
            msg = f"mclp: no site left in group {g}"
            raise InfeasibleError(msg)
    sub = sparse.csr_matrix(sub)
    sub.sort_indices()
    return CoverInstance(
        a=sub,
        at=sub.T.tocsr(),
        weight=w,
        cost=cost[sites] if budget is not None else np.zeros(len(sites)),
        max_sites=p_left,
        budget=b_left,
        groups=local,
        sites=sites,
        fixed_open=fixed,
        base_weight=base,
        total_weight=float(weight.sum()),
        dominated=dropped,
    )


def _check_values(name: str, values: np.ndarray, n: int) -> None:
    if len(values) != n:
        msg = f"mclp: {name} has {len(values)} values for {n} rows/sites"
        raise DataError(msg)
    bad = np.flatnonzero(~np.isfinite(values) | (values < 0))
    if len(bad):
        msg = f"mclp: {name} of row/site {int(bad[0])} is {values[bad[0]]} (give values >= 0)"
        raise DataError(msg)


def _index_set(values: np.ndarray | None, n: int, name: str) -> np.ndarray:
    idx = np.unique(np.asarray([] if values is None else values, dtype=np.int64))
    if len(idx) and (idx[0] < 0 or idx[-1] >= n):
        msg = f"mclp: {name} site index out of range 0..{n - 1}"
        raise DataError(msg)
    return idx


def _groups_left(
    groups: dict[str, np.ndarray] | list[np.ndarray] | None,
    fixed: np.ndarray,
    free: np.ndarray,
    n_site: int,
) -> list[np.ndarray]:
    """Original member indices of the groups that no fixed site meets, free members
    only; raises when such a group has no free member."""
    named = groups.items() if isinstance(groups, dict) else enumerate(groups or [])
    out = []
    for g, members in named:
        members = _index_set(members, n_site, f"group {g}")
        if len(members) == 0 or np.isin(members, fixed).any():
            continue
        left = members[free[members]]
        if len(left) == 0:
            msg = f"mclp: group {g!r} has no site that may open (excluded, or over budget)"
            raise InfeasibleError(msg)
        out.append(left)
    return out


def _local_groups(groups: list[np.ndarray], sites: np.ndarray) -> list[np.ndarray]:
    """Groups in free-site numbering (members no longer free are left out)."""
    pos = np.full(int(sites.max()) + 1 if len(sites) else 0, -1)
    pos[sites] = np.arange(len(sites))
    out = []
    for members in groups:
        inside = members[members < len(pos)]
        local = pos[inside]
        out.append(np.sort(local[local >= 0]))
    return out


def _incidence(groups: list[np.ndarray], n: int) -> sparse.csr_matrix:
    rows = np.concatenate(groups) if groups else np.zeros(0, dtype=np.int64)
    cols = np.repeat(np.arange(len(groups)), [len(g) for g in groups])
    return sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, len(groups)))
