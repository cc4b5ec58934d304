"""Which substation feeds each 10 kV line and so each site (planner.grid_feed)."""

from __future__ import annotations

import numpy as np
import shapely

from planner.grid_feed import feeding_substations, tap_substations


def _lines(*coords):
    return np.array([shapely.LineString(c) for c in coords], dtype=object)


SUBS = np.array([shapely.Point(0, 0), shapely.Point(5000, 8000), shapely.Point(20000, 0)])


def test_a_feeder_drawn_as_several_ways_is_fed_by_the_substation_it_starts_at():
    lines = _lines(
        [(100, 0), (3000, 0)],  # A's feeder leaves A's fence...
        [(3000, 0), (3000, 6000)],  # ...and runs north, ending nearer B than A
        [(5000, 7900), (5000, 6500)],  # B's own short feeder
    )
    feed = feeding_substations(lines, SUBS)
    assert feed.tolist() == [0, 0, 1]
    # the straight line would have booked the second way on B
    assert shapely.STRtree(SUBS).nearest(lines[1]) == 1


def test_tied_feeders_give_each_way_the_nearest_substation_they_reach():
    lines = _lines([(100, 0), (10000, 0)], [(10000, 0), (19900, 0)])
    assert feeding_substations(lines, SUBS).tolist() == [0, 2]


def test_a_network_drawn_apart_from_every_substation_takes_the_nearest_to_it():
    lines = _lines([(15000, 3000), (15000, 6000)], [(15000, 6000), (9000, 9000)])
    # its nearest way point to a substation: (15000, 3000) is 5,831 m from C, (9000, 9000)
    # is 4,123 m from B
    assert feeding_substations(lines, SUBS).tolist() == [1, 1]


def test_taps_take_their_line_s_substation():
    lines = _lines([(100, 0), (3000, 0)], [(3000, 0), (3000, 6000)])
    feed = feeding_substations(lines, SUBS)
    taps = np.array([shapely.Point(3010, 5900), shapely.Point(19000, 100)], dtype=object)
    assert tap_substations(taps, lines, feed, SUBS).tolist() == [0, 0]
    assert tap_substations(taps, lines[:0], feed[:0], SUBS).tolist() == [1, 2]
