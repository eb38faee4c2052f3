"""Run one workload under several policies and collect one KPI row per policy."""

from __future__ import annotations

from collections.abc import Sequence

from allocator.simulation.driver import SimResult, simulate
from allocator.simulation.policies import DEFAULT_POLICIES, SimPolicy
from allocator.simulation.workloads import Workload

__all__ = ["compare_policies"]


def compare_policies(
    workload: Workload, policies: Sequence[SimPolicy] = DEFAULT_POLICIES, *, seed: int = 0
) -> list[SimResult]:
    """Simulate `workload` once per policy (same seed), in the given order."""
    return [simulate(workload, policy, seed=seed) for policy in policies]
