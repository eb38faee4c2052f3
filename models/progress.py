"""Progress of a running portfolio: what `on_progress` listeners receive."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ProgressEvent"]


@dataclass(frozen=True)
class ProgressEvent:
    """A new incumbent or bound, or a solver starting/finishing."""

    kind: str  # "started" | "incumbent" | "bound" | "finished"
    solver: str
    elapsed_s: float
    objective: float | None = None
    bound: float | None = None
