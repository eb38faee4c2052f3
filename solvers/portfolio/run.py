"""The portfolio: run solvers side by side on one request within one wall-clock budget.

Phase 1 runs the greedy heuristic so there is always a good incumbent; phase 2
starts the other solvers hinted with it (NSGA-II starts halfway, seeded with the
best plans found so far). Every plan is re-checked by `evaluate_plan`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import numpy as np

from models import Problem, RunOptions, compile_problem
from models.compiled import CompiledProblem
from models.diagnosis import diagnose
from models.progress import ProgressEvent
from models.report import ComparisonReport
from solvers.base import SolveOptions, SolveResult, SolveStatus, StopReason
from solvers.portfolio.breaker import SolverBreaker, default_breaker
from solvers.portfolio.inline import solve_inline
from solvers.portfolio.report_building import build_report, infeasible_report
from solvers.portfolio.solver_process import SolverProcess, mp_context
from solvers.portfolio.strategy import choose_solvers
from solvers.registry import get_solver, registered_solvers

__all__ = ["ProgressEvent", "run_portfolio"]

_POLL_S = 0.02
# Greedy-only requests up to this many (agent, task) pairs run in the calling process.
_INLINE_MAX_PAIRS = 20_000
#: Greedy's budget when it runs beside the LNS: it reaches its plateau in about 1 s
#: on 80 x 1600 GAPs here, and every second it runs is a core the LNS lacks.
_LNS_LED_GREEDY_S = 1.0
#: Classic GAPs small enough for HiGHS: greedy's and HiGHS's shares of the budget.
_GREEDY_FIRST_SHARE_BESIDE_LNS = 0.05
_HIGHS_SHARE_BEFORE_LNS = 0.5


def run_portfolio(
    problem: Problem,
    options: RunOptions,
    *,
    on_progress: Callable[[ProgressEvent], None] | None = None,
    stop: threading.Event | None = None,
    breaker: SolverBreaker | None = None,
) -> ComparisonReport:
    """Solve `problem` with the chosen solvers; never raises because a solver failed.

    `breaker` carries solver failures across requests; by default the process-wide
    one. A job runner whose jobs run in fresh processes passes its own (see
    `SolverBreaker.from_dict` / `to_dict`), which this call updates in place.

    Raises:
        UnknownSolverError: options name a solver that is not registered.
    """
    t0 = time.perf_counter()
    breaker = breaker or default_breaker
    if options.solvers is not None:
        for name in options.solvers:
            get_solver(name)  # raises UnknownSolverError with the valid names
    compiled = compile_problem(problem)
    reasons = diagnose(problem, compiled)
    if reasons:
        return infeasible_report(problem, compiled, options, reasons, time.perf_counter() - t0)

    choice = choose_solvers(compiled, options.solvers, registered_solvers())
    skipped = dict(choice.skipped)
    run = []
    for name in choice.run:
        why = breaker.skip_reason(name)
        if why:
            skipped[name] = why
        else:
            run.append(name)
    extra_bound: float | None = None
    if run == ["greedy"] and compiled.n_tasks * compiled.n_agents <= _INLINE_MAX_PAIRS:
        # Small greedy-only requests (the service's fast path): a child process would
        # cost more than the solve itself.
        results = {"greedy": solve_inline(compiled, options, t0, on_progress)}
    else:
        runner = _Runner(compiled, options, t0, on_progress, stop)
        results = runner.run(run)
        extra_bound = runner.lagrangian_bound
    for name, result in results.items():
        failed = result.status == SolveStatus.ERROR or "stopped from outside" in " ".join(
            result.notes
        )
        breaker.record(name, ok=not failed)
    return build_report(
        problem,
        compiled,
        options,
        results,
        skipped,
        extra_bound=extra_bound,
        wall_time_s=time.perf_counter() - t0,
        requested=run + list(skipped),
    )


class _Runner:
    """Drives the child processes of one request."""

    def __init__(
        self,
        compiled: CompiledProblem,
        options: RunOptions,
        t0: float,
        on_progress: Callable[[ProgressEvent], None] | None,
        stop: threading.Event | None,
    ):
        self.compiled = compiled
        self.options = options
        self.t0 = t0
        self.deadline = t0 + options.time_limit_s
        self.grace_s = max(1.0, 0.1 * options.time_limit_s)
        self.on_progress = on_progress
        self.stop = stop or threading.Event()
        self.ctx = mp_context()
        self.results: dict[str, SolveResult] = {}
        self.best: tuple[float, np.ndarray] | None = None
        self.lagrangian_bound: float | None = None
        # With automatic solver choice, the first proof of optimality stops the rest.
        # (Not in Pareto mode: there every solver's front adds points.)
        self.stop_on_optimal = options.solvers is None and compiled.objectives.mode != "pareto"
        self.proven_by: str | None = None

    def _emit(self, event: ProgressEvent) -> None:
        if self.on_progress is not None:
            try:
                self.on_progress(event)
            except Exception:  # a progress listener must not break the solve
                self.on_progress = None

    def _elapsed(self) -> float:
        return time.perf_counter() - self.t0

    def run(self, names: list[str]) -> dict[str, SolveResult]:
        names = list(names)
        bound_thread = self._start_lagrangian(names)
        if set(names) == {"greedy", "lns"}:
            self._run_lns_led()
            names = []
        elif set(names) == {"greedy", "milp", "lns"} and self.compiled.is_pure_gap():
            self._run_highs_then_lns()
            names = []
        elif "greedy" in names:
            others = [n for n in names if n not in ("greedy", "lp_bound")]
            # Alone (large requests), the heuristic gets the whole budget but a margin.
            share = 0.85 if not others else 0.12
            budget = max(0.3, share * self.options.time_limit_s)
            self._run_batch(["greedy"], min(budget, self._remaining()))
            names.remove("greedy")
        late = [n for n in names if n == "nsga2" and len(names) > 1]
        early = [n for n in names if n not in late]
        if early:
            self._run_batch(early, self._remaining(), late=late)
        elif late:
            self._run_batch(late, self._remaining())
        if bound_thread is not None:
            bound_thread.join(timeout=max(0.0, self.deadline - time.perf_counter()) + 1.0)
        return self.results

    def _run_lns_led(self) -> None:
        """Greedy and LNS start together; LNS gets every worker once greedy is done.

        On 2 cores, three solver processes starved the LNS (its CP-SAT sub-solves are
        the search); greedy is kept short as the safety net plan, and the LNS spends
        its first second on the LP and Lagrangian bounds while greedy runs.
        """
        greedy_s = min(_LNS_LED_GREEDY_S, 0.1 * self.options.time_limit_s)
        self._run_batch(
            ["greedy", "lns"],
            self._remaining(),
            limits={"greedy": min(greedy_s, self._remaining())},
            workers={"greedy": 1, "lns": max(1, self.options.workers)},
        )

    def _run_highs_then_lns(self) -> None:
        """Smaller classic GAPs: greedy, then HiGHS on both cores, then LNS from its plan.

        HiGHS proved small C instances optimal in 1-5 s with 2 threads; splitting the
        cores between it and the LNS slowed both, so they take turns, and the LNS
        starts from HiGHS's best plan with its bound.
        """
        budget = self.options.time_limit_s
        self._run_batch(["greedy"], min(_GREEDY_FIRST_SHARE_BESIDE_LNS * budget, 0.5))
        milp_s = min(_HIGHS_SHARE_BEFORE_LNS * budget, self._remaining())
        self._run_batch(["milp"], milp_s, workers={"milp": max(1, self.options.workers)})
        milp = self.results.get("milp")
        if milp is not None and milp.status == SolveStatus.OPTIMAL:
            self.results["lns"] = SolveResult(
                solver="lns",
                status=SolveStatus.SKIPPED,
                stop_reason=StopReason.NOT_STARTED,
                notes=["not started: HiGHS proved its plan optimal first"],
            )
            return
        self._run_batch(["lns"], self._remaining(), workers={"lns": max(1, self.options.workers)})

    def _remaining(self) -> float:
        return max(0.05, self.deadline - time.perf_counter())

    def _solve_options(
        self, name: str, time_limit_s: float, parallel: int, workers: int | None = None
    ) -> SolveOptions:
        hints = [a for _, a in sorted(self._incumbents(), key=lambda x: x[0])][:4]
        return SolveOptions(
            time_limit_s=time_limit_s,
            seed=self.options.seed,
            workers=workers or max(1, self.options.workers // max(1, parallel)),
            rel_gap=self.options.rel_gap,
            backend=self.options.milp_backend,
            hints=hints,
            known_bound=self._known_bound(),
        )

    def _incumbents(self) -> list[tuple[float, np.ndarray]]:
        out = []
        for result in self.results.values():
            if result.assignment is not None and result.objective is not None:
                out.append((result.objective, result.assignment))
        if self.best is not None:
            out.append(self.best)
        return out

    def _known_bound(self) -> float | None:
        bounds = [r.bound for r in self.results.values() if r.bound is not None]
        if self.lagrangian_bound is not None:
            bounds.append(self.lagrangian_bound)
        return max(bounds) if bounds else None

    def _run_batch(
        self,
        names: list[str],
        time_limit_s: float,
        late: list[str] = (),  # type: ignore[assignment]
        limits: dict[str, float] | None = None,
        workers: dict[str, int] | None = None,
    ) -> None:
        """Run `names` side by side; `limits` / `workers` override the shared split."""
        parallel = len(names) + len(late)
        limits, workers = limits or {}, workers or {}
        procs = {
            n: self._start(n, limits.get(n, time_limit_s), parallel, workers.get(n)) for n in names
        }
        late_start = time.perf_counter() + time_limit_s / 2
        pending_late = list(late)
        while procs:
            if pending_late and time.perf_counter() >= late_start:
                for n in pending_late:
                    procs[n] = self._start(n, self._remaining(), parallel)
                pending_late = []
            for name, proc in list(procs.items()):
                self._drain(proc)
                now = time.perf_counter()
                if self.stop.is_set():
                    self._finish(proc, proc.kill(StopReason.CANCELLED, "cancelled by the user"))
                elif self.proven_by is not None:
                    note = f"stopped: {self.proven_by} proved its plan optimal"
                    self._finish(proc, proc.kill(StopReason.GAP_REACHED, note))
                elif proc.done:
                    proc.process.join(timeout=1)
                    self._finish(proc, proc.result or proc.crashed())
                elif not proc.alive():
                    self._drain(proc)
                    self._finish(proc, proc.result or proc.crashed())
                elif now > proc.deadline + self.grace_s:
                    over = now - proc.deadline
                    self._finish(
                        proc,
                        proc.kill(
                            StopReason.TIME_LIMIT,
                            f"overran its limit by {over:.1f} s; stopped from outside",
                        ),
                    )
                else:
                    continue
                del procs[name]
            if procs and (self.stop.is_set() or self.proven_by) and pending_late:
                pending_late = []
            if procs:
                time.sleep(_POLL_S)
        for n in pending_late:
            if n not in self.results:
                self.results[n] = SolveResult(
                    solver=n,
                    status=SolveStatus.SKIPPED,
                    stop_reason=StopReason.CANCELLED
                    if self.stop.is_set()
                    else StopReason.NOT_STARTED,
                    notes=[
                        f"not started: {self.proven_by} proved its plan optimal first"
                        if self.proven_by
                        else "not started: the others finished before its start time"
                    ],
                )

    def _start(
        self, name: str, time_limit_s: float, parallel: int, workers: int | None = None
    ) -> SolverProcess:
        opts = self._solve_options(name, time_limit_s, parallel, workers)
        self._emit(ProgressEvent("started", name, self._elapsed()))
        return SolverProcess.start(name, self.compiled, opts, self.ctx)

    def _drain(self, proc: SolverProcess) -> None:
        for inc in proc.poll():
            if self.best is None or inc.objective < self.best[0]:
                self.best = (inc.objective, inc.assignment)
            self._emit(ProgressEvent("incumbent", proc.name, self._elapsed(), inc.objective))

    def _finish(self, proc: SolverProcess, result: SolveResult) -> None:
        offset = proc.started - self.t0
        result.trace = [(t + offset, v) for t, v in result.trace]
        if not result.trace and proc.incumbent is not None:
            result.trace = [(proc.incumbent.elapsed_s + offset, proc.incumbent.objective)]
        if result.time_to_first_s is not None:
            result.time_to_first_s += offset
        if result.time_to_best_s is not None:
            result.time_to_best_s += offset
        # A killed or crashed solver may still have streamed a plan before it stopped.
        inc = proc.incumbent
        if inc is not None and result.assignment is None:
            result.assignment = inc.assignment
            result.objective = inc.objective
        self.results[proc.name] = result
        if (
            self.stop_on_optimal
            and result.status == SolveStatus.OPTIMAL
            and result.assignment is not None
        ):
            # `solve` (automatic choice) needs one proven plan, not every solver's view.
            self.proven_by = proc.name
        self._emit(
            ProgressEvent("finished", proc.name, self._elapsed(), result.objective, result.bound)
        )
        if result.bound is not None:
            self._emit(ProgressEvent("bound", proc.name, self._elapsed(), bound=result.bound))

    def _start_lagrangian(self, names: list[str]) -> threading.Thread | None:
        """A cheap cost bound when the LP relaxation is not run (large requests)."""
        spec = self.compiled.objectives
        if spec.mode != "weighted" or "lp_bound" in names or spec.weight("cost") <= 0:
            return None
        if self.compiled.allow_unassigned:
            return None  # relaxing "each task exactly once" is only valid when it must hold
        try:
            from solvers.bounds.lagrangian import lagrangian_bound
        except ImportError:
            return None

        def work() -> None:
            try:
                # Alone with the heuristic (large requests) the bound has a core to itself.
                alone = set(names) <= {"greedy"}
                budget = (0.6 if alone else 0.2) * self.options.time_limit_s
                budget = budget if alone else min(2.0, budget)
                value = lagrangian_bound(self.compiled, time_limit_s=budget, iterations=300)
                # Every other objective is >= 0, so w_cost * cost_bound stays valid.
                self.lagrangian_bound = spec.weight("cost") * float(value)
                self._emit(
                    ProgressEvent(
                        "bound", "lagrangian", self._elapsed(), bound=self.lagrangian_bound
                    )
                )
            except Exception:  # a failed bound only costs us the gap figure
                self.lagrangian_bound = None

        thread = threading.Thread(target=work, name="lagrangian-bound", daemon=True)
        thread.start()
        return thread
