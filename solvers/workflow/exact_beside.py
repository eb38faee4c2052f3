"""The workflow exact search (`exact_search.bisect_makespan`) in a thread beside the
engine's other phases, on small workflows with two or more workers.

It starts right after list scheduling (from that makespan and `makespan_lower_bound`)
on the core the local search leaves idle, runs beside CP-SAT (which then has one worker
fewer; both release the GIL), and once CP-SAT is done it takes every worker's core
(one search thread per worker, `exact_pool`) until its deadline. Whichever of the two proves
first stops the other; the engine waits for the proof or the deadline, then merges.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING

import numpy as np

from models import CompiledProblem
from solvers.workflow.decode import decode
from solvers.workflow.exact_search import ExactOutcome, bisect_makespan
from solvers.workflow.graph import WorkflowGraph

if TYPE_CHECKING:
    from ortools.sat.python import cp_model

    from solvers.workflow.cpsat_schedule import CpScheduleOutcome

__all__ = ["EXACT_MAX_TASKS", "ExactBeside"]

#: Workflows up to this many tasks get the exact search.
EXACT_MAX_TASKS = 40


class ExactBeside:
    """One workflow's exact search in a thread: `start`, `attach` CP-SAT (stopped by a
    proof), `free_core` when CP-SAT is done, then `finish` (wait, stop, merge). The
    thread is always joined by `finish` or `stop`."""

    def __init__(self, graph: WorkflowGraph, allowed: list[list[int]], threads: int = 2) -> None:
        self.graph, self.allowed = graph, allowed  # transfers no slower than any path's
        self.threads = threads  # search threads once CP-SAT is done
        self.cancel, self.helper = threading.Event(), threading.Event()
        self.lock = threading.Lock()
        self.solver: cp_model.CpSolver | None = None
        self.found: ExactOutcome | None = None
        self.thread: threading.Thread | None = None

    @staticmethod
    def applies(problem: CompiledProblem, graph: WorkflowGraph, workers: int) -> bool:
        """Two or more workers, at most `EXACT_MAX_TASKS` tasks, only rules the search
        knows (eligibility; no capacity use, max_tasks, groups or unassigned tasks), and
        not in Pareto mode: there no makespan proof is reported, and the cores are
        better spent on the front."""
        return (
            workers >= 2
            and problem.objectives.mode != "pareto"
            and graph.n <= EXACT_MAX_TASKS
            and not (
                bool(np.any(problem.usage[problem.eligible] > 0))
                or problem.anti_affinity
                or problem.co_location
                or problem.allow_unassigned
                or bool(np.any(problem.max_tasks < problem.n_tasks))
            )
        )

    @property
    def proven(self) -> bool:
        return self.found is not None and self.found.complete

    def start(self, lower: float, upper: float, rel_gap: float, deadline: float) -> None:
        """Bisect between a proven `lower` and an achieved `upper` until `deadline`
        (`time.monotonic()`)."""

        def run() -> None:
            # Its schedules are timed with real durations: the whole gap (less round-off).
            found = bisect_makespan(
                self.graph,
                self.allowed,
                lower,
                upper,
                rel_gap * 0.99,
                deadline,
                self.cancel,
                self.helper,
                self.threads,
            )
            with self.lock:
                self.found = found
                if self.proven and self.solver is not None:
                    self.solver.stop_search()

        self.thread = threading.Thread(target=run, name="workflow-exact", daemon=True)
        self.thread.start()

    def attach(self, solver: cp_model.CpSolver) -> bool:
        """Let a proof stop `solver`'s search; False when the search already proved (then
        CP-SAT need not run)."""
        with self.lock:
            self.solver = solver
            return not self.proven

    def free_core(self) -> None:
        """CP-SAT is done: the other search threads join."""
        with self.lock:
            self.solver = None
        self.helper.set()

    def stop(self) -> None:
        if self.thread is not None:
            self.cancel.set()
            self.thread.join()

    def finish(self, outcome: CpScheduleOutcome, until: float) -> CpScheduleOutcome:
        """Both cores to the search until it ends or `until` (`time.monotonic()`), unless
        CP-SAT proved `outcome`; then stop it and merge its bound and schedule in."""
        self.free_core()
        if self.thread is not None and not outcome.proven:
            self.thread.join(timeout=max(0.0, until - time.monotonic()))
        self.stop()
        self.merge(outcome)
        return outcome

    def merge(self, outcome: CpScheduleOutcome) -> None:
        """Raise `outcome`'s bound to the search's (every refuted target is a bound on
        this relaxation) and take its schedule when shorter than CP-SAT's."""
        found, graph = self.found, self.graph
        if found is None:
            return
        outcome.lower_bound = max(outcome.lower_bound, found.lower_bound)
        outcome.proven = outcome.proven or found.complete
        if found.agent is None or found.start is None:
            return
        cp_sat = outcome.agent is not None and outcome.order is not None
        if cp_sat and decode(graph, outcome.order, outcome.agent).makespan <= found.makespan:  # type: ignore[arg-type]
            return
        position = {j: k for k, j in enumerate(graph.topo)}
        start = found.start
        outcome.agent = found.agent
        outcome.order = sorted(range(graph.n), key=lambda j: (start[j], position[j]))
