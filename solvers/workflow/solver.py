"""`heft`: the workflow engine. HEFT/PEFT list scheduling, CP-SAT on small workflows,
then critical-path local search.

It applies to problems whose tasks have dependencies (`after`) and minimises the
makespan of a schedule; every allocation constraint (capabilities, pins, capacities,
max_tasks, groups) is kept by construction. The returned schedule (`SolveResult.start`)
is re-checked by `evaluate_plan`; one that fails is never reported as a solution.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from models import CompiledProblem, evaluate_plan
from models.evaluation import Evaluation
from solvers.base import SolveOptions, SolveResult, SolveStatus, StopReason, TraceRecorder
from solvers.workflow.cpsat_schedule import (
    fastest_transfers,
    makespan_lower_bound,
    solve_schedule,
)
from solvers.workflow.decode import decode
from solvers.workflow.exact_beside import ExactBeside
from solvers.workflow.graph import WorkflowGraph, build_graph
from solvers.workflow.heft import Schedule, list_schedule, priority_order, upward_ranks
from solvers.workflow.improve import improve
from solvers.workflow.lns import lns_improve
from solvers.workflow.peft import optimistic_cost_table, peft_ranks
from solvers.workflow.routed_paths import (
    improve_on_routed_paths,
    on_routed_paths,
    routed_phase_start,
)
from solvers.workflow.rules import PlacementRules

__all__ = ["HeftSolver", "heft_schedule"]

#: Workflows with at most this many (task, agent) pairs get CP-SAT (exact when it proves
#: the bound) for a share of the time, between two rounds of local search. 50 x 4 (200
#: pairs) gained with it (makespan / HEFT at CCR 5: 0.78 vs 0.83); 100 x 8 lost.
_CP_MAX_PAIRS = 256
#: Beyond this many (task, agent) pairs one HEFT pass alone takes seconds (0.7 s for
#: 5,000 x 100 on the loaded 2-core machine, linear in pairs), so the engine declines.
_MAX_PAIRS = 2_000_000
_LS_FIRST_SHARE = 0.1
_CP_SHARE = 0.8
#: With the exact search (`exact_beside`) the last share of the time is the improvement
#: phase's; the exact search has the rest from list scheduling on.
_LAST_SHARE = 0.05
#: Beyond `_CP_MAX_PAIRS` the improvement phase alternates: local search until it has
#: gone this share of the phase without a gain, then CP-SAT LNS rounds for
#: `_LNS_SHARE` of it, then local search again from the LNS's incumbent.
_STALL_SHARE = 0.1
_LNS_SHARE = 0.15


class HeftSolver:
    """HEFT and PEFT starts, CP-SAT on small workflows, then iterated critical-path moves."""

    name = "heft"
    exact = False
    multi_objective = False
    anytime = True

    def available(self) -> bool:
        return True

    def skip_reason(self, problem: CompiledProblem, options: SolveOptions) -> str | None:
        if problem.workflow is None:
            return "no task lists 'after': heft schedules workflows (tasks with dependencies)"
        pairs = problem.n_tasks * problem.n_agents
        if pairs > _MAX_PAIRS:
            return f"{pairs:,} (task, agent) pairs > {_MAX_PAIRS:,}: list scheduling too slow"
        return None

    def solve(self, problem: CompiledProblem, options: SolveOptions) -> SolveResult:
        recorder = TraceRecorder()
        reason = self.skip_reason(problem, options)
        if reason is not None:
            return SolveResult(
                self.name, SolveStatus.SKIPPED, StopReason.NOT_STARTED, notes=[reason]
            )
        deadline = recorder.start + max(0.0, options.time_limit_s)
        # With a network the last ROUTED_SHARE of the time is for rounds on routed delays.
        search_end = routed_phase_start(problem, deadline)
        graph = build_graph(problem)
        starts = _starts(problem, graph, options, search_end)
        if not starts:
            return SolveResult(
                self.name,
                SolveStatus.NO_SOLUTION,
                StopReason.ITERATIONS_DONE,
                wall_time_s=recorder.elapsed(),
                notes=[
                    "list scheduling found no agent for some task under the constraints "
                    "(capability, pin, capacity, max_tasks, groups, or no network path "
                    "from its predecessors' agents)"
                ],
            )
        first, rules = min(starts, key=lambda pair: pair[0].key())
        notes = [f"list scheduling makespan {first.makespan:.6g} (HEFT, PEFT variants)"]
        _record(problem, first, recorder, options)

        def on_better(schedule: Schedule) -> None:
            _record(problem, schedule, recorder, options)

        rng = np.random.default_rng(options.seed)
        lower = 0.0
        if graph.n * graph.m <= _CP_MAX_PAIRS:
            left = search_end - recorder.start - recorder.elapsed()
            beside = _start_exact(problem, graph, first, options, search_end - _LAST_SHARE * left)
            try:
                # Local search first: CP-SAT prunes and proves far better from a good incumbent.
                first = improve(
                    graph, rules, first, search_end - (1 - _LS_FIRST_SHARE) * left, rng, on_better
                )
                rules = PlacementRules(problem, np.array(first.agent))
                outcome = solve_schedule(
                    problem,
                    graph,
                    first,
                    _CP_SHARE * left,
                    options.workers,
                    options.seed,
                    options.rel_gap,
                    beside,
                )
                if beside is not None:  # both cores to it until its deadline (or its proof)
                    outcome = beside.finish(outcome, _monotonic(search_end - _LAST_SHARE * left))
            finally:
                if beside is not None:
                    beside.stop()  # no search thread outlives the solve
            lower = outcome.lower_bound
            if outcome.agent is not None and outcome.order is not None:
                exact = decode(graph, outcome.order, outcome.agent)
                notes.append(
                    f"CP-SAT makespan {exact.makespan:.6g}, lower bound {lower:.6g} "
                    f"({outcome.branches} branches, "
                    f"deterministic time {outcome.deterministic_s:.2f} s)"
                )
                if exact.key() < first.key():
                    first, rules = exact, PlacementRules(problem, np.array(exact.agent))
                    on_better(first)
        proven = _proven(problem, first.makespan, lower, options.rel_gap)
        if proven:  # on lowest-latency delays: a network's routing may still cost time
            best = improve_on_routed_paths(problem, first, deadline, rng)
        else:
            best = _improve_phase(
                problem, graph, (rules, first), search_end, rng, on_better, options, notes
            )
            best = improve_on_routed_paths(problem, best, deadline, rng)
        chosen, evaluation = _verified(problem, [best, first], deadline)
        if chosen is None:
            return SolveResult(
                self.name,
                SolveStatus.NO_SOLUTION,
                StopReason.TIME_LIMIT,
                wall_time_s=recorder.elapsed(),
                notes=["no schedule passed evaluate_plan; " + _reasons(problem, first)],
            )
        assert evaluation is not None
        notes.append(f"after improvement {chosen.makespan:.6g}")
        if problem.network is not None and chosen.makespan > first.makespan + 1e-9:
            # Proof and bound were on lowest-latency delays; the plan re-timed on its
            # routed paths (or repaired for bandwidth) is not the one they speak of.
            proven, lower = False, 0.0
        makespan_weight = problem.objectives.weight("makespan")
        return SolveResult(
            solver=self.name,
            status=SolveStatus.OPTIMAL if proven else SolveStatus.FEASIBLE,
            stop_reason=StopReason.GAP_REACHED if proven else StopReason.TIME_LIMIT,
            assignment=np.array(chosen.agent, dtype=np.int32),
            start=np.array(chosen.start, dtype=np.float64),
            bound=makespan_weight * lower if _makespan_only(problem) and lower > 0 else None,
            objective=evaluation.score,
            trace=recorder.trace,
            wall_time_s=recorder.elapsed(),
            time_to_first_s=recorder.time_to_first_s,
            time_to_best_s=recorder.time_to_best_s,
            notes=notes,
        )


def _improve_phase(
    problem: CompiledProblem,
    graph: WorkflowGraph,
    start: tuple[PlacementRules, Schedule],
    until: float,
    rng: np.random.Generator,
    on_better: Callable[[Schedule], None],
    options: SolveOptions,
    notes: list[str],
) -> Schedule:
    """Local search until `until`; beyond `_CP_MAX_PAIRS`, LNS rounds each time it stalls.

    The whole-model CP-SAT phase covers small workflows; on larger ones the local search
    stalls in a few seconds and the LNS re-places freed windows it cannot reach by moves.
    """
    rules, best = start
    if graph.n * graph.m <= _CP_MAX_PAIRS:
        return improve(graph, rules, best, until, rng, on_better)
    phase = max(0.0, until - time.perf_counter())
    slices = gains = 0
    while time.perf_counter() < until:
        best = improve(graph, rules, best, until, rng, on_better, stall_s=_STALL_SHARE * phase)
        lns_end = min(until, time.perf_counter() + _LNS_SHARE * phase)
        if lns_end - time.perf_counter() <= 0:
            break
        found = lns_improve(problem, graph, best, lns_end, rng, on_better, options.workers)
        slices += 1
        if found.key() < best.key():
            best, gains = found, gains + 1
        # `improve` changed the rules it was given: they no longer hold `best`'s agents.
        rules = PlacementRules(problem, np.array(best.agent))
    if slices:
        notes.append(f"LNS: {slices} slices after the local search stalled, {gains} gained")
    return best


def _start_exact(
    problem: CompiledProblem,
    graph: WorkflowGraph,
    first: Schedule,
    options: SolveOptions,
    until: float,
) -> ExactBeside | None:
    """The exact search in a thread from the list schedule's makespan, when it applies.

    `until` is on `time.perf_counter()`'s clock, as the engine's other deadlines.
    """
    if not ExactBeside.applies(problem, graph, options.workers):
        return None
    allowed = [np.flatnonzero(problem.eligible[:, j]).tolist() for j in range(graph.n)]
    exact = ExactBeside(fastest_transfers(problem, graph), allowed, options.workers)
    lower = makespan_lower_bound(problem, graph)
    exact.start(lower, first.makespan, options.rel_gap, _monotonic(until))
    return exact


def _monotonic(moment: float) -> float:
    """A `time.perf_counter()` moment on `time.monotonic()`'s clock (the exact search's)."""
    return time.monotonic() + (moment - time.perf_counter())


def _makespan_only(problem: CompiledProblem) -> bool:
    spec = problem.objectives
    return spec.mode == "weighted" and spec.active == ("makespan",)


def _proven(problem: CompiledProblem, makespan: float, lower: float, rel_gap: float) -> bool:
    """Optimal within `rel_gap` for the request's score (only when it is the makespan)."""
    return _makespan_only(problem) and lower > 0 and makespan - lower <= rel_gap * makespan


