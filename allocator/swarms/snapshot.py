"""A coordinator's durable state as a JSON document (format 1), and a coordinator from one.

What is kept, and why leased tasks come back queued, is `allocator.coordinator.durable`;
this module only maps it to and from JSON.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from allocator.coordinator import Coordinator, DurableState, DurableTask, TokenLedger
from allocator.coordinator.records import AgentSpec, TaskSpec

__all__ = ["restore_coordinator", "snapshot_coordinator"]

log = logging.getLogger("allocator.swarms")


def _task_doc(task: DurableTask) -> dict[str, Any]:
    spec = task.spec
    return {
        "id": spec.id,
        "work": spec.work,
        "kind": spec.kind,
        "priority": spec.priority,
        "tenant": spec.tenant,
        "weight": spec.weight,
        "deadline": spec.deadline,
        "requires": sorted(spec.requires),
        "pinned_agent": spec.pinned_agent,
        "demand": spec.demand,
        "group": spec.group,
        "after": list(spec.after),
        "attempts": task.attempts,
        "errors": list(task.errors),
    }


def _task(doc: dict[str, Any]) -> DurableTask:
    spec = TaskSpec(
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
        after=tuple(doc.get("after", ())),  # documents saved before dependencies have none
    )
    return DurableTask(spec, doc["attempts"], tuple(doc["errors"] or ()))


def snapshot_coordinator(coordinator: Coordinator) -> dict[str, Any]:
    """The durable state as a document. O(agents + tasks + done); call under the swarm lock."""
    state = coordinator.durable_state()
    return {
        "format": 1,
        "agents": [
            {
                "id": a.id,
                "speed": a.speed,
                "capabilities": sorted(a.capabilities),
                "capacity": dict(a.capacity),
                "node": a.node,
                "slots": a.slots,
                "max_tasks": a.max_tasks,
                "token_price": a.token_price,
            }
            for a in state.agents
        ],
        "tokens": coordinator.tokens.to_doc(),
        "tasks": [_task_doc(t) for t in state.tasks],
        "done": list(state.done),
        "dead": [_task_doc(t) for t in state.dead],
    }


def restore_coordinator(
    state: dict[str, Any],
    build: Callable[[Iterable[AgentSpec]], Coordinator],
    *,
    swarm: str = "",
) -> Coordinator:
    """Rebuild with `build(agents) -> Coordinator`; every saved task is queued again."""
    agents = tuple(
        AgentSpec(
            id=a["id"],
            speed=a["speed"],
            capabilities=frozenset(a["capabilities"]),
            capacity=a["capacity"],
            node=a["node"],
            slots=a["slots"],
            max_tasks=a["max_tasks"],
            token_price=a.get("token_price"),
        )
        for a in state.get("agents", [])
    )
    coordinator = build(agents)
    refused = coordinator.restore(
        DurableState(
            agents=agents,
            tasks=tuple(_task(doc) for doc in state.get("tasks", [])),
            done=tuple(state.get("done", [])),
            dead=tuple(_task(doc) for doc in state.get("dead", [])),
        )
    )
    if "tokens" in state:
        coordinator.tokens = TokenLedger.from_doc(state["tokens"])
    for task_id, why in refused.items():  # cannot happen with the same agents; keep it visible
        log.error("task not restored", extra={"swarm": swarm, "task": task_id, "why": why})
    return coordinator
