"""Who may take a task (filter), how good a home each agent is (score), and the pick.

Placement at submit samples `choices` agents (power of d choices: O(d), not O(n)),
filters them, scores by expected finish time (spread) or by fullness (pack), and
breaks near-ties at random so simultaneous submits do not herd onto one agent.
`pull_global` is the late-binding half: an agent takes global work only when
eligible and, for slow agents, only when a faster agent would not finish it sooner.
"""

from __future__ import annotations

import random

from allocator.coordinator.breaker import CLOSED
from allocator.coordinator.config import Placement
from allocator.coordinator.queues.base import QueueDiscipline
from allocator.coordinator.records import AgentRecord, TaskRecord

__all__ = ["Dispatcher", "available", "eligible", "has_room", "pull_global", "statically_eligible"]

_TIE = 0.05  # scores within 5% of the best count as a tie


def _tie_limit(best: float) -> float:
    return best + abs(best) * _TIE + 1e-12


def statically_eligible(agent: AgentRecord, task: TaskRecord) -> bool:
    """Pinning, capabilities and per-dimension capacity. O(|requires| + |demand|)."""
    if task.pinned is not None and task.pinned != agent.id:
        return False
    if task.requires and not task.requires <= agent.capabilities:
        return False
    if task.demand:
        capacity = agent.capacity
        for dim, amount in task.demand.items():
            if capacity.get(dim, 0.0) < amount:
                return False
    return True


def has_room(agent: AgentRecord, task: TaskRecord) -> bool:
    """max_tasks and anti-affinity, counting `task` itself if it already sits here. O(1)."""
    here = 1 if task.agent is agent else 0
    if agent.max_tasks is not None and len(agent.queue) + len(agent.leases) - here >= (
        agent.max_tasks
    ):
        return False
    return task.group is None or agent.groups.get(task.group, 0) - here <= 0


def eligible(agent: AgentRecord, task: TaskRecord) -> bool:
    """Static eligibility plus room. An agent never receives a task failing this."""
    if not task.constrained and agent.max_tasks is None:
        return True
    return statically_eligible(agent, task) and has_room(agent, task)


def available(agent: AgentRecord) -> bool:
    """Registered and its breaker closed. O(1)."""
    return not agent.removed and agent.breaker.state is CLOSED