def heft_schedule(problem: CompiledProblem) -> Schedule | None:
    """Plain HEFT (mean-duration upward rank, insertion-based earliest finish)."""
    graph = build_graph(problem)
    rules = PlacementRules(problem)
    return list_schedule(graph, rules, priority_order(graph, upward_ranks(graph, rules)))


def _starts(
    problem: CompiledProblem, graph: WorkflowGraph, options: SolveOptions, deadline: float
) -> list[tuple[Schedule, PlacementRules]]:
    """HEFT with the classic and the optimistic rank, PEFT, and each hint re-timed.

    Classic HEFT always runs; the other variants only while time is left.
    """
    out: list[tuple[Schedule, PlacementRules]] = []
    order = priority_order(graph, upward_ranks(graph, PlacementRules(problem)))

    def optimistic() -> tuple[list[int], list[list[float]] | None]:
        return priority_order(graph, upward_ranks(graph, PlacementRules(problem), True)), None

    def peft() -> tuple[list[int], list[list[float]] | None]:
        table = optimistic_cost_table(graph, PlacementRules(problem))
        return priority_order(graph, peft_ranks(table, PlacementRules(problem))), table.tolist()

    variants = [lambda: (order, None), optimistic, peft]
    for k, variant in enumerate(variants):
        if k > 0 and time.perf_counter() >= deadline:
            break
        ranked, bias = variant()
        rules = PlacementRules(problem)
        schedule = list_schedule(graph, rules, ranked, bias)
        if schedule is not None:
            out.append((schedule, rules))
    for hint in options.hints:
        hint = np.asarray(hint)
        if hint.shape != (graph.n,) or np.any(hint < 0) or np.any(hint >= graph.m):
            continue
        if _allocation_broken(problem, hint):
            continue
        out.append((decode(graph, order, hint.astype(int).tolist()), PlacementRules(problem, hint)))
    return out


