"""The last minutes of each swarm's figures, for the dashboard's charts.

A background thread samples the dashboard's swarm feed every few seconds into one ring
buffer per swarm (bounded: `history_s / sample_s` samples), so the charts cost nothing
per page view beyond drawing. Nothing here is durable: a restart starts a new history.
"""

from __future__ import annotations

import itertools
import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from api.dashboard_views import SwarmLive

__all__ = ["KpiHistory", "Sample", "Series"]

log = logging.getLogger("allocator.api")


@dataclass(frozen=True)
class Sample:
    """One swarm at one moment (`at`: seconds since the epoch)."""

    at: float
    in_use: float | None  # leased tasks over slots, 0..1
    latency_p95_s: float | None  # the coordinator's queue latency p95
    completed: float  # tasks completed since the swarm started


@dataclass(frozen=True)
class Series:
    """A chart's points: (seconds since the epoch, value), oldest first."""

    points: list[tuple[float, float]]


class KpiHistory:
    """Ring buffers of samples per swarm, filled by `start`'s thread or by `sample`."""

    def __init__(self, sample_s: float = 3.0, history_s: float = 600.0):
        self.sample_s = sample_s
        self.history_s = history_s
        self._size = max(2, math.ceil(history_s / sample_s) + 1)
        self._lock = threading.Lock()
        self._swarms: dict[str, deque[Sample]] = {}
        self._closing = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, feed: Callable[[], Sequence[SwarmLive]]) -> None:
        """Sample `feed` every `sample_s` on a daemon thread until `stop`."""
        self._closing.clear()
        self._thread = threading.Thread(
            target=self._loop, args=(feed,), name="kpi-history", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._closing.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def sample(self, swarms: Sequence[SwarmLive], at: float | None = None) -> None:
        """Add one sample per swarm; swarms gone from the feed are forgotten."""
        at = time.time() if at is None else at
        with self._lock:
            for name in set(self._swarms) - {s.name for s in swarms}:
                del self._swarms[name]
            for swarm in swarms:
                ring = self._swarms.setdefault(swarm.name, deque(maxlen=self._size))
                ring.append(
                    Sample(
                        at=at,
                        in_use=swarm.kpis.get("in_use_now"),
                        latency_p95_s=swarm.kpis.get("queue_latency_p95_s"),
                        completed=swarm.kpis.get("completed", 0.0),
                    )
                )

    def series(self, swarm: str) -> dict[str, Series]:
        """`in_use` (0..1), `latency_p95_s` and `throughput_per_s` (completions per second
        between consecutive samples) over the kept window."""
        with self._lock:
            samples = list(self._swarms.get(swarm, ()))
        in_use = [(s.at, s.in_use) for s in samples if s.in_use is not None]
        latency = [(s.at, s.latency_p95_s) for s in samples if s.latency_p95_s is not None]
        throughput = [
            (b.at, (b.completed - a.completed) / (b.at - a.at))
            for a, b in itertools.pairwise(samples)
            # A restarted swarm counts from zero again: no negative rate.
            if b.at > a.at and b.completed >= a.completed
        ]
        return {
            "in_use": Series(in_use),
            "latency_p95_s": Series(latency),
            "throughput_per_s": Series(throughput),
        }

    def _loop(self, feed: Callable[[], Sequence[SwarmLive]]) -> None:
        while not self._closing.wait(self.sample_s):
            try:
                self.sample(feed())
            except Exception:  # a chart must never take the service down
                log.exception("dashboard history sample failed")
