"""Large-neighbourhood search: free the tasks of a few agents, re-solve them exactly (by the
knapsack branch and bound where its relaxation serves the sub-model, else by CP-SAT).

Starts from the best of the hints and the greedy plan; neighbourhoods come from the
LP solution, Lagrangian reduced costs, the agents' shares of the duality gap and
chance, each rule drawn by its recent gain; each new incumbent is first polished by
descents over every shift, swap and two-step ejection chain, then over cyclic and path
exchanges among many agents (`polish.py`);
stops when the incumbent meets the LP / Lagrangian bound. Plans other solvers of a
portfolio find meanwhile (`SolveOptions.new_peer_plans`) replace the incumbent when
better, and so do the roundings of the knapsack climb's late multipliers, repaired and
descended (`knapsack_beside.py`: restarts in other basins). Applies to separable scores
(cost, migrations, unassigned). When no feasible starting plan exists, it says so in its
notes and hands the whole request to CP-SAT (through the registry) for the rest of the
time.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from models import CompiledProblem, evaluate_plan
from solvers.base import SolveOptions, SolveResult, SolveStatus, StopReason, TraceRecorder
from solvers.bounds.lagrangian import pair_costs
from solvers.cpsat.run import RunOutcome
from solvers.lns.greedy_start import greedy_start
from solvers.lns.knapsack_beside import KnapsackBeside
from solvers.lns.neighbourhoods import RULES, NeighbourhoodPicker
from solvers.lns.polish import Polisher
from solvers.lns.repair import overload_neighbourhood, shift_repair
from solvers.lns.rule_choice import RuleChooser
from solvers.lns.start_bounds import integral_target, start_bounds
from solvers.lns.steps import Lanes, Step, StepSizes
from solvers.lns.sub_solve import solve_exactly, solve_neighbourhood
from solvers.lns.subproblem import SubProblem, cut_subproblem
from solvers.lns.tabu import TabuBursts
from solvers.registry import get_solver
from solvers.shared.hints import best_hint
from solvers.shared.timing import timed_solve

__all__ = ["SEPARABLE", "LnsSolver"]

#: Objectives that are sums over tasks, so a sub-problem's objective is the global one.
SEPARABLE = frozenset({"cost", "migrations", "unassigned"})
#: Neighbourhoods of the rounded LP plan tried at most per agent while repairing it.
_REPAIR_ATTEMPTS_PER_AGENT = 4
#: Waiting (unassigned) tasks an agent-rule cut also frees, at most.
_WAITING_TAKERS = 50
#: Share of the limit the LNS waits, at most, for the knapsack bound's penalties before
#: its starts (the kernel loads in ~1 s in a fresh process; the climb takes 0.02-0.6 s
#: on the small GAPs).
KNAPSACK_WAIT = 0.12


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
        reason = self.skip_reason(problem, options)
        if reason is not None:
            return SolveResult(
                self.name, SolveStatus.SKIPPED, StopReason.NOT_STARTED, notes=[reason]
            )
        return timed_solve(self.name, lambda recorder: _Search(problem, options, recorder).run())


@dataclass(frozen=True)
class _Cut:
    """A neighbourhood handed to a lane, and the step that cut it."""

    step: Step
    sub: SubProblem


#: What a lane hands back: the sub-solve's outcome, seconds taken, its time limit, and
#: whether the knapsack branch and bound solved it (else CP-SAT).
_LaneResult = tuple[RunOutcome, float, float, bool]


class _Search:
    """One LNS run: bounds, a starting plan, then lanes of exact sub-solves."""

    def __init__(self, problem: CompiledProblem, options: SolveOptions, recorder: TraceRecorder):
        self.problem, self.options, self.recorder = problem, options, recorder
        self.rng = np.random.default_rng(options.seed)
        self.notes: list[str] = []
        spec = problem.objectives
        self.weights = {n: spec.weight(n) for n in spec.active}
        self.best: np.ndarray | None = None
        self.best_score = np.inf
        self.target = -np.inf  # the bound the incumbent must meet to be optimal
        self.bound_method: str | None = None  # how `target` was obtained
        self.knapsack: KnapsackBeside | None = None  # the bound climbing beside the search
        self.peer_plans_taken = 0
        self.knapsack_sub_solves = 0  # sub-solves the knapsack branch and bound made
        self.trail_roundings: list[tuple[np.ndarray, np.ndarray]] = []  # still to try
        self.trail_starts = 0  # trail roundings repaired and descended
        self.trail_taken = 0  # ... that gave a better incumbent
        self.rules = RuleChooser(RULES, self.rng)
        cost = pair_costs(problem)[0]
        self.polisher = Polisher(problem, cost, options.time_limit_s, self.rng)
        self.tabu = TabuBursts(problem, cost, options.seed, options.time_limit_s)

    def left(self) -> float:
        return self.options.time_limit_s - self.recorder.elapsed()

    def searching(self) -> bool:
        """Time is left and the incumbent has not met the bound."""
        return self.left() > 0.05 and self.best_score > self.target + 1e-9

    def offer(self, plan: np.ndarray, report: bool = True) -> bool:
        """Keep `plan` if feasible and no worse; report strict improvements (a peer's
        plan is not reported: it is the other solver's, and the portfolio has it)."""
        ev = evaluate_plan(self.problem, plan)
        if not ev.feasible or ev.score > self.best_score + 1e-9:
            return False
        improved = ev.score < self.best_score - 1e-9
        self.best, self.best_score = plan.astype(np.int32), ev.score
        if improved and report:
            self.recorder.record(ev.score)
            self.options.report_incumbent(self.best, ev.score)
        return True

    def run(self) -> SolveResult:
        # The knapsack bound climbs from the start, its kernel loading while the LP runs.
        self.knapsack = KnapsackBeside(
            self.problem,
            self.options.time_limit_s,
            self._raise,
            lambda: self.best_score,
            self.tabu.correlation,
        )
        try:
            bounds = start_bounds(self.problem, self.options)
            target = integral_target(self.problem, bounds.bound)
            if target > self.target:  # (the knapsack may have raised it already)
                self.target, self.bound_method = target, bounds.method
            self.notes.append(f"bounds after {self.recorder.elapsed():.2f} s")
            return self._run(bounds.x_frac, self._prices(bounds.reduced))
        finally:
            self._end_knapsack()

    def _prices(self, reduced: np.ndarray) -> np.ndarray:
        """What ranks each task's agents for the starts and the cuts: the knapsack bound's
        forced-pair penalties when they come within KNAPSACK_WAIT of the limit (A/B,
        LNS alone, 10 s, 9 small C/D/E, 2 seeds: mean 0.264 -> 0.176 %, better on all
        nine), else the capacity dual's reduced costs until they come."""
        assert self.knapsack is not None
        self.knapsack.wait(KNAPSACK_WAIT * self.options.time_limit_s - self.recorder.elapsed())
        penalties = self.knapsack.take_penalties()
        return reduced if penalties is None else penalties

    def _end_knapsack(self) -> None:
        """Stop the knapsack climb (its best bound so far counts) and note it, once."""
        if self.knapsack is not None:
            self.knapsack.stop()
            self.notes.append(self.knapsack.note())
            self.knapsack = None

    def _raise(self, bound: float, method: str) -> None:
        """A better bound from the knapsack thread: the incumbent may now be optimal."""
        target = integral_target(self.problem, bound)
        if target > self.target:
            self.target, self.bound_method = target, method

    def _run(self, x_frac: np.ndarray | None, reduced: np.ndarray | None) -> SolveResult:
        self._incumbent(x_frac, reduced)
        self.notes.append(f"starting plan after {self.recorder.elapsed():.2f} s")
        if self.best is None:
            return self._whole_model_fallback()
        self._polish()
        picker = NeighbourhoodPicker(self.problem, self.rng, reduced, x_frac)
        sizes = StepSizes.initial(self.problem)
        lanes = Lanes.plan(self.options.time_limit_s, self.left(), self.options.workers, sizes)
        steps = self._search(picker, sizes, lanes)
        by_knapsack = (
            f" ({self.knapsack_sub_solves} solved by the knapsack branch and bound, the "
            "rest by CP-SAT)"
            if self.knapsack_sub_solves
            else ""
        )
        self.notes.append(
            f"{steps} LNS steps in {lanes.count} lane(s){by_knapsack}; final neighbourhood "
            f"{sizes.agents} agents / {sizes.tasks} spread tasks"
        )
        self.notes += [n for n in (self.polisher.note(), self.tabu.note()) if n]
        if self.trail_starts:
            self.notes.append(
                f"{self.trail_starts} rounding(s) of the knapsack climb's trail descended, "
                f"{self.trail_taken} better than the incumbent"
            )
        if self.peer_plans_taken:
            self.notes.append(
                f"{self.peer_plans_taken} better plan(s) of other solvers taken as incumbent"
            )
        return self._result()

    def _search(self, picker: NeighbourhoodPicker, sizes: StepSizes, lanes: Lanes) -> int:
        """Keep every lane busy until time runs out or the bound is met; returns steps cut.

        Lanes run asynchronously: a lane that finishes starts the next cut from the
        current incumbent at once instead of waiting for a slow neighbour.
        """
        steps = 0
        running: dict[Future[_LaneResult], _Cut] = {}
        with ThreadPoolExecutor(max_workers=lanes.count) as pool:
            while running or self.searching():
                late = self.knapsack.take_penalties() if self.knapsack else None
                if late is not None:  # the knapsack's penalties came after the starts
                    picker.reprice(late)
                self._offer_duals(picker)
                packing = self.knapsack.take_packing() if self.knapsack else None
                if packing is not None and picker.follow(packing, self.tabu.correlation):
                    self.notes.append("LP rules follow the knapsack relaxation's packing")
                self._take_peer_plans()
                self._start_from_trail()
                self._polish()
                while len(running) < lanes.count and self.searching():
                    rule = self.rules.pick()
                    step = Step.numbered(steps, rule, sizes, self.problem.allow_unassigned)
                    steps += 1
                    cut = self._cut(picker, sizes, step)
                    if cut is not None:
                        running[self._submit(pool, cut, lanes)] = cut
                if running:
                    incumbent = lambda: (self.best, self.best_score)  # noqa: E731
                    finished = self.tabu.wait(running, incumbent, self.offer, self.left)
                    for future in finished:
                        self._learn(running.pop(future), future.result(), sizes)
        return steps

    def _offer_duals(self, picker: NeighbourhoodPicker) -> None:
        """Once the knapsack bound has its multipliers and agent values, the picker may
        draw agents by their share of the duality gap."""
        dual = self.knapsack.result if self.knapsack is not None else None
        if picker.duals is None and dual is not None and dual.agent_values is not None:
            picker.use_duals(self.polisher.cost, dual.multipliers, dual.agent_values)

    def _start_from_trail(self) -> None:
        """One rounding of the knapsack climb's trail per call: repaired by shifts and
        descended, it replaces the incumbent when cheaper (another basin to search)."""
        if self.knapsack is not None:
            self.trail_roundings += self.knapsack.take_roundings()
        while self.trail_roundings:
            rounded, penalties = self.trail_roundings.pop(0)
            plan = shift_repair(self.problem, rounded.astype(np.int32), penalties)
            if evaluate_plan(self.problem, plan).feasible:
                self.trail_starts += 1
                plan = self.polisher.descend_start(plan, self.left())
                if evaluate_plan(self.problem, plan).score < self.best_score - 1e-9:
                    self.offer(plan)  # (not an equal plan: the search goes on from its own)
                    self.trail_taken += 1
                return

    def _polish(self) -> None:
        """Descend from a new incumbent over every shift, swap and two-step chain
        (cheap next to a sub-solve, and it spans all agents at once)."""
        plan = self.polisher.polish(self.best, self.best_score, self.left())
        if plan is not None:
            self.offer(plan)
            self.polisher.last_score = self.best_score  # the next descent waits for better

    def _take_peer_plans(self) -> None:
        """Cut the next cuts around a better plan of the knapsack search or another solver."""
        found = self.knapsack.take_plan() if self.knapsack else None
        if found is not None:
            self.offer(found)
        plan = best_hint(self.problem, self.options.new_peer_plans())
        if plan is not None and self.offer(plan, report=False):
            self.peer_plans_taken += 1

    def _submit(self, pool: ThreadPoolExecutor, cut: _Cut, lanes: Lanes) -> Future[_LaneResult]:
        limit_s = min(lanes.sub_limit_s, self.left())
        seed = self.options.seed + cut.step.number
        dual = self.knapsack.result if self.knapsack is not None else None
        start = None if dual is None else dual.multipliers[cut.sub.tasks]
        return pool.submit(self._solve_sub, cut.sub, limit_s, seed, lanes.sub_workers, start)

    def _learn(self, cut: _Cut, lane_result: _LaneResult, sizes: StepSizes) -> None:
        """Merge a finished sub-solve; adapt the rule weights and the next sizes to it."""
        before = self.best_score
        out, took, limit_s, by_knapsack = lane_result
        self.knapsack_sub_solves += by_knapsack
        proved, fast = self._merge(cut.sub, out, took, limit_s)
        if np.isfinite(before):
            self.rules.reward(cut.step.rule, before - self.best_score, lane_result[1])
        if cut.step.spread_tasks:
            sizes.after_task_step(proved, fast)
            return
        assert self.best is not None
        if proved and len(cut.sub.agents) == sizes.n_agents and not (self.best < 0).any():
            self.target = self.best_score  # the whole request was re-solved
        sizes.after_agent_step(proved, fast)

    def _cut(self, picker: NeighbourhoodPicker, sizes: StepSizes, step: Step) -> _Cut | None:
        """The next neighbourhood around the incumbent (None when it frees nothing).

        Agent rules free every task on the chosen agents; the task rule frees tasks
        spread over all agents, each restricted to the agents `picker.allowed` gives it.
        """
        assert self.best is not None
        if step.spread_tasks:
            by_lp = step.rule == "lp_tasks"
            free, agents = picker.pick_tasks(self.best, sizes.tasks, by_lp)
        else:
            agents = picker.pick(self.best, sizes.agents, step.agent_rule)
            free = np.r_[np.flatnonzero(np.isin(self.best, agents)), self._waiting_for(agents)]
        if not len(free):
            return None
        sub = cut_subproblem(self.problem, self.best, free, agents)
        if step.spread_tasks:
            sub.problem.eligible &= picker.allowed(self.best, sub.tasks, sub.agents)
        sub.hint = sub.restrict(self.best)
        return _Cut(step, sub)

    def _waiting_for(self, agents: np.ndarray) -> np.ndarray:
        """Unassigned tasks that one of `agents` could take (at most _WAITING_TAKERS)."""
        assert self.best is not None
        waiting = np.flatnonzero(self.best < 0)
        if not len(waiting):
            return waiting
        takers = waiting[self.problem.eligible[np.ix_(agents, waiting)].any(axis=0)]
        return takers[:_WAITING_TAKERS]

    def _solve_sub(
        self, sub: SubProblem, limit_s: float, seed: int, workers: int, start: np.ndarray | None
    ) -> _LaneResult:
        """Solve one neighbourhood exactly (runs in a lane thread; touches no state).
        `start`: the knapsack bound's task multipliers for the freed tasks, if it has
        climbed (a warm start for the sub-solve's own climb)."""
        out, took, by_knapsack = solve_neighbourhood(
            sub.problem, self.weights, limit_s, seed, workers, sub.hint, start
        )
        return out, took, limit_s, by_knapsack

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

    def _result(self) -> SolveResult:
        self._end_knapsack()  # first: a bound it has by now may prove the incumbent
        done = self.best_score <= self.target + 1e-9
        return SolveResult(
            solver="lns",
            status=SolveStatus.OPTIMAL if done else SolveStatus.FEASIBLE,
            stop_reason=StopReason.OPTIMAL_PROVEN if done else StopReason.TIME_LIMIT,
            assignment=self.best,
            bound=None if not np.isfinite(self.target) else self.target,
            bound_method=self.bound_method if np.isfinite(self.target) else None,
            objective=self.best_score,
            notes=self.notes,
        )

    def _incumbent(self, x_frac: np.ndarray | None, reduced: np.ndarray | None) -> None:
        """Offer the hints and the other solvers' plans so far (else the greedy plan),
        then each repaired rounding of the LP."""
        hint = best_hint(self.problem, self.options.hints)
        if hint is not None:
            self.offer(hint)
        self._take_peer_plans()
        # A portfolio hints with greedy's plan already, or passes it on while this runs.
        if not self.options.hints and self.best is None:
            greedy_start(self.problem, self.options, self.left(), self.offer)
        roundings = [reduced.argmin(axis=0)] if reduced is not None else []
        if x_frac is not None:
            roundings.append(np.where(x_frac.max(axis=0) > 0, x_frac.argmax(axis=0), -1))
        starts = [] if self.best is None else [self.best.copy()]
        for rounded in roundings:
            plan = shift_repair(self.problem, rounded.astype(np.int32), reduced)
            repaired = self._repair(plan, min(0.1 * self.left(), 1.5))
            if repaired is not None:
                starts.append(repaired)
        # Each start descends before they are compared: the best start is the best basin,
        # not the cheapest plan (d401600: the greedy's plan 0.33 % -> 0.32 %, the LP's
        # rounding 1.12 % -> 0.14 % in 0.5 s).
        for plan in starts:  # (the winner's descent goes on in run's first polish)
            self.offer(self.polisher.descend_start(plan, self.left()) if len(starts) > 1 else plan)

    def _repair(self, plan: np.ndarray, limit_s: float) -> np.ndarray | None:
        """Make a rounded LP plan feasible: re-solve each overloaded agent with its
        least-loaded neighbours (the LP leaves at most m split tasks, so few agents)."""
        stop = self.recorder.elapsed() + limit_s
        for attempt in range(_REPAIR_ATTEMPTS_PER_AGENT * self.problem.n_agents):
            ev = evaluate_plan(self.problem, plan)
            if ev.feasible:
                return plan
            if self.recorder.elapsed() > stop:
                return None
            agents = overload_neighbourhood(self.problem, ev.agent_usage, attempt, self.rng)
            free = np.flatnonzero(np.isin(plan, agents) | (plan < 0))
            sub = cut_subproblem(self.problem, plan, free, agents)
            limit = min(0.5, max(0.05, stop - self.recorder.elapsed()))
            seed = self.options.seed + attempt
            out, _ = solve_exactly(
                sub.problem, self.weights, limit, seed, self.options.workers, None
            )
            if out.assignment is not None:
                plan = sub.merge(plan, out.assignment)
        return None

    def _whole_model_fallback(self) -> SolveResult:
        """No feasible starting plan, so no neighbourhood to cut: hand the whole request
        to CP-SAT (another engine, reached through the registry) for the time left."""
        self._end_knapsack()
        bound = self.target
        options = SolveOptions(
            time_limit_s=max(0.1, self.left()),
            seed=self.options.seed,
            workers=self.options.workers,
            hints=list(self.options.hints),
            on_incumbent=self.options.on_incumbent,
        )
        result = get_solver("cpsat").solve(self.problem, options)
        result.solver = "lns"
        fallback = "no feasible starting plan: ran CP-SAT on the whole model (fallback)"
        result.notes = [fallback, *self.notes, *result.notes]
        if result.assignment is not None:
            self.recorder.record(float(result.objective or 0.0))
        if result.bound is None and np.isfinite(bound):
            result.bound = bound
        return result
