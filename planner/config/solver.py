"""The solver's limits, and the coverage-vs-budget curve it solves a series of."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from planner.config.base import Section


class CurveSection(Section):
    """Coverage-vs-budget curve: the plan re-solved for a series of budgets."""

    budgets: list[float] = Field(
        default_factory=list, description="Budgets to solve (CNY); empty: see steps"
    )
    steps: int = Field(
        default=0,
        ge=0,
        le=50,
        description="Without budgets: this many budgets evenly spaced up to stations.budget "
        "(0: no curve)",
    )

    @field_validator("budgets")
    @classmethod
    def _positive(cls, value: list[float]) -> list[float]:
        if any(b <= 0 for b in value):
            msg = "budgets must be positive"
            raise ValueError(msg)
        return sorted(value)


class SolverSection(Section):
    """MIP solver."""

    name: Literal["highs", "cbc"] = Field(default="highs", description="HiGHS or CBC")
    time_limit_s: float = Field(
        default=600,
        gt=0,
        description="Safety net per solve (s): solves stop on mip_gap or node_limit; a solve "
        "stopped by the clock is reported as 'time_limit' everywhere (its plan depends on "
        "the machine's speed and load)",
    )
    mip_gap: float = Field(
        default=0.005,
        ge=0,
        lt=1,
        description="Relative MIP gap each pass must prove (0.5%: well inside the "
        "uncertainty of demand estimates)",
    )
    node_limit: int | None = Field(
        default=None,
        ge=1,
        description="Deterministic work limit: branch-and-bound nodes per solve (None: "
        "none); a solve that reaches it is reported as 'node_limit'",
    )
    stall_nodes: int | None = Field(
        default=300,
        ge=1,
        description="Deterministic work limit of a plan's passes after the first (capex, "
        "drive time), which start from the plan before them: a solve stops after this many "
        "branch-and-bound nodes without a better plan (HiGHS; None: never), reported as "
        "'node_limit' with its gap. On the demo at --scale 5 the capex pass found no cheaper "
        "plan in 662 nodes and 247 s, and the 300 s time limit decided where it stopped",
    )
    first_stall_nodes: int | None = Field(
        default=5000,
        ge=1,
        description="Deterministic work limit of a plan's first pass (coverage, or capex "
        "with objective: cost): it stops after this many branch-and-bound nodes without a "
        "better plan (HiGHS; None: never), reported as 'node_limit' with its gap. A rollout "
        "year of the demo county (existing capacity full, 679 demand points) found its best "
        "plan at once and then closed its bound by 0.4% in 400 s: without this limit the "
        "clock (solver.time_limit_s) decided where it stopped",
    )
    drive_time_max_pairs: int | None = Field(
        default=25_000,
        ge=0,
        description="The drive-time pass (re-choosing chargers for the least drive time) "
        "runs when the demand-site pairs within the cutoff are at most this many (None: "
        "always); above it the chargers of the capex pass stay and the demand is still "
        "routed by drive time (at --scale 20, 139,594 pairs, the pass did not prove 0.7% in "
        "600 s)",
    )
    capex_max_pairs: int | None = Field(
        default=100_000,
        ge=0,
        description="The capex pass (least capex at the coverage of the first pass) "
        "re-chooses the sites when the demand-site pairs within the cutoff are at most this "
        "many (None: always); above it the whole model is not searched: the plan of its "
        "kernel (the sites its relaxation uses and the coverage plan's) when that has at "
        "most 400 sites, else the coverage plan's sites with their chargers and repair "
        "points re-chosen at least capex, and the pass reports its gap to the linear "
        "relaxation over all sites (at --scale 50, 337,865 pairs, branching on the sites "
        "was still at its root after 260 s, 3.4% from that bound)",
    )
    staged_mip_max_pairs: int | None = Field(
        default=500_000,
        ge=0,
        description="The joint model (repair.mode: joint) starts from a staged plan whose "
        "stations come from the stations model; above this many demand-site pairs (None: "
        "never) they come from the greedy plan with its sizing re-solved, and the joint "
        "model closes the gap (at --scale 100, 671,693 pairs, gap 1%: 107 CPU s with the "
        "greedy stations; at --scale 20, 139,594 pairs, gap 0.1%: 166 CPU s with them "
        "against about 50 with the stations model)",
    )
    start_node_limit: int | None = Field(
        default=200,
        ge=1,
        description="Branch-and-bound nodes of the stations model that builds the joint "
        "model's start (repair.mode: joint; None: none). It is only a start: the joint "
        "model proves the gap. On the demo at --scale 3 that stations model was still "
        "0.78% from its bound after 4,099 nodes and 60 s (the 300 s time limit fired), "
        "while the joint model proved 0.24% in 3.8 s",
    )
    kernel_min_pairs: int | None = Field(
        default=1_000_000,
        ge=0,
        description="From this many demand-site pairs (None: never), the sized coverage "
        "pass's start is improved on the sites its linear relaxation uses (the model "
        "restricted to them and solved first; planner/optimize/kernel.py). With 100 m "
        "demand at --scale 20 (3.0 M pairs) the stations model then proves 0.1% in 38 CPU s, "
        "where it stopped at 0.34% after 342 s without; on 1 km demand (140,000-670,000 "
        "pairs) it costs 10-15 s and gains nothing",
    )
    kernel_min_pairs_per_site: int | None = Field(
        default=500,
        ge=1,
        description="The same kernel step from 100,000 demand-site pairs when there are "
        "this many pairs per candidate site or more (None: never): fine demand on few "
        "sites. With 100 m demand at --scale 2 (380,671 pairs, 244 sites: 1,560 per site) "
        "the coverage pass then proves 0.39% in 17 s, where it was still 0.62% from its "
        "bound after 280 s without; 1 km demand has about 60 per site",
    )
    threads: int | None = Field(
        default=1,
        ge=1,
        description="Solver threads; the same inputs and threads give the same plan "
        "(None: the solver's own choice, which depends on the machine)",
    )
    msg: bool = Field(default=False, description="Show the solver log")
