"""`Coordinator.handle`: one event in, the commands it produced out (the sans-I/O face)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from allocator.coordinator.errors import AdmissionError
from allocator.coordinator.events import (
    Accepted,
    AgentRemoved,
    ApplyPlan,
    Assign,
    Command,
    Completed,
    CompleteTask,
    CompletionRejected,
    Event,
    FailTask,
    Heartbeat,
    HeartbeatMissed,
    NoWork,
    Pull,
    Rebalance,
    RegisterAgent,
    Rejected,
    RemoveAgent,
    ResolveDeclined,
    SubmitTask,
    Tick,
)

if TYPE_CHECKING:
    from allocator.coordinator.core import Coordinator

__all__ = ["handle_event"]


def handle_event(self: Coordinator, event: Event) -> list[Command]:
    """Apply `event` to the coordinator; side-effect commands follow the direct result."""
    out: list[Command] = []
    match event:
        case SubmitTask(task=spec):
            try:
                out.append(Accepted(spec.id, self.submit(spec)))
            except AdmissionError as exc:
                out.append(Rejected(exc.task_id, exc.reason))
        case Pull(agent_id=agent_id):
            task = self.next_for(agent_id)
            out.append(
                NoWork(agent_id, "nothing eligible") if task is None else Assign(task.id, agent_id)
            )
        case CompleteTask(task_id=task_id, agent_id=agent_id, runtime_s=runtime_s, tokens=tokens):
            reason = self.complete(task_id, agent_id, runtime_s, tokens)
            out.append(
                Completed(task_id, agent_id)
                if reason is None
                else CompletionRejected(task_id, agent_id, reason)
            )
        case FailTask(task_id=task_id, agent_id=agent_id, error=error):
            reason = self.fail(task_id, agent_id, error)
            if reason is not None:
                out.append(CompletionRejected(task_id, agent_id, reason))
        case RegisterAgent(agent=spec):
            self.register_agent(spec)
        case RemoveAgent(agent_id=agent_id):
            out.append(AgentRemoved(agent_id, self.remove_agent(agent_id)))
        case Heartbeat(agent_id=agent_id):
            self.heartbeat(agent_id)
        case HeartbeatMissed(agent_id=agent_id):
            self.heartbeat_missed(agent_id)
        case ApplyPlan(plan=plan, request_id=None):
            out.append(self.apply_plan(plan).command())
        case ApplyPlan() | ResolveDeclined():
            out.extend(self.answer_resolve(event).commands())
        case Tick():
            self.tick()
        case Rebalance(strategy, tolerance, margin, migration_weight, max_moves):
            outcome = self.rebalance(
                strategy,
                tolerance=tolerance,
                margin=margin,
                migration_weight=migration_weight,
                max_moves=max_moves,
            )
            out.extend(outcome.commands())
    out.extend(self.drain_commands())
    return out
