"""The CP-SAT model of a workflow schedule, shared by the exact phase and the LNS.

An optional interval per allowed (task, agent), no overlap per agent, precedence with
transfer delays, the allocation rules `evaluate_plan` checks, and redundant constraints
that tighten the linear relaxation (end = start + chosen duration; no agent busy longer
than the makespan; one "same agent" boolean per edge carrying its cheapest transfer).

Times are integers: durations and transfers are scaled and rounded *down*, so the
model is a relaxation. Every real schedule, its times scaled and floored, is a model
schedule (floor(a) + floor(b) <= floor(a + b) keeps every precedence, transfer and
agent sequence) of makespan at most floor(C * scale): the model's bound over `scale` is
a lower bound on the real makespan, with no rounding slack. A model schedule is read
back as agents and a start order and re-timed with the real durations (`decode`),
later by at most one unit per task and edge along a chain. A coarse scale (about 10^6
units over the makespan) keeps that below the gap a proof needs, and lets CP-SAT raise
its bound in steps that matter (at 10^9 units it moved one unit per conflict).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ortools.sat.python import cp_model

from models import CompiledProblem
from solvers.workflow.graph import WorkflowGraph
from solvers.workflow.heft import Schedule

__all__ = [
    "ScheduleModel",
    "break_symmetry",
    "build_model",
    "identical_agent_runs",
    "same_agent_literal",
]

_USAGE_UNITS = 1_000  # resource amounts per unit, rounded against the plan


@dataclass
class ScheduleModel:
    """A built model and the variables a caller reads back."""

    model: cp_model.CpModel
    start: list[cp_model.IntVar]
    end: list[cp_model.IntVar]
    use: dict[tuple[int, int], cp_model.IntVar]
    makespan: cp_model.IntVar
    scale: float
    #: A capacity was modelled with rounded amounts, which may cut real schedules out.
    rounded_capacity: bool

    def units(self, seconds: float) -> int:
        """Seconds in model units, rounded down (every real time fits the model)."""
        return math.floor(seconds * self.scale) if seconds > 0 else 0


def build_model(
    problem: CompiledProblem,
    graph: WorkflowGraph,
    warm: Schedule,
    horizon_units: int,
    allowed: list[list[int]],
    chains: Sequence[list[int]] = (),
    lower_bound: float = 0.0,
) -> ScheduleModel:
    """The model over `allowed[j]` agents per task, hinted with `warm`.

    `chains`: task sequences that must run in that order (the LNS keeps the frozen
    tasks' order per agent). `lower_bound`: a proven bound on the real makespan.
    """
    scale = horizon_units / max(warm.makespan, 1e-9)
    model = cp_model.CpModel()
    horizon = math.ceil(warm.makespan * scale)
    start = [model.new_int_var(0, horizon, f"s{j}") for j in range(graph.n)]
    end = [model.new_int_var(0, horizon, f"e{j}") for j in range(graph.n)]
    use: dict[tuple[int, int], cp_model.IntVar] = {}
    per_agent: list[list[cp_model.IntervalVar]] = [[] for _ in range(graph.m)]
    busy: list[list[tuple[int, cp_model.IntVar]]] = [[] for _ in range(graph.m)]
    for j in range(graph.n):
        sizes = []
        for i in allowed[j]:
            b = model.new_bool_var(f"b{j}_{i}")
            size = math.floor(graph.duration[i][j] * scale)
            per_agent[i].append(model.new_optional_interval_var(start[j], size, end[j], b, ""))
            use[j, i] = b
            busy[i].append((size, b))
            sizes.append((size, b))
        model.add_exactly_one(b for _, b in sizes)
        # Redundant: the linear relaxation sees each task's (fractional) duration.
        model.add(end[j] == start[j] + sum(d * b for d, b in sizes))
    for intervals in per_agent:
        model.add_no_overlap(intervals)
    for chain in chains:
        for first, then in itertools.pairwise(chain):
            model.add(start[then] >= end[first])
    makespan = model.new_int_var(0, horizon, "makespan")
    out = ScheduleModel(model, start, end, use, makespan, scale, False)
    _precedence(out, graph, allowed)
    out.rounded_capacity = _allocation_rules(model, problem, use)
    model.add_max_equality(out.makespan, end)
    # Redundant, for the linear relaxation: no agent is busy longer than the makespan.
    for loads in busy:
        if loads:
            model.add(sum(d * b for d, b in loads) <= out.makespan)
    if lower_bound > 0:
        # A floored schedule's last finish, floor(s) + floor(d), may lose one unit.
        model.add(out.makespan >= math.floor(lower_bound * scale) - 1)
    _hint(out, graph, warm)
    return out


def _precedence(out: ScheduleModel, graph: WorkflowGraph, allowed: list[list[int]]) -> None:
    """start[s] >= end[p] + transfer when p and s run on different agents.

    The cheapest transfer over the allowed pairs of distinct agents is carried by one
    "same agent" literal (linear, so the relaxation sees it); pairs that cost more get
    their own enforced constraint; pairs that can never exchange are forbidden.
    """
    model, use = out.model, out.use
    for succ in range(graph.n):
        for pred, e in graph.preds[succ]:
            cheapest, dearer = math.inf, []
            for a in allowed[pred]:
                for b in allowed[succ]:
                    if a == b:
                        continue
                    delay = graph.transfer(e, a, b)
                    if not math.isfinite(delay):
                        model.add_bool_or([use[pred, a].Not(), use[succ, b].Not()])
                        continue
                    cheapest = min(cheapest, delay)
                    dearer.append((a, b, delay))
            base = out.units(cheapest) if math.isfinite(cheapest) else 0
            if base > 0:
                same = same_agent_literal(model, use, pred, succ, allowed)
                model.add(out.start[succ] + base * same >= out.end[pred] + base)
            else:
                model.add(out.start[succ] >= out.end[pred])
            for a, b, delay in dearer:
                units = out.units(delay)
                if units > base:
                    model.add(out.start[succ] >= out.end[pred] + units).only_enforce_if(
                        [use[pred, a], use[succ, b]]
                    )


def same_agent_literal(
    model: cp_model.CpModel,
    use: dict[tuple[int, int], cp_model.IntVar],
    pred: int,
    succ: int,
    allowed: Sequence[list[int]] | Mapping[int, list[int]],
) -> cp_model.IntVar | int:
    """A literal true exactly when `pred` and `succ` run on the same agent."""
    shared = [i for i in allowed[pred] if i in allowed[succ]]
    if not shared:
        return 0
    if len(allowed[pred]) == 1:
        return use[succ, allowed[pred][0]]
    if len(allowed[succ]) == 1:
        return use[pred, allowed[succ][0]]
    same = model.new_bool_var(f"same{pred}_{succ}")
    both = []
    for i in shared:
        both_i = model.new_bool_var("")
        model.add_bool_and([use[pred, i], use[succ, i]]).only_enforce_if(both_i)
        model.add_bool_or([use[pred, i].Not(), use[succ, i].Not(), both_i])
        both.append(both_i)
    model.add(sum(both) == same)
    return same


def identical_agent_runs(problem: CompiledProblem, graph: WorkflowGraph) -> list[list[int]]:
    """Classes (of two or more) of interchangeable agents: same durations, eligibility,
    usage, capacity, max_tasks and transfer times to and from every agent."""
    classes: list[list[int]] = []
    for i in range(graph.m):
        for group in classes:
            if _interchangeable(problem, graph, group[0], i):
                group.append(i)
                break
        else:
            classes.append([i])
    return [g for g in classes if len(g) > 1]


def _interchangeable(problem: CompiledProblem, graph: WorkflowGraph, a: int, b: int) -> bool:
    if graph.duration[a] != graph.duration[b]:
        return False
    if not (problem.eligible[a] == problem.eligible[b]).all():
        return False
    if not (problem.usage[a] == problem.usage[b]).all():
        return False
    if not (problem.capacity[a] == problem.capacity[b]).all():
        return False
    if problem.max_tasks[a] != problem.max_tasks[b]:
        return False
    for k in range(graph.m):
        ka = b if k == a else a if k == b else k  # k's image when a and b swap
        for matrix in (graph.per_data, graph.fixed):
            if matrix[a][k] != matrix[b][ka] or matrix[k][a] != matrix[ka][b]:
                return False
    return True


def break_symmetry(out: ScheduleModel, classes: list[list[int]], n: int) -> None:
    """Among interchangeable agents, the k-th used holds a lower first task than the next.

    Any schedule becomes one that satisfies this by relabelling those agents (they
    differ in nothing the model or the makespan sees), so no makespan is cut out.
    """
    use = out.use
    for group in classes:
        for a, b in itertools.pairwise(group):
            for j in range(n):
                if (j, b) not in use:
                    continue
                earlier = [use[t, a] for t in range(j) if (t, a) in use]
                out.model.add_bool_or([use[j, b].Not(), *earlier])


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


def _hint(out: ScheduleModel, graph: WorkflowGraph, warm: Schedule) -> None:
    """The warm schedule re-timed in model units, so the hint is feasible as given.

    Flooring each time on its own could break a precedence or agent sequence by float
    round-off; re-timing in start order (which respects both) keeps every constraint.
    """
    for (j, i), b in out.use.items():
        out.model.add_hint(b, warm.agent[j] == i)
    position = warm.position()
    agent_free = [0] * graph.m
    begin, finish = [0] * graph.n, [0] * graph.n
    for j in sorted(range(graph.n), key=lambda t: (warm.start[t], position[t])):
        i = warm.agent[j]
        ready = max(agent_free[i], math.floor(warm.start[j] * out.scale))
        for p, e in graph.preds[j]:
            ready = max(ready, finish[p] + out.units(graph.transfer(e, warm.agent[p], i)))
        begin[j] = ready
        finish[j] = agent_free[i] = ready + math.floor(graph.duration[i][j] * out.scale)
    for j in range(graph.n):
        out.model.add_hint(out.start[j], begin[j])
        out.model.add_hint(out.end[j], finish[j])
    out.model.add_hint(out.makespan, max(finish, default=0))
