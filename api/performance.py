"""Operator reports: the performance report and on-demand metric collection by component."""

from __future__ import annotations

from typing import Any

from api.services import Services

__all__ = ["COMPONENTS", "collect_metrics", "performance_report"]

COMPONENTS = ("coordinator", "queues", "solvers", "jobs")
_SUMMARY_KPIS = (
    "agents",
    "queued",
    "leased",
    "completed",
    "throughput_per_s",
    "load_variance",
    "migration_rate",
    "queue_latency_p95_s",
    "utilisation_efficiency",
    "jain_fairness",
)


def _solver_times(services: Services) -> dict[str, dict[str, float]]:
    """Count and mean wall time per solver, from this process's histogram."""
    out: dict[str, dict[str, float]] = {}
    for family in services.metrics.solver_duration.collect():
        for sample in family.samples:
            solver = sample.labels.get("solver", "")
            entry = out.setdefault(solver, {"runs": 0.0, "total_s": 0.0})
            if sample.name.endswith("_count"):
                entry["runs"] = sample.value
            elif sample.name.endswith("_sum"):
                entry["total_s"] = sample.value
    for entry in out.values():
        entry["mean_s"] = entry["total_s"] / entry["runs"] if entry["runs"] else 0.0
    return out


def _job_counts(services: Services) -> dict[str, int]:
    return services.store.jobs.count_by_status()


def _queues(services: Services) -> dict[str, Any]:
    swarms = {}
    for name in services.hub.names():
        kpis = services.hub.get(name).kpis()
        swarms[name] = {k: kpis.get(k) for k in ("queued", "queued_global", "leased")}
    counts = _job_counts(services)
    return {"job_queue_depth": counts.get("queued", 0), "swarms": swarms}


def collect_metrics(services: Services, components: list[str]) -> dict[str, Any]:
    """One document with the current figures of each named component."""
    out: dict[str, Any] = {}
    for component in components:
        if component == "coordinator":
            out["coordinator"] = {n: services.hub.get(n).kpis() for n in services.hub.names()}
        elif component == "queues":
            out["queues"] = _queues(services)
        elif component == "solvers":
            out["solvers"] = _solver_times(services)
        elif component == "jobs":
            out["jobs"] = _job_counts(services)
    return out


def performance_report(services: Services, detail: bool) -> dict[str, Any]:
    """Jobs by status, solver times, and each swarm's KPIs (all of them with `detail`)."""
    swarms = {}
    for name in services.hub.names():
        kpis = services.hub.get(name).kpis()
        swarms[name] = kpis if detail else {k: kpis.get(k) for k in _SUMMARY_KPIS}
    report: dict[str, Any] = {
        "jobs": _job_counts(services),
        "solvers": _solver_times(services),
        "swarms": swarms,
        "settings": services.hub.tuning.model_dump(),
    }
    if detail:
        report["running_here"] = services.runner.running_count if services.runner else 0
    return report
