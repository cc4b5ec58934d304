"""The steps of the greedy station plans: offers, taking a site, the first sites, growing.

:class:`Greedy` holds a reach sorted by site and drive time with the rules' costs and
limits, and the steps that :func:`~planner.optimize.greedy.greedy_stations` (whose module
docstring describes the construction) and :mod:`~planner.optimize.greedy_moves` build
their plans from: what opening a site or adding chargers would serve and cost
(:meth:`Greedy.offer`), taking it, opening the existing, required and township sites,
growing the plan lazily, and reading it back as a
:class:`~planner.optimize.rules.CoverageResult`; :class:`State` is the plan under
construction.
"""

from __future__ import annotations

import functools
import heapq
from dataclasses import dataclass, field

import numpy as np

from planner.datatypes import SolveInfo, SparseTimes
from planner.optimize.rules import CoverageResult, StationRules, indices

EPS = 1e-9

#: An offer to open a site: value, capex, pairs served (positions), their shares, chargers.
Offer = tuple[float, float, np.ndarray, np.ndarray, int]


@dataclass
class State:
    """The plan under construction."""

    remaining: np.ndarray  # share of each demand point not yet served
    load: np.ndarray  # sessions served per site
    budget: float  # capex left (inf: no budget)
    kw_left: np.ndarray  # headroom left per substation
    sites_left: float  # new stations left (inf: no limit)
    is_open: np.ndarray
    chargers: np.ndarray
    flows: list[tuple[np.ndarray, np.ndarray]] = field(default_factory=list)  # pairs, shares


