"""Task dependencies (`after`): waiting tasks, release in order, and holds after a failure.

A task whose predecessors have not all completed waits outside every queue. When its
last predecessor completes it is released into the queues; tasks released together go
in the order of the applied plan's schedule (earliest planned start first, on the
planned agent when it can take them) and otherwise by upward rank (own expected work
plus the longest chain of dependants' work, highest first: the critical path first).
Without a planned agent, under least_loaded placement a released task without rules is
late-bound: it waits in the global queue, in that order, for the next agent free to
pull it (speed-aware: a slow agent leaves it to a faster one that will be free sooner),
as list schedulers such as online HEFT hand ready tasks to free processors; one with
rules goes to an agent that waited for work or the dispatcher's pick
(`CoordinatorState.home_for_released`). Placing ready tasks on sampled agents' queues
instead left them behind other work (makespan 1.1-2.1x online HEFT in the simulation,
about 1.0x late-bound; docs/coordinator_workflows.md).
When a predecessor is dead-lettered, its dependants (transitively) are held, reported
with the dead predecessor that blocks them, and never run.

Edges live on the records: a live task's `kids` are its waiting dependants (a tuple
while there are few, one object to allocate and read; a list past `_FEW_KIDS`, so
adding one stays O(1)) and a waiting task's `missing` counts its unfinished
predecessors, so a completion with no dependants costs one attribute read; releasing
k dependants costs O(k log k). Ranks
are exact within a submitted batch (`submit_all`); a task submitted later raises the
ranks of its direct waiting predecessors only (one level, so a submission stays
O(|after|); their own predecessors keep the ranks they had).
"""

from __future__ import annotations

import graphlib
import math
import operator
from collections.abc import Callable, Sequence
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

_RANK = operator.attrgetter("rank")
# A task's dependants are a tuple up to this many (one object, no separate item array
# to allocate and fetch: most tasks have one or two), then a list.
_FEW_KIDS = 8
_UNPLANNED = ("", math.inf)  # tasks no plan placed go after planned ones, by rank


class Dependencies:
    """Waiting and held tasks. Plain dicts, O(1) lookups (edges are on the records).

    waiting: task id -> record, tasks with at least one unfinished predecessor.
    held: task id -> record; blocked_by: held task id -> the dead-lettered predecessor.
    planned: task id -> (agent id, planned start), from the last plan with a schedule.
    """

    __slots__ = ("blocked_by", "held", "planned", "waiting")

    def __init__(self) -> None:
        self.waiting: dict[str, TaskRecord] = {}
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


def open_predecessors(state: CoordinatorState, spec: TaskSpec) -> list[TaskRecord] | str | None:
    """`spec`'s unfinished predecessors (live records); or the dead task blocking it, if
    any predecessor is dead or held; None when every predecessor has completed.

    Raises DependencyError naming an unknown id. One pass over `after` (the submit path
    of every dependent task, so kept lean: no tuple, no list until a live predecessor).
    The small live dicts are asked before the done set, which holds every id ever
    completed (a likely cache miss).
    """
    tasks, waiting = state.tasks, state.deps.waiting
    out: list[TaskRecord] | None = None
    blocker: str | None = None
    for pred in spec.after:
        record = waiting.get(pred) or tasks.get(pred)
        if record is not None:
            if out is None:
                out = [record]
            else:
                out.append(record)
        elif pred in state.done:
            continue
        elif pred in state.dead:
            blocker = blocker or pred
        elif pred in state.deps.held:
            blocker = blocker or state.deps.blocked_by[pred]
        else:
            check_known(TaskSpec(spec.id, after=(pred,)), lambda p: False)  # raises, naming it
    return out if blocker is None else blocker


def file_dependent(
    state: CoordinatorState,
    task: TaskRecord,
    found: list[TaskRecord] | str,
    rank: float | None,
) -> None:
    """Park `task` until the open predecessors `found` lists complete, or hold it behind
    the dead task `found` names. `rank`: its upward rank when the caller computed one."""
    if rank is not None:
        task.rank = rank
    if isinstance(found, str):
        _hold(state, task, found)
        return
    task.state = WAITING
    state.deps.waiting[task.id] = task
    task.missing = len(found)
    rank = task.rank
    for pred in found:
        kids = pred.kids
        if kids is None:
            pred.kids = (task,)
        elif len(kids) < _FEW_KIDS:  # a list is only made past _FEW_KIDS: this is a tuple
            # Concatenation, not (*kids, task): that builds a list first.
            pred.kids = kids + (task,)  # type: ignore[operator]  # noqa: RUF005
        elif kids.__class__ is tuple:
            pred.kids = [*kids, task]  # many: a list, so adding stays O(1)
        else:
            kids.append(task)  # type: ignore[union-attr]
        if pred.missing:  # waiting (only a waiting task counts missing predecessors)
            up = pred.est + rank
            if up > pred.rank:
                pred.rank = up  # one level only: see the module docstring


