r"""The station block shared by the covering models: open sites, chargers, served demand.

:func:`~planner.optimize.mclp.mclp` and :func:`~planner.optimize.two_tier.two_tier` build
their station tier here (:func:`station_block`), from the station-side data and rules of a
plan (:class:`StationRules`), and read their plan back as a :class:`CoverageResult`
(the values are read, and a MIP start put in, by :mod:`~planner.optimize.station_plan`).

Sets
    ``I`` demand points, ``J`` candidate sites, ``E`` (subset of ``J``) existing public
    chargers, ``N_i`` the sites within the cutoff of demand ``i``; demand points with the
    same ``N_i`` (and, with sizing, the same value per session ``w_i / s_i``; with the time
    objective the same drive times too) are merged into one group ``g`` beforehand, an
    exact reduction undone in the result (:func:`~planner.optimize.groups.aggregate`).

Data
    ``w_g`` value of covering a group (the sum of its ``w_i``), ``s_g`` its sessions/day,
    ``f_j`` fixed cost of a station (0 for ``j`` in ``E``), ``c`` cost per charger, ``q``
    sessions/day a charger serves, ``n_min``, ``n_max`` chargers at a new station, ``k_j``
    chargers installed at ``j`` in ``E``, ``K`` kW per charger, ``H_S`` headroom of
    substation ``S``; ``G`` (subset of ``E``) the sites that may grow (stations a
    rollout opened in earlier years, :attr:`~planner.optimize.rules.Sizing.expandable`).

Variables
    ``x_j`` in {0,1} station open (fixed to 1 on ``E``); without sizing ``0 <= z_g <= 1``
    share of group ``g`` covered; with sizing ``y_gj >= 0`` share of ``g`` served by ``j``
    and ``n_j`` integer chargers; ``a_j`` integer chargers added at ``j`` in ``G``.

Constraints without sizing::

    z_g <= sum_{j in N_g} x_j                     for every group g

Constraints with sizing::

    sum_{j in N_g} y_gj <= 1                      for every group g
    y_gj <= x_j                                   j new, and s_g = 0 or ``link``
    sum_g s_g y_gj - q n_j <= 0                   for every site j
    n_min x_j <= n_j <= n_max x_j                 for every new site j
    n_j = k_j                                     for every j in E not in G
    n_j - a_j = k_j,  0 <= a_j <= max(k_j, n_max) - k_j    for every j in G
    sum_{j in S, j new} K n_j + sum_{j in S, j in G} K a_j <= H_S
                                                  for every substation S with headroom

Expressions handed to the model
    covered weight ``sum_g w_g z_g`` (or ``sum_gj w_g y_gj``); capex
    ``sum_j f_j x_j + c sum_{j new} n_j + c sum_{j in G} a_j``; drive time
    ``sum_gj (sum_{i in g} s_i t_ij) y_gj``.
"""

from __future__ import annotations

import numpy as np
import pulp

from planner.datatypes import SolveInfo, SparseTimes
from planner.optimize.groups import aggregate
from planner.optimize.problem import (
    add_count_limit,
    add_fixed,
    add_group_minimum,
    add_min_cover,
    site_vars,
)
from planner.optimize.rules import CoverageResult, Objective, Sizing, StationRules, indices
from planner.optimize.station_plan import nearest_flows, sized_flows

#: A binary variable above this is on.
ON = 0.5

Terms = list[tuple[pulp.LpVariable, float]]


