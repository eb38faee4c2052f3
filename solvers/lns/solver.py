"""Large-neighbourhood search: free the tasks of a few agents, re-solve them exactly with CP-SAT.

Starts from the best of the hints and the greedy plan; neighbourhoods come from the
LP solution, Lagrangian reduced costs and chance; stops when the incumbent meets the
LP / Lagrangian bound. Applies to separable scores (cost, migrations, unassigned).
"""

from __future__ import annotations

import multiprocessing as mp
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

import highspy
import numpy as np

from models import CompiledProblem, evaluate_plan
from solvers.base import SolveOptions, SolveResult, SolveStatus, StopReason, TraceRecorder
from solvers.bounds.lagrangian import lagrangian_dual, pair_costs
from solvers.bounds.solver import LP_MAX_PAIRS, lp_relaxation
from solvers.cpsat.model import formulate
from solvers.cpsat.run import RunOutcome, run_model, scale_objective
from solvers.lns.neighbourhoods import RULES, NeighbourhoodPicker
from solvers.lns.repair import shift_repair
from solvers.lns.subproblem import SubProblem, cut_subproblem
from solvers.registry import get_solver

__all__ = ["SEPARABLE", "LnsSolver"]

#: Objectives that are sums over tasks, so a sub-problem's objective is the global one.
SEPARABLE = frozenset({"cost", "migrations", "unassigned"})
#: Tasks per sub-problem to aim for at the start; adapted by how fast sub-solves prove.
_TARGET_TASKS = 80
_DEBUG = False
#: Parallel sub-solves at most (one CP-SAT worker each).
_MAX_LANES = 4


class LnsSolver:
    """Anytime LNS around an incumbent with exact CP-SAT sub-solves."""

    name = "lns"
    exact = False  # proves optimality only when the incumbent meets the bound
    multi_objective = False
    anytime = True

    def available(self) -> bool:
        return True

    def skip_reason(self, problem: CompiledProblem, options: SolveOptions) -> str | None:
        spec = problem.objectives
        if spec.mode != "weighted":
            return f"lns optimises a weighted score; mode is {spec.mode} (use cpsat or nsga2)"
        other = sorted(set(spec.active) - SEPARABLE)
        if other:
            return (
                f"lns needs a score that is a sum over tasks; {', '.join(other)} couple "
                "all agents (use cpsat, milp or greedy)"
            )
        return None

    def solve(self, problem: CompiledProblem, options: SolveOptions) -> SolveResult:
        recorder = TraceRecorder()
        reason = self.skip_reason(problem, options)
        if reason is not None:
            return SolveResult(
                self.name, SolveStatus.SKIPPED, StopReason.NOT_STARTED, notes=[reason]
            )
        try:
            result = _Search(problem, options, recorder).run()
        except Exception as exc:  # a backend failure must never fail the request
            result = SolveResult(self.name, SolveStatus.ERROR, StopReason.ERROR, error=repr(exc))
        result.trace = recorder.trace
        result.wall_time_s = recorder.elapsed()
        result.time_to_first_s = recorder.time_to_first_s
        result.time_to_best_s = recorder.time_to_best_s
        return result