class Dispatcher:
    """Placement at submit. `place` is O(d) typically, O(n) when no sample qualifies."""

    __slots__ = ("_agents", "_by_capability", "_choices", "_list", "_mode", "_rng", "_rr")

    def __init__(
        self,
        mode: Placement,
        choices: int,
        agents: dict[str, AgentRecord],
        agent_list: list[AgentRecord],
        by_capability: dict[str, list[AgentRecord]],
        rng: random.Random,
    ) -> None:
        self._mode = mode
        self._choices = choices
        self._agents = agents
        self._list = agent_list
        self._by_capability = by_capability
        self._rng = rng
        self._rr = 0

    def place(self, task: TaskRecord, exclude: AgentRecord | None = None) -> AgentRecord | None:
        """The agent to queue `task` on, or None to keep it in the global queue."""
        mode = self._mode
        if not task.constrained:
            if mode == "global":
                return None
            if mode == "least_loaded" and exclude is None:
                # Hot path, inlined: best expected finish among d uniform samples.
                pool, rng_random, est = self._list, self._rng.random, task.est
                n = len(pool)
                best: AgentRecord | None = None
                best_score = 0.0
                for _ in range(self._choices if n else 0):
                    agent = pool[int(rng_random() * n)]
                    if not agent.closed or (
                        agent.max_tasks is not None and not has_room(agent, task)
                    ):
                        continue
                    score = (agent.load + agent.leased_load + est) / agent.speed
                    if best is None or score < best_score - abs(best_score) * _TIE:
                        best, best_score = agent, score
                    elif score < best_score and rng_random() < 0.5:
                        best, best_score = agent, score  # a near-tie: either, at random
                if best is not None:
                    return best
        elif task.pinned is not None:
            pinned = self._agents.get(task.pinned)
            if pinned is None or pinned is exclude or not available(pinned):
                return None
            return pinned if eligible(pinned, task) else None
        pool = self._pool(task)
        if not pool:
            return None
        if mode == "round_robin":
            return self._round_robin(pool, task, exclude)
        return self._best_of_sample(pool, task, exclude) or self._best_of_all(pool, task, exclude)

    def _pool(self, task: TaskRecord) -> list[AgentRecord]:
        if not task.requires:
            return self._list
        # The rarest required capability gives the smallest pool to sample from.
        pools = [self._by_capability.get(cap, []) for cap in task.requires]
        return min(pools, key=len)

    def _score(self, agent: AgentRecord, task: TaskRecord) -> float:
        if self._mode == "pack":
            # Busy agents first (fewer agents in use), then the sooner finish.
            held = len(agent.queue) + len(agent.leases)
            return -held * 1e6 + (agent.load + agent.leased_load + task.est) / agent.speed
        return (agent.load + agent.leased_load + task.est) / agent.speed

    def _ok(self, agent: AgentRecord, task: TaskRecord, exclude: AgentRecord | None) -> bool:
        return agent is not exclude and available(agent) and eligible(agent, task)

    def _best_of_sample(
        self, pool: list[AgentRecord], task: TaskRecord, exclude: AgentRecord | None
    ) -> AgentRecord | None:
        rng_random, n = self._rng.random, len(pool)
        best: AgentRecord | None = None
        best_score = 0.0
        for _ in range(self._choices):
            agent = pool[int(rng_random() * n)]
            if not self._ok(agent, task, exclude):
                continue
            score = self._score(agent, task)
            if best is None or score < best_score:
                # Near-ties go either way at random, so bursts do not herd.
                if best is not None and _tie_limit(score) >= best_score and rng_random() < 0.5:
                    continue
                best, best_score = agent, score
        return best

    def _best_of_all(
        self, pool: list[AgentRecord], task: TaskRecord, exclude: AgentRecord | None
    ) -> AgentRecord | None:
        scored = [(self._score(a, task), a) for a in pool if self._ok(a, task, exclude)]
        if not scored:
            return None
        best_score = min(s for s, _a in scored)
        top = [a for s, a in scored if s <= _tie_limit(best_score)][:3]
        return top[int(self._rng.random() * len(top))]

    def _round_robin(
        self, pool: list[AgentRecord], task: TaskRecord, exclude: AgentRecord | None
    ) -> AgentRecord | None:
        n = len(pool)
        for _ in range(n):
            agent = pool[self._rr % n]
            self._rr += 1
            if self._ok(agent, task, exclude):
                return agent
        return None


def pull_global(
    queue: QueueDiscipline,
    agent: AgentRecord,
    now: float,
    lookahead: int,
    horizon_s: float,
    max_speed: float,
    slack: float,
    min_est: float = 0.0,
) -> TaskRecord | None:
    """The first of up to `lookahead` global tasks `agent` may and should take.

    `horizon_s` is the pool's expected remaining time (queued plus leased work over
    total speed); an agent slower than `max_speed / (1 + slack)` only takes a task it
    would finish no later than (1 + slack) * (horizon_s + est / max_speed), which
    keeps giants for fast agents. Pass max_speed 0 to disable. O(lookahead * pop).

    `min_est` > 0 says every queued task is unconstrained with est >= min_est. For a
    slow agent the rule only fails more as est grows, so when a task of est min_est
    would fail it (by a margin wider than rounding) every queued task does: None in
    O(1), without popping (same answer).
    """
    fast = agent.speed * (1.0 + slack) >= max_speed
    if min_est > 0.0 and not fast and agent.max_tasks is None:
        est = min_est
        if est / agent.speed > (1.0 + slack) * (horizon_s + est / max_speed) * (1.0 + 1e-9):
            return None
    skipped: list[TaskRecord] = []
    found: TaskRecord | None = None
    for _ in range(lookahead):
        task = queue.pop(now)
        if task is None:
            break
        if task.constrained or agent.max_tasks is not None:
            ok = statically_eligible(agent, task) and has_room(agent, task)
        else:
            ok = fast or task.est / agent.speed <= (1.0 + slack) * (
                horizon_s + task.est / max_speed
            )
        if ok:
            found = task
            break
        skipped.append(task)
    for task in reversed(skipped):
        queue.unpop(task)
    return found