class StationBlock:
    """Station variables and coverage constraints shared by the covering models.

    Adds to ``prob`` the open variables ``x_j``, the coverage variables (``z_g`` per
    aggregated demand group without sizing; ``y_gj`` and integer chargers ``n_j`` with
    it) and their linking constraints (see the module docstring); exposes the covered
    weight and the cost terms for the caller's objective and budget, and turns the solved
    values into a :class:`~planner.optimize.rules.CoverageResult`.
    """

    def __init__(
        self,
        prob: pulp.LpProblem,
        reach: SparseTimes,
        weight: np.ndarray,
        site_cost: np.ndarray,
        sizing: Sizing | None,
        existing: np.ndarray,
        *,
        link: bool = False,
        by_time: bool = False,
    ) -> None:
        self.reach, self.sizing = reach, sizing
        n_dem, n_site = reach.shape
        self.weight = np.asarray(weight, dtype=float)
        self.is_existing = np.zeros(n_site, dtype=bool)
        self.is_existing[existing] = True
        # existing sites whose chargers may grow (a rollout's earlier stations)
        self.grow = np.zeros(n_site, dtype=bool)
        if sizing is not None and sizing.expandable is not None:
            self.grow = np.asarray(sizing.expandable, dtype=bool) & self.is_existing
        self.added: dict[int, pulp.LpVariable] = {}  # a_j of the sites in G
        if sizing is None:
            ratio = np.zeros(n_dem)
        else:
            self.sessions = np.asarray(sizing.sessions, dtype=float)
            with np.errstate(divide="ignore", invalid="ignore"):
                ratio = np.where(self.sessions > 0, self.weight / self.sessions, np.nan)
        # demand points with the same sites in reach (and value per session) are one point
        self.group, self.g_rows, self.g_cols = aggregate(reach, ratio, by_time=by_time)
        self.n_grp = int(self.group.max()) + 1 if len(self.group) else 0
        self.member = self.group >= 0
        g_weight = self._by_group(self.weight)
        self.x = site_vars(prob, n_site)
        for j in existing:
            self.x[int(j)].lowBound = 1
        self.new_x = [v for v, e in zip(self.x, self.is_existing, strict=True) if not e]
        cost = np.where(self.is_existing, 0.0, np.asarray(site_cost, dtype=float))
        self.cost_terms: Terms = [(v, float(c)) for v, c in zip(self.x, cost, strict=True) if c]
        if sizing is None:
            self._add_coverage(prob, g_weight)
        else:
            self._add_sizing(prob, sizing, g_weight, link=link)

    def _by_group(self, values: np.ndarray) -> np.ndarray:
        """Sum of ``values`` over the members of each group."""
        member = self.member
        return np.bincount(self.group[member], weights=values[member], minlength=self.n_grp)

    def _add_coverage(self, prob: pulp.LpProblem, g_weight: np.ndarray) -> None:
        """Without sizing: ``z_g <= sum_{j in N_g} x_j``."""
        n_grp, n_site = self.n_grp, self.reach.shape[1]
        self.z = [prob.add_variable(f"z_{g}", lowBound=0, upBound=1) for g in range(n_grp)]
        by_grp = SparseTimes(self.g_rows, self.g_cols, np.zeros(len(self.g_rows)), (n_grp, n_site))
        for g, sites in enumerate(by_grp.neighbours()):
            prob += self.z[g] <= pulp.lpSum(self.x[j] for j in sites), f"cover_{g}"
        self.cover = pulp.LpAffineExpression(
            [(self.z[g], float(g_weight[g])) for g in range(n_grp) if g_weight[g] > 0]
        )

    def _add_chargers(self, prob: pulp.LpProblem, sizing: Sizing) -> None:
        """``n_j``: integer up to ``n_max`` at new sites, the installed count at existing
        ones; at a site that may grow, ``k_j`` plus ``a_j`` added (up to ``n_max``)."""
        installed = (
            np.zeros(len(self.x), dtype=int)
            if sizing.installed is None
            else np.asarray(sizing.installed, dtype=int)
        )
        self.n = []
        for j in range(len(self.x)):
            if self.is_existing[j]:
                k = int(installed[j])
                top = max(k, sizing.max_chargers) if self.grow[j] else k
                self.n.append(prob.add_variable(f"n_{j}", lowBound=k, upBound=top))
                if top > k:
                    a = prob.add_variable(f"a_{j}", lowBound=0, upBound=top - k, cat=pulp.LpInteger)
                    self.added[j] = a
                    prob += self.n[j] - a == k, f"grown_{j}"
            else:
                self.n.append(
                    prob.add_variable(
                        f"n_{j}", lowBound=0, upBound=sizing.max_chargers, cat=pulp.LpInteger
                    )
                )

    def _add_sizing(
        self, prob: pulp.LpProblem, sizing: Sizing, g_weight: np.ndarray, *, link: bool
    ) -> None:
        """With sizing: flows ``y_gj``, chargers ``n_j`` and their rows."""
        n_grp, n_site = self.n_grp, len(self.x)
        g_sessions = self._by_group(self.sessions)
        self._add_chargers(prob, sizing)
        self.y = [prob.add_variable(f"y_{k}", lowBound=0) for k in range(len(self.g_rows))]
        served: list[Terms] = [[] for _ in range(n_grp)]
        load: list[Terms] = [[] for _ in range(n_site)]
        # the linking rows y_gj <= x_j: needed for demand without sessions; for demand with
        # sessions implied by the capacity row, so only a cut (see mclp and links)
        self.linkable = ~self.is_existing[self.g_cols] & (g_sessions[self.g_rows] > 0)
        self.linked = np.zeros(len(self.g_rows), dtype=bool)
        must = ~self.is_existing[self.g_cols] & ~self.linkable
        for k, (g, j) in enumerate(zip(self.g_rows.tolist(), self.g_cols.tolist(), strict=True)):
            served[g].append((self.y[k], 1.0))
            load[j].append((self.y[k], float(g_sessions[g])))
        self.add_links(prob, np.flatnonzero(must | (self.linkable & link)))
        for g in range(n_grp):
            prob += pulp.LpAffineExpression(served[g]) <= 1, f"serve_{g}"
        for j in range(n_site):
            if load[j]:
                prob += (
                    pulp.LpAffineExpression(load[j]) - sizing.per_charger * self.n[j] <= 0,
                    f"capacity_{j}",
                )
            if not self.is_existing[j]:
                prob += self.n[j] - sizing.min_chargers * self.x[j] >= 0, f"min_chargers_{j}"
                prob += self.n[j] - sizing.max_chargers * self.x[j] <= 0, f"max_chargers_{j}"
        for k, (sites, limit_kw) in enumerate(sizing.headroom):
            new = [int(j) for j in sites if not self.is_existing[int(j)]]
            # a site that grows draws only its added chargers (the installed ones are
            # already off the headroom)
            grown = [self.added[int(j)] for j in sites if int(j) in self.added]
            prob += (
                pulp.lpSum(sizing.charger_kw * v for v in [*(self.n[j] for j in new), *grown])
                <= max(limit_kw, 0.0),
                f"headroom_{k}",
            )
        if sizing.charger_cost:
            self.cost_terms += [
                (self.n[j], sizing.charger_cost) for j in range(n_site) if not self.is_existing[j]
            ]
            self.cost_terms += [(a, sizing.charger_cost) for a in self.added.values()]
        self.cover = pulp.LpAffineExpression(
            [
                (self.y[k], float(g_weight[g]))
                for k, g in enumerate(self.g_rows.tolist())
                if g_weight[g] > 0
            ]
        )
        drive = self._drive_minutes()
        self.drive_time = pulp.LpAffineExpression(
            [(self.y[k], float(c)) for k, c in enumerate(drive.tolist()) if c > 0]
        )

    def add_links(self, prob: pulp.LpProblem, pairs: np.ndarray) -> int:
        """Add ``y_gj <= x_j`` for the aggregated pairs ``pairs`` not linked yet.

        Returns how many rows were added.
        """
        pairs = np.asarray(pairs, dtype=np.int64)
        pairs = pairs[~self.linked[pairs]]
        for k in pairs.tolist():
            prob += self.y[k] <= self.x[int(self.g_cols[k])], f"open_{k}"
        self.linked[pairs] = True
        return len(pairs)

    def _drive_minutes(self) -> np.ndarray:
        """Session-minutes of each (group, site) pair at full share: ``sum_i s_i t_ij``.

        The members of a group share its flows in proportion to their sessions, so this
        is the exact drive time of the model's flows.
        """
        reach = self.reach
        g = self.group[reach.rows]
        keep = g >= 0
        n_site = reach.shape[1]
        keys = self.g_rows * n_site + self.g_cols  # ascending: groups in order, sites sorted
        pos = np.searchsorted(keys, g[keep] * n_site + reach.cols[keep])
        weights = self.sessions[reach.rows[keep]] * reach.minutes[keep]
        return np.bincount(pos, weights=weights, minlength=len(keys))

    def objective(self, kind: str, cost_terms: Terms) -> pulp.LpAffineExpression:
        """The objective row: covered demand, capex (``cost_terms``) or drive time."""
        if kind == "coverage":
            return self.cover
        if kind == "time":
            return self.drive_time
        return pulp.LpAffineExpression(cost_terms)

    def values(self) -> list[pulp.LpVariable]:
        """The decision variables, for warm starts."""
        if self.sizing is None:
            return self.x + self.z
        return self.x + self.n + list(self.added.values()) + self.y

    def result(self, info: SolveInfo) -> CoverageResult:
        """The solved plan."""
        # existing sites may be in no row at all, and then PuLP does not pass them on
        is_open = np.array([(v.value() or 0) > ON for v in self.x]) | self.is_existing
        flows = nearest_flows(self, is_open) if self.sizing is None else sized_flows(self, is_open)
        fr, fc, fm, share, covered, chargers = flows
        return CoverageResult(
            open=is_open,
            chargers=chargers,
            flow_rows=fr,
            flow_cols=fc,
            flow_share=share,
            covered=covered,
            info=info,
            flow_minutes=fm,
        )


