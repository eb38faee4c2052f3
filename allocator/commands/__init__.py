"""Sub-commands of the `allocator` CLI, one module per area, each with `register(app)`."""

from __future__ import annotations

import importlib

import typer

__all__ = ["register_all"]

# Modules under allocator.commands that add commands to the main app.
COMMAND_MODULES: tuple[str, ...] = ("simulate", "topology", "reports", "service", "mcp")


def register_all(app: typer.Typer) -> None:
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(f"allocator.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"allocator.commands.{name}":
                raise
            continue  # TODO(integration): make strict once every command module has landed
        module.register(app)
