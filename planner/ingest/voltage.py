"""Voltages as grid teams' layers write them: ``10``, ``35kV``, ``10 千伏``, ``10000``
(volts), ``110/35/10``.

A number with ``kV`` (or 千伏) is in kV, with ``V`` (or 伏) in volts; a bare number of at
least 1,000 is taken as volts (no line or substation carries 1,000 kV), a smaller one
as kV. Of several voltages the highest counts, as for OSM's ``voltage`` tag. What cannot
be read is missing (NaN), and a warning names the field, how many and an example.
"""

from __future__ import annotations

import logging
import re

import numpy as np
import pandas as pd

logger = logging.getLogger(__name__)

#: One voltage: a number, then maybe its unit.
_ONE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(kv|千伏|v|伏)?\s*$", re.IGNORECASE)
#: What separates several voltages.
_SEPARATORS = re.compile(r"[;,/、；，]")
#: A bare number from this on is volts.
VOLTS_FROM = 1000.0


def voltage_kv(values: pd.Series, *, where: str) -> pd.Series:
    """Each value's highest voltage in kV (NaN where none can be read).

    Parameters
    ----------
    values
        The layer's voltage field (numbers or text).
    where
        The file, layer and field, for the warnings.

    Returns
    -------
    Series of float
        kV, on ``values``' index.
    """
    out = np.array([_kv(v) for v in values.tolist()], dtype=float)
    given = values.notna() & (values.astype(str).str.strip() != "")
    unread = given.to_numpy() & np.isnan(out)
    if unread.any():
        example = values[unread].iloc[0]
        logger.warning(
            "%s: %d voltages are not a number of kV or volts (e.g. %r): taken as unknown "
            "(a line without a voltage counts as a 10 kV line)",
            where,
            int(unread.sum()),
            example,
        )
    volts = np.array([_bare_volts(v) for v in values.tolist()], dtype=bool)
    if volts.any():
        logger.info("%s: %d voltages of %g or more read as volts", where, volts.sum(), VOLTS_FROM)
    return pd.Series(out, index=values.index, dtype=float)


def _kv(value: object) -> float:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return np.nan
    if isinstance(value, int | float | np.integer | np.floating):
        v = float(value)
        return v / 1000.0 if v >= VOLTS_FROM else v
    found = []
    for part in _SEPARATORS.split(str(value)):
        m = _ONE.match(part)
        if m is None:
            if part.strip():
                return np.nan
            continue
        v, unit = float(m.group(1)), (m.group(2) or "").lower()
        if unit in ("kv", "千伏"):
            found.append(v)
        elif unit in ("v", "伏") or v >= VOLTS_FROM:
            found.append(v / 1000.0)
        else:
            found.append(v)
    return max(found) if found else np.nan


def _bare_volts(value: object) -> bool:
    """Whether ``value`` is a bare number read as volts."""
    try:
        return float(str(value).strip()) >= VOLTS_FROM
    except ValueError:
        return False
