"""Operations routes: liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from allocator.swarms import CoordinatorTuning
from api.dependencies import get_services
from api.performance import COMPONENTS, collect_metrics, performance_report
from api.problems import ApiProblem
from api.security import require_token
from api.services import Services

__all__ = ["ops_router", "router"]

router = APIRouter(tags=["operations"])
AppServices = Annotated[Services, Depends(get_services)]


class Health(BaseModel):
    status: str


@router.get("/healthz")
async def healthz() -> Health:
    """The process answers (liveness)."""
    return Health(status="ok")


@router.get("/readyz", responses={503: {"description": "Not ready (database or start-up)."}})
async def readyz(services: AppServices) -> Health:
    """The database answers and the job runner is started (readiness)."""
    if not services.started:
        raise ApiProblem(503, "the service is starting or stopping; retry shortly")
    if not await run_in_threadpool(services.store.ping):
        raise ApiProblem(503, "the database does not answer; check ALLOCATOR_DATABASE_URL")
    store = services.store
    if not store.health.healthy and not await run_in_threadpool(store.probe_write):
        raise ApiProblem(
            503,
            f"storage unavailable: the database cannot be written ({store.health.reason})",
            title="Storage unavailable",
        )
    return Health(status="ready")


@router.get(
    "/metrics",
    dependencies=[Depends(require_token)],
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {}}}},
)
async def metrics(services: AppServices) -> Response:
    """Prometheus text exposition: HTTP, jobs, solver durations, coordinator KPIs."""
    body = await run_in_threadpool(generate_latest, services.metrics.registry)
    return Response(body, media_type=CONTENT_TYPE_LATEST)


ops_router = APIRouter(prefix="/v1", tags=["operations"], dependencies=[Depends(require_token)])


@ops_router.get("/config")
async def show_config(services: AppServices) -> CoordinatorTuning:
    """Coordinator settings in force."""
    return services.hub.tuning


@ops_router.patch("/config")
async def change_config(
    services: AppServices, changes: Annotated[dict[str, Any], Body()]
) -> CoordinatorTuning:
    """Change coordinator settings: validated, applied to running swarms, persisted."""
    return await services.swarms.set_tuning(changes)


@ops_router.get("/performance")
async def performance(
    services: AppServices, detail: Annotated[bool, Query()] = False
) -> dict[str, Any]:
    """Jobs by status, solver times, coordinator KPIs per swarm."""
    return await run_in_threadpool(performance_report, services, detail)


@ops_router.get("/metrics/collect")
async def metrics_collect(
    services: AppServices,
    components: Annotated[str, Query(description="Comma-separated: " + ", ".join(COMPONENTS))] = (
        "coordinator,queues,solvers"
    ),
) -> dict[str, Any]:
    """Current figures of the named components in one document."""
    names = [c.strip() for c in components.split(",") if c.strip()]
    unknown = [c for c in names if c not in COMPONENTS]
    if unknown:
        raise ApiProblem(
            422, f"unknown component {unknown[0]!r}; choose from {', '.join(COMPONENTS)}"
        )
    return await run_in_threadpool(collect_metrics, services, names)
