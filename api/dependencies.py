"""FastAPI dependencies: the app's services and the job service."""

from __future__ import annotations

from fastapi import Request

from api.job_service import JobService
from api.services import Services

__all__ = ["get_job_service", "get_services"]


# Async on purpose: FastAPI runs a sync dependency in the thread pool, a thread hop
# per request that cost the pull route about a tenth of its throughput.
async def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


async def get_job_service(request: Request) -> JobService:
    services: Services = request.app.state.services
    return services.jobs
