r"""A feasible station plan built greedily: the start of the covering models' first pass.

At county scale the covering models are solved to a proven gap by HiGHS; on the largest
counties (hundreds of thousands of road nodes, tens of thousands of demand points) the
solver can reach its limits before it finds a good plan of its own, and a plan that
covers a few percent of the sessions must never be what a county gets. So the coverage
pass starts from this plan, and the model returns it whenever the solver finds nothing
better (:func:`~planner.optimize.mclp.mclp`).

The plan obeys every rule of :class:`~planner.optimize.rules.StationRules`: existing and
required sites open first, then one site for each township that has none, then sites one
at a time by covered demand (or covered demand per yuan when a budget binds; both are
tried and the better plan kept), within ``max_sites``, the budget and the substations'
headroom. An open site serves the demand in its reach that is not yet served, nearest
first, up to the capacity of ``max_chargers`` chargers (or of what the budget and headroom
leave), and gets the fewest chargers that carry that load (at least ``min_chargers``).
Without sizing a site serves all of its reach. Gains only fall as demand is served, so
the gains are evaluated lazily (Minoux's accelerated greedy): the plan is the same as with
full re-evaluation, at a fraction of the work.

A township's site opens with the fewest chargers (the greedy adds more later where they
pay), but is chosen by what it would be worth at its full size, by the same measure as
the later sites (value, or value per yuan). Choosing it by what it covers at the fewest
chargers ignores the site's cost: at ``min_chargers`` many sites of a township cover the
same sessions, and on the demo county at ``--scale 20`` (300 townships, 320 M budget)
that took sites costing 186 M where the cheapest cost 148 M, and the plan covered 15,976
sessions against an optimum of 18,653 (now 18,040; with 100 m demand 13,957, now
17,817, against a bound of 18,458).

:mod:`~planner.optimize.greedy_moves` grows a given plan the same way and chooses its
township sites again (the start of the coverage pass,
:func:`~planner.optimize.mclp.start_plan`).
"""

from __future__ import annotations

import functools
import heapq
import time
from dataclasses import dataclass, field

import numpy as np

from planner.datatypes import SolveInfo, SparseTimes
from planner.optimize.rules import CoverageResult, StationRules, indices

_EPS = 1e-9

#: An offer to open a site: value, capex, pairs served (positions), their shares, chargers.
_Offer = tuple[float, float, np.ndarray, np.ndarray, int]


