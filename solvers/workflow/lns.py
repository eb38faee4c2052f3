"""CP-SAT large-neighbourhood search over a workflow schedule too large for one model.

Each round frees a few dozen tasks (a window of consecutive starts around a critical
task, or the tasks of a few agents within such a window) and keeps every other task on
its agent at its times; CP-SAT re-places the freed tasks into that fixed frame (any
agent they may take, precedence with transfers, allocation rules), critical ones as
early as possible. The whole schedule is then re-timed with the exact durations in the
new start order (`decode`), pulling later tasks forward, and kept when (makespan, sum
of finishes) falls.
The neighbourhood grows after rounds the sub-model solves to optimality and shrinks
after rounds it cannot finish.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import numpy as np
from ortools.sat.python import cp_model

from models import CompiledProblem
from solvers.workflow.decode import decode
from solvers.workflow.graph import WorkflowGraph
from solvers.workflow.heft import Schedule

__all__ = ["lns_improve"]

_HORIZON_UNITS = 1_000_000  # the incumbent's makespan in model units (no proof here)
_ROUND_S = 1.0  # most seconds one sub-model gets
_MIN_ROUND_S = 0.2  # a round with less time left is not started
_FIRST_SIZE = 24  # freed tasks in the first round
_MIN_SIZE, _MAX_SIZE = 8, 120
_MAX_FREE_PAIRS = 2_400  # freed tasks x agents they may take: keeps one round short


def lns_improve(
    problem: CompiledProblem,
    graph: WorkflowGraph,
    schedule: Schedule,
    deadline: float,
    rng: np.random.Generator,
    on_better: Callable[[Schedule], None],
    workers: int = 1,
) -> Schedule:
    """The best schedule found from `schedule` by CP-SAT rounds until `deadline`."""
    best = schedule
    allowed = [np.flatnonzero(problem.eligible[:, j]).tolist() for j in range(graph.n)]
    widest = max((len(a) for a in allowed), default=1)
    size = min(_FIRST_SIZE, graph.n)
    # Co-located tasks move only together, which a round does not do: they stay put.
    grouped = {j for group in problem.co_location for j in group.tolist()}
    while (left := deadline - time.perf_counter()) > _MIN_ROUND_S:
        cap = max(_MIN_SIZE, _MAX_FREE_PAIRS // max(widest, 1))
        size = max(_MIN_SIZE, min(size, cap, graph.n))
        free = _neighbourhood(best, graph, rng, size) - grouped
        if not free:
            continue
        found, solved = _round(problem, graph, best, free, allowed, min(_ROUND_S, left), workers)
        if found is not None and found.key() < best.key():
            best = found
            on_better(best)
        size = min(_MAX_SIZE, size + 4) if solved else max(_MIN_SIZE, size - 4)
    return best


def _neighbourhood(
    best: Schedule, graph: WorkflowGraph, rng: np.random.Generator, size: int
) -> set[int]:
    """`size` tasks: consecutive starts around a critical task, or a few agents' tasks."""
    by_start = sorted(range(graph.n), key=lambda j: (best.start[j], j))
    rank = {j: k for k, j in enumerate(by_start)}
    path = best.critical_path()
    centre = rank[path[int(rng.integers(len(path)))]]
    if rng.random() < 0.5 or graph.m <= 2:
        first = max(0, min(graph.n - size, centre - int(rng.integers(size))))
        return set(by_start[first : first + size])
    # A few agents, one of them on the critical path: their tasks near the centre.
    agents = {best.agent[by_start[centre]]}
    others = rng.permutation(graph.m).tolist()
    agents.update(others[: int(rng.integers(1, 4))])
    mine = [j for j in by_start if best.agent[j] in agents]
    here = sum(1 for j in mine if rank[j] < centre)
    first = max(0, min(len(mine) - size, here - size // 2))
    return set(mine[first : first + size])


def _round(
    problem: CompiledProblem,
    graph: WorkflowGraph,
    best: Schedule,
    free: set[int],
    allowed: list[list[int]],
    seconds: float,
    workers: int,
) -> tuple[Schedule | None, bool]:
    """(the re-timed model schedule or None, whether the sub-model was solved exactly).

    Only the freed tasks are variables: every other task keeps its agent and times, so
    its busy interval is fixed on its agent, its finish (plus the transfer to the freed
    task's agent) releases a freed successor and its start is a deadline for a freed
    predecessor. The freed tasks are packed as early as they can go (critical ones
    first); `decode` then re-times the whole schedule, pulling later tasks forward.
    """
    scale = _HORIZON_UNITS / max(best.makespan, 1e-9)
    horizon = math.ceil(best.makespan * scale) + 1
    model = cp_model.CpModel()
    tasks = sorted(free)
    start = {j: model.new_int_var(0, horizon, f"s{j}") for j in tasks}
    end = {j: model.new_int_var(0, horizon, f"e{j}") for j in tasks}
    use: dict[tuple[int, int], cp_model.IntVar] = {}
    lanes: list[list[cp_model.IntervalVar]] = [[] for _ in range(graph.m)]
    for j in tasks:
        for i in allowed[j]:
            use[j, i] = model.new_bool_var("")
            size = round(graph.duration[i][j] * scale)
            lanes[i].append(model.new_optional_interval_var(start[j], size, end[j], use[j, i], ""))
        model.add_exactly_one(use[j, i] for i in allowed[j])
    _fixed_frame(model, graph, best, free, scale, lanes)
    _links(model, graph, best, free, scale, start, end, use)
    _allocation(model, problem, best, free, use)
    for intervals in lanes:
        model.add_no_overlap(intervals)
    critical = set(best.critical_path())
    model.minimize(sum((len(tasks) if j in critical else 1) * end[j] for j in tasks))
    for (j, i), b in use.items():
        model.add_hint(b, best.agent[j] == i)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = seconds
    solver.parameters.num_workers = max(1, workers)
    status = solver.solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None, False
    agent = list(best.agent)
    times = {j: best.start[j] * scale for j in range(graph.n)}
    for (j, i), b in use.items():
        if solver.boolean_value(b):
            agent[j] = i
            times[j] = solver.value(start[j])
    position = {j: k for k, j in enumerate(graph.topo)}
    order = sorted(range(graph.n), key=lambda j: (times[j], position[j]))
    return decode(graph, order, agent), status == cp_model.OPTIMAL


def _fixed_frame(
    model: cp_model.CpModel,
    graph: WorkflowGraph,
    best: Schedule,
    free: set[int],
    scale: float,
    lanes: list[list[cp_model.IntervalVar]],
) -> None:
    """The kept tasks' busy intervals, shrunk inward to whole units so that touching
    intervals do not overlap (the round's times are approximate; `decode` makes them exact)."""
    for j in range(graph.n):
        if j in free:
            continue
        begin = math.ceil(best.start[j] * scale)
        finish = max(begin, math.floor(best.finish[j] * scale))
        lanes[best.agent[j]].append(model.new_fixed_size_interval_var(begin, finish - begin, ""))


def _links(
    model: cp_model.CpModel,
    graph: WorkflowGraph,
    best: Schedule,
    free: set[int],
    scale: float,
    start: dict[int, cp_model.IntVar],
    end: dict[int, cp_model.IntVar],
    use: dict[tuple[int, int], cp_model.IntVar],
) -> None:
    """Precedence with transfers, against kept tasks' fixed times or between freed ones."""

    def units(seconds: float) -> int:
        return math.ceil(seconds * scale) if seconds > 0 else 0

    for s in free:
        for p, e in graph.preds[s]:
            if p in free:
                for a in graph_agents(use, p):
                    for b in graph_agents(use, s):
                        gap = units(graph.transfer(e, a, b)) if a != b else 0
                        if not math.isfinite(graph.transfer(e, a, b)):
                            model.add_bool_or([use[p, a].Not(), use[s, b].Not()])
                            continue
                        model.add(start[s] >= end[p] + gap).only_enforce_if([use[p, a], use[s, b]])
                continue
            for b in graph_agents(use, s):
                arrive = best.finish[p] + graph.transfer(e, best.agent[p], b)
                if not math.isfinite(arrive):
                    model.add(use[s, b] == 0)
                    continue
                model.add(start[s] >= math.floor(arrive * scale)).only_enforce_if(use[s, b])
    for p in free:
        for s, e in graph.succs[p]:
            if s in free:
                continue
            for a in graph_agents(use, p):
                due = best.start[s] - graph.transfer(e, a, best.agent[s])
                if not math.isfinite(due):
                    model.add(use[p, a] == 0)
                    continue
                model.add(end[p] <= math.ceil(due * scale) + 1).only_enforce_if(use[p, a])


def graph_agents(use: dict[tuple[int, int], cp_model.IntVar], j: int) -> list[int]:
    """Agents task j may take in this round."""
    return [i for (t, i) in use if t == j]


def _allocation(
    model: cp_model.CpModel,
    problem: CompiledProblem,
    best: Schedule,
    free: set[int],
    use: dict[tuple[int, int], cp_model.IntVar],
) -> None:
    """Capacity, max_tasks and groups with the kept tasks' share already taken."""
    kept = np.array(best.agent)
    held = np.zeros(problem.n_tasks, dtype=bool)
    held[list(free)] = True
    for i in range(problem.n_agents):
        mine = [(j, b) for (j, a), b in use.items() if a == i]
        if not mine:
            continue
        others = (~held) & (kept == i)
        room = int(problem.max_tasks[i]) - int(others.sum())
        model.add(sum(b for _, b in mine) <= room)
        for k in range(problem.n_dims):
            amounts = [(math.ceil(float(problem.usage[i, j, k]) * 1000), b) for j, b in mine]
            if any(q for q, _ in amounts):
                taken = float(problem.usage[i, others, k].sum())
                cap = math.floor((float(problem.capacity[i, k]) - taken) * 1000)
                model.add(sum(q * b for q, b in amounts) <= cap)
        for group in problem.anti_affinity:
            members = [use[j, i] for j in group.tolist() if (j, i) in use]
            if any(others[j] for j in group.tolist()):
                for b in members:
                    model.add(b == 0)
            elif len(members) > 1:
                model.add_at_most_one(members)
