"""All swarms of the service: built with the live tuning, persisted, kept up by one thread."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterable
from typing import Any

from allocator.coordinator import Coordinator, Resolver
from allocator.coordinator.records import AgentSpec
from allocator.store import SwarmRepository
from allocator.swarms.runtime import RebalanceRecord, SwarmRuntime, UnknownSwarmError
from allocator.swarms.snapshot import restore_coordinator
from allocator.swarms.tuning import CoordinatorTuning, build_coordinator

__all__ = ["SwarmHub"]

log = logging.getLogger("allocator.swarms")
_TUNING_KEY = "coordinator"


class SwarmHub:
    """All swarms of this service, their persistence, and the background upkeep thread.

    `resolver` answers the re-solves of adaptive rebalancing (default: re-planning
    from the current queues with the move budget, `rebalance_resolver.replan_resolver`).
    """

    def __init__(
        self,
        repository: SwarmRepository,
        *,
        flush_s: float = 0.2,
        tick_s: float = 1.0,
        kpi_every_s: float = 10.0,
        resolver: Resolver | None = None,
    ):
        if resolver is None:
            from allocator.rebalance_resolver import replan_resolver

            resolver = replan_resolver()
        self.resolver = resolver
        self.repository = repository
        self.flush_s = flush_s
        self.tick_s = tick_s
        self.kpi_every_s = kpi_every_s
        self.tuning = CoordinatorTuning()
        self._swarms: dict[str, SwarmRuntime] = {}
        self._lock = threading.Lock()
        self._save_lock = threading.Lock()
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
            self._swarms[name] = SwarmRuntime(name, coordinator, self.resolver)
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
                runtime = self._swarms[name] = SwarmRuntime(name, self._build(), self.resolver)
            return runtime

    def save(self, runtime: SwarmRuntime) -> None:
        """Write the swarm now if it changed since the last write (submissions wait on this).

        Saves are serialised: a request's save and the upkeep thread's flush could both
        find no row and insert it (a unique-key error), or write versions out of order.
        """
        with self._save_lock:
            version, text = runtime.snapshot()
            if version <= runtime.saved_version:
                return
            self.repository.save_state(runtime.name, text, version)
            runtime.saved_version = version

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
            runtime.tune(tuning)
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
