"""HTTP routes, one module per area: jobs, swarms, operations."""

from __future__ import annotations

__all__: list[str] = []
