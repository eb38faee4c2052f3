"""The job worker's plan relay: only verified plans, the best one, at most every interval."""

from __future__ import annotations

import json
import time

import numpy as np

from allocator.facade import solve
from allocator.jobs.plan_relay import PlanRelay
from models import Problem, RunOptions, compile_problem, evaluate_plan
from models.generators.instances import generate_attribute_problem
from models.progress import ProgressEvent


def _incumbent(assignment: np.ndarray, objective: float) -> ProgressEvent:
    return ProgressEvent("incumbent", "greedy", 0.1, objective, None, assignment)


def _greedy_plan(problem: Problem) -> tuple[np.ndarray, dict[str, str]]:
    compiled = compile_problem(problem)
    report = solve(problem, RunOptions(solvers=["greedy"], time_limit_s=1))
    assert report.chosen is not None
    chosen = report.chosen.plan.assignments
    agents = list(compiled.agent_ids)
    plan = [agents.index(chosen[t]) if t in chosen else -1 for t in compiled.task_ids]
    return np.array(plan, dtype=np.int64), chosen


def test_sends_the_best_verified_plan_and_drops_a_broken_one() -> None:
    problem = generate_attribute_problem(30, 4, seed=1)
    compiled = compile_problem(problem)
    good, chosen = _greedy_plan(problem)
    score = evaluate_plan(compiled, good).score
    overloaded = np.zeros(compiled.n_tasks, dtype=np.int64)  # every task on agent 0
    assert not evaluate_plan(compiled, overloaded).feasible
    sent: list[tuple[float, str, str]] = []
    relay = PlanRelay(problem, lambda *message: sent.append(message), interval_s=60)
    relay.offer(_incumbent(good, score))
    relay.offer(_incumbent(good, score + 1))  # worse: ignored
    relay.offer(ProgressEvent("bound", "lagrangian", 0.2, bound=1.0))  # no plan: ignored
    relay.close()
    assert len(sent) == 1
    objective, solver, text = sent[0]
    plan = json.loads(text)
    assert objective == score == plan["objective"] and solver == "greedy"
    assert plan["assignments"] == chosen
    broken: list[tuple[float, str, str]] = []
    relay = PlanRelay(problem, lambda *message: broken.append(message), interval_s=60)
    relay.offer(_incumbent(overloaded, score - 1))  # claims to be better, breaks capacity
    relay.close()
    assert broken == []


def test_rate_limited_to_one_send_per_interval() -> None:
    problem = generate_attribute_problem(10, 3, seed=2)
    good, _ = _greedy_plan(problem)
    sent: list[float] = []
    relay = PlanRelay(problem, lambda objective, *_: sent.append(time.monotonic()), 0.2)
    started = time.monotonic()
    for k in range(40):  # ever better incumbents, faster than the interval
        relay.offer(_incumbent(good, 1e6 - k))
        time.sleep(0.02)
    relay.close()
    elapsed = time.monotonic() - started
    assert 1 <= len(sent) <= elapsed / 0.2 + 2
