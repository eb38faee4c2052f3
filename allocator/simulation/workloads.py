"""Synthetic workloads: Poisson or bursty arrivals, Pareto sizes, speed spread, faults.

A `Workload` is arrays (arrival time, work, tenant, priority per task) plus agent
speeds and injected faults; tasks are turned into specs lazily so a million-task
run does not hold a million objects.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from allocator.coordinator import AgentSpec, TaskSpec

__all__ = [
    "Fault",
    "Workload",
    "failing_agent_workload",
    "fairness_workload",
    "lower_bound_s",
    "poisson_workload",
    "skewed_workload",
]


@dataclass(frozen=True)
class Fault:
    """An injected fault on one agent between `start_s` and `end_s`.

    kind "fail": its tasks fail after 10% of their runtime; "crash": it goes silent
    (no results, no heartbeats); "slow": it runs `factor` times slower.
    """

    agent: str
    kind: Literal["fail", "crash", "slow"]
    start_s: float
    end_s: float = float("inf")
    factor: float = 1.0


@dataclass
class Workload:
    """Arrivals (sorted by time), agent speeds and faults."""

    name: str
    at_s: np.ndarray  # float64[n]
    work: np.ndarray  # float64[n] work units (seconds at speed 1)
    speeds: np.ndarray  # float64[m]
    tenant: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int32))
    tenants: tuple[str, ...] = ("default",)
    tenant_weights: dict[str, float] = field(default_factory=dict)
    priority: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int8))
    faults: list[Fault] = field(default_factory=list)
    racks: int = 0  # > 0: agent i sits on node "rack{i % racks}", racks 1 ms apart per hop

    def __post_init__(self) -> None:
        n = len(self.at_s)
        if len(self.work) != n:
            raise ValueError(f"{len(self.work)} task sizes for {n} arrivals; give one per task")
        if not len(self.tenant):
            self.tenant = np.zeros(n, dtype=np.int32)
        if not len(self.priority):
            self.priority = np.full(n, 2, dtype=np.int8)
        if len(self.speeds) < 1 or np.any(self.speeds <= 0):
            raise ValueError("a workload needs at least one agent, each with speed > 0")

    @property
    def n_tasks(self) -> int:
        return len(self.at_s)

    def agents(self) -> list[AgentSpec]:
        racks = self.racks
        return [
            AgentSpec(f"a{i}", speed=float(s), node=f"rack{i % racks}" if racks else None)
            for i, s in enumerate(self.speeds)
        ]

    def distance_ms(self) -> dict[str, dict[str, float]]:
        """Rack-to-rack latency: 1 ms per hop along a line of racks."""
        names = [f"rack{r}" for r in range(self.racks)]
        return {a: {b: float(abs(i - j)) for j, b in enumerate(names)} for i, a in enumerate(names)}

    def arrivals(self) -> Iterator[tuple[float, TaskSpec]]:
        """(time, spec) in arrival order, built one at a time. O(1) memory per step."""
        tenants, weights = self.tenants, self.tenant_weights
        for i, (at, work, tenant, prio) in enumerate(
            zip(
                self.at_s.tolist(),
                self.work.tolist(),
                self.tenant.tolist(),
                self.priority.tolist(),
                strict=True,
            )
        ):
            name = tenants[tenant]
            yield at, TaskSpec(f"t{i}", work, None, prio, name, weights.get(name, 1.0))


def lower_bound_s(work: np.ndarray, speeds: np.ndarray) -> float:
    """max(total work / total speed, longest task / fastest speed)."""
    if not len(work):
        return 0.0
    return float(max(work.sum() / speeds.sum(), work.max() / speeds.max()))


def _pareto(rng: np.random.Generator, n: int, alpha: float, scale: float) -> np.ndarray:
    return scale * (1.0 + rng.pareto(alpha, n))


def skewed_workload(
    n_tasks: int = 5_000, n_agents: int = 50, *, alpha: float = 1.5, seed: int = 0
) -> Workload:
    """Pareto sizes, speeds spread 1..5 (5x), all submitted at t=0 heaviest first."""
    rng = np.random.default_rng(seed)
    work = np.sort(_pareto(rng, n_tasks, alpha, 1.0))[::-1].copy()
    speeds = np.linspace(1.0, 5.0, n_agents)
    rng.shuffle(speeds)
    return Workload("skewed", np.zeros(n_tasks), work, speeds, racks=4)


def poisson_workload(
    n_tasks: int = 100_000,
    n_agents: int = 100,
    *,
    load: float = 0.9,
    alpha: float = 2.5,
    speed_spread: float = 5.0,
    bursty: bool = False,
    seed: int = 0,
) -> Workload:
    """Poisson arrivals at `load` times pool capacity (bursty: on/off modulated).

    Sizes are Pareto(alpha) with mean 1; speeds spread evenly over 1..speed_spread.
    """
    rng = np.random.default_rng(seed)
    scale = (alpha - 1.0) / alpha  # mean of scale * (1 + Pareto(alpha)) is 1
    work = _pareto(rng, n_tasks, alpha, scale)
    speeds = np.linspace(1.0, speed_spread, n_agents) if n_agents > 1 else np.ones(1)
    rate = load * speeds.sum() / work.mean()
    gaps = rng.exponential(1.0 / rate, n_tasks)
    if bursty:
        # Alternate 10x-rate bursts with quiet spells of the same mean rate overall.
        phase = (np.arange(n_tasks) // 1000) % 2
        gaps = np.where(phase == 0, gaps * 0.1, gaps * 1.9)
    return Workload("bursty" if bursty else "poisson", np.cumsum(gaps), work, speeds)


def fairness_workload(
    weights: dict[str, float], n_tasks: int = 20_000, n_agents: int = 20, *, seed: int = 0
) -> Workload:
    """Tenants arrive equally often at 1.5x capacity (permanent overload), sizes ~Exp(1)."""
    rng = np.random.default_rng(seed)
    names = tuple(sorted(weights))
    work = rng.exponential(1.0, n_tasks) + 0.05
    speeds = np.ones(n_agents)
    gaps = rng.exponential(1.0 / (1.5 * n_agents / work.mean()), n_tasks)
    tenant = rng.integers(0, len(names), n_tasks).astype(np.int32)
    return Workload(
        "fairness",
        np.cumsum(gaps),
        work,
        speeds,
        tenant=tenant,
        tenants=names,
        tenant_weights=dict(weights),
    )


def failing_agent_workload(
    n_tasks: int = 4_000, n_agents: int = 10, *, fail_from_s: float = 20.0, seed: int = 0
) -> Workload:
    """A Poisson workload where agent a0 starts failing every task at `fail_from_s`."""
    base = poisson_workload(n_tasks, n_agents, load=0.7, speed_spread=1.0, seed=seed)
    base.name = "failing-agent"
    base.faults = [Fault("a0", "fail", fail_from_s)]
    return base
