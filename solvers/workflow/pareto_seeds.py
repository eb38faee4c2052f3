"""Seed schedules of the workflow NSGA-II: the fast end and the cheap end of the front.

- HEFT and PEFT (list scheduling for the earliest finish);
- HEFT improved by the critical-path local search for a share of the budget;
- on small workflows, the CP-SAT schedule started from the improved one (neither of
  these two in a deterministic run: both follow the clock);
- the cheapest list schedule (each task on its cheapest allowed agent, earliest
  finish breaking ties), the other end of a makespan-cost front, and, when cost is
  an objective, a few weighted-sum list schedules between the two ends;
- the caller's hints (e.g. a CP-SAT or greedy plan), made eligible and re-timed in
  HEFT's order.
Each seed is a genome the operators can breed from: its agents and its order.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from models import CompiledProblem
from solvers.base import SolveOptions
from solvers.shared.hints import well_formed_hint
from solvers.workflow.cpsat_schedule import solve_schedule
from solvers.workflow.decode import decode
from solvers.workflow.graph import WorkflowGraph
from solvers.workflow.heft import Schedule, list_schedule, priority_order, upward_ranks
from solvers.workflow.improve import improve
from solvers.workflow.pareto_genome import GenomeOps
from solvers.workflow.peft import optimistic_cost_table, peft_ranks
from solvers.workflow.rules import PlacementRules

__all__ = ["Seed", "seed_schedules"]

#: The same size as the `heft` engine's CP-SAT phase (at most this many task x agent pairs).
CP_MAX_PAIRS = 160
_IMPROVE_SHARE = 0.15  # of the budget for HEFT's local search
_CP_SHARE = 0.15  # ... and for CP-SAT on small workflows
#: Weighted-sum list schedules (finish + w x cost, w in mean seconds per mean cost unit)
#: that seed the middle of a makespan-cost front; a handful costs a few list schedules.
SWEEP_WEIGHTS = (0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0)


@dataclass
class Seed:
    """A seed schedule and where it came from ('heft', 'improved', 'cpsat', ...)."""

    label: str
    schedule: Schedule


def seed_schedules(
    problem: CompiledProblem,
    graph: WorkflowGraph,
    ops: GenomeOps,
    options: SolveOptions,
    deadline: float,
    objectives: tuple[str, ...] = ("makespan", "cost"),
) -> list[Seed]:
    """Every seed that exists for this problem; empty when HEFT finds no schedule."""
    budget = max(0.0, deadline - time.perf_counter())
    order = priority_order(graph, upward_ranks(graph, PlacementRules(problem)))
    heft = list_schedule(graph, PlacementRules(problem), order)
    if heft is None:
        return []
    seeds = [Seed("heft", heft)]
    table = optimistic_cost_table(graph, PlacementRules(problem))
    peft_order = priority_order(graph, peft_ranks(table, PlacementRules(problem)))
    peft = list_schedule(graph, PlacementRules(problem), peft_order, table.tolist())
    if peft is not None:
        seeds.append(Seed("peft", peft))
    if not options.deterministic:  # both follow the clock: a deterministic run goes without
        seeds.extend(_searched(problem, graph, heft, options, deadline, budget))
    cheapest = cheap_list_schedule(problem, graph, order, weight=None)
    if cheapest is not None:
        seeds.append(Seed("cheapest", cheapest))
    if "cost" in objectives:
        scale = float(problem.duration.mean() / max(problem.cost.mean(), 1e-12))
        for w in SWEEP_WEIGHTS:
            if time.perf_counter() > deadline:
                break  # large workflows: a list schedule takes a good part of a second
            blend = cheap_list_schedule(problem, graph, order, w * scale)
            if blend is not None:
                seeds.append(Seed(f"sweep {w:g}", blend))
    for k, hint in enumerate(options.hints):
        plan = well_formed_hint(problem, hint)
        agent = None if plan is None else ops.legalise(plan.tolist())
        genome = None if agent is None else ops.repair((agent, order))
        if genome is not None:
            seeds.append(Seed(f"hint {k}", decode(graph, genome[1], genome[0])))
    return seeds


def _searched(
    problem: CompiledProblem,
    graph: WorkflowGraph,
    heft: Schedule,
    options: SolveOptions,
    deadline: float,
    budget: float,
) -> list[Seed]:
    """HEFT improved by the local search, then CP-SAT from it on small workflows."""
    rng = np.random.default_rng(options.seed)
    rules = PlacementRules(problem, np.array(heft.agent))
    stop = min(deadline, time.perf_counter() + _IMPROVE_SHARE * budget)
    improved = improve(graph, rules, heft, stop, rng)
    out = [Seed("improved", improved)]
    if graph.n * graph.m <= CP_MAX_PAIRS:
        outcome = solve_schedule(
            problem, graph, improved, _CP_SHARE * budget, options.workers, options.seed
        )
        if outcome.agent is not None and outcome.order is not None:
            out.append(Seed("cpsat", decode(graph, outcome.order, outcome.agent)))
    return out


def cheap_list_schedule(
    problem: CompiledProblem, graph: WorkflowGraph, order: list[int], weight: float | None
) -> Schedule | None:
    """List scheduling by finish time + `weight` x cost; None weight: cheapest agent first.

    The weighted-sum scheduler a makespan-cost sweep runs (weight in seconds per cost
    unit); with no weight, cost dominates and finish time only breaks ties.
    """
    cost = problem.cost.astype(np.float64)
    if weight is None:
        horizon = sum(max(row[j] for row in graph.duration) for j in range(graph.n))
        spread = float(np.ptp(cost)) if cost.size else 0.0
        # Any cost difference outweighs any finish-time difference (bounded by the horizon
        # plus every transfer; the factor covers transfers of any realistic size).
        weight = 1e3 * (horizon + 1.0) / max(spread, 1e-9) if spread > 0 else 0.0
    bias = (weight * cost.T).tolist()
    return list_schedule(graph, PlacementRules(problem), order, bias)
