r"""Classic maximal covering (MCLP) at scale: reductions, a search plan, a proven bound.

The model (Church & ReVelle 1974), with the station rules of
:mod:`~planner.optimize.mclp`::

    max  sum_i w_i z_i
    s.t. z_i <= sum_{j in N_i} x_j          for every demand row i
         sum_{j new} x_j <= p               (max_sites; existing sites are outside it)
         sum_j f_j x_j <= B                 (budget)
         sum_{j in T} x_j >= 1              for every group T
         x_j = 1 (required, existing),  x_j = 0 (excluded)
         x_j in {0,1},  0 <= z_i <= 1

``N_i`` is the set of sites that reach demand row ``i``. The solver is built for many
demand rows (10^5 and more) against up to a few thousand sites:

1. exact reductions (:mod:`~planner.optimize.covering_reduce`): fixed sites and the
   demand they cover leave the model, rows reached by the same sites merge, dominated
   sites go;
2. a plan (:mod:`~planner.optimize.covering_heuristic`): greedy; after the root
   relaxation (unless it already closes the gap) best-improvement swaps and iterated
   local search from several starts, for a fixed amount of work;
3. branch and bound over the sites (:mod:`~planner.optimize.covering_search`), every
   node solving the linear relaxation in its dual form
   (:mod:`~planner.optimize.covering_lp`: one row per site, so the simplex basis stays
   small however many demand rows there are), with reduced-cost fixing against the plan
   and branching on demand rows (one of their sites open / all closed).

Step 3 is a branch-and-Benders-cut in the sense of Cordeau, Furini & Ljubic (2019) with
one Benders cut per demand row: the column ``lambda_i`` of the dual form is the row's
cut ``z_i <= sum_{j in N_i} x_j``, and only a working set of them is in the master
(sifting), the others separated in closed form from the sites' ``x`` (the cut of row
``i`` is violated when ``sum_{j in N_i} x_j < 1``). Solving the master as its dual
keeps the simplex basis at one row per site.

The status is ``optimal`` only when the bound is proven within ``mip_gap`` of the plan;
otherwise ``node_limit``, ``work_limit`` (simplex iterations) or ``time_limit`` (the
safety net: the plan then depends on the machine's speed). All steps run on one thread
and count their work, so the same inputs and limits give the same plan.

Not supported here (raise :class:`~planner.errors.ConfigError`): station sizing, the
cost and time objectives. ``min_cover`` is checked against the result.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse

from planner.config import SolverSection
from planner.datatypes import SolveInfo, SparseTimes
from planner.errors import ConfigError, InfeasibleError, SolverError
from planner.optimize.covering_heuristic import greedy, portfolio
from planner.optimize.covering_reduce import CoverInstance, coverage_matrix, reduce_cover
from planner.optimize.covering_search import Limits, Search
from planner.optimize.rules import CoverageResult, StationRules, indices

logger = logging.getLogger(__name__)

#: Effort of the start plan's search by default, in typical rounds of iterated local
#: search (:func:`~planner.optimize.covering_heuristic.round_work`): about 10 s on
#: 1,000 sites x 47,000 merged rows, p = 15.
HEURISTIC_ROUNDS = 60.0


@dataclass
class MclpResult:
    """A plan of :func:`solve_mclp` and how it was proven.

    Attributes
    ----------
    open
        Boolean per site (fixed-open sites included).
    covered_weight
        Weight of the demand rows the open sites reach.
    bound
        Proven upper bound on the covered weight of any plan.
    gap
        ``(bound - covered_weight) / covered_weight``.
    status
        ``optimal`` (gap within the target), ``node_limit``, ``work_limit`` or
        ``time_limit``.
    nodes, lp_iterations
        Branch-and-bound nodes and dual simplex iterations spent.
    cuts
        Demand-row (Benders) cuts in the relaxation at the end: the working set of
        :mod:`~planner.optimize.covering_lp`, all merged rows when it does not sift.
    heuristic_weight
        Covered weight of the best plan before branching (greedy, the relaxation's
        rounding and, when the root relaxation leaves a gap, the start plan's search).
    root_bound
        The linear relaxation's bound at the root.
    rows, merged_rows, sites, free_sites, dominated, root_fixed
        Demand rows given and after merging; sites given, left free, taken out by
        dominance, fixed by reduced costs at the root.
    seconds, cpu_seconds
        Wall and CPU time of the call (reported, never used to decide).
    trace
        ``(cpu seconds, nodes, covered weight, bound)`` at each checkpoint the search
        passed (CPU seconds since the call started); a checkpoint passed during a step
        shows what was proven before that step.
    """

    open: np.ndarray
    covered_weight: float
    bound: float
    gap: float
    status: str
    nodes: int
    lp_iterations: int
    cuts: int
    heuristic_weight: float
    root_bound: float
    rows: int
    merged_rows: int
    sites: int
    free_sites: int
    dominated: int
    root_fixed: int
    seconds: float
    cpu_seconds: float = 0.0
    trace: list[tuple[float, int, float, float]] = field(default_factory=list)


def solve_mclp(  # noqa: PLR0913 - the instance's arrays, then its rules and limits
    cover: sparse.csr_matrix | sparse.csc_matrix | sparse.coo_matrix,
    weight: np.ndarray,
    *,
    max_sites: int | None = None,
    budget: float | None = None,
    site_cost: np.ndarray | None = None,
    groups: dict[str, np.ndarray] | list[np.ndarray] | None = None,
    required: np.ndarray | None = None,
    excluded: np.ndarray | None = None,
    existing: np.ndarray | None = None,
    mip_gap: float = 0.0,
    node_limit: int | None = None,
    iteration_limit: int | None = None,
    time_limit_s: float | None = None,
    heuristic_rounds: float = HEURISTIC_ROUNDS,
    threads: int | None = 1,
    seed: int = 0,
    checkpoints: tuple[float, ...] = (),
) -> MclpResult:
    """Solve the classic MCLP of the module docstring.

    Parameters
    ----------
    cover
        Demand rows x sites, nonzero where the site reaches the row.
    weight
        ``w_i`` per demand row (finite, at least 0).
    max_sites, budget, site_cost, groups, required, excluded, existing
        The rules: ``p`` (new sites), ``B`` with ``f_j``, site index arrays that must
        each get an open site (a dict names them in messages), sites fixed open or
        closed, existing sites (open, free, outside ``p``).
    mip_gap
        Relative gap at which the plan counts as optimal.
    node_limit, iteration_limit
        Deterministic limits: branch-and-bound nodes, dual simplex iterations.
    time_limit_s
        Safety net (None: none); a search it stops reports ``time_limit``.
    heuristic_rounds
        Effort of the search for the starting plan, in typical rounds of iterated local
        search (counted in deterministic work units, never in seconds).
    threads
        HiGHS threads (1: the same plan on every machine).
    seed
        Seed of the local search's kicks.
    checkpoints
        CPU seconds of this process (since the start of the call) at which plan and
        bound are noted in :attr:`MclpResult.trace`, for reports. The solve runs on
        one thread, so they are the wall seconds of an idle machine, and a loaded
        machine does not flatter the figures.

    Returns
    -------
    MclpResult
        The plan, its proven bound and the counts.

    Raises
    ------
    InfeasibleError
        When no plan meets the rules.
    """
    t0, c0 = time.perf_counter(), time.process_time()
    a = sparse.csr_matrix(cover).astype(float)
    a.data[:] = 1.0
    inst = reduce_cover(
        a,
        weight,
        site_cost=site_cost,
        max_sites=max_sites,
        budget=budget,
        groups=groups,
        required=required,
        excluded=excluded,
        existing=existing,
    )
    plan, value = _greedy(inst)
    spent = time.perf_counter() - t0
    cpu_spent = time.process_time() - c0
    limits = Limits(
        mip_gap,
        node_limit,
        iteration_limit,
        None if time_limit_s is None else max(time_limit_s - spent, 0.0),
        tuple(t - cpu_spent for t in checkpoints),
    )
    if inst.n_sites == 0:
        out_plan, bound, status = plan, value, "optimal"
        nodes = iters = fixed = cuts = 0
        root = heuristic = value
        trace: list[tuple[float, int, float, float]] = []
    else:

        def start() -> tuple[np.ndarray | None, float]:
            return portfolio(inst, rounds=heuristic_rounds, seed=seed)

        search = Search(inst, plan, value, limits, threads=threads, heuristic=start)
        outcome = search.run()
        heuristic = search.start_value
        if outcome.plan is None:
            msg = f"mclp: no plan meets the rules (search ended {outcome.status})"
            raise InfeasibleError(msg)
        out_plan, bound = outcome.plan, outcome.bound
        status, nodes, iters = outcome.status, outcome.nodes, outcome.iterations
        cuts = outcome.cuts
        root, fixed = outcome.root_bound, outcome.root_fixed
        trace = [
            (t + cpu_spent, k, v + inst.base_weight, b + inst.base_weight)
            for t, k, v, b in outcome.trace
        ]
    assert out_plan is not None
    is_open = np.zeros(a.shape[1], dtype=bool)
    is_open[inst.fixed_open] = True
    is_open[inst.sites[out_plan]] = True
    covered = float(np.asarray(weight, dtype=float)[(a @ is_open.astype(float)) > 0.5].sum())
    total_bound = max(inst.base_weight + bound, covered)
    gap = _gap(covered, total_bound)
    if status == "optimal" and gap > mip_gap + 1e-9:
        status = "node_limit"  # cannot happen; never report a gap not proven
    return MclpResult(
        open=is_open,
        covered_weight=covered,
        bound=total_bound,
        gap=gap,
        status=status,
        nodes=nodes,
        lp_iterations=iters,
        cuts=cuts,
        heuristic_weight=inst.base_weight + heuristic,
        root_bound=inst.base_weight + root,
        rows=a.shape[0],
        merged_rows=inst.a.shape[0],
        sites=a.shape[1],
        free_sites=inst.n_sites,
        dominated=inst.dominated,
        root_fixed=fixed,
        seconds=time.perf_counter() - t0,
        cpu_seconds=time.process_time() - c0,
        trace=trace,
    )


def _greedy(inst: CoverInstance) -> tuple[np.ndarray | None, float]:
    """The greedy plan and its covered weight (None when it misses a rule)."""
    if inst.n_sites == 0:
        return np.zeros(0, dtype=np.int64), 0.0
    plan = greedy(inst)
    if not inst.feasible(plan):
        logger.info("mclp: the greedy plan misses a rule; the search starts without one")
        return None, -np.inf
    return plan, inst.covered_weight(plan)


def _gap(value: float, bound: float) -> float:
    gap = (bound - value) / max(abs(value), 1e-9)
    return 0.0 if gap < 1e-12 else gap


def solve_classic(
    reach: SparseTimes,
    weight: np.ndarray,
    rules: StationRules,
    *,
    solver: SolverSection,
    iteration_limit: int | None = None,
    heuristic_rounds: float = HEURISTIC_ROUNDS,
) -> CoverageResult:
    """The classic MCLP of a plan's station rules, as :func:`~planner.optimize.mclp.mclp`
    returns it (each covered point served by its nearest open site).

    Parameters
    ----------
    reach
        Demand x site pairs within the cutoff (their minutes pick the nearest site).
    weight
        ``w_i`` per demand point.
    rules
        Station rules without sizing and with the coverage objective.
    solver
        ``mip_gap``, ``node_limit``, ``time_limit_s`` (safety net) and ``threads``.
    iteration_limit
        Dual simplex iterations allowed (None: none).
    heuristic_rounds
        Effort of the search for the starting plan, in typical rounds of iterated local
        search (counted in deterministic work units, never in seconds).

    Raises
    ------
    ConfigError
        For rules this solver does not take (sizing, the cost or time objective).
    InfeasibleError
        When no plan meets the rules (or ``min_cover`` is above the optimum).
    """
    if rules.sizing is not None or rules.objective != "coverage":
        msg = "mclp_large: only the classic model (no sizing, objective 'coverage')"
        raise ConfigError(msg)
    cover = coverage_matrix(reach.rows, reach.cols, reach.shape)
    r = solve_mclp(
        cover,
        weight,
        max_sites=rules.max_sites,
        budget=rules.budget,
        site_cost=rules.site_cost,
        groups=rules.groups,
        required=indices(rules.required),
        excluded=indices(rules.excluded),
        existing=indices(rules.existing),
        mip_gap=solver.mip_gap,
        node_limit=solver.node_limit,
        iteration_limit=iteration_limit,
        time_limit_s=solver.time_limit_s,
        heuristic_rounds=heuristic_rounds,
        threads=solver.threads,
    )
    if rules.min_cover is not None and r.covered_weight < rules.min_cover:
        if r.bound < rules.min_cover or r.status == "optimal":
            msg = (
                f"mclp: at most {r.bound:.6g} can be covered, below min_cover {rules.min_cover:.6g}"
            )
            raise InfeasibleError(msg)
        msg = f"mclp: no plan covering min_cover {rules.min_cover:.6g} found ({r.status})"
        raise SolverError(msg)
    info = SolveInfo(
        model="stations_coverage",
        solver="mclp_large",
        status=r.status,
        objective=r.covered_weight,
        bound=r.bound,
        gap=r.gap,
        seconds=r.seconds,
        build_seconds=0.0,
        n_variables=r.free_sites + r.merged_rows,
        n_constraints=r.merged_rows,
    )
    return _coverage_result(reach, r.open, info)


def _coverage_result(reach: SparseTimes, is_open: np.ndarray, info: SolveInfo) -> CoverageResult:
    """Each covered demand point served in full by its nearest open site."""
    rows, cols, minutes = reach.rows, reach.cols, reach.minutes
    ok = is_open[cols]
    r, c, m = rows[ok], cols[ok], minutes[ok]
    order = np.lexsort((c, m, r))
    r, c, m = r[order], c[order], m[order]
    first = np.unique(r, return_index=True)[1]
    covered = np.zeros(reach.shape[0])
    covered[r[first]] = 1.0
    return CoverageResult(
        open=is_open,
        chargers=np.zeros(reach.shape[1], dtype=int),
        flow_rows=r[first],
        flow_cols=c[first],
        flow_share=np.ones(len(first)),
        covered=covered,
        info=info,
        flow_minutes=m[first],
    )
