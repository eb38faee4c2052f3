"""Operator settings of the coordinators (`allocator config set`): validated, live, persisted."""

from __future__ import annotations

import time
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from allocator.coordinator import (
    Coordinator,
    CoordinatorConfig,
    LiveSettings,
    make_queue_factory,
)

__all__ = ["CoordinatorTuning", "apply_tuning", "build_coordinator"]


class CoordinatorTuning(BaseModel):
    """Knobs an operator may change while swarms run."""

    model_config = ConfigDict(extra="forbid")

    queue: Literal["fifo", "priority", "edf", "cfs", "wfq"] = Field(
        default="priority", description="Queue discipline of new swarms (restart for old ones)."
    )
    steal_policy: Literal["none", "heaviest", "seed", "locality", "steal_half"] = "heaviest"
    steal_threshold: int = Field(
        default=2, ge=1, description="A victim must hold at least this many queued tasks."
    )
    aging_boost: float = Field(
        default=30.0, gt=0, description="Seconds of waiting that lift a task one priority class."
    )
    rebalance_tolerance: float = Field(
        default=0.2, ge=0, le=10, description="Threshold rebalancing acts past this imbalance."
    )
    rebalance_max_moves: int | None = Field(
        default=None,
        ge=1,
        le=1_000_000,
        description="Adaptive rebalancing moves at most this many queued tasks (null: no limit).",
    )
    lease_timeout_s: float = Field(default=300.0, gt=0, le=86_400)
    heartbeat_timeout_s: float = Field(default=30.0, gt=0, le=86_400)
    max_retries: int = Field(default=3, ge=0, le=100)
    prefetch: int = Field(default=1, ge=0, le=64, description="Leases beyond running slots.")


def build_coordinator(tuning: CoordinatorTuning) -> Coordinator:
    """A coordinator on the wall clock (deadlines survive restarts) with these settings."""
    config = CoordinatorConfig(
        lease_timeout_s=tuning.lease_timeout_s,
        heartbeat_timeout_s=tuning.heartbeat_timeout_s,
        max_retries=tuning.max_retries,
        prefetch=tuning.prefetch,
        emit_commands=True,
    )
    coordinator = Coordinator(
        config,
        queue=make_queue_factory(tuning.queue, aging_s=tuning.aging_boost),
        steal=tuning.steal_policy,
        clock=time.time,
    )
    apply_tuning(coordinator, tuning)
    return coordinator


def apply_tuning(coordinator: Coordinator, tuning: CoordinatorTuning) -> LiveSettings:
    """Change a running coordinator through its `tune()` (call under its swarm's lock).

    Queue discipline and steal policy are chosen when a swarm is built; the rest
    applies at once. Returns the settings now in force.
    """
    return coordinator.tune(
        lease_timeout_s=tuning.lease_timeout_s,
        heartbeat_timeout_s=tuning.heartbeat_timeout_s,
        max_retries=tuning.max_retries,
        prefetch=tuning.prefetch,
        steal_threshold=tuning.steal_threshold,
        aging_s=tuning.aging_boost,
    )
