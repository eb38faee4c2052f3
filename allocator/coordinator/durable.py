"""The durable part of a coordinator's state, out and back in (what a swarm store keeps).

Kept: agents, every queued or leased task (with attempts and errors), done ids and
dead letters. Leases are not kept: restored, a leased task is queued again as if its
lease had expired, so a task may be re-run but is never lost.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from allocator.coordinator.errors import AdmissionError
from allocator.coordinator.records import DEAD, AgentSpec, TaskRecord, TaskSpec

if TYPE_CHECKING:
    from allocator.coordinator.core import Coordinator

__all__ = ["DurableState", "DurableTask", "export_state", "restore_state"]


@dataclass(frozen=True, slots=True)
class DurableTask:
    """A task as submitted, with the attempts it used and their errors."""

    spec: TaskSpec
    attempts: int = 0
    errors: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class DurableState:
    """Everything a restart must not lose."""

    agents: tuple[AgentSpec, ...]
    tasks: tuple[DurableTask, ...]
    done: tuple[str, ...]
    dead: tuple[DurableTask, ...]


def _spec_of(task: TaskRecord) -> TaskSpec:
    return TaskSpec(
        id=task.id,
        work=task.work,
        kind=task.kind,
        priority=task.priority,
        tenant=task.tenant,
        weight=task.weight,
        deadline=task.deadline,
        requires=task.requires,
        pinned_agent=task.pinned,
        demand=task.demand,
        group=task.group,
        after=task.after,
    )


def _durable(task: TaskRecord) -> DurableTask:
    return DurableTask(_spec_of(task), task.attempts, tuple(task.errors or ()))


def export_state(coord: Coordinator) -> DurableState:
    """The durable state. O(agents + tasks + done)."""
    agents = tuple(
        AgentSpec(
            id=a.id,
            speed=a.speed,
            capabilities=a.capabilities,
            capacity=dict(a.capacity),
            node=a.node,
            slots=a.slots,
            max_tasks=a.max_tasks,
            token_price=a.token_price,
        )
        for a in coord.agent_list
    )
    deps = coord.deps
    # Live tasks first, then waiting, then held: each task after its live predecessors,
    # so restoring by submitting in this order finds every predecessor known.
    parked = (*deps.waiting.values(), *deps.held.values())
    return DurableState(
        agents=agents,
        tasks=tuple(_durable(t) for t in (*coord.tasks.values(), *parked)),
        done=tuple(coord.done),
        dead=tuple(_durable(t) for t in coord.dead.values()),
    )


def restore_state(coord: Coordinator, state: DurableState) -> dict[str, str]:
    """Load `state` into a coordinator with no tasks yet; returns tasks refused (-> why).

    Agents already registered are kept; every saved task is submitted again (so it
    is queued, never leased) with its attempts and errors.
    """
    refused: dict[str, str] = {}
    for spec in state.agents:
        if spec.id not in coord.agents:
            coord.register_agent(spec)
    fresh_done = set(state.done) - coord.done
    coord.done.update(fresh_done)
    coord.kpi.restored_done += len(fresh_done)
    now = coord._clock()
    for saved in state.dead:
        record = TaskRecord(saved.spec, saved.spec.work or 1.0, now)
        record.state = DEAD
        record.attempts = saved.attempts
        record.errors = list(saved.errors)
        coord.dead[saved.spec.id] = record
        coord.kpi.restored_dead += 1
    # Done and dead first: a waiting task's predecessors must be known when it returns,
    # and one whose predecessor is dead comes back held.
    for saved in state.tasks:
        try:
            coord.submit(saved.spec)
        except AdmissionError as exc:
            refused[saved.spec.id] = exc.reason
            continue
        tid = saved.spec.id
        record = coord.tasks.get(tid) or coord.deps.waiting.get(tid) or coord.deps.held[tid]
        record.attempts = saved.attempts
        record.errors = list(saved.errors) or None
    return refused
