"""The FastAPI app factory: `create_app(settings)` builds one independent service."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline

from api import dashboard
from api.body_limit import BodySizeLimit
from api.browser_guard import BrowserGuard
from api.dashboard_views import SwarmLive, swarm_view
from api.kpi_history import KpiHistory
from api.mcp_server import mount_mcp
from api.observability import HttpObserver, configure_logging
from api.openapi_doc import install_openapi
from api.problems import install_problem_handlers
from api.routes import decisions, jobs, operations, swarms
from api.services import build_services
from api.settings import ServiceSettings

__all__ = ["create_app"]


def create_app(settings: ServiceSettings | None = None) -> FastAPI:
    """Build the app; the store is opened and migrated here, workers start with the app."""
    settings = settings or ServiceSettings()
    configure_logging(settings.log_level)
    services = build_services(settings)
    history = KpiHistory(settings.dashboard_sample_s, settings.dashboard_history_s)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        services.start()
        history.start(lambda: _app.state.swarm_feed())  # the feed a test may swap in
        try:
            async with _app.state.mcp_sessions():  # the MCP transport's task group
                yield
        finally:
            history.stop()
            services.stop()

    # FastAPIOffline: /docs and /redoc load Swagger UI and ReDoc from this service, not a CDN.
    app = FastAPIOffline(
        title="Allocator service",
        version="1",
        description="Allocation, solver comparison and topology jobs; the agents' pull API.",
        lifespan=lifespan,
    )
    app.state.services = services
    app.state.kpi_history = history
    install_problem_handlers(app)
    app.include_router(swarms.router)  # first: routes are matched in order; pulls are hot
    app.include_router(jobs.router)
    app.include_router(decisions.router)
    app.include_router(operations.router)
    app.include_router(operations.ops_router)
    app.include_router(dashboard.router)
    app.state.mcp_sessions = mount_mcp(app, services)  # MCP tools at /mcp

    def swarm_feed() -> list[SwarmLive]:
        views = []
        for name in services.hub.names():
            views.append(swarm_view(name, services.hub.get(name).view()))
        return views

    app.state.swarm_feed = swarm_feed
    app.add_middleware(
        BodySizeLimit,
        max_bytes=settings.max_body_bytes,
        shape_for=services.jobs.shape_for_path,
        body_timeout_s=settings.body_timeout_s,
    )
    app.add_middleware(
        BrowserGuard, trusted_hosts=settings.trusted_hosts, allowed_origins=settings.allowed_origins
    )
    app.add_middleware(HttpObserver, metrics=services.metrics)
    install_openapi(app)
    return app
