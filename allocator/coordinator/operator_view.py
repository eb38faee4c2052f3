"""`Coordinator.snapshot()`: what operators read, as frozen values safe to keep and send.

A snapshot copies plain figures out of the coordinator, so it can be taken under a
swarm's lock and rendered, serialised or compared after the lock is released.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from allocator.coordinator.kpis import Metrics, agent_utilisation
from allocator.coordinator.live_settings import LiveSettings, live_settings
from allocator.coordinator.records import AgentRecord
from allocator.coordinator.tokens import TokenTotals

if TYPE_CHECKING:
    from allocator.coordinator.operations import CoordinatorOperations

__all__ = ["AgentView", "CoordinatorSnapshot", "agent_state", "take_snapshot"]


@dataclass(frozen=True, slots=True)
class AgentView:
    """One registered agent. `utilisation` has the same definition as the KPI."""

    id: str
    speed: float
    slots: int
    node: str | None
    queued: int
    leased: int
    completed: int
    utilisation: float
    breaker: str  # "closed", "open" or "half_open"
    capabilities: tuple[str, ...] = ()
    state: str = "idle"  # see `agent_state`
    load_s: float = 0.0  # expected seconds to drain what it holds (queued + leased work)
    token_price: float | None = None


@dataclass(frozen=True, slots=True)
class CoordinatorSnapshot:
    """The coordinator at one instant on its clock.

    Attributes:
        at: the clock reading the figures belong to.
        discipline / steal_policy: names of the queue discipline and steal policy.
        settings: the live settings (`Coordinator.tune` changes them).
        agents: every registered agent, in registration order (removals swap in the last).
        metrics: every KPI (`Coordinator.metrics()` at the same instant).
        resolve_in_flight: id of the re-solve awaiting its plan, or None.
        waiting: tasks whose predecessors have not all completed.
        held: held task -> the dead-lettered predecessor blocking it (they will not run).
        tokens: token usage and cost so far (`TokenLedger.totals()`).
    """

    at: float
    discipline: str
    steal_policy: str
    settings: LiveSettings
    agents: tuple[AgentView, ...]
    metrics: Metrics
    resolve_in_flight: int | None
    waiting: int = 0
    held: dict[str, str] = field(default_factory=dict)
    tokens: TokenTotals | None = None


def agent_state(agent: AgentRecord) -> str:
    """ "busy" (holds leases), "idle", "unavailable" (breaker open) or "probing" (half-open)."""
    if agent.breaker.state == "open":
        return "unavailable"
    if agent.breaker.state == "half_open":
        return "probing"
    return "busy" if agent.leases else "idle"


def take_snapshot(coord: CoordinatorOperations) -> CoordinatorSnapshot:
    """Copy the figures out. O(agents + latency window)."""
    metrics = coord.metrics()
    elapsed = metrics.now - coord.kpi.started_at
    agents = tuple(
        AgentView(
            id=a.id,
            speed=a.speed,
            slots=a.slots,
            node=a.node,
            queued=len(a.queue),
            leased=len(a.leases),
            completed=a.completed,
            utilisation=agent_utilisation(a, elapsed),
            breaker=str(a.breaker.state),
            capabilities=tuple(sorted(a.capabilities)),
            state=agent_state(a),
            load_s=a.backlog_s(),
            token_price=a.token_price,
        )
        for a in coord.agent_list
    )
    pending = coord.pending_resolve
    return CoordinatorSnapshot(
        at=metrics.now,
        discipline=coord.global_queue.name,
        steal_policy="none" if coord.steal_policy is None else coord.steal_policy.name,
        settings=live_settings(coord),
        agents=agents,
        metrics=metrics,
        resolve_in_flight=None if pending is None else pending.request_id,
        waiting=len(coord.deps.waiting),
        held=dict(coord.deps.blocked_by),
        tokens=coord.tokens.totals(),
    )
