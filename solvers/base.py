"""The one solver contract: options in, a normalised `SolveResult` out.

Results separate *why it stopped* (`StopReason`) from *what we have* (`SolveStatus`),
because backends misreport (PuLP has said "Optimal" after a time limit).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol, runtime_checkable

import numpy as np

from models import CompiledProblem
from models.run_options import DEFAULT_REL_GAP

__all__ = [
    "SolveOptions",
    "SolveResult",
    "SolveStatus",
    "Solver",
    "StopReason",
    "TraceRecorder",
]


class SolveStatus(StrEnum):
    """What we have."""

    OPTIMAL = "optimal"  # a plan proven optimal (within the requested gap)
    FEASIBLE = "feasible"  # a plan, optimality not proven
    INFEASIBLE = "infeasible"  # proven: no plan satisfies the hard constraints
    NO_SOLUTION = "no_solution"  # stopped (time, cancel) before finding any plan
    ERROR = "error"  # the solver failed; see `error`
    SKIPPED = "skipped"  # not started (not applicable, unavailable, breaker open)


class StopReason(StrEnum):
    """Why the solver stopped."""

    OPTIMAL_PROVEN = "optimal_proven"
    GAP_REACHED = "gap_reached"
    INFEASIBLE_PROVEN = "infeasible_proven"
    TIME_LIMIT = "time_limit"
    ITERATIONS_DONE = "iterations_done"  # generations / local optimum reached
    CANCELLED = "cancelled"
    ERROR = "error"
    NOT_STARTED = "not_started"
    PREVIOUS_ATTEMPT = "previous_attempt"  # a plan an earlier attempt of the job left


@dataclass
class SolveOptions:
    """One budget object every backend honours."""

    time_limit_s: float = 10.0
    seed: int = 0
    workers: int = 1
    rel_gap: float = DEFAULT_REL_GAP  # the same default as RunOptions.rel_gap
    backend: str | None = None  # milp: "highs" or "cbc"
    generations: int | None = None  # nsga2
    population: int = 100  # nsga2
    hints: list[np.ndarray] = field(default_factory=list)  # warm starts (agent index per task)
    # A lower bound another method proved on this mode's bounded quantity (see
    # SolveResult.bound); check it with solvers.shared.proof.checked_known_bound first.
    known_bound: float | None = None
    log: bool = False
    # Same plan on every run: work bounded by iteration counts or the backend's
    # deterministic limits; time_limit_s remains a safety stop (see docs/solver_runs.md).
    deterministic: bool = False
    # Deterministic runs: the seconds the work bounds are sized from (kicks, CP-SAT's
    # deterministic time, generations); time_limit_s may then be longer, as a safety stop.
    work_limit_s: float | None = None

    @property
    def work_s(self) -> float:
        """Seconds to size iteration bounds from: work_limit_s, else time_limit_s."""
        return self.time_limit_s if self.work_limit_s is None else self.work_limit_s

    # Called with (assignment, objective) on each new incumbent, so a portfolio can keep
    # the best plan found so far even if it must stop the solver from outside.
    on_incumbent: Callable[[np.ndarray, float], None] | None = None

    def report_incumbent(self, assignment: np.ndarray, objective: float) -> None:
        if self.on_incumbent is not None:
            self.on_incumbent(assignment, objective)

    # Plans other solvers of the same request found since the last call: a portfolio
    # passes them on while its solvers run (see solvers.portfolio.solver_process).
    peer_plans: Callable[[], list[np.ndarray]] | None = None

    def new_peer_plans(self) -> list[np.ndarray]:
        return self.peer_plans() if self.peer_plans is not None else []


@dataclass
class SolveResult:
    """A solver's normalised answer. `assignment` is int32[n] (-1 = unassigned)."""

    solver: str
    status: SolveStatus
    stop_reason: StopReason
    assignment: np.ndarray | None = None
    start: np.ndarray | None = None  # workflows: float64[n] start times of `assignment`
    front: list[np.ndarray] = field(default_factory=list)  # Pareto plans
    # Workflows: float64[n] start times of each `front` plan (empty: derived by the evaluator).
    front_start: list[np.ndarray] = field(default_factory=list)
    # Proven lower bound on the mode's bounded quantity: the weighted score (weighted
    # mode) or the first objective (lexicographic mode); None in Pareto mode.
    bound: float | None = None
    bound_method: str | None = None  # how `bound` was obtained, for the report
    # Pareto mode: proven lower bound per objective (the ideal point), where proven.
    ideal: dict[str, float] | None = None
    objective: float | None = None  # the solver's own value (reports use evaluate_plan's)
    # Times in seconds from the solver's own start; the portfolio moves them onto the
    # request's clock (solvers.shared.timing.to_request_clock) and sets started_at_s.
    trace: list[tuple[float, float]] = field(default_factory=list)  # (seconds, objective)
    wall_time_s: float = 0.0
    time_to_first_s: float | None = None
    time_to_best_s: float | None = None
    started_at_s: float | None = None
    notes: list[str] = field(default_factory=list)
    error: str | None = None
    hypervolume: float | None = None

    @property
    def has_plan(self) -> bool:
        return self.assignment is not None


@runtime_checkable
class Solver(Protocol):
    """What every registered method provides."""

    name: str
    exact: bool  # can prove optimality / bounds
    multi_objective: bool  # returns a Pareto front
    anytime: bool  # improves an incumbent over time

    def available(self) -> bool:
        """Whether the backend is installed and usable here."""
        ...

    def skip_reason(self, problem: CompiledProblem, options: SolveOptions) -> str | None:
        """Why this solver should not run on this request (None: run it)."""
        ...

    def solve(self, problem: CompiledProblem, options: SolveOptions) -> SolveResult:
        """Solve within options.time_limit_s and return a normalised result."""
        ...


class TraceRecorder:
    """Records (time, objective) improvements from the moment it is created."""

    def __init__(self) -> None:
        self.start = time.perf_counter()
        self.trace: list[tuple[float, float]] = []

    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def record(self, objective: float) -> None:
        if not self.trace or objective < self.trace[-1][1] - 1e-12:
            self.trace.append((self.elapsed(), float(objective)))

    @property
    def time_to_first_s(self) -> float | None:
        return self.trace[0][0] if self.trace else None

    @property
    def time_to_best_s(self) -> float | None:
        return self.trace[-1][0] if self.trace else None
