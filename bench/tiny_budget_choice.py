"""Tiny budgets: the portfolio's automatic choice against the greedy alone, same run.

`python -m bench.tiny_budget_choice [--seeds 4] [--limits 0.1 0.2 0.3 0.5 1] [--size 20x5]`
solves `generate_attribute_problem(tasks, agents, seed)` through the library
(`allocator.facade.solve`, after one warm-up solve) twice per seed and limit, with the
automatic solver choice and with `solvers=["greedy"]`, alternating, and prints each
chosen plan's objective (lower is better), the solvers the automatic choice ran (not
the skipped ones), and
the wall time. The summary per limit is the mean objective of each and how often the
automatic choice was worse.
"""

from __future__ import annotations

import argparse
import statistics
import time

from allocator.facade import solve
from models import RunOptions
from models.generators.instances import generate_attribute_problem


def _run(tasks: int, agents: int, seed: int, limit: float, solvers: list[str] | None):
    problem = generate_attribute_problem(tasks, agents, seed=seed)
    options = RunOptions(solvers=solvers, time_limit_s=limit, seed=seed)
    started = time.perf_counter()
    report = solve(problem, options)
    elapsed = time.perf_counter() - started
    objective = report.chosen.objective if report.chosen is not None else float("inf")
    return objective, elapsed, [r.name for r in report.solvers if r.status != "skipped"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, default=4)
    parser.add_argument("--limits", type=float, nargs="+", default=[0.1, 0.2, 0.3, 0.5, 1.0])
    parser.add_argument("--size", default="20x5")
    args = parser.parse_args(argv)
    tasks, agents = (int(x) for x in args.size.split("x"))
    _run(tasks, agents, 99, 0.5, None)  # warm-up: imports and solver processes
    for limit in args.limits:
        auto, alone, worse = [], [], 0
        for seed in range(args.seeds):
            a, a_s, names = _run(tasks, agents, seed, limit, None)
            g, g_s, _ = _run(tasks, agents, seed, limit, ["greedy"])
            auto.append(a)
            alone.append(g)
            worse += a > g + 1e-9
            print(
                f"limit {limit:4.2f} s seed {seed}: auto {a:9.2f} ({a_s:5.2f} s, "
                f"{'+'.join(names)})  greedy alone {g:9.2f} ({g_s:5.2f} s)",
                flush=True,
            )
        print(
            f"limit {limit:4.2f} s: mean auto {statistics.mean(auto):.2f}, greedy alone "
            f"{statistics.mean(alone):.2f}; auto worse on {worse}/{args.seeds}",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
