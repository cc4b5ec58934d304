"""The assignment of demand to open stations: nearest first, spilling over when full."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

from planner.datatypes import SparseTimes
from planner.optimize import assign
from planner.optimize.assign import assign_demand


def _reach(triples: list[tuple[int, int, float]], shape: tuple[int, int]) -> SparseTimes:
    r, c, m = (np.array(v) for v in zip(*triples, strict=True))
    return SparseTimes(r.astype(int), c.astype(int), m.astype(float), shape)


def _min_cost_flow(
    triples: list[tuple[int, int, float]], sessions: np.ndarray, capacity: np.ndarray
) -> tuple[float, float]:
    """Sessions served and session-minutes of networkx's max-flow min-cost answer."""
    g = nx.DiGraph()
    for i, s in enumerate(sessions):
        g.add_edge("s", ("d", i), capacity=int(s), weight=0)
    for j, q in enumerate(capacity):
        g.add_edge(("c", j), "t", capacity=int(q), weight=0)
    for i, j, m in triples:
        g.add_edge(("d", i), ("c", j), capacity=int(sessions[i]), weight=int(m))
    flow = nx.max_flow_min_cost(g, "s", "t")
    served = sum(flow["s"][("d", i)] for i in range(len(sessions)))
    return float(served), float(nx.cost_of_flow(g, flow))


def test_each_point_goes_to_its_nearest_open_station():
    # demand 0 is 2 min from site 0, 9 min from site 1; demand 1 the other way round
    reach = _reach([(0, 0, 2.0), (0, 1, 9.0), (1, 0, 8.0), (1, 1, 3.0)], (2, 2))
    a = assign_demand(reach, np.array([5.0, 5.0]), np.array([100.0, 100.0]))
    assert list(zip(a.rows, a.cols, strict=True)) == [(0, 0), (1, 1)]
    assert a.share.tolist() == pytest.approx([1.0, 1.0])
    assert a.minutes.tolist() == [2.0, 3.0]
    assert a.load.tolist() == pytest.approx([5.0, 5.0])


def test_a_full_station_sends_the_rest_to_the_next():
    # both points prefer site 0, which takes 6 sessions: the one that loses least moves
    reach = _reach([(0, 0, 1.0), (0, 1, 10.0), (1, 0, 2.0), (1, 1, 4.0)], (2, 2))
    a = assign_demand(reach, np.array([4.0, 4.0]), np.array([6.0, 50.0]))
    flow = {(int(i), int(j)): s for i, j, s in zip(a.rows, a.cols, a.share, strict=True)}
    assert flow[(0, 0)] == pytest.approx(1.0)  # point 0 would lose 9 min, point 1 only 2
    assert flow[(1, 0)] == pytest.approx(0.5)
    assert flow[(1, 1)] == pytest.approx(0.5)
    assert a.load.tolist() == pytest.approx([6.0, 2.0])
    assert a.covered.tolist() == pytest.approx([1.0, 1.0])


def test_closed_sites_serve_nobody_and_overflow_is_uncovered():
    reach = _reach([(0, 0, 1.0), (0, 1, 2.0), (1, 1, 1.0)], (2, 2))
    a = assign_demand(reach, np.array([10.0, 10.0]), np.array([0.0, 15.0]))
    assert set(a.cols.tolist()) == {1}
    assert a.load[1] == pytest.approx(15.0)
    assert (a.covered * 10).sum() == pytest.approx(15.0)


def test_points_without_sessions_go_to_the_nearest_open_site():
    reach = _reach([(0, 0, 5.0), (0, 1, 1.0), (1, 0, 1.0)], (2, 2))
    a = assign_demand(reach, np.array([0.0, 3.0]), np.array([10.0, 10.0]))
    flow = {(int(i), int(j)): s for i, j, s in zip(a.rows, a.cols, a.share, strict=True)}
    assert flow == {(0, 1): pytest.approx(1.0), (1, 0): pytest.approx(1.0)}