def release_after(state: CoordinatorState, kids: Sequence[TaskRecord], now: float) -> None:
    """A predecessor completed; `kids` were waiting on it: queue those now ready.

    The caller takes `kids` off the completed record (so a completion without
    dependants costs one attribute read and no call). O(len(kids)), plus a sort of
    the ready ones when more than one became ready at once. One and two dependants
    (every chain, most DAGs) take a path without a list or a sort.
    """
    n = len(kids)
    if n == 1:
        kid = kids[0]
        left = kid.missing - 1
        kid.missing = left
        if not left:
            if state.deps.planned:
                _release_planned(state, kids, now)
            else:
                _queue_released(state, kid, now)
        return
    if n == 2:
        first, second = kids
        left = first.missing - 1
        first.missing = left
        left2 = second.missing - 1
        second.missing = left2
        if left:
            if not left2:
                if state.deps.planned:
                    _release_planned(state, (second,), now)
                else:
                    _queue_released(state, second, now)
            return
        if left2:
            if state.deps.planned:
                _release_planned(state, (first,), now)
            else:
                _queue_released(state, first, now)
            return
        if state.deps.planned:
            _release_planned(state, kids, now)
        elif second.rank > first.rank:  # highest rank first; a tie keeps listed order
            _queue_released(state, second, now)
            _queue_released(state, first, now)
        else:
            _queue_released(state, first, now)
            _queue_released(state, second, now)
        return
    ready = []
    for kid in kids:
        left = kid.missing - 1
        kid.missing = left
        if not left:
            ready.append(kid)
    if not ready:
        return
    if state.deps.planned:
        _release_planned(state, ready, now)
        return
    ready.sort(key=_RANK, reverse=True)  # stable: equal ranks keep their order
    for task in ready:
        _queue_released(state, task, now)


def _release_planned(state: CoordinatorState, ready: Sequence[TaskRecord], now: float) -> None:
    """With a schedule: earliest planned start first (then upward rank), each on its
    planned agent when that agent can take it."""
    planned = state.deps.planned
    if len(ready) > 1:
        ready = sorted(ready, key=lambda t: (planned.get(t.id, _UNPLANNED)[1], -t.rank))
    for task in ready:
        _queue_released(state, task, now, _planned_agent(state, task))


def _queue_released(
    state: CoordinatorState, task: TaskRecord, now: float, agent: AgentRecord | None = None
) -> None:
    """Queue a released task on `agent` (None: where `home_for_released` says)."""
    task_id = task.id
    del state.deps.waiting[task_id]
    task.state = QUEUED
    state.tasks[task_id] = task
    state.queued_work += task.est
    if agent is None:
        # Late binding (see the module docstring): with least_loaded placement a ready
        # task any agent may run waits in the global queue for the next agent to pull.
        late = state.hand_to_awaiting and not task.constrained
        agent = None if late else state.home_for_released(task)
        if agent is None:
            state._file_global(task, now)
            return
    state._file_local(task, agent, now)


def _planned_agent(state: CoordinatorState, task: TaskRecord) -> AgentRecord | None:
    plan = state.deps.planned.pop(task.id, None)
    if plan is None:
        return None
    agent = state.agents.get(plan[0])
    if agent is not None and available(agent) and eligible(agent, task):
        return agent
    return None


def hold_after(state: CoordinatorState, dead: TaskRecord) -> None:
    """`dead` was dead-lettered: hold its waiting dependants, transitively."""
    waiting = state.deps.waiting
    stack = [dead]
    while stack:
        record = stack.pop()
        kids, record.kids = record.kids, None
        for kid in kids or ():
            if kid.state != WAITING:
                continue  # already held through another dead predecessor
            del waiting[kid.id]
            _unlink(state, kid)
            _hold(state, kid, dead.id)
            stack.append(kid)


def _unlink(state: CoordinatorState, task: TaskRecord) -> None:
    """Drop a waiting task from its live predecessors' dependants (it will not run)."""
    task.missing = 0
    for pred_id in task.after:
        pred = state.tasks.get(pred_id) or state.deps.waiting.get(pred_id)
        if pred is not None and pred.kids is not None:
            pred.kids = tuple(k for k in pred.kids if k is not task) or None


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
