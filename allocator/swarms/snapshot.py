"""Save a coordinator's durable state as JSON and rebuild a coordinator from it.

Kept: agents, every queued or leased task (with attempts and errors), done ids and
dead letters. Leases are not kept: after a restart leased tasks are queued again,
as if their leases had expired, so a task may be re-run but is never lost.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from allocator.coordinator import AdmissionError, Coordinator
from allocator.coordinator.records import DEAD, AgentSpec, TaskRecord, TaskSpec

__all__ = ["restore_coordinator", "snapshot_coordinator"]

log = logging.getLogger("allocator.swarms")


def _task_doc(task: TaskRecord) -> dict[str, Any]:
    return {
        "id": task.id,
        "work": task.work,
        "kind": task.kind,
        "priority": task.priority,
        "tenant": task.tenant,
        "weight": task.weight,
        "deadline": task.deadline,
        "requires": sorted(task.requires),
        "pinned_agent": task.pinned,
        "demand": task.demand,
        "group": task.group,
        "attempts": task.attempts,
        "errors": list(task.errors or []),
    }


def _spec(doc: dict[str, Any]) -> TaskSpec:
    return TaskSpec(
        id=doc["id"],
        work=doc["work"],
        kind=doc["kind"],
        priority=doc["priority"],
        tenant=doc["tenant"],
        weight=doc["weight"],
        deadline=doc["deadline"],
        requires=frozenset(doc["requires"]),
        pinned_agent=doc["pinned_agent"],
        demand=doc["demand"],
        group=doc["group"],
    )


def snapshot_coordinator(coordinator: Coordinator) -> dict[str, Any]:
    """The durable part of the state. O(agents + tasks + done); call under the swarm lock."""
    agents = [
        {
            "id": a.id,
            "speed": a.speed,
            "capabilities": sorted(a.capabilities),
            "capacity": dict(a.capacity),
            "node": a.node,
            "slots": a.slots,
            "max_tasks": a.max_tasks,
        }
        for a in coordinator.agent_list
        if not a.removed
    ]
    return {
        "format": 1,
        "agents": agents,
        "tasks": [_task_doc(t) for t in coordinator.tasks.values()],
        "done": list(coordinator.done),
        "dead": [_task_doc(t) for t in coordinator.dead.values()],
    }


def restore_coordinator(state: dict[str, Any], build: Any, *, swarm: str = "") -> Coordinator:
    """Rebuild with `build(agents) -> Coordinator`; every saved task is queued again."""
    agents = [
        AgentSpec(
            id=a["id"],
            speed=a["speed"],
            capabilities=frozenset(a["capabilities"]),
            capacity=a["capacity"],
            node=a["node"],
            slots=a["slots"],
            max_tasks=a["max_tasks"],
        )
        for a in state.get("agents", [])
    ]
    coordinator: Coordinator = build(agents)
    for doc in state.get("tasks", []):
        try:
            coordinator.submit(_spec(doc))
        except AdmissionError as exc:  # cannot happen with the same agents; keep it visible
            log.error(
                "task not restored", extra={"swarm": swarm, "task": doc["id"], "why": str(exc)}
            )
            continue
        record = coordinator.tasks[doc["id"]]
        record.attempts = doc["attempts"]
        record.errors = doc["errors"] or None
    coordinator.done.update(state.get("done", []))
    now = time.time()
    for doc in state.get("dead", []):
        record = TaskRecord(_spec(doc), doc["work"] or 1.0, now)
        record.state = DEAD
        record.attempts = doc["attempts"]
        record.errors = doc["errors"]
        coordinator.dead[doc["id"]] = record
    return coordinator
