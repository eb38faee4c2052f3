"""Workflow benchmark: our `heft` engine at a time limit against plain HEFT.

Random layered DAGs in the style of Topcuoglu, Hariri and Wu (2002): 50-500 tasks,
4-32 agents of different speeds (0.5-2 work units/s), communication-to-computation
ratios 0.5, 1, 5 and 10 (`models.generators.workflow`). The baseline is HEFT written
out plainly below (mean-duration upward rank, insertion-based earliest finish), sharing
no code with the engine. Both schedules are checked by `evaluate_plan`; a ratio is our
makespan over HEFT's (lower is better). Goals (issue 15): mean <= 0.92, never above 1,
mean at CCR >= 5 <= 0.90.

With `--prove`: 30-task, 4-agent workflows at each CCR; how many the engine proves
optimal (its CP-SAT phase) within the time limit, how long that took, and CP-SAT's
effort (deterministic time and branches, from the engine's note): on a loaded machine
the wall time shrinks CP-SAT's share, the deterministic time says how much it searched.

With `--pareto`: makespan-cost fronts of `nsga2` against HEFT's point and a
weighted-sum sweep of the list scheduler, as hypervolumes (`bench/workflow_pareto.py`).

Wall times are the solve's own, the figure its time limit bounds: the engine is imported
before the clock starts (the first import in a process, OR-Tools and DEAP, took 0.4-1.2 s
on the 2-core machine and once counted in the first instance's time).

`python -m bench.workflow [--time-limit 10] [--seeds 2] [--short] [--prove] [--pareto]`
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import time

import numpy as np

from models import CompiledProblem, compile_problem, evaluate_plan
from models.generators.workflow import generate_workflow_problem
from solvers.base import SolveOptions, SolveStatus
from solvers.registry import get_solver
from solvers.shared.proof import relative_gap

SIZES = ((50, 4), (100, 8), (200, 8), (300, 16), (500, 32))
SHORT_SIZES = ((50, 4), (100, 8), (300, 16), (500, 32))
CCRS = (0.5, 1.0, 5.0, 10.0)
#: The engine's note on its CP-SAT phase (solvers/workflow/solver.py).
_CP_EFFORT = re.compile(r"\((\d+) branches, deterministic time ([0-9.]+) s\)")


def plain_heft(problem: CompiledProblem) -> tuple[np.ndarray, np.ndarray, float]:
    """(agent per task, start per task, makespan) by textbook HEFT."""
    flow = problem.workflow
    assert flow is not None
    n, m = problem.n_tasks, problem.n_agents
    w = problem.duration.astype(np.float64)  # w[i, j]
    off_diagonal = ~np.eye(m, dtype=bool)
    mean_comm = [
        float(np.mean((flow.data[e] * flow.per_data + flow.fixed)[off_diagonal])) if m > 1 else 0.0
        for e in range(flow.n_edges)
    ]
    succ: list[list[tuple[int, int]]] = [[] for _ in range(n)]
    pred: list[list[tuple[int, int]]] = [[] for _ in range(n)]
    for e, (p, s) in enumerate(zip(flow.pred.tolist(), flow.succ.tolist(), strict=True)):
        succ[p].append((s, e))
        pred[s].append((p, e))
    topo = flow.topological_order(n)
    rank = [0.0] * n
    for j in reversed(topo):
        rank[j] = float(w[:, j].mean()) + max(
            (mean_comm[e] + rank[s] for s, e in succ[j]), default=0.0
        )
    position = {j: k for k, j in enumerate(topo)}
    order = sorted(range(n), key=lambda j: (-rank[j], position[j]))

    busy: list[list[tuple[float, float]]] = [[] for _ in range(m)]  # sorted (start, finish)
    agent = np.full(n, -1, dtype=np.int64)
    start = np.zeros(n)
    finish = np.zeros(n)
    for j in order:
        best = (np.inf, -1, 0.0)
        for i in range(m):
            ready = 0.0
            for p, e in pred[j]:
                arrive = (
                    finish[p] if agent[p] == i else finish[p] + flow.transfer(e, int(agent[p]), i)
                )
                ready = max(ready, arrive)
            est = _earliest_gap(busy[i], ready, float(w[i, j]))
            if est + w[i, j] < best[0]:
                best = (est + float(w[i, j]), i, est)
        eft, i, est = best
        agent[j], start[j], finish[j] = i, est, eft
        busy[i].append((est, eft))
        busy[i].sort()
    return agent, start, float(finish.max())


def _earliest_gap(busy: list[tuple[float, float]], ready: float, dur: float) -> float:
    """Earliest start >= ready in an idle gap of `busy` that holds `dur`."""
    t = ready
    for s, f in busy:
        if t + dur <= s:
            return t
        t = max(t, f)
    return t


def run_instance(n: int, m: int, ccr: float, seed: int, time_limit: float) -> dict[str, float]:
    problem = compile_problem(generate_workflow_problem(n, m, ccr, seed))
    h_agent, h_start, h_makespan = plain_heft(problem)
    h_eval = evaluate_plan(problem, h_agent, h_start)
    assert h_eval.feasible, h_eval.violations[:2]
    assert abs(h_eval.objectives["makespan"] - h_makespan) <= 1e-6 * h_makespan
    solver = get_solver("heft")  # import the engine first: see the docstring
    began = time.perf_counter()
    result = solver.solve(problem, SolveOptions(time_limit_s=time_limit, seed=seed))
    wall = time.perf_counter() - began
    assert result.assignment is not None and result.start is not None, result.notes
    ours = evaluate_plan(problem, result.assignment, result.start)
    assert ours.feasible, ours.violations[:2]
    return {
        "n": n,
        "m": m,
        "ccr": ccr,
        "seed": seed,
        "heft": h_makespan,
        "ours": ours.objectives["makespan"],
        "ratio": ours.objectives["makespan"] / h_makespan,
        "wall_s": wall,
    }


def prove(time_limit: float, seeds: int) -> None:
    """Print, per small workflow, whether the engine proves its makespan optimal."""
    proven, deterministic_s, branches = 0, 0.0, 0
    print(
        f"{'tasks':>5} {'agents':>6} {'CCR':>5} {'seed':>4} {'makespan':>10} {'bound':>10} "
        f"{'gap %':>7} {'CP det s':>8} {'branches':>8} status"
    )
    for ccr in CCRS:
        for seed in range(seeds):
            problem = compile_problem(generate_workflow_problem(30, 4, ccr, seed))
            solver = get_solver("heft")  # import the engine first: see the docstring
            options = SolveOptions(time_limit_s=time_limit, workers=os.cpu_count() or 1)
            began = time.perf_counter()
            result = solver.solve(problem, options)
            wall = time.perf_counter() - began
            assert result.assignment is not None and result.start is not None
            ev = evaluate_plan(problem, result.assignment, result.start)
            assert ev.feasible
            proven += result.status == SolveStatus.OPTIMAL
            makespan = ev.objectives["makespan"]
            bound = f"{result.bound:>10.4f}" if result.bound is not None else f"{'-':>10}"
            # The evaluator's makespan against the engine's bound (OPTIMAL needs <= rel_gap).
            gap_value = relative_gap(makespan, result.bound)
            gap = f"{100 * gap_value:>7.3f}" if gap_value is not None else "-"
            effort = next(filter(None, map(_CP_EFFORT.search, result.notes)), None)
            det = float(effort.group(2)) if effort else 0.0
            count = int(effort.group(1)) if effort else 0
            deterministic_s, branches = deterministic_s + det, branches + count
            print(
                f"{30:>5} {4:>6} {ccr:>5g} {seed:>4} {makespan:>10.4f} {bound} {gap:>7} "
                f"{det:>8.2f} {count:>8} {result.status} in {wall:.1f} s",
                flush=True,
            )
    print(
        f"proven optimal: {proven} of {len(CCRS) * seeds} within {time_limit:g} s each "
        f"({os.cpu_count()} CP-SAT workers); CP-SAT deterministic time {deterministic_s:.1f} s, "
        f"{branches} branches in all"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--time-limit", type=float, default=10.0, help="seconds per instance")
    parser.add_argument("--seeds", type=int, default=2, help="instances per size and CCR")
    parser.add_argument("--short", action="store_true", help="4 sizes x 4 CCRs, 1 seed")
    parser.add_argument("--prove", action="store_true", help="30 x 4 workflows: proofs")
    parser.add_argument(
        "--pareto", action="store_true", help="makespan-cost fronts: nsga2 vs HEFT and a sweep"
    )
    args = parser.parse_args()
    if args.pareto:
        from bench.workflow_pareto import main as pareto_main  # it imports plain_heft from here

        pareto_main(args.time_limit, args.short)
        return
    if args.prove:
        prove(args.time_limit, args.seeds)
        return
    sizes = SHORT_SIZES if args.short else SIZES
    seeds = 1 if args.short else args.seeds
    rows = []
    print(
        f"{'tasks':>5} {'agents':>6} {'CCR':>5} {'seed':>4} {'HEFT':>10} {'ours':>10} "
        f"{'ratio':>6} {'wall s':>6}"
    )
    for n, m in sizes:
        for ccr in CCRS:
            for seed in range(seeds):
                row = run_instance(n, m, ccr, seed, args.time_limit)
                rows.append(row)
                print(
                    f"{n:>5} {m:>6} {ccr:>5g} {seed:>4} {row['heft']:>10.2f} {row['ours']:>10.2f} "
                    f"{row['ratio']:>6.3f} {row['wall_s']:>6.1f}",
                    flush=True,
                )
    ratios = [r["ratio"] for r in rows]
    high = [r["ratio"] for r in rows if r["ccr"] >= 5]
    low = [r["ratio"] for r in rows if r["ccr"] < 5]
    print(f"instances {len(rows)}, time limit {args.time_limit:g} s each")
    print(f"mean ratio {statistics.mean(ratios):.3f} (goal <= 0.92)")
    worse = sum(x > 1 + 1e-9 for x in ratios)
    print(f"worst ratio {max(ratios):.3f} (goal <= 1.000); worse than HEFT on {worse}")
    print(f"mean ratio at CCR >= 5: {statistics.mean(high):.3f} (goal <= 0.90)")
    print(f"mean ratio at CCR < 5: {statistics.mean(low):.3f}")


if __name__ == "__main__":
    main()
