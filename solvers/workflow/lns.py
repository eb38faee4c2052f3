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
from solvers.workflow.cpsat_model import same_agent_literal
from solvers.workflow.decode import decode
from solvers.workflow.graph import WorkflowGraph
from solvers.workflow.heft import Schedule

__all__ = ["lns_improve"]

_HORIZON_UNITS = 1_000_000  # the incumbent's makespan in model units (no proof here)
_ROUND_S = 1.0  # most seconds one sub-model gets
_MIN_ROUND_S = 0.2  # a round with less time left is not started
_FIRST_SIZE = 24  # freed tasks in the first round
_MIN_SIZE, _MAX_SIZE = 8, 120
_MAX_CHOICES = 6  # agents a freed task may take in one round
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
        cap = max(_MIN_SIZE, _MAX_FREE_PAIRS // max(min(widest, 2 * _MAX_CHOICES), 1))
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
    choices = {j: _candidates(graph, best, j, allowed[j]) for j in tasks}
    for j in tasks:
        for i in choices[j]:
            use[j, i] = model.new_bool_var("")
            size = math.floor(graph.duration[i][j] * scale)
            lanes[i].append(model.new_optional_interval_var(start[j], size, end[j], use[j, i], ""))
        model.add_exactly_one(use[j, i] for i in choices[j])
    _fixed_frame(model, graph, best, free, scale, lanes)
    _links(model, graph, best, free, scale, start, end, use)
    _allocation(model, problem, best, free, use)
    for intervals in lanes:
        model.add_no_overlap(intervals)
    critical = set(best.critical_path())
    model.minimize(sum((len(tasks) if j in critical else 1) * end[j] for j in tasks))
    # The incumbent, in model units rounded down like every duration and transfer here,
    # is a solution of the round: CP-SAT starts from it.
    for (j, i), b in use.items():
        model.add_hint(b, best.agent[j] == i)
    for j in tasks:
        model.add_hint(start[j], math.floor(best.start[j] * scale))
        model.add_hint(
            end[j],
            math.floor(best.start[j] * scale)
            + math.floor(graph.duration[best.agent[j]][j] * scale),
        )
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = seconds
    solver.parameters.num_workers = max(1, workers)
    # Presolve probing took 0.75 s of a 1 s round at 24 freed tasks x 32 agents.
    solver.parameters.cp_model_probing_level = 0
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


def _candidates(graph: WorkflowGraph, best: Schedule, j: int, allowed: list[int]) -> list[int]:
    """Agents a freed task may take this round: its own, its neighbours' (no transfer),
    and the fastest few; more would grow the model with 32 agents and gain rarely."""
    if len(allowed) <= _MAX_CHOICES:
        return allowed
    near = {best.agent[j]}
    near.update(best.agent[p] for p, _ in graph.preds[j])
    near.update(best.agent[s] for s, _ in graph.succs[j])
    fastest = sorted(allowed, key=lambda i: graph.duration[i][j])
    out = [i for i in allowed if i in near]
    out += [i for i in fastest if i not in near][: max(2, _MAX_CHOICES - len(out))]
    return out


def _fixed_frame(
    model: cp_model.CpModel,
    graph: WorkflowGraph,
    best: Schedule,
    free: set[int],
    scale: float,
    lanes: list[list[cp_model.IntervalVar]],
) -> None:
    """The kept tasks' busy intervals, shrunk inward to whole units so that touching
    intervals do not overlap (the round's times are approximate; `decode` makes them exact).

    Only intervals that can meet a freed task are added: after the earliest a freed task
    may start (its kept predecessors' finishes) and before the latest it may end (its
    kept successors' starts).
    """
    lo, hi = math.inf, 0.0
    for j in free:
        kept_preds = [best.finish[p] for p, _ in graph.preds[j] if p not in free]
        lo = min(lo, max(kept_preds, default=0.0))
        kept_succs = [best.start[s] for s, _ in graph.succs[j] if s not in free]
        hi = max(hi, min(kept_succs, default=math.inf))
    for j in range(graph.n):
        if j in free or best.finish[j] <= lo or best.start[j] >= hi:
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
    agents_of = {j: [i for (t, i) in use if t == j] for j in free}
    for s in free:
        for p, e in graph.preds[s]:
            if p in free:
                _free_edge(model, graph, (p, s, e), agents_of, scale, start, end, use)
                continue
            for b in agents_of[s]:
                arrive = best.finish[p] + graph.transfer(e, best.agent[p], b)
                if not math.isfinite(arrive):
                    model.add(use[s, b] == 0)
                    continue
                model.add(start[s] >= math.floor(arrive * scale)).only_enforce_if(use[s, b])
    for p in free:
        for s, e in graph.succs[p]:
            if s in free:
                continue
            for a in agents_of[p]:
                due = best.start[s] - graph.transfer(e, a, best.agent[s])
                if not math.isfinite(due):
                    model.add(use[p, a] == 0)
                    continue
                model.add(end[p] <= math.ceil(due * scale) + 1).only_enforce_if(use[p, a])


def _free_edge(
    model: cp_model.CpModel,
    graph: WorkflowGraph,
    edge: tuple[int, int, int],
    agents_of: dict[int, list[int]],
    scale: float,
    start: dict[int, cp_model.IntVar],
    end: dict[int, cp_model.IntVar],
    use: dict[tuple[int, int], cp_model.IntVar],
) -> None:
    """An edge between two freed tasks: the cheapest transfer on a "same agent" literal,
    dearer agent pairs enforced one by one, unreachable pairs forbidden."""
    p, s, e = edge
    cheapest, dearer = math.inf, []
    for a in agents_of[p]:
        for b in agents_of[s]:
            if a == b:
                continue
            delay = graph.transfer(e, a, b)
            if not math.isfinite(delay):
                model.add_bool_or([use[p, a].Not(), use[s, b].Not()])
                continue
            cheapest = min(cheapest, delay)
            dearer.append((a, b, delay))
    base = math.floor(cheapest * scale) if math.isfinite(cheapest) else 0
    if base > 0:
        same = same_agent_literal(model, use, p, s, agents_of)
        model.add(start[s] + base * same >= end[p] + base)
    else:
        model.add(start[s] >= end[p])
    for a, b, delay in dearer:
        units = math.floor(delay * scale)
        if units > base:
            model.add(start[s] >= end[p] + units).only_enforce_if([use[p, a], use[s, b]])


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
