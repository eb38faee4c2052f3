"""A small live swarm for dashboard tests: a real Coordinator worked by a background thread."""

from __future__ import annotations

import itertools
import threading

from allocator.coordinator import Coordinator
from allocator.coordinator.records import AgentSpec, TaskSpec
from api.dashboard_views import SwarmLive, ring_topology, swarm_view

__all__ = ["SimulatedSwarm"]


class SimulatedSwarm:
    """Submits tasks and lets agents pull and finish them, on the wall clock.

    `step()` does one round by hand (deterministic tests); `start()` runs rounds in a
    thread every `period_s` until `stop()`. `feed` is what the app's swarm_feed expects.
    """

    def __init__(self, n_agents: int = 6, name: str = "demo") -> None:
        self.name = name
        self.lock = threading.Lock()
        ids = [f"agent{i}" for i in range(n_agents)]
        self.coordinator = Coordinator(
            agents=[AgentSpec(id=a, speed=1.0 + 0.25 * (k % 3)) for k, a in enumerate(ids)]
        )
        self.topology = ring_topology(ids, hot=[(ids[0], ids[1])])
        self._ids = ids
        self._seq = itertools.count()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def step(self) -> None:
        with self.lock:
            for _ in range(7):
                self.coordinator.submit(TaskSpec(id=f"task{next(self._seq)}", work=1.0))
            # Agents 0 and 1 are slow pullers, so queues differ and stealing happens.
            for k, agent in enumerate(self._ids):
                if k < 2 and next(self._seq) % 3:
                    continue
                task = self.coordinator.next_for(agent)
                if task is not None:
                    self.coordinator.complete(task.id, agent, runtime_s=0.02)

    def feed(self) -> list[SwarmLive]:
        with self.lock:
            return [swarm_view(self.name, self.coordinator, self.topology)]

    def start(self, period_s: float = 0.1) -> None:
        def run() -> None:
            while not self._stop.wait(period_s):
                self.step()

        self._thread = threading.Thread(target=run, name="simulated-swarm", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def completed(self) -> int:
        with self.lock:
            return self.coordinator.kpi.completed
