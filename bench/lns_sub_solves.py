"""The LNS's sub-solves: the knapsack branch and bound against CP-SAT.

`python -m bench.lns_sub_solves [--replay] [--agents 4 6 8] [--repeats 6]
[--seeds 2] [--time-limit 10] [NAMES...]` (GAP instances from ../shared/bench; by
default d20100 d20200 d40400).

- `--replay`: for each instance, an LNS plan (the LNS alone for 6 s, seed 0), then
  `--repeats` neighbourhoods of each size in `--agents` (random agents, all their tasks
  freed, the plan's part as hint), each solved by CP-SAT with the LNS's sub-solve
  settings and by the knapsack branch and bound, 2 s each on one core. Prints the median
  and largest seconds and, per neighbourhood, whether each proved it and what it gained.
- Otherwise: the LNS alone (`--time-limit`, two workers) with sub-solves by CP-SAT only
  and with the knapsack branch and bound where it serves, alternating per seed; prints
  each run's gap to best-known and the means per arm.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

import solvers.lns.sub_solve as sub_solve
from bench.gap import SHARED, best_known, instance_paths
from models import CompiledProblem, compile_problem, evaluate_plan, gap_to_problem, read_gap_file
from solvers.base import SolveOptions
from solvers.lns.knapsack_sub_solve import knapsack_sub_solve
from solvers.lns.solver import LnsSolver
from solvers.lns.sub_solve import solve_exactly
from solvers.lns.subproblem import cut_subproblem

DEFAULT = ["d20100", "d20200", "d40400"]
SUB_LIMIT_S = 2.0


def _load(name: str) -> CompiledProblem:
    path = next(p for p in instance_paths(name[0].upper()) if p.name == name)
    return compile_problem(gap_to_problem(read_gap_file(path)[0]))


def _gap(problem: CompiledProblem, plan: np.ndarray, best: float) -> float:
    return 100 * (evaluate_plan(problem, plan).objectives["cost"] - best) / best


def replay(name: str, agents: list[int], repeats: int) -> None:
    problem = _load(name)
    plan = LnsSolver().solve(problem, SolveOptions(time_limit_s=6, workers=2, seed=0)).assignment
    assert plan is not None
    print(f"{name}: plan {_gap(problem, plan, best_known()[name]):.3f} % above best-known")
    rng = np.random.default_rng(1)
    for k in agents:
        rows: dict[str, list[float]] = {"cpsat": [], "knapsack": []}
        outcomes: dict[str, list[str]] = {"cpsat": [], "knapsack": []}
        for _ in range(repeats):
            chosen = rng.choice(problem.n_agents, k, replace=False)
            sub = cut_subproblem(problem, plan, np.flatnonzero(np.isin(plan, chosen)), chosen)
            hint = sub.restrict(plan)
            before = evaluate_plan(sub.problem, hint).score
            out, took = solve_exactly(sub.problem, {"cost": 1.0}, SUB_LIMIT_S, 0, 1, hint)
            rows["cpsat"].append(took)
            outcomes["cpsat"].append(_outcome(sub.problem, out.status_name, out.assignment, before))
            done = knapsack_sub_solve(sub.problem, SUB_LIMIT_S, hint)
            if done is None:
                outcomes["knapsack"].append("n/a")
                continue
            out, took = done
            rows["knapsack"].append(took)
            outcomes["knapsack"].append(
                _outcome(sub.problem, out.status_name, out.assignment, before)
            )
        for engine, seconds in rows.items():
            if seconds:
                print(
                    f"  {k} agents {engine:9s} median {statistics.median(seconds):.3f} s, "
                    f"max {max(seconds):.3f} s: {' '.join(outcomes[engine])}"
                )


def _outcome(problem: CompiledProblem, status: str, plan: np.ndarray | None, before: float) -> str:
    """'proved' or 'open', and the gain over the hint when there is one."""
    gain = 0.0 if plan is None else before - evaluate_plan(problem, plan).score
    return ("proved" if status == "OPTIMAL" else "open") + (f"(-{gain:g})" if gain > 0 else "")


def lns_ab(names: list[str], seeds: int, limit_s: float) -> None:
    arms = {"cpsat only": False, "knapsack b&b": True}
    means: dict[str, list[float]] = {arm: [] for arm in arms}
    known = best_known()
    for name in names:
        problem = _load(name)
        gaps: dict[str, list[float]] = {arm: [] for arm in arms}
        for seed in range(seeds):
            order = list(arms) if seed % 2 == 0 else list(reversed(arms))
            for arm in order:
                sub_solve.KNAPSACK_SUB_SOLVES = arms[arm]
                began = time.perf_counter()
                result = LnsSolver().solve(
                    problem, SolveOptions(time_limit_s=limit_s, workers=2, seed=seed)
                )
                assert result.assignment is not None
                gap = _gap(problem, result.assignment, known[name])
                gaps[arm].append(gap)
                steps = next((n for n in result.notes if "LNS steps" in n), "")
                print(
                    f"{name} seed {seed} {arm:13s} {gap:.3f} % "
                    f"({time.perf_counter() - began:.1f} s) {steps}",
                    flush=True,
                )
        for arm in arms:
            means[arm].append(float(np.mean(gaps[arm])))
        print(name, "  ".join(f"{arm} {np.mean(gaps[arm]):.3f} %" for arm in arms), flush=True)
    sub_solve.KNAPSACK_SUB_SOLVES = True
    print("mean", "  ".join(f"{arm} {np.mean(means[arm]):.3f} %" for arm in arms))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", default=DEFAULT)
    parser.add_argument("--replay", action="store_true")
    parser.add_argument("--agents", type=int, nargs="+", default=[4, 6, 8])
    parser.add_argument("--repeats", type=int, default=6)
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--time-limit", type=float, default=10.0)
    args = parser.parse_args()
    if not SHARED.exists():
        raise SystemExit(f"no GAP instances at {SHARED} (they are not part of the repo)")
    if args.replay:
        for name in args.names:
            replay(name, args.agents, args.repeats)
    else:
        lns_ab(args.names, args.seeds, args.time_limit)


if __name__ == "__main__":
    main()
