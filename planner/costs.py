"""Capital cost of a site: the one rule behind the candidates, the models and the tables.

A new station costs its fixed cost (``costs.station_capex`` plus the grid connection, a
connection cost that is not included adding nothing) and ``costs.charger_capex`` per
charger; an existing public charger costs nothing (its chargers are in place). The fixed
part is the ``station_capex`` column of the candidates (:func:`fixed_capex`); the capex of
a site with its chargers is :func:`site_capex`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from planner.config import CostsSection


def fixed_capex(connection_cost: pd.Series, costs: CostsSection) -> pd.Series:
    """The fixed cost of a station at each site: station plus grid connection.

    Parameters
    ----------
    connection_cost
        Connection cost per site (NaN: not included, adds nothing).
    costs
        The cost settings.

    Returns
    -------
    Series
        ``costs.station_capex + connection_cost`` (the ``station_capex`` column).
    """
    return costs.station_capex + connection_cost.fillna(0.0)


def site_capex(
    fixed: np.ndarray | pd.Series,
    chargers: np.ndarray | int,
    charger_cost: float,
    *,
    existing: np.ndarray | None = None,
) -> np.ndarray:
    """Capex of each site with ``chargers`` chargers: fixed cost plus the chargers.

    Parameters
    ----------
    fixed
        Fixed cost per site (:func:`fixed_capex`, the ``station_capex`` column).
    chargers
        Chargers per site, or one count for every site.
    charger_cost
        Capex per charger.
    existing
        Boolean per site: an existing public charger, which costs nothing (None: none).

    Returns
    -------
    numpy.ndarray
        ``fixed + chargers * charger_cost``, 0 at existing sites.
    """
    total = np.asarray(fixed, dtype=float) + np.asarray(chargers) * charger_cost
    if existing is None:
        return total
    return np.where(np.asarray(existing, dtype=bool), 0.0, total)
