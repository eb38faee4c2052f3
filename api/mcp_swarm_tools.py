"""MCP tools over the coordinator and the operator reports: swarms, agents, balance, bottlenecks.

They call the same swarm service and reports as the `/v1/swarms` and `/v1/performance`
routes, so a model sees exactly what an operator sees.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import anyio
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field

from allocator.topology_facade import TopologyRequest
from api.mcp_models import BottleneckReport, SwarmStatus
from api.mcp_tools import ServicesGetter, tool_errors
from api.performance import performance_report as build_performance_report
from api.swarm_schemas import AgentView, RebalanceOut, TokenUsageOut
from models.topology_graph import topology_to_graph
from models.topology_metrics import topology_metrics
from models.topology_request import node_traffic_matrix

__all__ = ["register_swarm_tools"]

SwarmId = Annotated[
    str,
    Field(
        pattern=r"^[A-Za-z0-9_.\-]{1,100}$",
        description="The swarm's id, as used under /v1/swarms/{swarm}.",
    ),
]


def _bottlenecks(request: TopologyRequest) -> BottleneckReport:
    metrics = topology_metrics(topology_to_graph(request.topology), node_traffic_matrix(request))
    return BottleneckReport(
        name=request.name,
        traffic_weighted_latency_ms=metrics.traffic_weighted_latency_ms,
        bottleneck_nodes=metrics.bottleneck_nodes,
        bottleneck_links=metrics.bottleneck_links,
        overloaded_links=metrics.overloaded_links,
    )


def register_swarm_tools(server: MCPServer, services: ServicesGetter) -> None:
    """Add the coordinator and report tools to `server`."""

    @server.tool()
    async def bottleneck_analyze(request: TopologyRequest) -> BottleneckReport:
        """Which nodes relay the most traffic and which links run at or over bandwidth.

        Routes the request's traffic over shortest-latency paths; no optimisation.
        """
        with tool_errors():
            return await anyio.to_thread.run_sync(_bottlenecks, request)

    @server.tool()
    async def load_balance(
        swarm: SwarmId,
        strategy: Annotated[
            Literal["threshold", "adaptive"],
            Field(
                description="threshold: move work off agents above the load threshold; "
                "adaptive: re-plan when imbalance persists."
            ),
        ] = "threshold",
    ) -> RebalanceOut:
        """Rebalance a swarm's queues now; returns the moves and the KPIs before and after."""
        with tool_errors():
            return await services().swarms.rebalance(swarm, strategy)

    @server.tool()
    async def agent_metrics(swarm: SwarmId) -> list[AgentView]:
        """Per-agent view of a swarm: queue length, leases, completions, utilisation, breaker."""
        with tool_errors():
            return services().swarms.agents(swarm)

    @server.tool()
    async def agent_list(swarm: SwarmId) -> list[AgentView]:
        """A swarm's agents: state (busy, idle, unavailable, probing), capabilities, load.

        load_s is the expected seconds to drain each agent's queued and leased work.
        """
        with tool_errors():
            return services().swarms.agents(swarm)

    @server.tool()
    async def token_usage(swarm: SwarmId) -> TokenUsageOut:
        """Tokens agents reported with completions and their cost, per agent, kind, tenant.

        Cost uses the agent's price per 1,000 tokens, else the swarm's, at completion time.
        """
        with tool_errors():
            return services().swarms.token_usage(swarm)

    @server.tool()
    async def swarm_status(
        swarm: Annotated[
            str | None, Field(description="One swarm's id; omit to list every swarm.")
        ] = None,
    ) -> list[SwarmStatus]:
        """Coordinator KPIs: load variance, migration rate, queue latency, utilisation, fairness."""
        with tool_errors():
            hub = services().swarms.hub
            names = hub.names() if swarm is None else [swarm]
            if swarm is not None and swarm not in hub.names():
                known = ", ".join(hub.names()) or "none yet"
                raise ToolError(f"no swarm {swarm!r}; known swarms: {known}")
            return [SwarmStatus(name=n, kpis=hub.get(n).kpis()) for n in names]

    @server.tool()
    async def performance_report(
        detail: Annotated[
            bool, Field(description="True: every KPI and the running-job count.")
        ] = False,
    ) -> dict[str, Any]:
        """Jobs by status, mean solve time per solver, each swarm's KPIs and the live settings."""
        with tool_errors():
            svc = services()
            return await anyio.to_thread.run_sync(build_performance_report, svc, detail)
