"""Tiny requests: the service's 20 x 5 greedy-only request, time per request and plan quality.

`python -m bench.tiny_requests [--seeds 16] [--time-limit 0.05] [--solvers greedy]`
solves `bench.service_throughput`'s small request once per seed through the library
(`allocator.facade.solve`, in this process: the fast path) and prints, per seed, the
wall time, the stop reason and the objective against CP-SAT's proven optimum (CP-SAT
alone, 10 s, one worker, outside the timed part). The summary gives the mean and
largest time per request and the mean and largest gap to the optimum.
"""

from __future__ import annotations

import argparse
import statistics
import time

from allocator.facade import solve
from models import RunOptions, compile_problem
from models.generators.instances import generate_attribute_problem
from solvers.base import SolveOptions, SolveStatus
from solvers.registry import get_solver


def _optimum(seed: int) -> float | None:
    """CP-SAT's objective when it proves optimality within 10 s, else None."""
    compiled = compile_problem(generate_attribute_problem(20, 5, seed=seed))
    result = get_solver("cpsat").solve(compiled, SolveOptions(time_limit_s=10.0, workers=1))
    return result.objective if result.status == SolveStatus.OPTIMAL else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, default=16)
    parser.add_argument("--time-limit", type=float, default=0.05)
    parser.add_argument("--solvers", nargs="+", default=["greedy"])
    args = parser.parse_args(argv)
    solve(generate_attribute_problem(20, 5, seed=99), RunOptions(solvers=args.solvers))  # warm-up
    times, cpu_times, gaps = [], [], []
    for seed in range(args.seeds):
        problem = generate_attribute_problem(20, 5, seed=seed)
        options = RunOptions(solvers=args.solvers, time_limit_s=args.time_limit, seed=seed)
        started, cpu_started = time.perf_counter(), time.process_time()
        report = solve(problem, options)
        elapsed = time.perf_counter() - started
        times.append(elapsed)
        cpu_times.append(time.process_time() - cpu_started)
        best = _optimum(seed)
        objective = report.chosen.objective if report.chosen is not None else None
        gap = None
        if best is not None and objective is not None:
            gap = (objective - best) / max(1.0, abs(best))
            gaps.append(gap)
        stops = ",".join(f"{r.name}:{r.stop_reason}" for r in report.solvers)
        gap_text = "-" if gap is None else f"{100 * gap:.3f}%"
        print(
            f"seed {seed:2d}: {1000 * elapsed:6.1f} ms  {stops:28}  objective {objective}  "
            f"optimum {best}  gap {gap_text}"
        )
    print(
        f"time per request: mean {1000 * statistics.mean(times):.1f} ms, "
        f"max {1000 * max(times):.1f} ms (limit {1000 * args.time_limit:.0f} ms); CPU per "
        f"request: mean {1000 * statistics.mean(cpu_times):.1f} ms (the wall time on a loaded "
        "machine includes waiting for a core; CPU time does not)"
    )
    if gaps:
        at_optimum = sum(g <= 1e-9 for g in gaps)
        print(
            f"gap to CP-SAT optimum: mean {100 * statistics.mean(gaps):.3f}%, "
            f"max {100 * max(gaps):.3f}%, at optimum {at_optimum}/{len(gaps)}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
