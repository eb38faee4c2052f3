"""Workflow front members whose communication overloads a link: repaired, not dropped.

The NSGA-II decodes schedules on lowest-latency transfer delays and never looks at link
bandwidth, so with a network a front member can fail the evaluator in two ways: its
traffic overloads a link, or it fits only routed around full links and its schedule is
then too early on those paths' delays. Either gets the engine's own treatment
(`routed_paths.on_routed_paths`: the bandwidth repair, then re-timed on the routed
paths' delays); its objective values are recomputed, since the repair moves tasks, and
it is re-checked by `evaluate_plan` before it may join the front. (Without a network
every decoded member passes: nothing else is repaired here.)
"""

from __future__ import annotations

import numpy as np

from models import CompiledProblem, Evaluation, evaluate_plan
from solvers.workflow.heft import Schedule
from solvers.workflow.pareto_objectives import ScheduleScorer
from solvers.workflow.routed_paths import on_routed_paths

__all__ = ["repaired_member"]


def repaired_member(
    problem: CompiledProblem,
    scorer: ScheduleScorer,
    schedule: Schedule,
    ev: Evaluation,
    *,
    time_limit_s: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, Evaluation] | None:
    """(agent, start, objective values, evaluation) of the repaired member; None without a
    network or when the repair does not make it pass."""
    if problem.network is None or ev.feasible:
        return None
    fixed = on_routed_paths(problem, schedule, repair_s=time_limit_s)
    agent = np.array(fixed.agent, dtype=np.int32)
    start = np.array(fixed.start, dtype=np.float64)
    after = evaluate_plan(problem, agent, start)
    if not after.feasible:
        return None
    return agent, start, scorer.values(fixed), after
