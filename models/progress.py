"""Progress of a running portfolio: what `on_progress` listeners receive."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["ProgressEvent"]


@dataclass(frozen=True)
class ProgressEvent:
    """A new incumbent or bound, or a solver starting/finishing."""

    kind: str  # "started" | "incumbent" | "bound" | "finished"
    solver: str
    elapsed_s: float
    objective: float | None = None
    bound: float | None = None
    # An incumbent's plan (int[n] numpy array: agent index per task, -1 unassigned), when
    # the emitter has it; the job worker stores the best verified one as it goes.
    assignment: Any = field(default=None, compare=False, repr=False)
