"""Operations routes: liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from api.dependencies import get_services
from api.problems import ApiProblem
from api.security import require_token
from api.services import Services

__all__ = ["router"]

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