class _Search:
    def __init__(self, problem: CompiledProblem, options: SolveOptions, recorder: TraceRecorder):
        self.problem, self.options, self.recorder = problem, options, recorder
        self.rng = np.random.default_rng(options.seed)
        self.notes: list[str] = []
        spec = problem.objectives
        self.weights = {n: spec.weight(n) for n in spec.active}
        self.best: np.ndarray | None = None
        self.best_score = np.inf

    def left(self) -> float:
        return self.options.time_limit_s - self.recorder.elapsed()

    def offer(self, plan: np.ndarray) -> bool:
        """Keep `plan` if feasible and no worse; report strict improvements."""
        ev = evaluate_plan(self.problem, plan)
        if not ev.feasible or ev.score > self.best_score + 1e-9:
            return False
        improved = ev.score < self.best_score - 1e-9
        self.best, self.best_score = plan.astype(np.int32), ev.score
        if improved:
            self.recorder.record(ev.score)
            self.options.report_incumbent(self.best, ev.score)
        return True

    def run(self) -> SolveResult:
        bound, x_frac, reduced = self._bounds()
        target = _integral_target(self.problem, bound)
        self.notes.append(f"bounds after {self.recorder.elapsed():.2f} s")
        self._incumbent(x_frac, reduced)
        self.notes.append(f"starting plan after {self.recorder.elapsed():.2f} s")
        if self.best is None:
            return self._fallback(bound)
        picker = NeighbourhoodPicker(self.problem, self.rng, reduced, x_frac)
        m, n = self.problem.n_agents, self.problem.n_tasks
        size = int(np.clip(round(_TARGET_TASKS * m / max(n, 1)), 2, m))
        sub_cap = float(np.clip(self.options.time_limit_s / 40, 0.1, 2.0))
        # Small sub-models prove several times faster on one CP-SAT worker than on two
        # (measured on D-type GAP neighbourhoods), and CP-SAT releases the GIL, so
        # each worker runs its own sub-solve in a thread ("lane").
        lanes = max(1, min(self.options.workers, _MAX_LANES))
        if size == m:  # small request: each step is the whole model, give it the time
            sub_cap, lanes = self.left(), 1
        sub_workers = 1 if lanes > 1 else self.options.workers
        step, count = 0, min(n, _TARGET_TASKS)
        running: dict[Future[tuple[RunOutcome, float, float]], tuple[bool, SubProblem]] = {}
        with ThreadPoolExecutor(max_workers=lanes) as pool:
            # Lanes run asynchronously: a lane that finishes starts the next cut from
            # the current incumbent at once instead of waiting for a slow neighbour.
            while running or (self.left() > 0.05 and self.best_score > target + 1e-9):
                while (
                    len(running) < lanes and self.left() > 0.05 and self.best_score > target + 1e-9
                ):
                    rule = RULES[step % len(RULES)]
                    task_rule = rule == "tasks" and size < m and not self.problem.allow_unassigned
                    sub = self._cut(picker, size, count, rule, task_rule)
                    seed = self.options.seed + step
                    step += 1
                    if sub is not None:
                        limit = min(sub_cap, self.left())
                        future = pool.submit(self._solve_sub, sub, limit, seed, sub_workers)
                        running[future] = (task_rule, sub)
                if not running:
                    continue
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    task_rule, sub = running.pop(future)
                    proved, fast = self._merge(sub, *future.result())
                    if task_rule:  # task steps adapt their own size: many agents, few tasks
                        if proved and fast:
                            count = min(n, int(count * 1.15) + 1)
                        elif not proved:
                            count = max(10, int(count * 0.85))
                        continue
                    if proved and len(sub.agents) == m and not (self.best < 0).any():
                        target = self.best_score  # the whole request was re-solved
                    if proved and fast:
                        size = min(m, size + 1)
                    elif not proved:
                        size = max(2, size - 1)
                if _DEBUG:
                    self.notes.append(
                        f"step {step} size {size} count {count} "
                        f"t {self.recorder.elapsed():.2f} best {self.best_score}"
                    )
        done = self.best_score <= target + 1e-9
        self.notes.append(
            f"{step} LNS steps in {lanes} lane(s); final neighbourhood {size} agents / "
            f"{count} spread tasks"
        )
        return SolveResult(
            solver="lns",
            status=SolveStatus.OPTIMAL if done else SolveStatus.FEASIBLE,
            stop_reason=StopReason.OPTIMAL_PROVEN if done else StopReason.TIME_LIMIT,
            assignment=self.best,
            bound=None if not np.isfinite(target) else target,
            objective=self.best_score,
            notes=self.notes,
        )

    def _cut(
        self, picker: NeighbourhoodPicker, size: int, count: int, rule: str, task_rule: bool
    ) -> SubProblem | None:
        """The next neighbourhood around the incumbent (None when it frees nothing).

        Agent rules free every task on the chosen agents; the task rule frees tasks
        spread over all agents, each restricted to the agents `picker.allowed` gives it.
        """
        assert self.best is not None
        if task_rule:
            free, agents = picker.pick_tasks(self.best, count)
        else:
            agents = picker.pick(self.best, size, "random" if rule == "tasks" else rule)
            free = np.flatnonzero(np.isin(self.best, agents))
            waiting = np.flatnonzero(self.best < 0)
            if len(waiting):
                takers = waiting[self.problem.eligible[np.ix_(agents, waiting)].any(axis=0)]
                free = np.r_[free, takers[:50]]
        if not len(free):
            return None
        sub = cut_subproblem(self.problem, self.best, free, agents)
        if task_rule:
            sub.problem.eligible &= picker.allowed(self.best, sub.tasks, sub.agents)
        sub.hint = sub.restrict(self.best)
        return sub

    def _solve_sub(
        self, sub: SubProblem, limit_s: float, seed: int, workers: int
    ) -> tuple[RunOutcome, float, float]:
        """Solve one neighbourhood exactly (runs in a lane thread; touches no state).

        Returns (outcome, seconds taken, time limit)."""
        model = formulate(sub.problem, tuple(self.weights))
        objective = scale_objective(model, self.weights)
        options = SolveOptions(time_limit_s=limit_s, seed=seed, workers=workers)
        start = self.recorder.elapsed()
        out = run_model(model, objective, sub.problem, options, limit_s, TraceRecorder(), sub.hint)
        return out, self.recorder.elapsed() - start, limit_s

    def _merge(
        self, sub: SubProblem, out: RunOutcome, took: float, limit_s: float
    ) -> tuple[bool, bool]:
        """Offer the sub-plan merged into the incumbent (another lane may have moved it
        since the cut; `offer` re-checks the whole plan, so a clash is just rejected).
        Returns (proved optimal, proved in under a third of its time)."""
        assert self.best is not None
        if out.assignment is not None:
            self.offer(sub.merge(self.best, out.assignment))
        proved = out.status_name == "OPTIMAL"
        return proved, took < limit_s / 3

    def _bounds(self) -> tuple[float, np.ndarray | None, np.ndarray | None]:
        """Best of known, LP and Lagrangian bounds; the LP point and reduced costs."""
        problem, budget = self.problem, self.options.time_limit_s
        bound = self.options.known_bound if self.options.known_bound is not None else -np.inf
        x_frac = None
        if int(problem.eligible.sum()) <= LP_MAX_PAIRS:
            if mp.parent_process() is not None:
                # A forked solver process inherits HiGHS's global thread scheduler from
                # its parent; asking for another thread count then fails ("Not Set").
                # Alone in this process, a reset is safe.
                highspy.Highs.resetGlobalScheduler(True)
            lp_value, x_frac = lp_relaxation(problem, 0.3 * budget, self.options.workers)
            if lp_value is not None:
                bound = max(bound, lp_value)
        dual = lagrangian_dual(problem, min(0.1 * budget, 2.0), 500)
        bound = max(bound, dual.bound)
        return bound, x_frac, dual.reduced_costs(problem)

    def _incumbent(self, x_frac: np.ndarray | None, reduced: np.ndarray | None) -> None:
        for hint in self.options.hints:
            h = np.asarray(hint)
            if h.shape == (self.problem.n_tasks,) and h.max(initial=-1) < self.problem.n_agents:
                self.offer(h.astype(np.int32))
        if not self.options.hints:  # a portfolio hints with greedy's plan already
            greedy = _greedy_plan(self.problem, self.options, min(0.1 * self.left(), 1.0))
            if greedy is not None:
                self.offer(greedy)
        roundings = [reduced.argmin(axis=0)] if reduced is not None else []
        if x_frac is not None:
            roundings.append(np.where(x_frac.max(axis=0) > 0, x_frac.argmax(axis=0), -1))
        for rounded in roundings:
            plan = shift_repair(self.problem, rounded.astype(np.int32), reduced)
            repaired = self._repair(plan, min(0.1 * self.left(), 1.5))
            if repaired is not None:
                self.offer(repaired)

    def _repair(self, plan: np.ndarray, limit_s: float) -> np.ndarray | None:
        """Make a rounded LP plan feasible: re-solve each overloaded agent with its
        least-loaded neighbours (the LP leaves at most m split tasks, so few agents)."""
        problem = self.problem
        stop = self.recorder.elapsed() + limit_s
        for attempt in range(4 * problem.n_agents):
            ev = evaluate_plan(problem, plan)
            if ev.feasible:
                return plan
            if self.recorder.elapsed() > stop:
                return None
            cap = np.maximum(problem.capacity.astype(np.float64), 1e-12)
            load = (ev.agent_usage / cap).max(axis=1)
            over = np.flatnonzero(load > 1 + 1e-9)
            size = min(problem.n_agents, 4 + attempt // 8)
            first = over[attempt % len(over)] if len(over) else int(self.rng.integers(len(load)))
            slack = np.argsort(load + self.rng.random(len(load)) * 0.2)
            agents = np.unique(np.r_[first, slack[: size - 1]])
            free = np.flatnonzero(np.isin(plan, agents) | (plan < 0))
            sub = cut_subproblem(problem, plan, free, agents)
            model = formulate(sub.problem, tuple(self.weights))
            objective = scale_objective(model, self.weights)
            options = SolveOptions(seed=self.options.seed + attempt, workers=self.options.workers)
            out = run_model(
                model,
                objective,
                sub.problem,
                options,
                min(0.5, max(0.05, stop - self.recorder.elapsed())),
                TraceRecorder(),
            )
            if out.assignment is not None:
                plan = sub.merge(plan, out.assignment)
        return None

    def _fallback(self, bound: float) -> SolveResult:
        """No feasible start: let CP-SAT search the whole model for the rest of the time."""
        options = SolveOptions(
            time_limit_s=max(0.1, self.left()),
            seed=self.options.seed,
            workers=self.options.workers,
            hints=list(self.options.hints),
            on_incumbent=self.options.on_incumbent,
        )
        result = get_solver("cpsat").solve(self.problem, options)
        result.solver = "lns"
        result.notes.insert(0, "no feasible starting plan: ran CP-SAT on the whole model")
        if result.assignment is not None:
            self.recorder.record(float(result.objective or 0.0))
        if result.bound is None and np.isfinite(bound):
            result.bound = bound
        return result


def _greedy_plan(problem: CompiledProblem, options: SolveOptions, limit_s: float):
    """The greedy heuristic's plan, reached through the registry (it is another engine)."""
    result = get_solver("greedy").solve(
        problem, SolveOptions(time_limit_s=max(0.05, limit_s), seed=options.seed, workers=1)
    )
    return result.assignment


def _integral_target(problem: CompiledProblem, bound: float) -> float:
    """Round the bound up when every plan's score is an integer (GAP costs)."""
    if not np.isfinite(bound):
        return bound
    cost, left_out = pair_costs(problem)
    values = cost[np.isfinite(cost)]
    if left_out is not None:
        values = np.r_[values, left_out]
    if values.size and np.all(np.abs(values - np.round(values)) < 1e-9):
        return float(np.ceil(bound - 1e-6))
    return bound
