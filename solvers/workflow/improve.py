"""The improvement phase: critical-path moves and swaps, each re-timed by `decode`.

Only tasks on the current critical path can shorten the makespan, so moves start
there: a critical task goes to another allowed agent (the few where it would finish
first are re-timed in full), or trades agents with a task that runs beside it. A
change is kept only when (makespan, sum of finishes) goes down with the makespan never
up, so the result is never worse than the start. When no move helps, a random kick of
a few tasks restarts the descent from the best schedule (iterated local search).
`admits` (optional) vetoes assignments: a move, swap or kick whose plan it refuses is
not made (the workflow engine's rounds on routed delays keep every plan within link
bandwidth this way). `stall_s` (optional) ends the search early once that many seconds
pass without a better schedule (the engine then hands the incumbent to its LNS).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from solvers.workflow.decode import decode, first_position
from solvers.workflow.graph import WorkflowGraph
from solvers.workflow.heft import Schedule
from solvers.workflow.rules import PlacementRules

__all__ = ["Admits", "improve"]

#: Whether an assignment (agent per task) may be taken; None admits every one.
Admits = Callable[[list[int]], bool] | None

_MOVES_TRIED = 40  # moves re-timed per descent step, largest estimated gain first
_SWAP_PARTNERS = 6  # tasks per critical task tried as swap partners


def _better(new: Schedule, old: Schedule) -> bool:
    if new.makespan > old.makespan:
        return False
    return new.makespan < old.makespan - 1e-9 or new.total_finish < old.total_finish - 1e-9


def improve(
    graph: WorkflowGraph,
    rules: PlacementRules,
    start: Schedule,
    deadline: float,
    rng: np.random.Generator,
    on_better: Callable[[Schedule], None] | None = None,
    admits: Admits = None,
    stall_s: float = float("inf"),
) -> Schedule:
    """Improve `start` until `deadline` (perf_counter), or until `stall_s` seconds pass
    without a better schedule; `rules` must hold its assignment."""
    best = current = start
    best_rules = rules
    gained = time.perf_counter()
    while (now := time.perf_counter()) < deadline and now - gained < stall_s:
        current = _descend(graph, rules, current, deadline, admits)
        if _better(current, best):
            best, best_rules = current, _copy_rules(rules)
            gained = time.perf_counter()
            if on_better is not None:
                on_better(best)
        rules = _copy_rules(best_rules)
        current = _kick(graph, rules, best, rng)
        if current is not best and admits is not None and not admits(current.agent):
            rules, current = _copy_rules(best_rules), best
    return best


def _descend(
    graph: WorkflowGraph,
    rules: PlacementRules,
    current: Schedule,
    deadline: float,
    admits: Admits = None,
) -> Schedule:
    while time.perf_counter() < deadline:
        found = (
            _best_reorder(graph, current, deadline)
            or _best_move(graph, rules, current, deadline, admits)
            or _best_swap(graph, rules, current, deadline, admits)
        )
        if found is None:
            return current
        current = found
    return current


def _estimate(graph: WorkflowGraph, s: Schedule, j: int, i: int) -> float:
    """Finish of j on agent i if its inputs were all it waited for (a lower estimate)."""
    ready = 0.0
    for p, e in graph.preds[j]:
        ready = max(ready, s.finish[p] + graph.transfer(e, s.agent[p], i))
    return ready + graph.duration[i][j]


def _candidate_moves(
    graph: WorkflowGraph, rules: PlacementRules, current: Schedule
) -> list[tuple[int, int]]:
    """(task, agent) moves of critical tasks worth re-timing, the most promising first.

    A task whose output the next critical task waits for must finish earlier: its
    predecessors come earlier in the order and keep their times, so it cannot finish
    before `_estimate`, and a move that cannot beat its current finish is never tried.
    A task that only holds the agent the next critical task waits for helps by leaving:
    any agent where it still ends before the makespan is a candidate. The two kinds
    alternate, each in its own order of promise.
    """
    path = current.critical_path()
    waiting_for_data: list[tuple[float, int, int]] = []
    holding_agent: list[tuple[float, int, int]] = []
    for k, j in enumerate(path):
        if not rules.movable(j):
            continue
        later = path[k - 1] if k > 0 else -1
        blocks = later >= 0 and all(p != j for p, _ in graph.preds[later])
        old = current.agent[j]
        rules.remove(j)
        targets = [i for i in rules.allowed(j) if i != old]
        rules.add(j, old)
        for i in targets:
            finish = _estimate(graph, current, j, i)
            if blocks and finish < current.makespan - 1e-9:
                holding_agent.append((finish, j, i))
            elif not blocks and finish < current.finish[j] - 1e-9:
                waiting_for_data.append((finish - current.finish[j], j, i))
    waiting_for_data.sort()
    holding_agent.sort()
    out: list[tuple[int, int]] = []
    for k in range(max(len(waiting_for_data), len(holding_agent))):
        for moves in (waiting_for_data, holding_agent):
            if k < len(moves):
                out.append((moves[k][1], moves[k][2]))
    return out


def _best_reorder(graph: WorkflowGraph, current: Schedule, deadline: float) -> Schedule | None:
    """Let a critical task that waits for its agent go before the task holding it.

    The job-shop move on a critical agent arc: the waiting task is placed just before
    the holder in the order, when all its predecessors already come earlier (so the
    order stays topological) and its data arrives before the holder finishes.
    """
    path = current.critical_path()
    position = current.position()
    for k in range(1, len(path)):
        later, holder = path[k - 1], path[k]
        if time.perf_counter() >= deadline:
            return None
        if current.agent[later] != current.agent[holder]:
            continue
        if any(position[p] >= position[holder] for p, _ in graph.preds[later]):
            continue
        ready = _estimate(graph, current, later, current.agent[later])
        if ready - graph.duration[current.agent[later]][later] >= current.finish[holder]:
            continue
        order = list(current.order)
        order.remove(later)
        order.insert(position[holder], later)
        trial = decode(graph, order, current.agent, current, position[holder])
        if _better(trial, current):
            return trial
    return None


def _best_move(
    graph: WorkflowGraph,
    rules: PlacementRules,
    current: Schedule,
    deadline: float,
    admits: Admits = None,
) -> Schedule | None:
    for j, i in _candidate_moves(graph, rules, current)[:_MOVES_TRIED]:
        if time.perf_counter() >= deadline:
            return None
        agent = list(current.agent)
        agent[j] = i
        if admits is not None and not admits(agent):
            continue
        trial = decode(graph, current.order, agent, current, first_position(current, [j]))
        if _better(trial, current):
            rules.remove(j)
            rules.add(j, i)
            return trial
    return None


def _partners(current: Schedule, j: int) -> list[int]:
    """Tasks on other agents whose run overlaps j's, nearest start first."""
    a, s, f = current.agent, current.start, current.finish
    near = [t for t in range(len(a)) if a[t] != a[j] and s[t] < f[j] and f[t] > s[j]]
    near.sort(key=lambda t: abs(s[t] - s[j]))
    return near[:_SWAP_PARTNERS]


