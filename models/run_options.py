"""Per-request solver settings: the optional `options` member of a request document."""

from __future__ import annotations

import os
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["DEFAULT_REL_GAP", "MAX_WORKERS", "RunOptions", "available_cores"]

#: The one relative-gap default: a plan is "optimal" when (objective - bound) / |objective|
#: is at most this. Solvers' own default (`SolveOptions.rel_gap`) is this same value.
DEFAULT_REL_GAP = 1e-4

#: The most cores one request may ask for.
MAX_WORKERS = 64


def available_cores() -> int:
    """The cores this process may run on (its CPU affinity, which containers and
    `taskset` narrow), capped at MAX_WORKERS; the CPU count where affinity is unknown."""
    try:
        count = len(os.sched_getaffinity(0))
    except AttributeError:  # macOS and Windows have no sched_getaffinity
        count = os.cpu_count() or 1
    return max(1, min(MAX_WORKERS, count))


class RunOptions(BaseModel):
    """Which solvers to run and the budget they share (one wall-clock limit)."""

    model_config = ConfigDict(extra="forbid")

    solvers: list[str] | None = Field(
        default=None,
        description="Solver names to run; omit to let the portfolio pick by request size.",
    )
    time_limit_s: float = Field(default=10.0, gt=0, le=3600)
    seed: int = Field(default=0, ge=0)
    workers: int = Field(
        default_factory=available_cores,
        ge=1,
        le=MAX_WORKERS,
        description="CPU cores the solve may use; by default every core this process may use.",
    )
    rel_gap: float = Field(default=DEFAULT_REL_GAP, ge=0, le=1)
    milp_backend: Literal["highs", "cbc"] = "highs"
    deterministic: bool = Field(
        default=False,
        description=(
            "Same request, version and machine give the same plan and statuses: fixed "
            "seeds, work bounded by iteration counts and deterministic solver limits, "
            "solvers run one after another. Costs plan quality within the time limit "
            "(see docs/solver_runs.md)."
        ),
    )
