"""FastAPI dependencies: the app's services and the job service."""

from __future__ import annotations

from fastapi import Request

from api.job_service import JobService
from api.services import Services

__all__ = ["get_job_service", "get_services"]


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def get_job_service(request: Request) -> JobService:
    return get_services(request).jobs
