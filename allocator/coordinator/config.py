"""Coordinator settings in one object (budgets and knobs travel together)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from allocator.coordinator.breaker import BreakerConfig

__all__ = ["PLACEMENTS", "CoordinatorConfig", "Placement"]

Placement = Literal["global", "least_loaded", "pack", "round_robin"]
PLACEMENTS: tuple[str, ...] = ("global", "least_loaded", "pack", "round_robin")


@dataclass(frozen=True)
class CoordinatorConfig:
    """Knobs of the coordinator. Times are seconds on the injected clock.

    Attributes:
        placement: where a submitted task waits. "global" keeps unconstrained work in
            the global queue until an agent pulls (late binding); "least_loaded"
            files it on the best of `choices` sampled agents by expected finish time;
            "pack" prefers busy agents that still have room; "round_robin" cycles.
        prefetch: leases an agent may hold beyond its running slots.
        choices: agents sampled per placement (power of d choices).
        speed_aware: a slow agent pulling from the global queue skips a task a faster
            agent would finish sooner (keeps giants off slow agents).
        speed_slack: how much later than the fast alternative a slow agent may finish.
        lookahead: global-queue entries examined per pull before giving up.
        lease_timeout_s / heartbeat_timeout_s: when leased work is taken back.
        max_retries: failed attempts after the first before a task is dead-lettered.
        emit_commands: keep side-effect commands (migrations, requeues, breaker
            changes) for `drain_commands`; benchmarks turn it off.
        latency_window: queue-latency samples kept for percentiles (power of two).
    """

    placement: Placement = "global"
    prefetch: int = 1
    choices: int = 2
    speed_aware: bool = True
    speed_slack: float = 0.1
    lookahead: int = 8
    lease_timeout_s: float = 300.0
    heartbeat_timeout_s: float = 30.0
    max_retries: int = 3
    default_work: float = 1.0
    emit_commands: bool = True
    latency_window: int = 1 << 16
    seed: int = 0
    breaker: BreakerConfig = field(default_factory=BreakerConfig)

    def __post_init__(self) -> None:
        if self.placement not in PLACEMENTS:
            raise ValueError(
                f"placement {self.placement!r} is unknown; choose one of {', '.join(PLACEMENTS)}"
            )
        if self.prefetch < 0 or self.choices < 1 or self.lookahead < 1 or self.max_retries < 0:
            raise ValueError("prefetch >= 0, choices >= 1, lookahead >= 1, max_retries >= 0")
        if self.latency_window < 1 or self.latency_window & (self.latency_window - 1):
            raise ValueError(f"latency_window is {self.latency_window}; use a power of two")
