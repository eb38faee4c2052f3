"""Swarms in the service: coordinators behind locks, persisted, tuned live, re-solved off-lock."""

from __future__ import annotations

from allocator.swarms.hub import SwarmHub
from allocator.swarms.runtime import (
    PullResult,
    RebalanceRecord,
    SwarmRuntime,
    UnknownSwarmError,
)
from allocator.swarms.snapshot import restore_coordinator, snapshot_coordinator
from allocator.swarms.tuning import CoordinatorTuning, apply_tuning, build_coordinator

__all__ = [
    "CoordinatorTuning",
    "PullResult",
    "RebalanceRecord",
    "SwarmHub",
    "SwarmRuntime",
    "UnknownSwarmError",
    "apply_tuning",
    "build_coordinator",
    "restore_coordinator",
    "snapshot_coordinator",
]
