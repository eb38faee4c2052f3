"""KPI counters kept on the hot path (plain ints and a latency ring) and `Metrics`.

`compute_metrics` turns counters plus agent figures into one snapshot: load variance
and balance efficiency, throughput, migration rate, steals, queue-latency
percentiles, utilisation, Jain's fairness over tenants, breaker transitions.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from allocator.coordinator.records import AgentRecord

__all__ = [
    "KpiCounters",
    "Metrics",
    "agent_utilisation",
    "compute_metrics",
    "jain_index",
    "percentile",
]


class KpiCounters:
    """Counters the coordinator bumps; every update is O(1)."""

    __slots__ = (
        "breaker_transitions",
        "completed",
        "dead_lettered",
        "duplicate_completions",
        "failed",
        "latency",
        "latency_mask",
        "latency_n",
        "lease_expiries",
        "migrations",
        "rejected",
        "requeued",
        "restored_dead",
        "restored_done",
        "started_at",
        "steal_attempts",
        "steal_successes",
        "submitted",
        "tasks_stolen",
        "tenant_work",
    )

    def __init__(self, latency_window: int, started_at: float) -> None:
        self.submitted = 0
        self.rejected = 0
        self.completed = 0
        self.failed = 0
        self.dead_lettered = 0
        self.requeued = 0
        self.migrations = 0
        self.steal_attempts = 0
        self.steal_successes = 0
        self.tasks_stolen = 0
        self.duplicate_completions = 0
        self.lease_expiries = 0
        self.breaker_transitions: dict[str, int] = {}
        self.tenant_work: dict[str, float] = {}
        self.latency = [0.0] * latency_window
        self.latency_mask = latency_window - 1
        self.latency_n = 0
        self.started_at = started_at
        # Done and dead tasks carried over by `restore`: history, not this run's work.
        self.restored_done = 0
        self.restored_dead = 0

    def latencies(self) -> list[float]:
        """The most recent queue-latency samples (up to the window). O(window)."""
        n = self.latency_n
        return self.latency[: min(n, len(self.latency))]


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of an ascending list (0.0 when empty). O(1)."""
    if not sorted_values:
        return 0.0
    rank = max(0, min(len(sorted_values) - 1, round(q * (len(sorted_values) - 1))))
    return sorted_values[rank]


def jain_index(values: Iterable[float]) -> float:
    """Jain's fairness index (sum x)^2 / (n * sum x^2): 1 is perfectly fair. O(n)."""
    xs = list(values)
    square_sum = sum(x * x for x in xs)
    if not xs or square_sum == 0:
        return 1.0
    return sum(xs) ** 2 / (len(xs) * square_sum)


def agent_utilisation(agent: AgentRecord, elapsed_s: float) -> float:
    """Share of the agent's slot-time spent running tasks since the start, capped at 1."""
    return min(1.0, agent.busy_s / (max(elapsed_s, 1e-12) * agent.slots))


def _variance(xs: list[float]) -> float:
    if not xs:
        return 0.0
    mean = sum(xs) / len(xs)
    return sum((x - mean) ** 2 for x in xs) / len(xs)


@dataclass(frozen=True)
class Metrics:
    """One snapshot of every KPI operators watch."""

    now: float
    agents: int
    queued: int
    queued_global: int
    leased: int
    submitted: int
    rejected: int
    completed: int
    dead_lettered: int
    requeued: int
    throughput_per_s: float
    load_variance: float
    balance_efficiency: float
    backlog_variance_s2: float
    utilisation_efficiency: float
    migrations: int
    migration_rate: float
    steal_attempts: int
    steals_succeeded: int
    steal_success_rate: float
    tasks_stolen: int
    queue_latency_p50_s: float
    queue_latency_p95_s: float
    queue_latency_p99_s: float
    jain_fairness: float
    tenant_share: dict[str, float] = field(default_factory=dict)
    breaker_transitions: dict[str, int] = field(default_factory=dict)
    breakers_open: int = 0
    duplicate_completions: int = 0
    lease_expiries: int = 0
    waiting: int = 0  # tasks whose predecessors have not all completed
    held: int = 0  # tasks that will not run: a predecessor was dead-lettered

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def compute_metrics(
    counters: KpiCounters,
    agents: list[AgentRecord],
    now: float,
    *,
    queued_global: int,
    tenant_weights: Mapping[str, float],
    breakers_open: int,
    waiting: int = 0,
    held: int = 0,
) -> Metrics:
    """Build the snapshot. O(agents + latency window log window + tenants)."""
    c = counters
    elapsed = max(now - c.started_at, 1e-12)
    # Utilisation per agent over the run; its variance is the load-distribution KPI
    # (balance efficiency 1/(1+variance) is how the earlier tool's operators read it).
    utilisation = [agent_utilisation(a, elapsed) for a in agents]
    load_variance = _variance(utilisation)
    backlog = [a.backlog_s() for a in agents]
    lat = sorted(c.latencies())
    total_work = sum(c.tenant_work.values())
    share = {t: w / total_work for t, w in c.tenant_work.items()} if total_work else {}
    normalised = [w / tenant_weights.get(t, 1.0) for t, w in c.tenant_work.items()]
    queued_local = sum(len(a.queue) for a in agents)
    leased = sum(len(a.leases) for a in agents)
    return Metrics(
        now=now,
        agents=len(agents),
        queued=queued_local + queued_global,
        queued_global=queued_global,
        leased=leased,
        submitted=c.submitted,
        rejected=c.rejected,
        completed=c.completed,
        dead_lettered=c.dead_lettered,
        requeued=c.requeued,
        throughput_per_s=c.completed / elapsed,
        load_variance=load_variance,
        balance_efficiency=1.0 / (1.0 + load_variance),
        backlog_variance_s2=_variance(backlog),
        utilisation_efficiency=sum(utilisation) / len(utilisation) if utilisation else 0.0,
        migrations=c.migrations,
        migration_rate=c.migrations / c.submitted if c.submitted else 0.0,
        steal_attempts=c.steal_attempts,
        steals_succeeded=c.steal_successes,
        steal_success_rate=c.steal_successes / c.steal_attempts if c.steal_attempts else 0.0,
        tasks_stolen=c.tasks_stolen,
        queue_latency_p50_s=percentile(lat, 0.50),
        queue_latency_p95_s=percentile(lat, 0.95),
        queue_latency_p99_s=percentile(lat, 0.99),
        jain_fairness=jain_index(normalised),
        tenant_share=share,
        breaker_transitions=dict(c.breaker_transitions),
        breakers_open=breakers_open,
        duplicate_completions=c.duplicate_completions,
        lease_expiries=c.lease_expiries,
        waiting=waiting,
        held=held,
    )
