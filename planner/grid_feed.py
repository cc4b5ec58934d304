"""Which substation feeds each 10 kV line: so that a site's load is booked on the
substation whose line it is connected to, not on the substation nearest in a straight
line.

A feeder is drawn as several ways in OSM or a grid layer; the ways that touch (within
``touch_m``) form one network. A network that reaches one substation is fed by it; one
that reaches several (feeders tied to each other) gives each way the nearest of those;
one that reaches none is fed by the substation nearest to any of its ways.
"""

from __future__ import annotations

import numpy as np
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

#: A line this close to another line or to a substation is connected to it (metres):
#: a substation is a point at its site's centre, its feeders start at its fence.
TOUCH_M = 150.0


def feeding_substations(
    lines: np.ndarray, substations: np.ndarray, *, touch_m: float = TOUCH_M
) -> np.ndarray:
    """The substation (index into ``substations``) that feeds each line.

    Parameters
    ----------
    lines
        Line geometries (shapely), in a metric CRS.
    substations
        Substation geometries, same CRS; at least one.
    touch_m
        Lines (and a line and a substation) closer than this are connected.

    Returns
    -------
    ndarray of int
        One substation per line.
    """
    n = len(lines)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    subs = shapely.STRtree(substations)
    nearest = subs.nearest(lines)
    dist = shapely.distance(lines, substations[nearest])
    a, b = shapely.STRtree(lines).query(lines, predicate="dwithin", distance=touch_m)
    graph = coo_matrix((np.ones(len(a)), (a, b)), shape=(n, n))
    _, network = connected_components(graph, directed=False)
    li, si = subs.query(lines, predicate="dwithin", distance=touch_m)
    out = nearest.astype(np.int64)
    for k in np.unique(network):
        ways = np.flatnonzero(network == k)
        reached = np.unique(si[np.isin(li, ways)])
        if len(reached) == 1:
            out[ways] = reached[0]
        elif len(reached) > 1:  # tied feeders: each way to the nearest of them
            d = shapely.distance(lines[ways][:, None], substations[reached][None, :])
            out[ways] = reached[np.argmin(d, axis=1)]
        else:  # drawn apart from any substation: the nearest to the network
            out[ways] = nearest[ways[np.argmin(dist[ways])]]
    return out


def tap_substations(
    taps: np.ndarray,
    lines: np.ndarray,
    line_feed: np.ndarray,
    substations: np.ndarray,
) -> np.ndarray:
    """The substation feeding each tap point (pole, transformer): its nearest line's, or
    the nearest substation when there are no lines."""
    if len(taps) == 0:
        return np.zeros(0, dtype=np.int64)
    if len(lines):
        return line_feed[shapely.STRtree(lines).nearest(taps)]
    return shapely.STRtree(substations).nearest(taps).astype(np.int64)
