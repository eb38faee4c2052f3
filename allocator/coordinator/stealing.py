"""Work-stealing policies (plug-ins): heaviest victim, locality-aware, random steal-half.

A policy picks victims in O(1) (the load index's top bucket, a topology node's top
bucket, or random probes); `steal_moves.steal_from` moves tasks from a victim's tail
only when the move pays (see there). A failed attempt is cheap: a victim whose whole
backlog is below the thief's `payback_bar` is passed over in O(1).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from allocator.coordinator.records import AgentRecord
from allocator.coordinator.steal_moves import (
    NO_TASK,
    StealHost,
    StealParams,
    payback_bar,
    steal_from,
    take_from,
)

__all__ = [
    "STEAL_POLICIES",
    "HeaviestVictim",
    "LocalityAware",
    "NoStealing",
    "RandomStealHalf",
    "StealHost",
    "StealParams",
    "StealPolicy",
    "make_steal_policy",
    "payback_bar",
    "steal_from",
]


class StealPolicy(Protocol):
    """Called when `thief` pulls with an empty local queue; returns tasks moved to it."""

    name: str

    def steal(self, host: StealHost, thief: AgentRecord, now: float) -> int: ...


class NoStealing:
    """Never steal (the round-robin-without-stealing baseline)."""

    name = "none"

    def steal(self, host: StealHost, thief: AgentRecord, now: float) -> int:
        return 0


class HeaviestVictim:
    """The classic: take from the agent with the most queued tasks, above a threshold.

    Victim lookup is O(1) from the load index's top bucket; up to `probe` of the
    heaviest agents are tried in case the first cannot give this thief anything.
    """

    name = "heaviest"

    def __init__(
        self, threshold: int = 2, batch: int = 1, probe: int = 3, params: StealParams | None = None
    ) -> None:
        self.threshold = max(1, threshold)
        self.batch = max(1, batch)
        self.probe = max(1, probe)
        self.params = params or StealParams()

    def set_threshold(self, threshold: int) -> None:
        """A victim must hold at least `threshold` queued tasks from now on."""
        self.threshold = max(1, threshold)

    def steal(self, host: StealHost, thief: AgentRecord, now: float) -> int:
        threshold = self.threshold
        index = host.index
        top = index.max_count
        if top < threshold:
            return 0
        params = self.params
        # payback_bar(host, thief, 0.0, params), inlined: every empty-handed pull runs it.
        min_est = host.min_est
        if params.gain_check and 0.0 <= min_est < NO_TASK and params.margin_ratio >= 0.0:
            speed = thief.speed
            bar = (thief.load + thief.leased_load + min_est) / speed
            bar += params.margin_s + params.margin_ratio * min_est / speed
            bar -= 1e-9 * (1.0 + abs(bar))
        else:
            bar = -NO_TASK
        passed = moved = 0  # victims passed over in O(1): counted as attempts at once
        probe = self.probe
        bucket = index.buckets[top]
        # index.top(probe) without a call in the common case (the top bucket alone).
        victims = bucket[: -probe - 1 : -1] if len(bucket) >= probe else index.top(probe)
        for victim in victims:
            if victim.bcount < threshold:
                break
            if victim is thief:
                continue
            if (victim.load + victim.leased_load) / victim.speed <= bar:
                passed += 1  # nothing there pays: see payback_bar
                continue
            moved = take_from(host, victim, thief, now, self.batch, 0.0, params)
            if moved:
                break
        if passed:
            host.kpi.steal_attempts += passed  # count_steal_attempt(False, passed), inlined
        return moved


class LocalityAware:
    """Prefer victims on topology nodes close to the thief; farther moves cost more.

    Nodes are tried nearest first (order cached per node), each answering "heaviest
    here" in O(1) from its own load index: O(nodes) per steal, independent of agents.
    Without a node for the thief or a distance table it behaves like HeaviestVictim.
    """

    name = "locality"

    def __init__(
        self,
        distance_ms: Mapping[str, Mapping[str, float]] | None = None,
        cost_s_per_ms: float = 0.001,
        threshold: int = 2,
        batch: int = 1,
        probe: int = 2,
        params: StealParams | None = None,
    ) -> None:
        self.distance_ms = {a: dict(row) for a, row in (distance_ms or {}).items()}
        self.cost_s_per_ms = cost_s_per_ms
        self.threshold = max(1, threshold)
        self.batch = max(1, batch)
        self.probe = max(1, probe)
        self.params = params or StealParams()
        self._fallback = HeaviestVictim(threshold, batch, probe, self.params)
        self._order: dict[str, list[tuple[float, str]]] = {}

    def set_threshold(self, threshold: int) -> None:
        """A victim must hold at least `threshold` queued tasks from now on."""
        self.threshold = max(1, threshold)
        self._fallback.set_threshold(threshold)

    def _nodes_by_distance(self, node: str) -> list[tuple[float, str]]:
        order = self._order.get(node)
        if order is None:
            row = self.distance_ms.get(node, {})
            order = sorted([(0.0, node), *((d, n) for n, d in row.items() if n != node)])
            self._order[node] = order
        return order

    def steal(self, host: StealHost, thief: AgentRecord, now: float) -> int:
        if thief.node is None or thief.node not in self.distance_ms:
            return self._fallback.steal(host, thief, now)
        if host.index.max_count < self.threshold:
            return 0
        for distance, node in self._nodes_by_distance(thief.node):
            index = host.node_index(node)
            if index is None or index.max_count < self.threshold:
                continue
            transfer_s = distance * self.cost_s_per_ms
            for victim in list(index.heaviest(self.probe)):
                if victim is thief:
                    continue
                moved = steal_from(host, victim, thief, now, self.batch, transfer_s, self.params)
                if moved:
                    return moved
        return 0


class RandomStealHalf:
    """Go/Tokio style: probe a few random agents, take half of the fullest one's queue.

    At most `max_hunters` agents (default: half the busy agents, as Go caps spinning
    threads) may be hunting at once; an agent hunts from its first empty-handed pull
    until it gets work. Victim choice is O(tries).
    """

    name = "steal_half"

    def __init__(
        self, tries: int = 4, max_hunters: int | None = None, params: StealParams | None = None
    ) -> None:
        self.tries = max(1, tries)
        self.max_hunters = max_hunters
        self.params = params or StealParams()

    def steal(self, host: StealHost, thief: AgentRecord, now: float) -> int:
        if not thief.hunting:
            cap = self.max_hunters if self.max_hunters is not None else host.busy_agents // 2
            if host.hunters >= max(1, cap):
                return 0
            thief.hunting = True
            host.hunters += 1
        agents, rng_random = host.agent_list, host.rng.random
        n = len(agents)
        victim: AgentRecord | None = None
        for _ in range(self.tries):
            candidate = agents[int(rng_random() * n)]
            if candidate is not thief and len(candidate.queue) > (
                len(victim.queue) if victim else 1
            ):
                victim = candidate
        if victim is None:
            return 0
        half = max(1, len(victim.queue) // 2)
        return steal_from(host, victim, thief, now, half, 0.0, self.params)


#: Names accepted by `make_steal_policy` (and the CLI's --steal).
STEAL_POLICIES: tuple[str, ...] = ("none", "heaviest", "locality", "steal_half", "seed")


def make_steal_policy(
    name: str, distance_ms: Mapping[str, Mapping[str, float]] | None = None
) -> StealPolicy:
    """A policy by name; "seed" is heaviest-victim without the gain check."""
    if name == "none":
        return NoStealing()
    if name == "heaviest":
        return HeaviestVictim()
    if name == "seed":
        return HeaviestVictim(params=StealParams(gain_check=False))
    if name == "locality":
        return LocalityAware(distance_ms)
    if name == "steal_half":
        return RandomStealHalf()
    raise ValueError(f"unknown steal policy {name!r}; choose one of {', '.join(STEAL_POLICIES)}")
