"""The objects one app instance owns (store, runner, metrics), built by the app factory."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field

from prometheus_client.core import Metric

from allocator.jobs import BreakerBoard, JobRunner, RequestLimits, RunnerConfig
from allocator.store import QueueCaps, Store, StoreUnusable, open_writable_store
from allocator.swarms import SwarmHub
from api.auth_throttle import FailedAuthThrottle
from api.job_service import JobService
from api.observability import ServiceMetrics, gauge
from api.settings import ServiceSettings
from api.swarm_service import SwarmService

__all__ = ["Services", "build_services"]

log = logging.getLogger("allocator.api")

_STATUSES = ("queued", "running", "succeeded", "failed", "cancelled")


@dataclass
class Services:
    """Everything a request handler may need, reached through `app.state.services`."""

    settings: ServiceSettings
    store: Store
    runner: JobRunner | None
    metrics: ServiceMetrics
    jobs: JobService
    hub: SwarmHub
    swarms: SwarmService
    api_token: str | None
    auth_throttle: FailedAuthThrottle
    started: bool = field(default=False)

    def start(self) -> None:
        self.hub.start()
        if self.runner is not None:
            self.runner.start()
        self.started = True
        log.info("service started", extra={"database": self.store.engine.url.drivername})

    def stop(self) -> None:
        self.started = False
        if self.runner is not None:
            self.runner.stop()
        self.hub.stop()
        self.store.close()

    def job_gauges(self) -> Iterator[Metric]:
        counts = self.store.jobs.count_by_status()
        yield gauge(
            "allocator_jobs",
            "Jobs in the store by status.",
            ["status"],
            {(s,): float(counts.get(s, 0)) for s in _STATUSES},
        )
        yield gauge(
            "allocator_job_queue_depth",
            "Jobs waiting for a worker.",
            [],
            {(): counts.get("queued", 0)},
        )
        running_here = float(self.runner.running_count) if self.runner else 0.0
        yield gauge(
            "allocator_jobs_running_here", "Jobs this process is running.", [], {(): running_here}
        )
        if self.runner is not None:
            breakers = self.runner.breakers.view()
            yield gauge(
                "allocator_solver_breaker_open",
                "1 while the service's circuit breaker skips this solver (it kept failing).",
                ["solver"],
                {(name,): float(b["open"]) for name, b in breakers.items()},
            )
            yield gauge(
                "allocator_solver_breaker_failures",
                "Consecutive failures of each solver across this service's jobs.",
                ["solver"],
                {(name,): float(b["failures"]) for name, b in breakers.items()},
            )
        kpis: dict[tuple[str, ...], float] = {}
        for name in self.hub.names():
            for key, value in self.hub.get(name).kpis().items():
                if isinstance(value, int | float) and not isinstance(value, bool):
                    kpis[(name, key)] = float(value)
        yield gauge(
            "allocator_swarm_kpi",
            "Coordinator KPIs per swarm (load variance, migration rate, latency, fairness...).",
            ["swarm", "kpi"],
            kpis,
        )


def build_services(settings: ServiceSettings) -> Services:
    """Open (and migrate) the store and set up the runner; nothing runs until start()."""
    try:
        store = open_writable_store(settings.database_url, settings.data_dir)
    except StoreUnusable as exc:  # one line, no traceback: the operator fixes the path
        raise SystemExit(f"error: {exc}") from None
    metrics = ServiceMetrics()
    runner = None
    if settings.run_jobs:
        runner = JobRunner(
            store.jobs,
            RunnerConfig(
                max_concurrent_jobs=settings.max_concurrent_jobs,
                lease_s=settings.job_lease_s,
                max_attempts=settings.max_job_attempts,
                fast_workers=settings.fast_workers,
                fast_max_cells=settings.fast_max_cells,
                fast_max_time_limit_s=settings.fast_max_time_limit_s,
            ),
            on_finished=metrics.observe_job,
            health=store.health,
            breakers=BreakerBoard(store.swarms.get_setting, store.swarms.put_setting),
        )
    limits = RequestLimits(
        max_tasks=settings.max_tasks,
        max_agents=settings.max_agents,
        max_time_limit_s=settings.max_time_limit_s,
        max_batch_instances=settings.max_batch_instances,
        max_batch_tasks=settings.max_batch_tasks,
    )
    token = settings.api_token.get_secret_value() if settings.api_token else None
    hub = SwarmHub(
        store.swarms, flush_s=settings.swarm_flush_s, kpi_every_s=settings.kpi_snapshot_s
    )
    services = Services(
        settings=settings,
        store=store,
        runner=runner,
        metrics=metrics,
        jobs=JobService(
            store.jobs,
            runner,
            limits,
            settings.max_wait_s,
            settings.max_json_values,
            caps=QueueCaps(
                settings.max_queued_jobs,
                settings.max_queued_jobs_per_tenant,
                concurrency=settings.max_concurrent_jobs,
            ),
        ),
        hub=hub,
        swarms=SwarmService(hub, store.jobs),
        api_token=token or None,
        auth_throttle=FailedAuthThrottle(settings.max_failed_auth_per_minute),
    )
    metrics.add_live_gauges(services.job_gauges)
    metrics.add_live_gauges(services.swarms.token_gauges)
    return services
