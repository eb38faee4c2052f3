"""The MCP face: the service's operations as tools, over stdio or streamable HTTP at /mcp.

`build_mcp_server` makes the server over any running `Services`; `mount_mcp` puts it
in the FastAPI app behind the same bearer token; `run_stdio` is `allocator mcp`.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import anyio
from fastapi import FastAPI, Request
from mcp.server.mcpserver import MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from api.mcp_decision_tools import register_decision_tools
from api.mcp_swarm_tools import register_swarm_tools
from api.mcp_tools import ServicesGetter, register_job_tools
from api.observability import configure_logging
from api.problems import problem_response
from api.security import TokenRequired, check_token
from api.services import Services, build_services
from api.settings import ServiceSettings

__all__ = ["MCP_PATH", "McpSettings", "build_mcp_server", "mount_mcp", "run_stdio"]

MCP_PATH = "/mcp"
log = logging.getLogger("allocator.mcp")

_INSTRUCTIONS = (
    "Allocation service: assign tasks to agents with optimisation solvers (allocate, "
    "compare_solvers; submit_allocation/get_job/get_result/cancel_job for long solves), "
    "redesign agent networks (optimize_topology, bottleneck_analyze), and operate running "
    "swarms (swarm_status, agent_metrics, load_balance, performance_report). Objectives "
    "are minimised; a tool error's text says what to change."
)


class McpSettings(BaseSettings):
    """Settings of the HTTP transport, from ALLOCATOR_MCP_* environment variables."""

    model_config = SettingsConfigDict(env_prefix="ALLOCATOR_MCP_", extra="ignore")

    allowed_hosts: str = Field(
        default="127.0.0.1:*,localhost:*,[::1]:*",
        description="Host headers /mcp accepts (DNS-rebinding guard), comma-separated; "
        "'*' accepts any (put the service behind a proxy that checks Host).",
    )


def build_mcp_server(
    services: ServicesGetter,
    *,
    lifespan: Callable[[MCPServer], AbstractAsyncContextManager[None]] | None = None,
) -> MCPServer:
    """An MCP server whose tools call `services()` (the running service objects)."""
    server: MCPServer = MCPServer(
        "allocator",
        instructions=_INSTRUCTIONS,
        version="1",
        lifespan=lifespan,
        log_level="WARNING",
    )
    register_job_tools(server, services)
    register_decision_tools(server, services)
    register_swarm_tools(server, services)
    return server


class _BearerGate:
    """Runs the app's own token check before the MCP transport sees the request."""

    def __init__(self, app: ASGIApp):
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            try:
                check_token(Request(scope))
            except TokenRequired as exc:
                response = problem_response(exc.status, exc.detail, headers=exc.headers)
                await response(scope, receive, send)
                return
        await self._app(scope, receive, send)


def _transport_security(settings: McpSettings) -> TransportSecuritySettings:
    hosts = [h.strip() for h in settings.allowed_hosts.split(",") if h.strip()]
    if "*" in hosts:
        return TransportSecuritySettings(enable_dns_rebinding_protection=False)
    origins = [f"http://{h}" for h in hosts] + [f"https://{h}" for h in hosts]
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True, allowed_hosts=hosts, allowed_origins=origins
    )


def mount_mcp(
    app: FastAPI, services: Services, settings: McpSettings | None = None
) -> Callable[[], AbstractAsyncContextManager[None]]:
    """Serve the tools at `/mcp` (streamable HTTP) in `app`; returns the session runner.

    The app's lifespan must enter the returned context manager: the SDK's session
    manager owns the task group every MCP request runs in. Sessions are stateless
    (every tool's state is in the store), so any API replica can answer any request.
    """
    server = build_mcp_server(lambda: services)
    transport = server.streamable_http_app(
        streamable_http_path=MCP_PATH,
        stateless_http=True,
        transport_security=_transport_security(settings or McpSettings()),
    )
    for route in transport.routes:
        if isinstance(route, Route) and route.path == MCP_PATH:
            app.router.routes.append(
                Route(MCP_PATH, endpoint=_BearerGate(route.app), include_in_schema=False)
            )
    return server.session_manager.run


def run_stdio(settings: ServiceSettings | None = None) -> None:
    """`allocator mcp`: serve the tools on stdin/stdout with this process's own job runner.

    Jobs go to the same store as the HTTP service (ALLOCATOR_DATA_DIR or
    ALLOCATOR_DATABASE_URL), so jobs submitted here are visible there and vice versa.
    """
    settings = settings or ServiceSettings()
    configure_logging(settings.log_level)  # stderr: stdout carries the protocol
    running: list[Services] = []

    def current() -> Services:
        return running[0]

    @asynccontextmanager
    async def lifespan(_server: MCPServer) -> AsyncIterator[None]:
        services = await anyio.to_thread.run_sync(build_services, settings)
        services.start()
        running.append(services)
        try:
            yield
        finally:
            running.clear()
            with contextlib.suppress(Exception):  # shutting down: nothing left to report to
                await anyio.to_thread.run_sync(services.stop)

    server = build_mcp_server(current, lifespan=lifespan)
    log.info("MCP server on stdio")
    server.run("stdio")
