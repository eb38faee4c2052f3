"""What `Coordinator.tune` may change while the coordinator runs: checked, then applied.

Each setting is validated before any is applied, so a refused `tune` changes nothing.
Queue discipline, steal policy and placement are chosen when a coordinator is built.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from allocator.coordinator.errors import CoordinatorError
from allocator.coordinator.queues import PriorityQueue
from allocator.coordinator.stealing import HeaviestVictim, LocalityAware

if TYPE_CHECKING:
    from allocator.coordinator.operations import CoordinatorOperations

__all__ = ["LiveSettings", "TuningError", "apply_settings", "check_settings", "live_settings"]


class TuningError(CoordinatorError):
    """A `tune` argument out of range; the message names it and says what to use."""

    def __init__(self, setting: str, value: object, rule: str) -> None:
        self.setting = setting
        super().__init__(f"{setting} is {value!r}; {rule}")


@dataclass(frozen=True, slots=True)
class LiveSettings:
    """The live settings. None: this coordinator's discipline or policy has no such knob."""

    lease_timeout_s: float
    heartbeat_timeout_s: float
    max_retries: int
    prefetch: int
    steal_threshold: int | None
    aging_s: float | None


def _seconds(value: object) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value > 0
    )


def _count(least: int) -> Callable[[object], bool]:
    def check(value: object) -> bool:
        return isinstance(value, int) and not isinstance(value, bool) and value >= least

    return check


_RULES: dict[str, tuple[Callable[[object], bool], str]] = {
    "lease_timeout_s": (_seconds, "use a positive, finite number of seconds"),
    "heartbeat_timeout_s": (_seconds, "use a positive, finite number of seconds"),
    "max_retries": (_count(0), "use a whole number >= 0"),
    "prefetch": (_count(0), "use a whole number >= 0"),
    "steal_threshold": (_count(1), "use a whole number >= 1"),
    "aging_s": (_seconds, "use a positive, finite number of seconds"),
}


def check_settings(changes: dict[str, object]) -> None:
    """Raise TuningError for the first unknown or out-of-range setting."""
    for name, value in changes.items():
        rule = _RULES.get(name)
        if rule is None:
            raise TuningError(name, value, f"it is not a live setting; use one of {sorted(_RULES)}")
        check, what = rule
        if not check(value):
            raise TuningError(name, value, what)


def live_settings(coord: CoordinatorOperations) -> LiveSettings:
    """The settings in force. O(1)."""
    policy = coord.steal_policy
    threshold = policy.threshold if isinstance(policy, HeaviestVictim | LocalityAware) else None
    queue = coord.global_queue
    return LiveSettings(
        lease_timeout_s=coord.leases.lease_timeout_s,
        heartbeat_timeout_s=coord.leases.heartbeat_timeout_s,
        max_retries=coord.cfg.max_retries,
        prefetch=coord.cfg.prefetch,
        steal_threshold=threshold,
        aging_s=queue.aging_s if isinstance(queue, PriorityQueue) else None,
    )


def apply_settings(coord: CoordinatorOperations, target: LiveSettings) -> None:
    """Make `target` (already checked) the settings in force. O(agents + leases).

    A knob this coordinator lacks (None in `live_settings`) is ignored.
    """
    before = live_settings(coord)
    coord.leases.retime(target.lease_timeout_s, target.heartbeat_timeout_s)
    coord.cfg = dataclasses.replace(
        coord.cfg,
        lease_timeout_s=target.lease_timeout_s,
        heartbeat_timeout_s=target.heartbeat_timeout_s,
        max_retries=target.max_retries,
        prefetch=target.prefetch,
    )
    for agent in coord.agent_list:
        agent.max_leases = agent.slots + target.prefetch  # extra leases held run out naturally
    if target.steal_threshold is not None and target.steal_threshold != before.steal_threshold:
        _set_steal_threshold(coord, target.steal_threshold)
    if target.aging_s is not None and target.aging_s != before.aging_s:
        _set_aging(coord, target.aging_s)


def _set_steal_threshold(coord: CoordinatorOperations, threshold: int) -> None:
    policy = coord.steal_policy
    if not isinstance(policy, HeaviestVictim | LocalityAware):
        return
    policy.set_threshold(threshold)
    # The load index files only queues a victim could have: refile every agent.
    coord.index_floor = max(1, threshold)
    for agent in coord.agent_list:
        coord.refile(agent)


def _set_aging(coord: CoordinatorOperations, aging_s: float) -> None:
    if not isinstance(coord.global_queue, PriorityQueue):
        return
    coord.aging_s = aging_s
    coord.global_queue.aging_s = aging_s
    for agent in coord.agent_list:
        if isinstance(agent.queue, PriorityQueue):
            agent.queue.aging_s = aging_s
