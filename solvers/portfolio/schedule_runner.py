"""Run a request's solvers by its strategy: phase after phase, each solver in its own
process with the budget and cores its slot gives it, plans streamed back, every figure
on the request's clock.

The schedule itself is data (`solvers.portfolio.strategy`); nothing here depends on
which solvers a phase holds. The limit is a promise: solvers must end `POST_SOLVE`
seconds before it (their wrap-up and the report need that time), and one still
running halfway into that reserve is stopped, keeping the plan it streamed.

With `deterministic`, no wall-clock race decides anything: a phase's solvers run one
after another in the request's order, each budget is a fixed share of the limit (not
of the time left), hints come only from finished results, and no proof stops the rest.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from models import RunOptions
from models.compiled import CompiledProblem
from models.progress import ProgressEvent
from solvers.base import SolveOptions, SolveResult, SolveStatus, StopReason
from solvers.portfolio.background_bound import BackgroundBound
from solvers.portfolio.bandwidth_checks import engine_view
from solvers.portfolio.run_bounds import known_bound, plans_so_far, proves_optimal, raw_bounds
from solvers.portfolio.solver_process import SolverProcess, mp_context
from solvers.portfolio.strategy import (
    CLOCK_DRIVEN,
    PEER_PLAN_TAKERS,
    POST_SOLVE,
    WORK_BOUNDED,
    Phase,
    Slot,
    Strategy,
    strategy_for,
)
from solvers.registry import get_solver
from solvers.shared.timing import to_request_clock

__all__ = ["ScheduleRunner"]

_POLL_S = 0.02
#: Deterministic runs hand out this share of the nominal clock: the rest absorbs what
#: no work bound covers (process start, model building, HiGHS running to its limit).
_NOMINAL_SHARE = 0.8
_MAX_HINTS = 4
#: A solver given at least this budget has its module imported here once the solvers
#: of its phase have started, so the solvers this process forks later start warm (a
#: service, a job worker). Not before the fork: the child imports its module itself
#: anyway, and importing first in turn held each start back (cold: milp 0.36 s, then
#: lns 0.5 s more). Below it no import here: a one-shot CLI with a short limit must
#: not share its cores with one.
_WARM_PARENT_MIN_S = 2.0


@dataclass
class _Member:
    """A solver placed in the current phase."""

    name: str
    slot: Slot
    start_at: float  # perf_counter time


class ScheduleRunner:
    """Drives the child processes of one request."""

    def __init__(
        self,
        compiled: CompiledProblem,
        options: RunOptions,
        t0: float,
        on_progress: Callable[[ProgressEvent], None] | None,
        stop: threading.Event | None,
        after_s: float = 0.0,
    ):
        self.compiled, self.options, self.t0 = compiled, options, t0
        limit_s = options.time_limit_s
        self.pairs = compiled.n_tasks * compiled.n_agents
        self.reserve_s = POST_SOLVE.seconds(self.pairs, limit_s, after_s)
        self.deadline = t0 + limit_s - self.reserve_s  # every solver's budget ends here
        self.hard_stop = t0 + limit_s - self.reserve_s / 2  # ... and is stopped by here
        self.grace_s = max(1.0, 0.1 * limit_s)
        self.deterministic = options.deterministic
        # Deterministic runs plan on a nominal clock: budgets handed out so far.
        self._nominal_used_s = 0.0
        self.stop = stop or threading.Event()
        self.ctx = mp_context()
        self.results: dict[str, SolveResult] = {}
        self.best: tuple[float, np.ndarray] | None = None
        self.running: dict[str, SolverProcess] = {}  # started and not finished
        self.bound: BackgroundBound | None = None
        # With automatic solver choice, the first proof of optimality stops the rest.
        # (Not in Pareto mode: there every solver's front adds points.)
        self.stop_on_optimal = (
            options.solvers is None
            and compiled.objectives.mode != "pareto"
            and not options.deterministic
        )
        self.proven_by: str | None = None  # stops the others (automatic choice only)
        self.first_proof: str | None = None  # skips `unless_proven` phases
        self._on_progress = on_progress
        self._emit_lock = threading.Lock()  # the bound thread emits too
        self._to_warm: list[str] = []  # started solvers whose modules to import here

    @property
    def lagrangian_bound(self) -> float | None:
        return self.bound.value if self.bound is not None else None

    @property
    def lagrangian_method(self) -> str | None:
        return self.bound.method if self.bound is not None else None

    def run(self, names: list[str]) -> dict[str, SolveResult]:
        strategy = strategy_for(self.compiled, names)
        self.bound = BackgroundBound.start_if_useful(
            self.compiled,
            self.options,
            names,
            self._emit_bound,
            wait=self.deterministic,
            deadline=self.deadline,
        )
        if self.deterministic and self.bound is not None:
            self._nominal_used_s += self.bound.budget_s  # it ran first, on the same clock
        for phase in strategy.phases:
            members = self._members(strategy, phase, names)
            if not members:
                continue
            if phase.unless_proven and self.first_proof is not None:
                note = f"not started: {self.first_proof} proved its plan optimal first"
                for m in members:
                    self.results[m.name] = _not_started(m.name, StopReason.NOT_STARTED, note)
                continue
            if self._too_late_for(phase):
                note = f"not started: only {self._remaining():.2f} s of the budget were left"
                for m in members:
                    self.results[m.name] = _not_started(m.name, StopReason.NOT_STARTED, note)
                continue
            if self.deterministic:
                self._run_in_order(phase, members)
            else:
                self._run_phase(phase, members)
        if self.bound is not None:
            self.bound.join(self.deadline)
        return self.results

    # -- the schedule -------------------------------------------------------------

    def _members(self, strategy: Strategy, phase: Phase, names: list[str]) -> list[_Member]:
        return [_Member(name, slot, 0.0) for name, slot in strategy.slots_for(phase, names)]

    def _too_late_for(self, phase: Phase) -> bool:
        """Whether less is left than the phase's `min_left` (never in a deterministic run:
        there the budgets come from the nominal clock, not from what the wall clock left)."""
        if phase.min_left is None or self.deterministic:
            return False
        return self._remaining() < phase.min_left.seconds(self.options.time_limit_s, float("inf"))

    def _run_in_order(self, phase: Phase, members: list[_Member]) -> None:
        """Deterministic: the phase's solvers one after another, each on every worker,
        with budgets from the limit alone (the phase's share, split evenly)."""
        limit_s = self.options.time_limit_s
        phase_s = phase.budget.seconds(limit_s, self._nominal_left())
        for m in members:
            own = m.slot.budget.seconds(limit_s, phase_s, self.pairs) if m.slot.budget else phase_s
            budget = min(own, phase_s / len(members))
            self._nominal_used_s += budget
            # The work is sized from the nominal budget; the wall clock, up to the
            # request's deadline, is only the safety stop (a slow machine is not a race).
            if m.name in WORK_BOUNDED:
                # Reproducible over punctual: its safety stop may pass the limit by half
                # the grace (0.5 s or 5% of the limit), and the hard stop spares it.
                safety = max(budget, self._remaining() + self.grace_s / 2)
                proc = self._start(m, safety, 1, work_s=budget)
            else:
                proc = self._start(m, budget, 1)
            self._watch({m.name: proc}, [], proc.deadline, 1)

    def _nominal_left(self) -> float:
        usable = _NOMINAL_SHARE * (self.options.time_limit_s - self.reserve_s)
        return max(0.05, usable - self._nominal_used_s)

    def _run_phase(self, phase: Phase, members: list[_Member]) -> None:
        """Start the phase's solvers (late ones at their offset) and watch them to the end."""
        limit_s = self.options.time_limit_s
        phase_start = time.perf_counter()
        phase_s = phase.budget.seconds(limit_s, self._remaining())
        phase_end = phase_start + phase_s
        for m in members:
            late = m.slot.start_share > 0 and len(members) > 1
            m.start_at = phase_start + (m.slot.start_share * phase_s if late else 0.0)
        procs: dict[str, SolverProcess] = {}
        waiting = sorted(members, key=lambda m: m.start_at)
        while waiting and waiting[0].start_at <= phase_start:
            m = waiting.pop(0)
            own = m.slot.budget
            budget = own.seconds(limit_s, self._remaining(), self.pairs) if own else phase_s
            procs[m.name] = self._start(m, budget, len(members))
        self._watch(procs, waiting, phase_end, len(members))

    def _watch(
        self,
        procs: dict[str, SolverProcess],
        waiting: list[_Member],
        phase_end: float,
        parallel: int,
    ) -> None:
        """Poll until every started solver is done; late starters join on time."""
        while procs:
            self._warm_parent()
            now = time.perf_counter()
            while waiting and waiting[0].start_at <= now:
                m = waiting.pop(0)
                budget = max(0.05, phase_end - now)
                procs[m.name] = self._start(m, budget, parallel)
            for name, proc in list(procs.items()):
                result = self._poll(proc)
                if result is not None:
                    self._finish(proc, result)
                    del procs[name]
            if self.stop.is_set() or self.proven_by:
                self._drop_waiting(waiting)
            if procs:
                time.sleep(_POLL_S)
        self._drop_waiting(waiting)

    def _drop_waiting(self, waiting: list[_Member]) -> None:
        """Record the late starters that will not start, with the reason."""
        for m in waiting:
            if self.proven_by:
                note = f"not started: {self.proven_by} proved its plan optimal first"
            else:
                note = "not started: the others finished before its start time"
            stop = StopReason.CANCELLED if self.stop.is_set() else StopReason.NOT_STARTED
            self.results[m.name] = _not_started(m.name, stop, note)
        waiting.clear()

    def _remaining(self) -> float:
        return max(0.05, self.deadline - time.perf_counter())

    def _workers(self, slot: Slot, parallel: int) -> int:
        workers = self.options.workers
        if self.deterministic:
            return workers  # one solver at a time
        if slot.core_share is None:
            return max(1, workers // max(1, parallel))
        return max(1, int(slot.core_share * workers))

    # -- one solver process ---------------------------------------------------------

    def _start(
        self, member: _Member, budget_s: float, parallel: int, work_s: float | None = None
    ) -> SolverProcess:
        # Sorted by objective, then by solver order (stable): equal plans tie the same way.
        incumbents = sorted(self._incumbents(), key=lambda x: x[0])
        hints = [plan for _, plan in incumbents][:_MAX_HINTS]
        opts = SolveOptions(
            time_limit_s=budget_s,
            seed=self.options.seed,
            workers=self._workers(member.slot, parallel),
            rel_gap=self.options.rel_gap,
            backend=self.options.milp_backend,
            deterministic=self.deterministic,
            work_limit_s=work_s,
            hints=hints,
            known_bound=known_bound(self.compiled, hints, self._bounds()),
        )
        if budget_s >= _WARM_PARENT_MIN_S:
            self._to_warm.append(member.name)
        self._emit(ProgressEvent("started", member.name, self._elapsed()))
        problem = engine_view(member.name, self.compiled)  # bandwidth: see bandwidth_checks
        takes = member.name in PEER_PLAN_TAKERS and not self.deterministic
        proc = SolverProcess.start(member.name, problem, opts, self.ctx, takes)
        self.running[member.name] = proc
        return proc

    def _warm_parent(self) -> None:
        """Import the modules of the solvers just started (see _WARM_PARENT_MIN_S); one
        that fails to import fails again in its own process, which reports the error."""
        for name in self._to_warm:
            with contextlib.suppress(Exception):
                get_solver(name)
        self._to_warm.clear()

    def _poll(self, proc: SolverProcess) -> SolveResult | None:
        """The solver's result once it is over (finished, died, stopped); else None."""
        self._drain(proc)
        if self.stop.is_set():
            return proc.kill(StopReason.CANCELLED, "cancelled by the user")
        if self.proven_by is not None:
            note = f"stopped: {self.proven_by} proved its plan optimal"
            return proc.kill(StopReason.GAP_REACHED, note)
        if proc.done:
            proc.reap()
            return proc.result
        if not proc.alive():
            self._drain(proc)
            return proc.result or proc.crashed()
        now = time.perf_counter()
        over = now - proc.deadline
        if over > self.grace_s:
            note = f"overran its limit by {over:.1f} s; stopped from outside"
            return proc.kill(StopReason.TIME_LIMIT, note)
        if now > self.hard_stop and self._request_has_plan(proc) and not self._spared(proc):
            # The limit is a promise once there is something to answer with. Not counted
            # by the breaker: a solver a little late for the report has not failed.
            note = f"stopped at the request's time limit, {max(0.0, over):.2f} s past its budget"
            if self.deterministic:
                note += " (deterministic run cut by the clock: may differ between runs)"
            return proc.kill(StopReason.TIME_LIMIT, note)
        return None

    def _spared(self, proc: SolverProcess) -> bool:
        """Deterministic runs let work-bounded solvers finish their count (see above)."""
        return self.deterministic and proc.name in WORK_BOUNDED

    def _request_has_plan(self, proc: SolverProcess) -> bool:
        """Whether some plan exists (streamed or returned): without one, a solver gets
        its grace however late, since an answer beats a punctual "no solution"."""
        return proc.incumbent is not None or self.best is not None or bool(self._incumbents())

    def _drain(self, proc: SolverProcess) -> None:
        for inc in proc.poll():
            if self.best is None or inc.objective < self.best[0]:
                self.best = (inc.objective, inc.assignment)
                self._pass_on(proc, inc.assignment)
            at, plan = self._elapsed(), inc.assignment  # a job worker keeps the best plan
            self._emit(ProgressEvent("incumbent", proc.name, at, inc.objective, None, plan))

    def _pass_on(self, source: SolverProcess, plan: np.ndarray) -> None:
        """A new best plan of the request goes to the other running solvers that take
        plans (`PEER_PLAN_TAKERS`)."""
        for name, proc in self.running.items():
            if name != source.name:
                proc.send_plan(plan)

    def _finish(self, proc: SolverProcess, result: SolveResult) -> None:
        """Put the result on the request's clock, keep a streamed plan, note a proof."""
        self.running.pop(proc.name, None)
        finished = time.perf_counter()
        if not result.trace and proc.trace:
            result.trace = list(proc.trace)
        inc = proc.incumbent
        # A killed or crashed solver may still have streamed a plan before it stopped.
        if inc is not None and result.assignment is None:
            result.assignment, result.objective = inc.assignment, inc.objective
        to_request_clock(result, proc.started - self.t0, finished - proc.started)
        if self.deterministic and proc.name in CLOCK_DRIVEN:
            result.notes.append(
                f"not reproducible in a deterministic run: {CLOCK_DRIVEN[proc.name]}"
            )
        self.results[proc.name] = result
        plans = [p for _, p in self._incumbents()]
        if proves_optimal(self.compiled, result, plans, self._bounds(), self.options.rel_gap):
            self.first_proof = self.first_proof or proc.name
            if self.stop_on_optimal:
                self.proven_by = proc.name
        self._emit(
            ProgressEvent("finished", proc.name, self._elapsed(), result.objective, result.bound)
        )
        if result.bound is not None:
            self._emit(ProgressEvent("bound", proc.name, self._elapsed(), bound=result.bound))

    # -- plans and bounds (run_bounds) ------------------------------------------------

    def _incumbents(self) -> list[tuple[float, np.ndarray]]:
        return plans_so_far(self.results, self.best, self.deterministic)

    def _bounds(self) -> list[float]:
        return raw_bounds(self.results, self.lagrangian_bound)

    # -- progress -------------------------------------------------------------------

    def _elapsed(self) -> float:
        return time.perf_counter() - self.t0

    def _emit(self, event: ProgressEvent) -> None:
        with self._emit_lock:
            if self._on_progress is None:
                return
            try:
                self._on_progress(event)
            except Exception:  # a progress listener must not break the solve
                self._on_progress = None

    def _emit_bound(self, value: float) -> None:
        self._emit(ProgressEvent("bound", "lagrangian", self._elapsed(), bound=value))


def _not_started(name: str, stop: StopReason, note: str) -> SolveResult:
    return SolveResult(solver=name, status=SolveStatus.SKIPPED, stop_reason=stop, notes=[note])