@dataclass
class _State:
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
    """The data of greedy constructions (see the module docstring): the reach sorted by
    site and drive time, costs, limits. Build it once to pass as ``data=`` to the
    functions here for the same reach, weights and rules (sorting a county's reach at
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

    def start(self) -> _State:
        """The empty plan with its limits."""
        rules = self.rules
        return _State(
            remaining=np.ones(len(self.weight)),
            load=np.zeros(self.n_site),
            budget=np.inf if rules.budget is None else float(rules.budget),
            kw_left=self.limits.copy(),
            sites_left=np.inf if rules.max_sites is None else float(rules.max_sites),
            is_open=np.zeros(self.n_site, dtype=bool),
            chargers=np.zeros(self.n_site, dtype=np.int64),
        )

    def max_chargers(self, state: _State, j: int) -> int:
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
            n = min(n, now + int((state.budget - fixed + _EPS) // sizing.charger_cost))
        k = self.substations[j]
        if k >= 0 and sizing.charger_kw > 0:
            n = min(n, now + int((state.kw_left[k] + _EPS) // sizing.charger_kw))
        return n

    def offer(self, state: _State, j: int, *, most: int | None = None) -> _Offer:
        """What opening ``j`` (or adding chargers to it) would do: value, capex, pairs
        served, their shares, chargers after.

        The pairs are positions in the site-sorted reach; a value of -inf means ``j``
        cannot be opened (or grown) within the limits. ``most`` caps the chargers. A
        station serves what is left in its reach up to the chargers it may have, and
        gets the fewest chargers that carry that load.
        """
        pos = np.arange(self.ptr[j], self.ptr[j + 1])
        rem = state.remaining[self.rows[pos]]
        keep = rem > _EPS
        pos, rem = pos[keep], rem[keep]
        sizing = self.rules.sizing
        if (self.existing[j] and not (self.expandable[j] and state.is_open[j])) or sizing is None:
            if self.cost[j] > state.budget + _EPS:
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

    def _sized(self, state: _State, j: int, pos: np.ndarray, rem: np.ndarray, n_cap: int) -> _Offer:
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
        keep = share > _EPS
        return pos[keep], share[keep]

    def take(self, state: _State, j: int, offer: _Offer) -> None:
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

    def can_add(self, state: _State, j: int) -> bool:
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
        self, state: _State, chargers: np.ndarray | None = None, *, per_yuan: bool = False
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
                    if best is None or score > best[0] + _EPS:
                        best = (score, j, offer)
                if best is not None:
                    break
            if best is None:
                return False
            self.take(state, best[1], best[2])
        return True

    @staticmethod
    def _score(offer: _Offer, *, per_yuan: bool) -> float:
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

    def _spare(self, state: _State, j: int, reserve: np.ndarray) -> bool:
        """Opening ``j`` at the fewest chargers leaves its substation the reserve."""
        k = self.substations[j]
        return bool(k < 0 or state.kw_left[k] - self._need() >= reserve[k] - _EPS)

    def grow(self, state: _State, *, per_yuan: bool) -> None:
        """Add sites by value (or value per yuan) until nothing fits or gains."""
        heap = [(-np.inf, j) for j in range(self.n_site) if self.can_add(state, j)]
        heapq.heapify(heap)
        while heap:
            _, j = heapq.heappop(heap)
            if not self.can_add(state, j):
                continue
            offer = self.offer(state, j)
            if offer[0] <= _EPS:
                continue
            score = self._score(offer, per_yuan=per_yuan)
            if heap and score < -heap[0][0] - _EPS:
                heapq.heappush(heap, (-score, j))  # stale: re-queue with its true score
                continue
            self.take(state, j, offer)

    def result(self, state: _State, seconds: float) -> CoverageResult:
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


def greedy_stations(
    reach: SparseTimes,
    weight: np.ndarray,
    rules: StationRules,
    *,
    chargers: np.ndarray | None = None,
    data: Greedy | None = None,
) -> CoverageResult | None:
    """A feasible plan of the covering model, built greedily (see the module docstring).

    Parameters
    ----------
    reach
        Demand x site pairs within the cutoff.
    weight
        ``w_i``, the value of serving demand ``i``.
    rules
        The station rules (sizing, budget, limits, fixed and existing sites, townships).
    chargers
        Chargers per site: the required sites open with at most these (e.g. those of a
        plan of a smaller budget, so that the plan fits and the greedy adds to it); the
        greedy may add chargers to them later.
    data
        :class:`Greedy` of the same reach, weights and rules (None: built here).

    Returns
    -------
    CoverageResult or None
        The better of the two greedy plans (by value, and by value per yuan when a
        budget is set); None when the rules leave no plan the greedy can build (e.g. a
        township it cannot afford) or the plan misses ``min_cover``.
    """
    t0 = time.perf_counter()
    g = Greedy(reach, weight, rules) if data is None else data
    best: CoverageResult | None = None
    for per_yuan in (False, True) if rules.budget is not None else (False,):
        state = g.start()
        if not g.fixed(state, chargers, per_yuan=per_yuan):
            return None
        g.grow(state, per_yuan=per_yuan)
        res = g.result(state, time.perf_counter() - t0)
        if best is None or (res.info.objective or 0.0) > (best.info.objective or 0.0) + _EPS:
            best = res
    assert best is not None
    if rules.min_cover is not None and (best.info.objective or 0.0) < rules.min_cover:
        return None
    return best
