"""Decisions: recommend latency on a large plan, explain time on examples/mixed.json.

`python -m bench.decisions [--tasks 20000] [--agents 500] [--calls 300]` prints the
p50/p99 of warm `Recommender.recommend` calls (library, one new task each) on a
plan of the greedy heuristic over a two-resource request (goal: p99 <= 5 ms), the
same for the inverse question on one agent, and the time to explain every task of
examples/mixed.json (goal: < 200 ms), and re-planning after one of its 30 agents
is lost with --max-moves 10 against a full re-solve at the same limit (goals:
within 1% of its score, under 2 s).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from allocator.facade import solve
from allocator.problem_files import load_problem
from allocator.replanning import replan
from models import Problem, RunOptions, Task, compile_problem
from models.explanation import explain_plan
from models.generators.instances import generate_attribute_problem
from models.plan import plan_to_array
from models.recommendation import Recommender

MIXED = Path(__file__).resolve().parent.parent / "examples" / "mixed.json"


def _plan(time_limit_s: float, problem: Problem, solvers: list[str] | None) -> np.ndarray:
    report = solve(problem, RunOptions(solvers=solvers, time_limit_s=time_limit_s))
    assert report.chosen is not None, "no plan found"
    return plan_to_array(compile_problem(problem), report.chosen.plan)


def _percentiles(samples: list[float]) -> str:
    ms = np.array(samples) * 1000
    p50, p99 = np.percentile(ms, 50), np.percentile(ms, 99)
    return f"p50 {p50:.2f} ms, p99 {p99:.2f} ms, max {ms.max():.2f} ms"


def bench_recommend(n_tasks: int, n_agents: int, calls: int) -> None:
    problem = generate_attribute_problem(n_tasks, n_agents, seed=0, n_dims=2)
    plan = _plan(30.0, problem, ["greedy"])
    start = time.perf_counter()
    rec = Recommender(problem, plan)
    warm = time.perf_counter() - start
    rng = np.random.default_rng(1)
    dims = problem.resources
    samples: list[float] = []
    for k in range(calls + 20):
        task = Task(
            id=f"new{k}",
            demand={d: float(rng.uniform(0.5, 4.0)) for d in dims},
            work=float(rng.uniform(1, 10)),
            deadline=float(rng.uniform(10, 100)),
        )
        t0 = time.perf_counter()
        rec.recommend(task, top=5)
        if k >= 20:  # the first calls warm caches and the allocator
            samples.append(time.perf_counter() - t0)
    print(
        f"recommend on {n_tasks} tasks x {n_agents} agents, {len(dims)} resources "
        f"(state built in {warm * 1000:.0f} ms): {_percentiles(samples)} over {calls} calls"
    )
    inverse: list[float] = []
    for k in range(5):
        t0 = time.perf_counter()
        rec.recommend_for_agent(problem.agents[k].id, top=5)
        inverse.append(time.perf_counter() - t0)
    print(f"inverse (one agent, every task): {_percentiles(inverse)} over 5 calls")


def bench_explain() -> None:
    problem = load_problem(MIXED)
    compiled = compile_problem(problem)
    plan = _plan(5.0, problem, None)
    explain_plan(problem, plan, compiled=compiled)
    times = []
    for _ in range(5):
        t0 = time.perf_counter()
        explain_plan(problem, plan, compiled=compiled)
        times.append(time.perf_counter() - t0)
    print(
        f"explain every task of {MIXED.name} ({len(problem.tasks)} tasks): "
        f"best {min(times) * 1000:.0f} ms, median {np.median(times) * 1000:.0f} ms over 5 runs"
    )


def bench_replan(lost_agents: list[int], limit_s: float) -> None:
    """Lose one agent of mixed.json; re-plan with 10 moves vs a full re-solve, same limit."""
    problem = load_problem(MIXED)
    report = solve(problem, RunOptions(time_limit_s=5.0, seed=1))
    assert report.chosen is not None, "the portfolio found no plan for mixed.json"
    for k in lost_agents:
        lost = problem.agents[k].id
        smaller = problem.model_copy(update={"agents": [a for a in problem.agents if a.id != lost]})
        t0 = time.perf_counter()
        result = replan(smaller, report.chosen.plan, max_moves=10, time_limit_s=limit_s)
        wall = time.perf_counter() - t0
        full = solve(smaller, RunOptions(time_limit_s=limit_s, seed=1))
        full_score = full.chosen.objective if full.chosen else None
        ratio = "-" if full_score is None else f"{result['score'] / full_score:.4f}"
        print(
            f"replan after losing {lost}: {wall:.2f} s, {len(result['freed'])} freed, "
            f"{result['moves_used']} other moves, feasible {result['feasible']}, score "
            f"{result['score']:.6g} vs full re-solve {full_score} (ratio {ratio})"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tasks", type=int, default=20_000)
    parser.add_argument("--agents", type=int, default=500)
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--replan-limit", type=float, default=2.0)
    args = parser.parse_args(argv)
    bench_explain()
    bench_replan([3, 5, 17], args.replan_limit)
    bench_recommend(args.tasks, args.agents, args.calls)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
