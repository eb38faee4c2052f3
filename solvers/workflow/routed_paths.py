"""The workflow engine's plan on a topology whose links carry the tasks' communication.

The engine schedules with transfer delays on lowest-latency paths. When its plan's
communication overloads a link, the bandwidth repair moves communicating tasks first;
when the traffic then has to be routed around full links, the transfers take the routed
paths (`models.evaluation.with_plan_routes`) and the plan is re-timed on those delays,
in the engine's own priority order. `evaluate_plan` checks the schedule against exactly
these delays.

When the repair finds no fitting plan in its time, every task goes on the one agent
that can take them all and runs them soonest (no traffic at all), where there is one.

The engine's search runs on lowest-latency delays; with a network it keeps
`ROUTED_SHARE` of its time for rounds of local search on the routed paths' delays
(`improve_on_routed_paths`): the plan is repaired and re-timed, the local search
continues on the delays of that plan's routing (held fixed while it moves tasks: one
routing per round, not per move) taking only plans whose traffic fits the links, and
its result is re-timed on its own routing; the better of the two by the evaluator's
score is kept.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from models import CompiledProblem, evaluate_plan
from models.evaluation import with_plan_routes
from models.placement_network import link_use, node_traffic
from solvers.shared.bandwidth_repair import repair_bandwidth
from solvers.workflow.decode import decode
from solvers.workflow.graph import build_graph
from solvers.workflow.heft import Schedule
from solvers.workflow.improve import improve
from solvers.workflow.rules import PlacementRules

__all__ = ["ROUTED_SHARE", "improve_on_routed_paths", "on_routed_paths", "routed_phase_start"]

#: Seconds the bandwidth repair of one schedule may take.
_REPAIR_S = 0.5
#: Share of the engine's time kept for rounds on routed delays (network only).
ROUTED_SHARE = 0.3


def on_routed_paths(
    problem: CompiledProblem, schedule: Schedule, *, repair_s: float = _REPAIR_S
) -> Schedule:
    """`schedule` repaired for bandwidth (for at most `repair_s` seconds) and re-timed on
    its routed paths; itself when the problem has no network or its traffic fits on the
    lowest-latency paths."""
    if problem.network is None:
        return schedule
    agent = np.array(schedule.agent, dtype=np.int64)
    repair = repair_bandwidth(problem, agent, time_limit_s=repair_s)
    repaired = repair.assignment
    if np.any(repaired < 0):  # leaving a task out breaks its successors' inputs
        repaired = agent
    if not repair.fits:
        gathered = _gathered(problem)
        if gathered is not None:  # the last resort: no traffic at all
            repaired = gathered
    routed = with_plan_routes(problem, repaired)
    if routed is problem and np.array_equal(repaired, agent):
        return schedule
    return decode(build_graph(routed), list(schedule.order), repaired.tolist())


def _gathered(problem: CompiledProblem) -> np.ndarray | None:
    """Every task on the one agent that can take them all (eligible, within capacity
    and max_tasks) and runs them soonest: no transfer crosses a link. None if none can."""
    n = problem.n_tasks
    total = problem.usage.sum(axis=1)  # [m, d] all tasks' use on each agent
    able = (
        problem.eligible.all(axis=1)
        & (problem.max_tasks >= n)
        & np.all(total <= problem.capacity * (1 + 1e-9), axis=1)
    )
    if not able.any():
        return None
    busy = np.where(able, problem.duration.sum(axis=1), np.inf)
    return np.full(n, int(np.argmin(busy)), dtype=np.int64)


def routed_phase_start(problem: CompiledProblem, deadline: float) -> float:
    """When the search on lowest-latency delays stops: the deadline without a network,
    else `ROUTED_SHARE` of the time left earlier."""
    if problem.network is None:
        return deadline
    return deadline - ROUTED_SHARE * max(0.0, deadline - time.perf_counter())


def _fits(problem: CompiledProblem) -> Callable[[list[int]], bool]:
    """Whether a plan's traffic fits the links (some routing within bandwidth)."""
    net = problem.network
    assert net is not None

    def fits(agent: list[int]) -> bool:
        traffic = node_traffic(net, problem.comm_pairs, problem.comm_volume, np.array(agent))
        use = link_use(net, traffic)
        return use is None or use.fits

    return fits


def _score(problem: CompiledProblem, schedule: Schedule) -> tuple[bool, float]:
    ev = evaluate_plan(problem, np.array(schedule.agent), np.array(schedule.start))
    return ev.feasible, ev.score


def improve_on_routed_paths(
    problem: CompiledProblem, schedule: Schedule, deadline: float, rng: np.random.Generator
) -> Schedule:
    """`schedule` repaired and re-timed on its routed paths, then improved on those
    delays until `deadline` (less a reserve for the last repair); the better of the two
    by (passes the evaluator, score). Without a network: `schedule` itself."""
    if problem.network is None:
        return schedule
    # The repair may take up to 40% of this phase (tight links need more than 0.5 s).
    left = max(0.0, deadline - time.perf_counter())
    fixed = on_routed_paths(problem, schedule, repair_s=max(_REPAIR_S, 0.4 * left))
    reserve = min(_REPAIR_S, 0.2 * max(0.0, deadline - time.perf_counter()))
    if time.perf_counter() >= deadline - reserve:
        return fixed
    agent = np.array(fixed.agent)
    graph = build_graph(with_plan_routes(problem, agent))
    rules = PlacementRules(problem, agent)
    better = improve(graph, rules, fixed, deadline - reserve, rng, admits=_fits(problem))
    if better is fixed:
        return fixed
    candidate = on_routed_paths(problem, better, repair_s=max(0.05, deadline - time.perf_counter()))
    fixed_key, candidate_key = _score(problem, fixed), _score(problem, candidate)
    # Feasible first, then the lower score.
    if (not candidate_key[0], candidate_key[1]) < (not fixed_key[0], fixed_key[1]):
        return candidate
    return fixed
