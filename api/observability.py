"""Prometheus metrics (one registry per app) and structured JSON logs per request."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from allocator.jobs import JobFinished

__all__ = ["HttpObserver", "JsonLogFormatter", "ServiceMetrics", "configure_logging"]

log = logging.getLogger("allocator.http")

_STANDARD_LOG_ATTRS = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message"}


class JsonLogFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message and any `extra` fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": round(record.created, 3),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD_LOG_ATTRS:
                entry[key] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure_logging(level: str) -> None:
    """Structured logs on stderr for the `allocator` loggers (idempotent)."""
    logger = logging.getLogger("allocator")
    logger.setLevel(level.upper())
    if not any(isinstance(h.formatter, JsonLogFormatter) for h in logger.handlers):
        handler = logging.StreamHandler()
        handler.setFormatter(JsonLogFormatter())
        logger.addHandler(handler)
    logger.propagate = False


class _LiveCollector:
    """Reads gauges when Prometheus scrapes, so they are never stale."""

    def __init__(self, read: Callable[[], Iterable[Metric]]):
        self._read = read

    def collect(self) -> Iterator[Metric]:
        try:
            yield from self._read()
        except Exception:  # a scrape must not fail because the database blinked
            log.exception("metrics collection failed")

    def describe(self) -> list[Metric]:
        return []  # dynamic: skip the registry's duplicate check


class ServiceMetrics:
    """HTTP metrics, solve durations, and live gauges for jobs and the coordinator."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.http_requests = Counter(
            "allocator_http_requests_total",
            "HTTP requests by method, route and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.http_latency = Histogram(
            "allocator_http_request_duration_seconds",
            "HTTP request latency by method and route.",
            ["method", "route"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
            registry=self.registry,
        )
        self.solver_duration = Histogram(
            "allocator_solver_duration_seconds",
            "Wall time of each solver inside finished jobs.",
            ["solver"],
            buckets=(0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600),
            registry=self.registry,
        )
        self.job_duration = Histogram(
            "allocator_job_duration_seconds",
            "Wall time of finished jobs by kind and status.",
            ["kind", "status"],
            buckets=(0.05, 0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600),
            registry=self.registry,
        )
        self.jobs_finished = Counter(
            "allocator_jobs_finished_total",
            "Jobs finished by this process, by kind and status.",
            ["kind", "status"],
            registry=self.registry,
        )

    def add_live_gauges(self, read: Callable[[], Iterable[Metric]]) -> None:
        self.registry.register(_LiveCollector(read))

    def observe_job(self, event: JobFinished) -> None:
        self.jobs_finished.labels(event.kind, event.status).inc()
        self.job_duration.labels(event.kind, event.status).observe(event.wall_time_s)
        if event.result is None or event.kind == "topology":
            return
        try:
            document = json.loads(event.result)
        except ValueError:
            return
        for name, run in _solver_runs(event.kind, document):
            if run.get("status") != "skipped" and isinstance(run.get("wall_time_s"), int | float):
                self.solver_duration.labels(name).observe(run["wall_time_s"])


def _solver_runs(kind: str, document: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    """(solver name, its run) in a comparison report, or in every instance of a batch."""
    if not isinstance(document, dict):
        return
    if kind == "batch":  # the batch report lists solver names; the runs are per instance
        runs = [o for i in document.get("instances", []) for o in i.get("outcomes", [])]
        key = "solver"
    else:
        runs, key = document.get("solvers", []), "name"
    for run in runs:
        if isinstance(run, dict):
            yield str(run.get(key)), run


def gauge(name: str, doc: str, labels: list[str], values: dict[tuple[str, ...], float]) -> Metric:
    """One gauge family from a dict of label values -> value."""
    family = GaugeMetricFamily(name, doc, labels=labels)
    for key, value in values.items():
        family.add_metric(list(key), value)
    return family


class HttpObserver:
    """ASGI middleware: count and time requests by route template; log each one."""

    def __init__(self, app: ASGIApp, metrics: ServiceMetrics):
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def observe_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, observe_send)
        finally:
            elapsed = time.perf_counter() - started
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            method = scope["method"]
            self.metrics.http_requests.labels(method, route, str(status)).inc()
            self.metrics.http_latency.labels(method, route).observe(elapsed)
            if log.isEnabledFor(logging.DEBUG) or status >= 500:
                log.log(
                    logging.ERROR if status >= 500 else logging.DEBUG,
                    "request",
                    extra={
                        "method": method,
                        "path": scope.get("path"),
                        "status": status,
                        "duration_ms": round(elapsed * 1000, 2),
                    },
                )
