"""Per-request solver settings: the optional `options` member of a request document."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["DEFAULT_REL_GAP", "RunOptions"]

#: The one relative-gap default: a plan is "optimal" when (objective - bound) / |objective|
#: is at most this. Solvers' own default (`SolveOptions.rel_gap`) is this same value.
DEFAULT_REL_GAP = 1e-4


class RunOptions(BaseModel):
    """Which solvers to run and the budget they share (one wall-clock limit)."""

    model_config = ConfigDict(extra="forbid")

    solvers: list[str] | None = Field(
        default=None,
        description="Solver names to run; omit to let the portfolio pick by request size.",
    )
    time_limit_s: float = Field(default=10.0, gt=0, le=3600)
    seed: int = Field(default=0, ge=0)
    workers: int = Field(default=2, ge=1, le=64, description="CPU cores the solve may use.")
    rel_gap: float = Field(default=DEFAULT_REL_GAP, ge=0, le=1)
    milp_backend: Literal["highs", "cbc"] = "highs"
