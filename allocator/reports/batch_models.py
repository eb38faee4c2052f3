"""Data of a batch comparison: per-instance outcomes, per-solver aggregates, tests, profiles."""

from __future__ import annotations

from pydantic import BaseModel, Field

from models import RunOptions

__all__ = [
    "BatchReport",
    "InstanceResult",
    "PairComparison",
    "ProfileSeries",
    "SolverAggregate",
    "SolverOutcome",
]


class SolverOutcome(BaseModel):
    """One solver's verified result on one instance."""

    solver: str
    status: str
    objective: float | None = None  # only verified plans count
    wall_time_s: float = 0.0  # how long it ran, from its own start (its share of the budget)
    time_to_best_s: float | None = None  # request clock: seconds from the request's start
    # Request clock: first moment its plan was within the batch's target tolerance of the
    # best plan any solver found on this instance; None if it never got there.
    time_to_target_s: float | None = None
    gap: float | None = None
    error: str | None = None


class InstanceResult(BaseModel):
    """One instance of the batch: where it came from and each solver's outcome."""

    instance: str
    source: str
    n_tasks: int = 0
    n_agents: int = 0
    status: str = "error"
    best_bound: float | None = None
    outcomes: list[SolverOutcome] = Field(default_factory=list)
    error: str | None = None

    def best_objective(self) -> float | None:
        values = [o.objective for o in self.outcomes if o.objective is not None]
        return min(values) if values else None


class SolverAggregate(BaseModel):
    """Per-solver summary over the batch; gaps are relative to the best plan per instance.

    Times are times to target (see SolverOutcome), an instance where the solver never
    reached the target counting as BatchReport.unreached_time_s (PAR2 scoring).
    """

    solver: str
    n_instances: int
    n_solved: int
    n_reached_target: int = 0
    mean_rel_gap: float | None
    median_rel_gap: float | None
    median_time_to_target_s: float | None = None
    sgm_time_to_target_s: float | None = None
    wins: int
    ties: int
    losses: int


class PairComparison(BaseModel):
    """Paired Wilcoxon signed-rank test of two solvers on one metric (lower is better)."""

    metric: str
    solver_a: str
    solver_b: str
    n_pairs: int
    n_nonzero: int
    statistic: float | None
    p_value: float | None
    p_holm: float | None
    effect_size: float | None  # matched-pairs rank-biserial; positive: solver_a better
    verdict: str


class ProfileSeries(BaseModel):
    """One solver's performance-profile curve."""

    solver: str
    taus: list[float]
    fractions: list[float]


class BatchReport(BaseModel):
    """Everything a batch comparison produced; the HTML page renders exactly this."""

    name: str
    settings: RunOptions
    solvers: list[str]
    instances: list[InstanceResult]
    aggregates: list[SolverAggregate]
    tests: list[PairComparison]
    time_profile: list[ProfileSeries]
    objective_profile: list[ProfileSeries]
    alpha: float = 0.05
    shift_s: float = 1.0
    # Time to target: within this relative distance of the best plan on the instance.
    target_tolerance: float = 1e-3
    # What "never reached the target" counts as in time statistics: 2 x the time limit.
    unreached_time_s: float | None = None
    # GAP profit files read with --maximise: objectives are negated profits (min is best).
    maximise: bool = False
    notes: list[str] = Field(default_factory=list)