class Greedy:
    """The data of greedy constructions (see :mod:`~planner.optimize.greedy`): the reach
    sorted by site and drive time, costs, limits. Build it once to pass as ``data=`` to
    the greedy functions for the same reach, weights and rules (sorting a county's reach at
    100 m demand, 3 million pairs, takes seconds)."""

    def __init__(self, reach: SparseTimes, weight: np.ndarray, rules: StationRules) -> None:
        n_dem, n_site = reach.shape
        order = np.lexsort((reach.rows, reach.minutes, reach.cols))  # by site, nearest first
        self.ptr = np.concatenate([[0], np.cumsum(np.bincount(reach.cols, minlength=n_site))])
        self.rows = reach.rows[order]
        self.cols = reach.cols[order]
        self.minutes = reach.minutes[order]
        self.weight = np.asarray(weight, dtype=float)
        self.rules = rules
        sizing = rules.sizing
        self.sessions = np.zeros(n_dem) if sizing is None else np.asarray(sizing.sessions, float)
        self.existing = np.zeros(n_site, dtype=bool)
        self.existing[indices(rules.existing)] = True
        # existing sites that may get more chargers once open (a rollout's earlier stations)
        self.expandable = np.zeros(n_site, dtype=bool)
        if sizing is not None and sizing.expandable is not None:
            self.expandable = np.asarray(sizing.expandable, dtype=bool) & self.existing
        self.installed = np.zeros(n_site, dtype=np.int64)
        if sizing is not None and sizing.installed is not None:
            self.installed = np.asarray(sizing.installed, dtype=np.int64)
        self.cost = np.where(self.existing, 0.0, np.asarray(rules.site_cost, dtype=float))
        self.blocked = np.zeros(n_site, dtype=bool)
        self.blocked[indices(rules.excluded)] = True
        self.n_site = n_site
        self.substations = np.full(n_site, -1, dtype=np.int64)
        limits = []
        if sizing is not None:
            for k, (sites, kw) in enumerate(sizing.headroom):
                self.substations[np.asarray(sites, dtype=np.int64)] = k
                limits.append(max(float(kw), 0.0))
        self.limits = np.array(limits, dtype=float)

    @functools.cached_property
    def pair_keys(self) -> tuple[np.ndarray, np.ndarray]:
        """The keys ``site * n_demand + demand`` of the site-sorted reach, sorted, and
        the positions they sort from (to find a plan's flows in it)."""
        keys = self.cols * len(self.weight) + self.rows
        order = np.argsort(keys, kind="stable")
        return keys[order], order

    def start(self) -> State:
        """The empty plan with its limits."""
        rules = self.rules
        return State(
            remaining=np.ones(len(self.weight)),
            load=np.zeros(self.n_site),
            budget=np.inf if rules.budget is None else float(rules.budget),
            kw_left=self.limits.copy(),
            sites_left=np.inf if rules.max_sites is None else float(rules.max_sites),
            is_open=np.zeros(self.n_site, dtype=bool),
            chargers=np.zeros(self.n_site, dtype=np.int64),
        )

    def max_chargers(self, state: State, j: int) -> int:
        """The most chargers station ``j`` may have (the budget and headroom left)."""
        sizing = self.rules.sizing
        assert sizing is not None
        now = int(state.chargers[j])
        fixed = 0.0 if state.is_open[j] else self.cost[j]
        n = (
            max(sizing.max_chargers, int(self.installed[j]))
            if self.expandable[j]
            else sizing.max_chargers
        )
        if sizing.charger_cost > 0 and np.isfinite(state.budget):
            n = min(n, now + int((state.budget - fixed + EPS) // sizing.charger_cost))
        k = self.substations[j]
        if k >= 0 and sizing.charger_kw > 0:
            n = min(n, now + int((state.kw_left[k] + EPS) // sizing.charger_kw))
        return n

    def offer(self, state: State, j: int, *, most: int | None = None) -> Offer:
        """What opening ``j`` (or adding chargers to it) would do: value, capex, pairs
        served, their shares, chargers after.

        The pairs are positions in the site-sorted reach; a value of -inf means ``j``
        cannot be opened (or grown) within the limits. ``most`` caps the chargers. A
        station serves what is left in its reach up to the chargers it may have, and
        gets the fewest chargers that carry that load.
        """
        pos = np.arange(self.ptr[j], self.ptr[j + 1])
        rem = state.remaining[self.rows[pos]]
        keep = rem > EPS
        pos, rem = pos[keep], rem[keep]
        sizing = self.rules.sizing
        if (self.existing[j] and not (self.expandable[j] and state.is_open[j])) or sizing is None:
            if self.cost[j] > state.budget + EPS:
                return -np.inf, 0.0, pos, rem, 0
            if sizing is None:
                return float(self.weight[self.rows[pos]] @ rem), float(self.cost[j]), pos, rem, 0
            n = int(np.asarray(sizing.installed)[j]) if sizing.installed is not None else 0
            pos, share = self._fill(pos, rem, n * sizing.per_charger)
            return float(self.weight[self.rows[pos]] @ share), 0.0, pos, share, n
        now = int(state.chargers[j])
        least = max(sizing.min_chargers, now + 1)
        n_cap = self.max_chargers(state, j)
        n_cap = n_cap if most is None else min(n_cap, most)
        if n_cap < least:
            return -np.inf, 0.0, pos, rem, 0
        return self._sized(state, j, pos, rem, n_cap)

    def _sized(self, state: State, j: int, pos: np.ndarray, rem: np.ndarray, n_cap: int) -> Offer:
        """Station ``j`` with at most ``n_cap`` chargers: serve the pairs ``pos`` (left
        ``rem``) nearest first, and take the fewest chargers that carry the load."""
        sizing = self.rules.sizing
        assert sizing is not None
        now = int(state.chargers[j])
        pos, share = self._fill(pos, rem, n_cap * sizing.per_charger - state.load[j])
        rows = self.rows[pos]
        load = state.load[j] + float(self.sessions[rows] @ share)
        n = int(np.clip(np.ceil(load / sizing.per_charger - 1e-9), sizing.min_chargers, n_cap))
        n = max(n, now)
        fixed = 0.0 if state.is_open[j] else self.cost[j]
        capex = float(fixed + sizing.charger_cost * (n - now))
        return float(self.weight[rows] @ share), capex, pos, share, n

    def _fill(
        self, pos: np.ndarray, rem: np.ndarray, capacity: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """Serve the pairs ``pos`` nearest first up to ``capacity`` sessions."""
        need = self.sessions[self.rows[pos]] * rem
        before = np.cumsum(need) - need
        room = np.clip(capacity - before, 0.0, None)
        with np.errstate(divide="ignore", invalid="ignore"):
            share = np.where(need > 0, rem * np.minimum(1.0, room / need), rem)
        keep = share > EPS
        return pos[keep], share[keep]

    def take(self, state: State, j: int, offer: Offer) -> None:
        """Open (or grow) ``j`` as offered."""
        _, capex, pos, share, n = offer
        rows = self.rows[pos]
        sizing = self.rules.sizing
        if not state.is_open[j] and not self.existing[j]:
            state.sites_left -= 1
        k = self.substations[j]
        # an existing site draws only the chargers added to it once open
        grows = not self.existing[j] or (self.expandable[j] and state.is_open[j])
        if k >= 0 and sizing is not None and grows:
            state.kw_left[k] -= (n - state.chargers[j]) * sizing.charger_kw
        state.is_open[j] = True
        state.chargers[j] = n
        state.remaining[rows] -= share
        state.budget -= capex
        state.load[j] += float(self.sessions[rows] @ share)
        state.flows.append((pos, share))

    def can_add(self, state: State, j: int) -> bool:
        """``j`` may be opened (within ``max_sites``) or, open and sized, get chargers."""
        if self.blocked[j]:
            return False
        if state.is_open[j]:
            sizing = self.rules.sizing
            top = sizing.max_chargers if sizing is not None else 0
            if sizing is not None and self.expandable[j]:
                top = max(top, int(self.installed[j]))
            return bool(
                sizing is not None
                and (not self.existing[j] or self.expandable[j])
                and state.chargers[j] < top
            )
        return bool(self.existing[j] or state.sites_left >= 1)

    def fixed(
        self, state: State, chargers: np.ndarray | None = None, *, per_yuan: bool = False
    ) -> bool:
        """Open the existing and required sites (with at most ``chargers``), then one per
        township; False: cannot."""
        for j in np.concatenate([np.flatnonzero(self.existing), indices(self.rules.required)]):
            j = int(j)
            if state.is_open[j]:
                continue
            most = None if chargers is None or self.existing[j] else int(chargers[j])
            offer = self.offer(state, j, most=most)
            if offer[0] == -np.inf or not self.can_add(state, j):
                return False
            self.take(state, j, offer)
        groups = [np.asarray(g, dtype=np.int64) for g in (self.rules.groups or {}).values()]
        least = None if self.rules.sizing is None else self.rules.sizing.min_chargers
        todo = [g for g in sorted(groups, key=len) if len(g) and not state.is_open[g].any()]
        reserve = self._reserve(todo)
        for sites in todo:
            if state.is_open[sites].any():
                continue
            only = self._only_substation(sites)
            if only >= 0:
                reserve[only] -= self._need()
            best = None
            for spare in (True, False):  # first keep the headroom the others need
                for j in sites.tolist():
                    if not self.can_add(state, j) or (spare and not self._spare(state, j, reserve)):
                        continue
                    offer = self.offer(state, j, most=least)
                    if offer[0] == -np.inf:
                        continue
                    full = self.offer(state, j)
                    score = self._score(full, per_yuan=per_yuan)
                    if best is None or score > best[0] + EPS:
                        best = (score, j, offer)
                if best is not None:
                    break
            if best is None:
                return False
            self.take(state, best[1], best[2])
        return True

    @staticmethod
    def _score(offer: Offer, *, per_yuan: bool) -> float:
        """The greedy's measure of an offer: its value, or value per yuan."""
        return offer[0] / max(offer[1], 1.0) if per_yuan else offer[0]

    def _need(self) -> float:
        """Headroom (kW) of a station at the fewest chargers."""
        sizing = self.rules.sizing
        return 0.0 if sizing is None else float(sizing.min_chargers * sizing.charger_kw)

    def _only_substation(self, sites: np.ndarray) -> int:
        """The one substation feeding every usable site of a township (-1: none or more)."""
        subs = np.unique(self.substations[sites[~self.blocked[sites]]])
        return int(subs[0]) if len(subs) == 1 else -1

    def _reserve(self, townships: list[np.ndarray]) -> np.ndarray:
        """Headroom (kW) per substation that the townships fed by it alone will need."""
        reserve = np.zeros(len(self.limits))
        for sites in townships:
            only = self._only_substation(sites)
            if only >= 0:
                reserve[only] += self._need()
        return reserve

    def _spare(self, state: State, j: int, reserve: np.ndarray) -> bool:
        """Opening ``j`` at the fewest chargers leaves its substation the reserve."""
        k = self.substations[j]
        return bool(k < 0 or state.kw_left[k] - self._need() >= reserve[k] - EPS)

    def grow(self, state: State, *, per_yuan: bool) -> None:
        """Add sites by value (or value per yuan) until nothing fits or gains."""
        heap = [(-np.inf, j) for j in range(self.n_site) if self.can_add(state, j)]
        heapq.heapify(heap)
        while heap:
            _, j = heapq.heappop(heap)
            if not self.can_add(state, j):
                continue
            offer = self.offer(state, j)
            if offer[0] <= EPS:
                continue
            score = self._score(offer, per_yuan=per_yuan)
            if heap and score < -heap[0][0] - EPS:
                heapq.heappush(heap, (-score, j))  # stale: re-queue with its true score
                continue
            self.take(state, j, offer)

    def result(self, state: State, seconds: float) -> CoverageResult:
        """The plan as the covering models return it."""
        n_dem = len(self.weight)
        pos = np.concatenate([f[0] for f in state.flows] + [np.zeros(0, dtype=np.int64)])
        share = np.concatenate([f[1] for f in state.flows] + [np.zeros(0)])
        fr, fc = self.rows[pos], self.cols[pos]
        covered = np.minimum(1.0, np.bincount(fr, weights=share, minlength=n_dem))
        value = float(self.weight @ covered)
        info = SolveInfo(
            model="stations_greedy",
            solver="greedy",
            status="heuristic",
            objective=value,
            bound=None,
            gap=None,
            seconds=seconds,
            build_seconds=0.0,
            n_variables=0,
            n_constraints=0,
        )
        return CoverageResult(
            open=state.is_open.copy(),
            chargers=state.chargers.copy(),
            flow_rows=fr,
            flow_cols=fc,
            flow_share=share,
            covered=covered,
            info=info,
            flow_minutes=self.minutes[pos],
        )
