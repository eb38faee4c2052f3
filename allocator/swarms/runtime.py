"""The swarm runtime: one sans-I/O coordinator per swarm, a lock each, and the I/O around them.

Writes are batched: submissions are saved before they are acknowledged (a task is
never lost); pulls, completions and failures are saved by a flusher within
`flush_s`, so a crash can at worst re-run a task finished in that window.
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from allocator.coordinator import AdmissionError, Coordinator, Migrated
from allocator.coordinator.records import AgentSpec, TaskRecord, TaskSpec
from allocator.store import SwarmRepository
from allocator.swarms.snapshot import restore_coordinator, snapshot_coordinator
from allocator.swarms.tuning import CoordinatorTuning, apply_tuning, build_coordinator
from models import Plan

__all__ = ["PullResult", "RebalanceRecord", "SwarmHub", "SwarmRuntime", "UnknownSwarmError"]

log = logging.getLogger("allocator.swarms")
_TUNING_KEY = "coordinator"


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
    """One swarm: its coordinator and the lock that makes it safe across threads."""

    def __init__(self, name: str, coordinator: Coordinator):
        self.name = name
        self.coordinator = coordinator
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
        """Accept tasks; returns accepted (task -> agent or None) and rejected (-> reason)."""
        accepted: dict[str, str | None] = {}
        rejected: dict[str, str] = {}
        with self.lock:
            for spec in specs:
                try:
                    accepted[spec.id] = self.coordinator.submit(spec)
                except AdmissionError as exc:
                    rejected[spec.id] = exc.reason
            self._touch()
        return accepted, rejected

    def pull(
        self,
        agent_id: str,
        max_tasks: int,
        completed: Iterable[tuple[str, float | None]] = (),
        failed: Iterable[tuple[str, str]] = (),
    ) -> PullResult:
        """Acknowledge finished work, then lease up to `max_tasks` tasks. O(1) per task."""
        result = PullResult(tasks=[])
        with self.lock:
            coordinator = self.coordinator
            for task_id, runtime_s in completed:
                reason = coordinator.complete(task_id, agent_id, runtime_s)
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

    def rebalance(self, strategy: str, tolerance: float) -> RebalanceRecord:
        with self.lock:
            coordinator = self.coordinator
            coordinator.drain_commands()  # only this run's moves go into the record
            before = finite_kpis(coordinator.metrics().to_dict())
            outcome = coordinator.rebalance(strategy, tolerance=tolerance)
            after = finite_kpis(coordinator.metrics().to_dict())
            moves = [
                {"task": c.task_id, "from": c.from_agent, "to": c.to_agent, "reason": c.reason}
                for c in coordinator.drain_commands()
                if isinstance(c, Migrated)
            ]
            self._touch()
        return RebalanceRecord(
            outcome.strategy,
            outcome.applied,
            outcome.migrations,
            outcome.detail,
            moves,
            before,
            after,
        )

    def apply_plan(self, plan: Plan) -> dict[str, Any]:
        with self.lock:
            outcome = self.coordinator.apply_plan(plan)
            self.coordinator.drain_commands()
            self._touch()
        return {
            "moved": outcome.moved,
            "migrations": outcome.migrations,
            "skipped": outcome.skipped,
        }

    def kpis(self) -> dict[str, Any]:
        with self.lock:
            return finite_kpis(self.coordinator.metrics().to_dict())

    def tick(self) -> None:
        with self.lock:
            self.coordinator.tick()
            self.coordinator.drain_commands()  # nobody consumes them here; keep memory flat
            self._touch()

    def snapshot(self) -> tuple[int, str]:
        with self.lock:
            version, state = self.version, snapshot_coordinator(self.coordinator)
        return version, json.dumps(state)  # serialised outside the lock: pulls go on


class SwarmHub:
    """All swarms of this service, their persistence, and the background upkeep thread."""

    def __init__(
        self,
        repository: SwarmRepository,
        *,
        flush_s: float = 0.2,
        tick_s: float = 1.0,
        kpi_every_s: float = 10.0,
    ):
        self.repository = repository
        self.flush_s = flush_s
        self.tick_s = tick_s
        self.kpi_every_s = kpi_every_s
        self.tuning = CoordinatorTuning()
        self._swarms: dict[str, SwarmRuntime] = {}
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Load the tuning and every saved swarm (leased tasks queued again); start upkeep."""
        saved = self.repository.get_setting(_TUNING_KEY)
        if saved:
            self.tuning = CoordinatorTuning.model_validate_json(saved)
        for name, text in self.repository.load_states().items():
            coordinator = restore_coordinator(
                json.loads(text), lambda agents: self._build(agents), swarm=name
            )
            self._swarms[name] = SwarmRuntime(name, coordinator)
        self._thread = threading.Thread(target=self._upkeep, name="swarm-upkeep", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._closing.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.flush()

    def _build(self, agents: Iterable[AgentSpec] = ()) -> Coordinator:
        coordinator = build_coordinator(self.tuning)
        for agent in agents:
            coordinator.register_agent(agent)
        return coordinator

    def names(self) -> list[str]:
        with self._lock:
            return sorted(self._swarms)

    def get(self, name: str) -> SwarmRuntime:
        with self._lock:
            runtime = self._swarms.get(name)
        if runtime is None:
            raise UnknownSwarmError(name)
        return runtime

    def get_or_create(self, name: str) -> SwarmRuntime:
        with self._lock:
            runtime = self._swarms.get(name)
            if runtime is None:
                runtime = self._swarms[name] = SwarmRuntime(name, self._build())
            return runtime

    def save(self, runtime: SwarmRuntime) -> None:
        """Write the swarm now if it changed since the last write (submissions wait on this)."""
        version, text = runtime.snapshot()
        if version == runtime.saved_version:
            return
        self.repository.save_state(runtime.name, text, version)
        runtime.saved_version = max(runtime.saved_version, version)

    def flush(self) -> None:
        with self._lock:
            swarms = list(self._swarms.values())
        for runtime in swarms:
            try:
                self.save(runtime)
            except Exception:  # retried on the next flush; never lose the upkeep thread
                log.exception("saving swarm state failed", extra={"swarm": runtime.name})

    def set_tuning(self, changes: dict[str, Any]) -> CoordinatorTuning:
        """Validate, persist and apply live. Raises pydantic.ValidationError on bad input."""
        tuning = CoordinatorTuning.model_validate({**self.tuning.model_dump(), **changes})
        self.repository.put_setting(_TUNING_KEY, tuning.model_dump_json())
        self.tuning = tuning
        with self._lock:
            swarms = list(self._swarms.values())
        for runtime in swarms:
            with runtime.lock:
                apply_tuning(runtime.coordinator, tuning)
        return tuning

    def record_rebalance(self, swarm: str, record: RebalanceRecord) -> None:
        self.repository.add_rebalance(
            swarm,
            record.strategy,
            record.detail,
            record.moves,
            record.kpi_before,
            record.kpi_after,
        )

    def _upkeep(self) -> None:
        next_tick = next_kpi = time.monotonic()
        pause_s = self.flush_s
        while not self._closing.wait(pause_s):
            now = time.monotonic()
            with self._lock:
                swarms = list(self._swarms.values())
            if now >= next_tick:
                next_tick = now + self.tick_s
                for runtime in swarms:
                    runtime.tick()
            if now >= next_kpi:
                next_kpi = now + self.kpi_every_s
                for runtime in swarms:
                    try:
                        self.repository.add_kpis(runtime.name, runtime.kpis())
                    except Exception:
                        log.exception("KPI snapshot failed", extra={"swarm": runtime.name})
            started = time.monotonic()
            self.flush()
            # Big swarms take long to save: space the saves so they use < 20 % of a core.
            pause_s = max(self.flush_s, 4 * (time.monotonic() - started))
