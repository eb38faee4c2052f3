"""CLI: `allocator mcp`: serve the service's tools to an MCP client over stdin/stdout.

The server lives in `api`; it is imported by name at run time because `allocator`
never imports `api` statically (the layering contract), as `allocator serve` does.
"""

from __future__ import annotations

import importlib
import os
from typing import Annotated

import typer

__all__ = ["MCP_SERVER_MODULE", "register"]

MCP_SERVER_MODULE = "api.mcp_server"


def mcp_command(
    dask: Annotated[
        str | None,
        typer.Option(
            "--dask",
            envvar="ALLOCATOR_DASK_ADDRESS",
            help="Dask scheduler address (tcp://host:8786): run solver jobs on that cluster.",
        ),
    ] = None,
) -> None:
    """Serve the allocation tools over MCP stdio (for an agent's MCP client config).

    Settings come from ALLOCATOR_* variables; jobs use the same store as the HTTP service.
    """
    if dask:
        # The job runner reads the address when it starts, inside the server.
        os.environ["ALLOCATOR_DASK_ADDRESS"] = dask
    importlib.import_module(MCP_SERVER_MODULE).run_stdio()


def register(app: typer.Typer) -> None:
    """Add `mcp` to the main CLI."""
    app.command("mcp")(mcp_command)