@pytest.mark.parametrize("seed", range(6))
def test_matches_a_min_cost_flow_on_random_cases(seed):
    """Served sessions and session-minutes equal networkx's max-flow min-cost answer."""
    rng = np.random.default_rng(seed)
    n_dem, n_site = 25, 6
    triples = sorted(
        {
            (int(i), int(j), float(rng.integers(1, 15)))
            for i, j in zip(rng.integers(0, n_dem, 70), rng.integers(0, n_site, 70), strict=True)
        }
    )
    seen: set[tuple[int, int]] = set()
    triples = [t for t in triples if not ((t[0], t[1]) in seen or seen.add((t[0], t[1])))]
    reach = _reach(triples, (n_dem, n_site))
    sessions = rng.integers(0, 8, n_dem).astype(float)
    capacity = rng.integers(0, 25, n_site).astype(float)
    a = assign_demand(reach, sessions, capacity)

    served, minutes = _min_cost_flow(triples, sessions, capacity)

    busy = sessions[a.rows] > 0
    w = sessions[a.rows][busy] * a.share[busy]
    assert w.sum() == pytest.approx(served, abs=1e-6)
    assert (w * a.minutes[busy]).sum() == pytest.approx(minutes, abs=1e-5)
    assert np.all(a.load <= capacity + 1e-6)
    assert np.all(a.covered <= 1 + 1e-9)


def _node_triples(rng, n_node, n_site, n_dem, *, base_max, access_max, cutoff):
    """Points snapped to a few road nodes: time = access leg + the node's time to a site."""
    base = rng.integers(1, base_max, (n_node, n_site))
    node = rng.integers(0, n_node, n_dem)
    access = rng.integers(0, access_max, n_dem)
    return [
        (i, j, float(access[i] + base[node[i], j]))
        for i in range(n_dem)
        for j in range(n_site)
        if access[i] + base[node[i], j] <= cutoff
    ]


def _assert_min_cost_flow(a, triples, sessions, capacity):
    """Served sessions and session-minutes are networkx's; loads and shares are feasible;
    returns the sessions networkx serves."""
    served, minutes = _min_cost_flow(triples, sessions, capacity)
    busy = sessions[a.rows] > 0
    w = sessions[a.rows][busy] * a.share[busy]
    assert w.sum() == pytest.approx(served, abs=1e-6)
    assert (w * a.minutes[busy]).sum() == pytest.approx(minutes, abs=1e-5)
    assert np.all(a.load <= capacity + 1e-6)
    assert np.all(a.covered <= 1 + 1e-9)
    return served


@pytest.mark.parametrize("seed", range(8))
def test_points_on_one_road_node_are_grouped_exactly(seed):
    """Points snapped to a few road nodes (times = access leg + the node's time) with
    scarce chargers: served sessions and session-minutes still equal networkx's
    max-flow min-cost answer over every pair, and no point is served more than once."""
    rng = np.random.default_rng(100 + seed)
    n_site, n_dem = 5, 40
    triples = _node_triples(rng, 4, n_site, n_dem, base_max=12, access_max=4, cutoff=10)
    reach = _reach(triples, (n_dem, n_site))
    sessions = rng.integers(0, 6, n_dem).astype(float)
    capacity = rng.integers(0, 20, n_site).astype(float)
    a = assign_demand(reach, sessions, capacity)

    served = _assert_min_cost_flow(a, triples, sessions, capacity)
    assert served < sessions.sum()  # some chargers are full: partial service is tested
    mins = {(i, j): m for i, j, m in triples}
    assert all(mins[(i, j)] == m for i, j, m in zip(a.rows, a.cols, a.minutes, strict=True))


@pytest.mark.parametrize("seed", range(6))
def test_the_working_set_of_unserved_members_grows_to_the_exact_optimum(seed, monkeypatch):
    """Many points per road node, chargers for about half their sessions: the least-time
    LP starts from the members LP (1) leaves unserved and prices the others in; the
    answer is networkx's max-flow min-cost one over every pair, whatever the rounds."""
    rounds = []
    add = assign._add_leaving
    monkeypatch.setattr(
        assign, "_add_leaving", lambda h, s, *a: rounds.append(len(s)) or add(h, s, *a)
    )
    rng = np.random.default_rng(300 + seed)
    n_site, n_dem = 4, 90
    triples = _node_triples(rng, 3, n_site, n_dem, base_max=9, access_max=6, cutoff=11)
    reach = _reach(triples, (n_dem, n_site))
    sessions = rng.integers(1, 5, n_dem).astype(float)
    capacity = np.full(n_site, np.floor(sessions.sum() / (2 * n_site)))
    a = assign_demand(reach, sessions, capacity)

    served = _assert_min_cost_flow(a, triples, sessions, capacity)
    assert served < sessions.sum()
    assert rounds, "the pricing never added a member: the test does not exercise it"
