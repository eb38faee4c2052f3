"""CP-SAT over a small workflow: an optional interval per eligible (task, agent), no
overlap per agent, precedence with transfer delays, minimum makespan.

Times are integers: durations and transfers are scaled and rounded *up*, so every
schedule of the model is a valid schedule of the real problem (re-timed with the exact
durations it only gets earlier), and the model's bound, less the rounding it can hold
(at most one unit per task and per edge on a chain), is a valid lower bound.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from ortools.sat.python import cp_model

from models import CompiledProblem
from solvers.workflow.graph import WorkflowGraph
from solvers.workflow.heft import Schedule

__all__ = ["CpScheduleOutcome", "solve_schedule"]

_HORIZON_UNITS = 1_000_000_000  # the warm start's makespan in model units
_USAGE_UNITS = 1_000  # resource amounts per unit, rounded against the plan


@dataclass
class CpScheduleOutcome:
    """Agent and order from the model, and a valid lower bound on the makespan."""

    agent: list[int] | None
    order: list[int] | None
    lower_bound: float
    proven: bool


def solve_schedule(
    problem: CompiledProblem,
    graph: WorkflowGraph,
    warm: Schedule,
    time_limit_s: float,
    workers: int,
    seed: int,
) -> CpScheduleOutcome:
    """Minimise the makespan from `warm` (a valid schedule) within the time limit."""
    scale = _HORIZON_UNITS / max(warm.makespan, 1e-9)
    model = cp_model.CpModel()
    horizon = math.ceil(warm.makespan * scale) + 2 * (graph.n + len(graph.data)) + 1
    start = [model.new_int_var(0, horizon, f"s{j}") for j in range(graph.n)]
    end = [model.new_int_var(0, horizon, f"e{j}") for j in range(graph.n)]
    use: dict[tuple[int, int], cp_model.IntVar] = {}
    per_agent: list[list[cp_model.IntervalVar]] = [[] for _ in range(graph.m)]
    for j in range(graph.n):
        for i in np.flatnonzero(problem.eligible[:, j]).tolist():
            b = model.new_bool_var(f"b{j}_{i}")
            size = math.ceil(graph.duration[i][j] * scale)
            per_agent[i].append(model.new_optional_interval_var(start[j], size, end[j], b, ""))
            use[j, i] = b
        model.add_exactly_one(b for (t, _), b in use.items() if t == j)
    for intervals in per_agent:
        model.add_no_overlap(intervals)
    _precedence(model, graph, scale, start, end, use)
    rounded_capacity = _allocation_rules(model, problem, use)
    makespan = model.new_int_var(0, horizon, "makespan")
    model.add_max_equality(makespan, end)
    # Redundant, for the linear relaxation: no agent is busy longer than the makespan.
    for i in range(graph.m):
        busy = [(math.ceil(graph.duration[i][j] * scale), b) for (j, a), b in use.items() if a == i]
        if busy:
            model.add(sum(d * b for d, b in busy) <= makespan)
    model.minimize(makespan)
    _hint(model, graph, warm, scale, start, end, use)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(0.05, time_limit_s)
    solver.parameters.num_workers = max(1, workers)
    solver.parameters.random_seed = seed
    status = solver.solve(model)
    slack = 2 * (graph.n + len(graph.data)) + 1
    # Capacities rounded against the plan cut some real schedules out: no bound then.
    bound = 0.0 if rounded_capacity else max(0.0, (solver.best_objective_bound - slack) / scale)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return CpScheduleOutcome(None, None, bound, False)
    agent = [-1] * graph.n
    for (j, i), b in use.items():
        if solver.boolean_value(b):
            agent[j] = i
    position = {j: k for k, j in enumerate(graph.topo)}
    # Model start order, ties by topological position: a topological order (durations
    # and transfers are >= 0), so re-timing in it never starts a task later.
    order = sorted(range(graph.n), key=lambda j: (solver.value(start[j]), position[j]))
    return CpScheduleOutcome(
        agent, order, bound, status == cp_model.OPTIMAL and not rounded_capacity
    )


def _precedence(
    model: cp_model.CpModel,
    graph: WorkflowGraph,
    scale: float,
    start: list[cp_model.IntVar],
    end: list[cp_model.IntVar],
    use: dict[tuple[int, int], cp_model.IntVar],
) -> None:
    agents_of: list[list[int]] = [[] for _ in range(graph.n)]
    for j, i in use:
        agents_of[j].append(i)
    for succ in range(graph.n):
        for pred, e in graph.preds[succ]:
            model.add(start[succ] >= end[pred])
            for a in agents_of[pred]:
                for b in agents_of[succ]:
                    delay = graph.transfer(e, a, b)
                    if a == b or delay <= 0:
                        continue
                    units = math.ceil(delay * scale) if math.isfinite(delay) else None
                    if units is None:
                        model.add_bool_or([use[pred, a].Not(), use[succ, b].Not()])
                        continue
                    model.add(start[succ] >= end[pred] + units).only_enforce_if(
                        [use[pred, a], use[succ, b]]
                    )


def _allocation_rules(
    model: cp_model.CpModel, problem: CompiledProblem, use: dict[tuple[int, int], cp_model.IntVar]
) -> bool:
    """Capacity, max_tasks and groups, as `evaluate_plan` checks them.

    Returns whether a capacity was modelled (its amounts are rounded conservatively).
    """
    rounded = False
    for i in range(problem.n_agents):
        mine = [(j, b) for (j, a), b in use.items() if a == i]
        if len(mine) > problem.max_tasks[i]:
            model.add(sum(b for _, b in mine) <= int(problem.max_tasks[i]))
        for k in range(problem.n_dims):
            amounts = [
                (math.ceil(float(problem.usage[i, j, k]) * _USAGE_UNITS), b) for j, b in mine
            ]
            if not any(q for q, _ in amounts):
                continue
            cap = math.floor(float(problem.capacity[i, k]) * _USAGE_UNITS)
            model.add(sum(q * b for q, b in amounts) <= cap)
            rounded = True
        for group in problem.anti_affinity:
            members = [use[j, i] for j in group.tolist() if (j, i) in use]
            if len(members) > 1:
                model.add_at_most_one(members)
        for group in problem.co_location:
            first = group[0]
            for j in group[1:].tolist():
                left = use.get((int(first), i))
                right = use.get((j, i))
                if left is None and right is not None:
                    model.add(right == 0)
                elif right is None and left is not None:
                    model.add(left == 0)
                elif left is not None and right is not None:
                    model.add(left == right)
    return rounded


def _hint(
    model: cp_model.CpModel,
    graph: WorkflowGraph,
    warm: Schedule,
    scale: float,
    start: list[cp_model.IntVar],
    end: list[cp_model.IntVar],
    use: dict[tuple[int, int], cp_model.IntVar],
) -> None:
    """The warm schedule re-timed in model units, so the hint is feasible as given.

    Rounding each time up on its own could break a tight precedence or agent sequence;
    re-timing in start order (which respects both) keeps every constraint.
    """
    for (j, i), b in use.items():
        model.add_hint(b, warm.agent[j] == i)
    position = warm.position()
    agent_free = [0] * graph.m
    begin, finish = [0] * graph.n, [0] * graph.n
    for j in sorted(range(graph.n), key=lambda t: (warm.start[t], position[t])):
        i = warm.agent[j]
        ready = max(agent_free[i], math.ceil(warm.start[j] * scale))
        for p, e in graph.preds[j]:
            delay = graph.transfer(e, warm.agent[p], i)
            ready = max(ready, finish[p] + (math.ceil(delay * scale) if delay > 0 else 0))
        begin[j] = ready
        finish[j] = agent_free[i] = ready + math.ceil(graph.duration[i][j] * scale)
    for j in range(graph.n):
        model.add_hint(start[j], begin[j])
        model.add_hint(end[j], finish[j])