def _best_swap(
    graph: WorkflowGraph,
    rules: PlacementRules,
    current: Schedule,
    deadline: float,
    admits: Admits = None,
) -> Schedule | None:
    for j in current.critical_path():
        if not rules.movable(j):
            continue
        for t in _partners(current, j):
            if time.perf_counter() >= deadline:
                return None
            target = current.agent[t]
            if _estimate(graph, current, j, target) >= current.finish[j] - 1e-9:
                continue
            if not rules.movable(t) or not _swap_fits(rules, j, t):
                continue
            agent = list(current.agent)
            agent[j], agent[t] = agent[t], agent[j]
            if admits is not None and not admits(agent):
                continue
            trial = decode(graph, current.order, agent, current, first_position(current, [j, t]))
            if _better(trial, current):
                _apply_swap(rules, j, t)
                return trial
    return None


def _swap_fits(rules: PlacementRules, j: int, t: int) -> bool:
    aj, at = int(rules.assignment[j]), int(rules.assignment[t])
    rules.remove(j)
    rules.remove(t)
    ok = rules.fits(j, at)
    if ok:
        rules.add(j, at)
        ok = rules.fits(t, aj)
        rules.remove(j)
    rules.add(j, aj)
    rules.add(t, at)
    return ok


def _apply_swap(rules: PlacementRules, j: int, t: int) -> None:
    aj, at = int(rules.assignment[j]), int(rules.assignment[t])
    rules.remove(j)
    rules.remove(t)
    rules.add(j, at)
    rules.add(t, aj)


def _kick(
    graph: WorkflowGraph, rules: PlacementRules, best: Schedule, rng: np.random.Generator
) -> Schedule:
    """Move a few random tasks, mostly next to a neighbour in the graph, and re-time.

    Random agents alone are poor kicks when transfers dominate: the descent rarely
    repairs them. Joining a predecessor's or successor's agent keeps data local.
    """
    agent = list(best.agent)
    count = min(graph.n, 3)
    moved: list[int] = []
    for j in rng.choice(graph.n, size=count, replace=False).tolist():
        if not rules.movable(j):
            continue
        rules.remove(j)
        options = rules.allowed(j)
        near = {agent[k] for k, _ in graph.preds[j] + graph.succs[j]} & set(options)
        pool = sorted(near) if near and rng.random() < 0.7 else options
        target = int(rng.choice(pool)) if pool else agent[j]
        rules.add(j, target)
        if target != agent[j]:
            agent[j] = target
            moved.append(j)
    if not moved:
        return best
    return decode(graph, best.order, agent, best, first_position(best, moved))


def _copy_rules(rules: PlacementRules) -> PlacementRules:
    return PlacementRules(rules.problem, rules.assignment)
