"""Typed errors a caller of the coordinator can cause; each message says what to change."""

from __future__ import annotations

__all__ = ["AdmissionError", "CoordinatorError", "DependencyError", "UnknownAgentError"]


class CoordinatorError(ValueError):
    """Base class: a request the coordinator refused without changing its state."""


class AdmissionError(CoordinatorError):
    """A submitted task was not accepted; the message names the rule or bound it broke."""

    def __init__(self, task_id: str, reason: str) -> None:
        self.task_id = task_id
        self.reason = reason
        super().__init__(f"task {task_id!r} rejected: {reason}")


class UnknownAgentError(CoordinatorError, KeyError):
    """An event named an agent that is not registered."""

    def __init__(self, agent_id: str) -> None:
        self.agent_id = agent_id
        super().__init__(f"agent {agent_id!r} is not registered; register it first")

    def __str__(self) -> str:
        return str(self.args[0])


class DependencyError(AdmissionError):
    """A task's `after` names an unknown task or itself, or a batch's `after` has a cycle.

    `cycle` lists the ids around the cycle (first id repeated at the end), else empty.
    """

    def __init__(self, task_id: str, reason: str, cycle: tuple[str, ...] = ()) -> None:
        self.cycle = cycle
        super().__init__(task_id, reason)