def station_block(
    prob: pulp.LpProblem,
    reach: SparseTimes,
    weight: np.ndarray,
    site_cost: np.ndarray,
    sizing: Sizing | None,
    existing: np.ndarray | None,
    objective: Objective | str,
) -> StationBlock:
    """The station block for an objective: exact times for time (see
    :func:`~planner.optimize.mclp.mclp`); the linking rows of cost and time are added by
    :func:`~planner.optimize.links.separate_links` where the relaxation needs them."""
    return StationBlock(
        prob,
        reach,
        weight,
        site_cost,
        sizing,
        indices(existing),
        by_time=objective == "time",
    )


def add_station_rules(prob: pulp.LpProblem, block: StationBlock, rules: StationRules) -> None:
    """The rules every covering model takes on its stations, in one place.

    ``sum_{j new} x_j <= p`` (``max_sites``), ``sum_{j in T} x_j >= 1`` for every group
    ``T`` (township minimum), the required and excluded sites, and ``covered >= W_min``
    (``min_cover``). The budget is the caller's: its cost terms differ by model.
    """
    add_count_limit(prob, block.new_x, rules.max_sites)
    add_group_minimum(prob, block.x, rules.groups)
    add_fixed(prob, block.x, required=rules.required, excluded=rules.excluded)
    add_min_cover(prob, block.cover, rules.min_cover)
