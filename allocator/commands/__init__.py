"""Sub-commands of the `allocator` CLI, one module per area, each with `register(app)`."""

from __future__ import annotations

import importlib

import typer

__all__ = ["register_all"]

# Modules under allocator.commands that add commands to the main app. Each keeps its
# heavy imports inside its commands so `allocator --help` stays quick.
COMMAND_MODULES: tuple[str, ...] = (
    "simulate",
    "topology",
    "service",
    "reports",
    "mcp",
    "decisions",
)


def register_all(app: typer.Typer) -> None:
    for name in COMMAND_MODULES:
        module = importlib.import_module(f"allocator.commands.{name}")
        module.register(app)
