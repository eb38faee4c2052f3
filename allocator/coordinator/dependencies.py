"""Task dependencies (`after`): waiting tasks, release in order, and holds after a failure.

A task whose predecessors have not all completed waits outside every queue. When its
last predecessor completes it is released into the queues; tasks released together go
in the order of the applied plan's schedule (earliest planned start first, on the
planned agent when it can take them) and otherwise by upward rank (own expected work
plus the longest chain of dependants' work, highest first: the critical path first).
When a predecessor is dead-lettered, its dependants (transitively) are held, reported
with the dead predecessor that blocks them, and never run.

Costs: a completion with no dependants costs one dict lookup; releasing k dependants
costs O(k log k). Ranks are exact within a submitted batch (`submit_all`); a task
submitted later raises the ranks of its direct waiting predecessors only (one level,
so a submission stays O(|after|); their own predecessors keep the ranks they had).
"""

from __future__ import annotations

import graphlib
import math
from collections.abc import Callable
from typing import TYPE_CHECKING

from allocator.coordinator.dispatch import available, eligible
from allocator.coordinator.errors import AdmissionError, DependencyError
from allocator.coordinator.events import Held
from allocator.coordinator.records import (
    HELD,
    QUEUED,
    WAITING,
    AgentRecord,
    TaskRecord,
    TaskSpec,
)

if TYPE_CHECKING:
    from allocator.coordinator.core import Coordinator
    from allocator.coordinator.state import CoordinatorState

__all__ = [
    "Dependencies",
    "batch_order",
    "check_known",
    "file_dependent",
    "hold_after",
    "open_predecessors",
    "release_after",
    "submit_batch",
]

_UNPLANNED = ("", math.inf)  # tasks no plan placed go after planned ones, by rank


class Dependencies:
    """Waiting and held tasks and the edges still open. Plain dicts, O(1) lookups.

    waiting: task id -> record, tasks with at least one unfinished predecessor.
    missing: task id -> how many of its predecessors have not completed.
    children: predecessor id -> ids of waiting dependants (only unfinished predecessors).
    held: task id -> record; blocked_by: held task id -> the dead-lettered predecessor.
    planned: task id -> (agent id, planned start), from the last plan with a schedule.
    """

    __slots__ = ("blocked_by", "children", "held", "missing", "planned", "waiting")

    def __init__(self) -> None:
        self.waiting: dict[str, TaskRecord] = {}
        self.missing: dict[str, int] = {}
        self.children: dict[str, list[str]] = {}
        self.held: dict[str, TaskRecord] = {}
        self.blocked_by: dict[str, str] = {}
        self.planned: dict[str, tuple[str, float]] = {}


def check_known(spec: TaskSpec, known: Callable[[str], bool]) -> None:
    """Refuse a self-reference or an unknown predecessor (DependencyError naming it)."""
    for pred in spec.after:
        if pred == spec.id:
            raise DependencyError(spec.id, f"lists itself in after; remove {pred!r}")
        if not known(pred):
            raise DependencyError(
                spec.id,
                f"after names unknown task {pred!r}; submit it first or in the same request",
            )


def batch_order(
    specs: list[TaskSpec], known: Callable[[str], bool], est: Callable[[TaskSpec], float]
) -> list[tuple[TaskSpec, float]]:
    """The batch with upward ranks, predecessors first and, among ready ones, highest rank.

    Raises DependencyError for a self-reference, an id neither known nor in the batch,
    or a cycle (naming every id around it). O(V + E + V log V).
    """
    ids = {s.id for s in specs}
    graph: dict[str, list[str]] = {}
    for spec in specs:
        check_known(spec, lambda p: p in ids or known(p))
        graph[spec.id] = [p for p in spec.after if p in ids]
    try:
        topo = list(graphlib.TopologicalSorter(graph).static_order())
    except graphlib.CycleError as exc:
        cycle = tuple(exc.args[1])
        raise DependencyError(
            cycle[0], "after forms a cycle: " + " -> ".join(cycle), cycle
        ) from None
    by_id = {s.id: s for s in specs}
    rank: dict[str, float] = {}
    kids: dict[str, list[str]] = {}
    for tid, preds in graph.items():
        for pred in preds:
            kids.setdefault(pred, []).append(tid)
    for tid in reversed(topo):
        rank[tid] = est(by_id[tid]) + max((rank[k] for k in kids.get(tid, ())), default=0.0)
    position = {tid: i for i, tid in enumerate(topo)}
    # Sorted by rank, ties by topological position: still predecessors first, since a
    # predecessor's rank is at least its dependant's.
    order = sorted(topo, key=lambda t: (-rank[t], position[t]))
    return [(by_id[t], rank[t]) for t in order]


