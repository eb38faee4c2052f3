"""The capacity-row Lagrangian bound from the smoothed dual's multipliers (large requests).

`solvers.shared.smoothed_dual` climbs an entropy-smoothed copy of the dual with L-BFGS
and records the exact L(mu) of every point it reads all pairs at; the bound is the best
of those exact values, so it is valid whatever the smoothing did. At scale it climbs far
faster than subgradient steps (BENCHMARKS.md, issue 12 part 2: 100,000 x 2,000 at about
35 s: 424k against the candidate subgradient's 348k).
Memory: one float32[m, n] matrix of weighted costs (inf where a task may not go), built
in blocks of agents so that no second full-size temporary exists (800 MB at 100,000 x
2,000); the usage stays the compiled problem's (a broadcast view in attribute form).
"""

from __future__ import annotations

import time

import numpy as np

from models import CompiledProblem
from solvers.bounds.lagrangian import LagrangianResult, pair_costs
from solvers.shared.smoothed_dual import smoothed_dual

__all__ = ["smoothed_lagrangian_dual"]

#: Agents per block while the weighted cost matrix is built.
_AGENT_BLOCK = 64


def smoothed_lagrangian_dual(
    problem: CompiledProblem, deadline: float, evaluations: int | None = None
) -> LagrangianResult:
    """The best exact L(mu) the smoothed dual reaches by `deadline` (perf_counter), or
    in about `evaluations` passes over the pairs (deterministic runs) if that is sooner.

    Every task must be placed here or not (`left_out` from `pair_costs`). The bound is
    -inf when not one exact evaluation finished in time; the method says how many did
    and how long the whole took (the cost matrix included).
    """
    t0 = time.perf_counter()
    cost, scale = _weighted_cost(problem)
    left_out = None
    if problem.allow_unassigned:
        _, left_out = pair_costs(problem)
    dual = smoothed_dual(
        cost,
        problem.usage,
        problem.capacity.astype(np.float64),
        deadline,
        left_out=left_out,
        evaluations=evaluations,
        scale=scale,
    )
    seconds = time.perf_counter() - t0
    start = ", warm start on a quarter of the tasks" if dual.sampled else ""
    method = (
        f"Lagrangian dual of the capacity rows (L-BFGS on the entropy-smoothed dual{start}, "
        f"best of {dual.evaluations} exact evaluations over every pair, {seconds:.2f} s)"
    )
    return LagrangianResult(dual.bound, dual.multipliers, dual.evaluations, method)


def _weighted_cost(problem: CompiledProblem) -> tuple[np.ndarray, float]:
    """(float32[m, n] per-pair weighted score, inf where not eligible; mean |eligible|)."""
    if problem.objectives.weight("migrations"):
        cost, _ = pair_costs(problem)  # the general form: two full temporaries
        finite = np.isfinite(cost)
        return cost, float(np.abs(cost[finite]).mean()) if finite.any() else 1.0
    weight = np.float32(problem.objectives.weight("cost"))
    m = problem.n_agents
    cost = np.empty(problem.cost.shape, dtype=np.float32)
    total, count = 0.0, 0
    for a in range(0, m, _AGENT_BLOCK):
        rows = slice(a, min(m, a + _AGENT_BLOCK))
        block = cost[rows]
        np.multiply(problem.cost[rows], weight, out=block)
        eligible = problem.eligible[rows]
        total += float(
            np.abs(block, where=eligible, out=np.zeros_like(block)).sum(dtype=np.float64)
        )
        count += int(eligible.sum())
        block[~eligible] = np.inf
    return cost, total / count if count else 1.0
