"""Work-stealing policies (plug-ins): heaviest victim, locality-aware, random steal-half.

A policy picks victims in O(1) (the load index's top bucket, a topology node's top
bucket, or random probes) and `steal_from` moves queued, never-started tasks from a
victim's tail only when the move pays: the thief must finish the task sooner than
the victim would, by the transfer cost plus a margin. A task is never handed back
to the agent it was taken from and stays put for `min_residence_s`, so nothing
thrashes; each moved task must also pass the thief's eligibility filter.

A failed attempt is cheap: a victim whose whole backlog is below the thief's
`payback_bar` is passed over in O(1), and a queue that can list its tail in place
(`steal_candidates`) is only touched for the tasks that move.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from allocator.coordinator.dispatch import eligible
from allocator.coordinator.loadindex import LoadIndex, NodeLoadIndex
from allocator.coordinator.records import AgentRecord, TaskRecord

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


class StealHost(Protocol):
    """What a policy may touch: the coordinator's state and its one move primitive."""

    index: LoadIndex
    agent_list: list[AgentRecord]
    rng: random.Random
    hunters: int
    busy_agents: int
    min_est: float  # no task ever accepted had a smaller est (a bound for the gain test)

    def node_index(self, node: str) -> NodeLoadIndex | None: ...

    def count_steal_attempt(self, succeeded: bool, tries: int = 1) -> None: ...

    def detach_stolen(self, victim: AgentRecord, task: TaskRecord) -> None: ...

    def refile(self, agent: AgentRecord) -> None: ...

    def move_stolen(
        self, task: TaskRecord, victim: AgentRecord, thief: AgentRecord, now: float
    ) -> None: ...


class StealPolicy(Protocol):
    """Called when `thief` pulls with an empty local queue; returns tasks moved to it."""

    name: str

    def steal(self, host: StealHost, thief: AgentRecord, now: float) -> int: ...


@dataclass(frozen=True, slots=True)
class StealParams:
    """When a move pays. `gain_check=False` is the seed's unconditional behaviour."""

    gain_check: bool = True
    margin_s: float = 0.0
    margin_ratio: float = 0.1  # of the task's runtime on the thief
    min_residence_s: float = 1.0


def _worth_moving(
    task: TaskRecord,
    victim: AgentRecord,
    thief: AgentRecord,
    now: float,
    transfer_s: float,
    p: StealParams,
) -> bool:
    if (task.constrained or thief.max_tasks is not None) and not eligible(thief, task):
        return False
    if not p.gain_check:
        return True
    if task.prev_agent is thief or now - task.moved_at < p.min_residence_s:
        return False
    est = task.est
    # The tail task finishes last on the victim; `task` is already out of victim.load.
    victim_finish = (victim.load + victim.leased_load + est) / victim.speed
    on_thief = est / thief.speed
    thief_finish = (thief.load + thief.leased_load) / thief.speed + on_thief + transfer_s
    return victim_finish - thief_finish > p.margin_s + p.margin_ratio * on_thief


_NO_TASK = float("inf")  # `min_est` before any task was accepted: no bound known


def payback_bar(host: StealHost, thief: AgentRecord, transfer_s: float, p: StealParams) -> float:
    """A victim whose backlog (queued + leased work over its speed) is at most this has
    no task worth moving to `thief`; -inf when no such bound is known.

    Every task's est is at least `host.min_est`; in `_worth_moving` a task's
    `victim_finish` is at most the victim's backlog, and `thief_finish` plus the margin
    grow with est, so est = min_est bounds every candidate. Lets a slow thief pass over
    a fast victim without looking at its queue; a hair of slack keeps rounding from
    ever refusing a move the full test would make.
    """
    min_est = host.min_est
    if not p.gain_check or not 0.0 <= min_est < _NO_TASK or p.margin_ratio < 0.0:
        return -_NO_TASK
    speed = thief.speed
    bar = (thief.load + thief.leased_load + min_est) / speed + transfer_s
    bar += p.margin_s + p.margin_ratio * min_est / speed
    return bar - 1e-9 * (1.0 + abs(bar))