def _allocation_broken(problem: CompiledProblem, hint: np.ndarray) -> bool:
    """Whether a hint breaks a constraint other than scheduling (which decode repairs)."""
    ev = evaluate_plan(problem, hint)
    return any(v.kind not in ("precedence", "overlap") for v in ev.violations)


def _record(
    problem: CompiledProblem, schedule: Schedule, recorder: TraceRecorder, options: SolveOptions
) -> None:
    assignment = np.array(schedule.agent, dtype=np.int32)
    score = evaluate_plan(problem, assignment, np.array(schedule.start)).score
    recorder.record(score)
    options.report_incumbent(assignment, score)


def _verified(
    problem: CompiledProblem, schedules: list[Schedule], deadline: float
) -> tuple[Schedule | None, Evaluation | None]:
    passed: list[tuple[Schedule, Evaluation]] = []
    for schedule in schedules:
        left = deadline - time.perf_counter()
        if passed and problem.network is not None and left <= 0:
            break  # another repair and re-timing would run past the limit
        # Transfers on the routed paths; a second repair only in the time left.
        repair_s = 0.5 if not passed else max(0.05, min(0.5, left))
        schedule = on_routed_paths(problem, schedule, repair_s=repair_s)
        ev = evaluate_plan(problem, np.array(schedule.agent), np.array(schedule.start))
        if ev.feasible:
            passed.append((schedule, ev))
    # Re-timed on routed paths, the earlier schedule can come out ahead.
    return min(passed, key=lambda p: p[1].score, default=(None, None))


def _reasons(problem: CompiledProblem, schedule: Schedule) -> str:
    ev = evaluate_plan(problem, np.array(schedule.agent), np.array(schedule.start))
    return "; ".join(v.message for v in ev.violations[:3])
