"""`heft`: the workflow engine. HEFT list scheduling, then critical-path local search.

It applies to problems whose tasks have dependencies (`after`) and minimises the
makespan of a schedule; every allocation constraint (capabilities, pins, capacities,
max_tasks, groups) is kept by construction. The returned schedule (`SolveResult.start`)
is re-checked by `evaluate_plan`; one that fails is never reported as a solution.
"""

from __future__ import annotations

import numpy as np

from models import CompiledProblem, evaluate_plan
from models.evaluation import Evaluation
from solvers.base import SolveOptions, SolveResult, SolveStatus, StopReason, TraceRecorder
from solvers.workflow.decode import decode
from solvers.workflow.graph import WorkflowGraph, build_graph
from solvers.workflow.heft import Schedule, list_schedule, priority_order, upward_ranks
from solvers.workflow.improve import improve
from solvers.workflow.peft import optimistic_cost_table, peft_ranks
from solvers.workflow.rules import PlacementRules

__all__ = ["HeftSolver", "heft_schedule"]


class HeftSolver:
    """HEFT, then iterated critical-path moves and swaps until the time limit."""

    name = "heft"
    exact = False
    multi_objective = False
    anytime = True

    def available(self) -> bool:
        return True

    def skip_reason(self, problem: CompiledProblem, options: SolveOptions) -> str | None:
        if problem.workflow is None:
            return "no task lists 'after': heft schedules workflows (tasks with dependencies)"
        return None

    def solve(self, problem: CompiledProblem, options: SolveOptions) -> SolveResult:
        recorder = TraceRecorder()
        reason = self.skip_reason(problem, options)
        if reason is not None:
            return SolveResult(
                self.name, SolveStatus.SKIPPED, StopReason.NOT_STARTED, notes=[reason]
            )
        deadline = recorder.start + max(0.0, options.time_limit_s)
        graph = build_graph(problem)
        starts = _starts(problem, graph, options)
        if not starts:
            return SolveResult(
                self.name,
                SolveStatus.NO_SOLUTION,
                StopReason.ITERATIONS_DONE,
                wall_time_s=recorder.elapsed(),
                notes=["list scheduling found no agent for some task under the constraints"],
            )
        first, rules = min(starts, key=lambda pair: pair[0].key())
        _record(problem, first, recorder, options)

        def on_better(schedule: Schedule) -> None:
            _record(problem, schedule, recorder, options)

        rng = np.random.default_rng(options.seed)
        best = improve(graph, rules, first, deadline, rng, on_better)
        stop = StopReason.TIME_LIMIT
        chosen, evaluation = _verified(problem, [best, first])
        if chosen is None:
            return SolveResult(
                self.name,
                SolveStatus.NO_SOLUTION,
                stop,
                wall_time_s=recorder.elapsed(),
                notes=["no schedule passed evaluate_plan; " + _reasons(problem, first)],
            )
        assert evaluation is not None
        return SolveResult(
            solver=self.name,
            status=SolveStatus.FEASIBLE,
            stop_reason=stop,
            assignment=np.array(chosen.agent, dtype=np.int32),
            start=np.array(chosen.start, dtype=np.float64),
            objective=evaluation.score,
            trace=recorder.trace,
            wall_time_s=recorder.elapsed(),
            time_to_first_s=recorder.time_to_first_s,
            time_to_best_s=recorder.time_to_best_s,
            notes=[f"HEFT makespan {first.makespan:.6g}; after improvement {chosen.makespan:.6g}"],
        )


def heft_schedule(problem: CompiledProblem) -> Schedule | None:
    """Plain HEFT (mean-duration upward rank, insertion-based earliest finish)."""
    graph = build_graph(problem)
    rules = PlacementRules(problem)
    return list_schedule(graph, rules, priority_order(graph, upward_ranks(graph, rules)))


def _starts(
    problem: CompiledProblem, graph: WorkflowGraph, options: SolveOptions
) -> list[tuple[Schedule, PlacementRules]]:
    """HEFT with the classic and the optimistic rank, PEFT, and each hint re-timed."""
    out: list[tuple[Schedule, PlacementRules]] = []
    order = priority_order(graph, upward_ranks(graph, PlacementRules(problem)))
    table = optimistic_cost_table(graph, PlacementRules(problem))
    peft_order = priority_order(graph, peft_ranks(table, PlacementRules(problem)))
    variants = [
        (order, None),
        (priority_order(graph, upward_ranks(graph, PlacementRules(problem), True)), None),
        (peft_order, table.tolist()),
    ]
    for ranked, bias in variants:
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
    problem: CompiledProblem, schedules: list[Schedule]
) -> tuple[Schedule | None, Evaluation | None]:
    for schedule in schedules:
        ev = evaluate_plan(problem, np.array(schedule.agent), np.array(schedule.start))
        if ev.feasible:
            return schedule, ev
    return None, None


def _reasons(problem: CompiledProblem, schedule: Schedule) -> str:
    ev = evaluate_plan(problem, np.array(schedule.agent), np.array(schedule.start))
    return "; ".join(v.message for v in ev.violations[:3])