def steal_from(
    host: StealHost,
    victim: AgentRecord,
    thief: AgentRecord,
    now: float,
    max_tasks: int,
    transfer_s: float,
    params: StealParams,
    bar: float | None = None,
) -> int:
    """Move up to `max_tasks` tasks from `victim`'s tail to `thief`. O(max_tasks).

    `bar`: `payback_bar(host, thief, transfer_s, params)` when the caller has it.
    """
    if bar is None:
        bar = payback_bar(host, thief, transfer_s, params)
    if (victim.load + victim.leased_load) / victim.speed <= bar:
        host.count_steal_attempt(False)
        return 0
    candidates = victim.queue.steal_candidates()
    if candidates is None:
        moved = _take_and_put_back(host, victim, thief, now, max_tasks, transfer_s, params)
    else:
        moved = _look_then_take(host, victim, thief, now, max_tasks, transfer_s, params, candidates)
    host.count_steal_attempt(moved > 0)
    return moved


def _look_then_take(
    host: StealHost,
    victim: AgentRecord,
    thief: AgentRecord,
    now: float,
    max_tasks: int,
    transfer_s: float,
    params: StealParams,
    candidates: Iterator[tuple[Any, ...]],
) -> int:
    """`steal_from` on a queue that lists its tail in place: only moved tasks leave it.

    Same decisions as taking each tail task out and putting the unsuitable ones back
    (each candidate is judged with the ones looked at before it out of `victim.load`),
    without touching the queue when no move pays (the usual case for a slow thief).
    """
    moved = 0
    budget = max_tasks + 2  # a couple of unsuitable tail tasks may be skipped
    skipped = 0.0
    queue = victim.queue
    for entry in candidates:
        task = entry[-1]
        if task.qtoken != entry[-2] or task.queue is not queue:
            continue  # a stale entry (the task left this queue): not a candidate
        est = task.est
        victim.load -= est
        if _worth_moving(task, victim, thief, now, transfer_s, params):
            queue.remove(task)
            host.detach_stolen(victim, task)
            host.move_stolen(task, victim, thief, now)
            moved += 1
        else:
            skipped += est
        budget -= 1
        if moved >= max_tasks or budget <= 0:
            break
    victim.load += skipped
    return moved


def _take_and_put_back(
    host: StealHost,
    victim: AgentRecord,
    thief: AgentRecord,
    now: float,
    max_tasks: int,
    transfer_s: float,
    params: StealParams,
) -> int:
    """`steal_from` on a queue that must give a task up to show it (then takes it back)."""
    queue = victim.queue
    moved = 0
    rejected: list[TaskRecord] = []
    budget = max_tasks + 2  # a couple of unsuitable tail tasks may be skipped
    while moved < max_tasks and budget > 0 and len(queue):
        budget -= 1
        task = queue.steal_one()
        if task is None:
            break
        victim.load -= task.est
        if _worth_moving(task, victim, thief, now, transfer_s, params):
            host.detach_stolen(victim, task)
            host.move_stolen(task, victim, thief, now)
            moved += 1
        else:
            rejected.append(task)
    for task in reversed(rejected):
        queue.unsteal(task)
        victim.load += task.est
    if rejected:
        host.refile(victim)  # the queue grew back after detach_stolen refiled it
    return moved


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
        if host.index.max_count < threshold:
            return 0
        params = self.params
        bar = payback_bar(host, thief, 0.0, params)
        passed = moved = 0  # victims passed over in O(1): counted as attempts in one call
        for victim in host.index.top(self.probe):
            if victim.bcount < threshold:
                break
            if victim is thief:
                continue
            if (victim.load + victim.leased_load) / victim.speed <= bar:
                passed += 1  # nothing there pays: see payback_bar
                continue
            moved = steal_from(host, victim, thief, now, self.batch, 0.0, params, bar)
            if moved:
                break
        if passed:
            host.count_steal_attempt(False, passed)
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