def open_predecessors(state: CoordinatorState, spec: TaskSpec) -> list[str]:
    """`spec`'s predecessors that have not completed; raises DependencyError on a bad id.

    One pass over `after` (the submit path of every dependent task, so kept lean).
    """
    done, tasks, waiting, dead, held = (
        state.done,
        state.tasks,
        state.deps.waiting,
        state.dead,
        state.deps.held,
    )
    out: list[str] = []
    for pred in spec.after:
        if pred in done:
            continue
        if pred not in tasks and pred not in waiting and pred not in dead and pred not in held:
            check_known(TaskSpec(spec.id, after=(pred,)), lambda p: False)  # raises, naming it
        out.append(pred)
    return out


def file_dependent(state: CoordinatorState, task: TaskRecord, open_preds: list[str]) -> None:
    """Park `task` until `open_preds` complete, or hold it if one of them never will."""
    deps = state.deps
    waiting, children = deps.waiting, deps.children
    for pred in open_preds:
        if pred in state.dead:
            _hold(state, task, pred)
            return
        if pred in deps.held:
            _hold(state, task, deps.blocked_by[pred])
            return
    task.state = WAITING
    task_id = task.id
    waiting[task_id] = task
    deps.missing[task_id] = len(open_preds)
    rank = task.rank
    for pred in open_preds:
        kids = children.get(pred)
        if kids is None:
            children[pred] = [task_id]
        else:
            kids.append(task_id)
        parent = waiting.get(pred)
        if parent is not None and parent.est + rank > parent.rank:
            parent.rank = parent.est + rank  # one level only: see the module docstring


def release_after(state: CoordinatorState, kids: list[str], now: float) -> None:
    """A predecessor completed; `kids` were waiting on it: queue those now ready.

    The caller pops `kids` from `children` (so a completion without dependants costs
    one dict lookup and no call).
    """
    deps = state.deps
    missing = deps.missing
    ready: list[TaskRecord] = []
    for kid in kids:
        left = missing[kid] - 1
        if left:
            missing[kid] = left
        else:
            del missing[kid]
            ready.append(deps.waiting.pop(kid))
    if len(ready) > 1:
        planned = deps.planned
        ready.sort(key=lambda t: (planned.get(t.id, _UNPLANNED)[1], -t.rank))
    tasks = state.tasks
    planned = deps.planned
    place = state.dispatcher.place
    for task in ready:
        task.state = QUEUED
        tasks[task.id] = task
        state.queued_work += task.est
        agent = _planned_agent(state, task) if planned else None
        if agent is None:
            agent = place(task)
        if agent is None:
            state._file_global(task, now)
        else:
            state._file_local(task, agent, now)


def _planned_agent(state: CoordinatorState, task: TaskRecord) -> AgentRecord | None:
    plan = state.deps.planned.pop(task.id, None)
    if plan is None:
        return None
    agent = state.agents.get(plan[0])
    if agent is not None and available(agent) and eligible(agent, task):
        return agent
    return None


def hold_after(state: CoordinatorState, dead_id: str) -> None:
    """`dead_id` was dead-lettered: hold its waiting dependants, transitively."""
    deps = state.deps
    stack = [dead_id]
    while stack:
        kids = deps.children.pop(stack.pop(), None)
        for kid in kids or ():
            task = deps.waiting.pop(kid, None)
            if task is None:
                continue  # already held through another dead predecessor
            _unlink(state, task)
            _hold(state, task, dead_id)
            stack.append(kid)


def _unlink(state: CoordinatorState, task: TaskRecord) -> None:
    """Drop a waiting task's remaining edges (it will not be released)."""
    deps = state.deps
    deps.missing.pop(task.id, None)
    for pred in task.after:
        kids = deps.children.get(pred)
        if kids is not None and task.id in kids:
            kids.remove(task.id)
            if not kids:
                del deps.children[pred]


def _hold(state: CoordinatorState, task: TaskRecord, blocker: str) -> None:
    task.state = HELD
    state.deps.held[task.id] = task
    state.deps.blocked_by[task.id] = blocker
    state.deps.planned.pop(task.id, None)
    if state.cfg.emit_commands:
        state.outbox.append(Held(task.id, blocker))


def submit_batch(
    coord: Coordinator, specs: list[TaskSpec]
) -> tuple[dict[str, str | None], dict[str, str]]:
    """`Coordinator.submit_all`: order the batch, then submit each (see there)."""
    accepted: dict[str, str | None] = {}
    rejected: dict[str, str] = {}
    order: list[tuple[TaskSpec, float | None]]
    if not any(s.after for s in specs):
        order = [(s, None) for s in specs]
    else:
        seen: set[str] = set()
        for spec in specs:
            if spec.id in seen:
                raise DependencyError(spec.id, "appears twice in one request; ids are unique")
            seen.add(spec.id)
        order = list(batch_order(specs, coord._known, coord._estimate))
    for spec, rank in order:
        lost = next((p for p in spec.after if p in rejected), None)
        if lost is not None:
            rejected[spec.id] = f"predecessor {lost} was rejected"
            coord.kpi.rejected += 1
            continue
        try:
            accepted[spec.id] = coord.submit(spec, rank)
        except AdmissionError as exc:
            rejected[spec.id] = exc.reason
    return accepted, rejected
