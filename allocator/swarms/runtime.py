"""One swarm in the service: its sans-I/O coordinator, the lock around it, and re-solves.

Every coordinator call runs under the swarm's lock and is short. The one slow step,
the re-solve behind adaptive rebalancing, runs in the caller's thread with the lock
released: the coordinator emits `ResolveRequested`, the resolver runs, and the answer
goes back in under the lock, so pulls and heartbeats carry on meanwhile.
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from allocator.coordinator import (
    Coordinator,
    CoordinatorSnapshot,
    Migrated,
    Outcome,
    Resolver,
    TokenTotals,
    answer_request,
)
from allocator.coordinator.records import AgentSpec, TaskRecord, TaskSpec
from allocator.swarms.snapshot import snapshot_coordinator
from allocator.swarms.tuning import CoordinatorTuning, apply_tuning
from models import Plan

__all__ = ["PullResult", "RebalanceRecord", "SwarmRuntime", "UnknownSwarmError", "finite_kpis"]


def finite_kpis(kpis: dict[str, Any]) -> dict[str, Any]:
    """NaN and infinity (no samples yet) become None: JSON cannot carry them."""
    out: dict[str, Any] = {}
    for key, value in kpis.items():
        if isinstance(value, float) and not math.isfinite(value):
            out[key] = None
        elif isinstance(value, dict):
            out[key] = finite_kpis(value)
        else:
            out[key] = value
    return out


class UnknownSwarmError(KeyError):
    """No swarm by that id (it has no agents registered yet)."""


@dataclass
class PullResult:
    """Tasks leased to the agent, and how its piggy-backed acknowledgements went."""

    tasks: list[TaskRecord]
    rejected: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RebalanceRecord:
    """One rebalancing decision as reported and stored."""

    strategy: str
    applied: bool
    migrations: int
    detail: str
    moves: list[dict[str, Any]]
    kpi_before: dict[str, Any]
    kpi_after: dict[str, Any]


class SwarmRuntime:
    """One swarm: its coordinator, the lock that makes it safe across threads, a resolver.

    `resolver` answers adaptive rebalancing (None: adaptive falls back to threshold).
    """

    def __init__(self, name: str, coordinator: Coordinator, resolver: Resolver | None = None):
        self.name = name
        self.coordinator = coordinator
        self.resolver = resolver
        self.lock = threading.Lock()
        self.version = 0
        self.saved_version = 0

    def _touch(self) -> None:
        self.version += 1

    def register_agents(self, specs: Iterable[AgentSpec]) -> list[str]:
        """Register new agents (known ids just count as a heartbeat); returns new ids."""
        added = []
        with self.lock:
            for spec in specs:
                if spec.id in self.coordinator.agents:
                    self.coordinator.heartbeat(spec.id)
                    continue
                self.coordinator.register_agent(spec)
                added.append(spec.id)
            self._touch()
        return added

    def heartbeat(self, agent_id: str) -> None:
        with self.lock:
            self.coordinator.heartbeat(agent_id)

    def submit(self, specs: Iterable[TaskSpec]) -> tuple[dict[str, str | None], dict[str, str]]:
        """Accept tasks; returns accepted (task -> agent or None) and rejected (-> reason).

        `after` may name tasks of the same batch. Raises DependencyError (nothing
        accepted) for an unknown predecessor, a self-reference or a cycle.
        """
        with self.lock:
            accepted, rejected = self.coordinator.submit_all(list(specs))
            self._touch()
        return accepted, rejected

    def pull(
        self,
        agent_id: str,
        max_tasks: int,
        completed: Iterable[tuple[str, float | None, int | None]] = (),
        failed: Iterable[tuple[str, str]] = (),
    ) -> PullResult:
        """Acknowledge finished work (with tokens used), then lease up to `max_tasks` tasks.

        O(1) per task.
        """
        result = PullResult(tasks=[])
        with self.lock:
            coordinator = self.coordinator
            for task_id, runtime_s, tokens in completed:
                reason = coordinator.complete(task_id, agent_id, runtime_s, tokens)
                if reason is not None:
                    result.rejected[task_id] = reason
            for task_id, error in failed:
                reason = coordinator.fail(task_id, agent_id, error)
                if reason is not None:
                    result.rejected[task_id] = reason
            for _ in range(max_tasks):
                task = coordinator.next_for(agent_id)
                if task is None:
                    break
                result.tasks.append(task)
            self.version += 1
        return result

    def task_state(self, task_id: str) -> tuple[str, str | None]:
        """The task's state and, when held, the dead-lettered predecessor blocking it."""
        with self.lock:
            return (
                self.coordinator.task_state(task_id),
                self.coordinator.deps.blocked_by.get(task_id),
            )

    def parked(self, ids: Iterable[str]) -> tuple[list[str], dict[str, str]]:
        """Of `ids`, those waiting for predecessors, and those held (-> blocking task)."""
        with self.lock:
            deps = self.coordinator.deps
            waiting = [i for i in ids if i in deps.waiting]
            held = {i: deps.blocked_by[i] for i in ids if i in deps.held}
        return waiting, held

    def held(self) -> dict[str, str]:
        """Held task -> the dead-lettered predecessor blocking it."""
        with self.lock:
            return self.coordinator.held_tasks()

    def token_usage(self) -> TokenTotals:
        with self.lock:
            return self.coordinator.tokens.totals()

    def set_token_price(self, price_per_1k: float) -> None:
        """The swarm's price per 1,000 tokens, for completions from now on."""
        with self.lock:
            self.coordinator.tokens.price_per_1k = price_per_1k
            self._touch()

    def view(self) -> CoordinatorSnapshot:
        """What operators read, copied under the lock and safe to use after it."""
        with self.lock:
            return self.coordinator.snapshot()

    def tune(self, tuning: CoordinatorTuning) -> None:
        with self.lock:
            apply_tuning(self.coordinator, tuning)

    def rebalance(
        self, strategy: str, tolerance: float, max_moves: int | None = None
    ) -> RebalanceRecord:
        """Rebalance; an adaptive re-solve runs here with the lock released.

        `max_moves` caps how many queued tasks an adaptive plan moves.
        """
        fallback = strategy == "adaptive" and self.resolver is None
        with self.lock:
            self.coordinator.drain_commands()  # only this run's moves go into the record
            before = self._kpis_locked()
            outcome = self.coordinator.rebalance(
                "threshold" if fallback else strategy, tolerance=tolerance, max_moves=max_moves
            )
            moves = self._moves_locked()
            self._touch()
            after = self._kpis_locked()
        if fallback:
            outcome.strategy = "adaptive"
            outcome.detail = "no resolver configured; threshold used: " + outcome.detail
        request = outcome.request
        if request is not None and self.resolver is not None:
            answer = answer_request(request, self.resolver)  # the slow part: no lock held
            with self.lock:
                self.coordinator.drain_commands()  # others' commands are not this run's moves
                outcome = self.coordinator.answer_resolve(answer)
                moves = self._moves_locked()
                self._touch()
                after = self._kpis_locked()
        return _record(outcome, moves, before, after)

    def _kpis_locked(self) -> dict[str, Any]:
        return finite_kpis(self.coordinator.metrics().to_dict())

    def _moves_locked(self) -> list[dict[str, Any]]:
        return [
            {"task": c.task_id, "from": c.from_agent, "to": c.to_agent, "reason": c.reason}
            for c in self.coordinator.drain_commands()
            if isinstance(c, Migrated)
        ]

    def apply_plan(self, plan: Plan) -> dict[str, Any]:
        with self.lock:
            outcome = self.coordinator.apply_plan(plan)
            self.coordinator.drain_commands()
            self._touch()
        return {
            "moved": outcome.moved,
            "migrations": outcome.migrations,
            "skipped": outcome.skipped,
            "waiting_planned": outcome.waiting_planned,
        }

    def kpis(self) -> dict[str, Any]:
        with self.lock:
            return self._kpis_locked()

    def tick(self) -> None:
        with self.lock:
            self.coordinator.tick()
            self.coordinator.drain_commands()  # nobody consumes them here; keep memory flat
            self._touch()

    def snapshot(self) -> tuple[int, str]:
        """The durable state as JSON with its version (for the store)."""
        with self.lock:
            version, state = self.version, snapshot_coordinator(self.coordinator)
        return version, json.dumps(state)  # serialised outside the lock: pulls go on


def _record(
    outcome: Outcome,
    moves: list[dict[str, Any]],
    before: dict[str, Any],
    after: dict[str, Any],
) -> RebalanceRecord:
    return RebalanceRecord(
        outcome.strategy, outcome.applied, outcome.migrations, outcome.detail, moves, before, after
    )
