"""Shared PuLP builders: site variables and the constraints every model can take."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pulp


def site_vars(prob: pulp.LpProblem, n: int, *, prefix: str = "x") -> list[pulp.LpVariable]:
    """One binary open/closed variable per candidate site."""
    return [prob.add_variable(f"{prefix}_{j}", cat=pulp.LpBinary) for j in range(n)]


def add_count_limit(
    prob: pulp.LpProblem, x: Sequence[pulp.LpVariable], max_sites: int | None
) -> None:
    """``sum_j x_j <= max_sites`` (nothing when None)."""
    if max_sites is not None:
        prob += pulp.lpSum(x) <= max_sites, "site_count"


def add_budget(
    prob: pulp.LpProblem,
    terms: list[tuple[pulp.LpVariable, float]],
    budget: float | None,
) -> None:
    """``sum cost * var <= budget`` over the given (variable, cost) terms.

    The row is divided by the budget (so its right-hand side is 1) to keep the model
    well scaled: costs in CNY run to 1e7 against coefficients of order 1 elsewhere.
    """
    if budget is not None:
        scaled = [(v, c / budget) for v, c in terms]
        prob += pulp.LpAffineExpression(scaled) <= 1.0, "budget"


def add_group_minimum(
    prob: pulp.LpProblem,
    x: Sequence[pulp.LpVariable],
    groups: dict[str, np.ndarray] | None,
    *,
    minimum: int = 1,
) -> None:
    """``sum_{j in G} x_j >= minimum`` for every group G (e.g. the sites of a township)."""
    if not groups:
        return
    for k, (name, members) in enumerate(groups.items()):
        if len(members):
            prob += (
                pulp.lpSum(x[j] for j in members) >= minimum,
                f"group_{k}_{_safe(name)}",
            )


def add_fixed(
    prob: pulp.LpProblem,
    x: Sequence[pulp.LpVariable],
    *,
    required: Sequence[int] | np.ndarray | None = None,
    excluded: Sequence[int] | np.ndarray | None = None,
) -> None:
    """Fix sites open (``required``) or closed (``excluded``) through their bounds."""
    for j in required if required is not None else ():
        x[int(j)].lowBound = 1
    for j in excluded if excluded is not None else ():
        x[int(j)].upBound = 0


def add_cover_rows(
    prob: pulp.LpProblem,
    x: Sequence[pulp.LpVariable],
    cover_sets: Sequence[np.ndarray],
    *,
    prefix: str = "cover",
) -> None:
    """``sum_{j in M_k} x_j >= 1`` for every target ``k`` (``M_k`` must be non-empty)."""
    for k, members in enumerate(cover_sets):
        if len(members) == 0:
            msg = f"{prefix} target {k} has no covering site"
            raise ValueError(msg)
        prob += pulp.lpSum(x[j] for j in np.unique(members)) >= 1, f"{prefix}_{k}"


def add_min_cover(
    prob: pulp.LpProblem, cover: pulp.LpAffineExpression, minimum: float | None
) -> None:
    """``covered weight >= minimum`` (nothing when None)."""
    if minimum is not None and minimum > 0:
        prob += cover >= minimum, "min_cover"


def _safe(name: str) -> str:
    return "".join(c if c.isascii() and c.isalnum() else "_" for c in str(name))[:40]
