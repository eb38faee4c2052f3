"""Lower bounds on the GAP instances: the LP, the capacity-row Lagrangian dual and the
knapsack Lagrangian bound (assignment rows relaxed), each as its distance below the
best-known value, with its time.

`python -m bench.bounds [--types C D E] [--only NAME ...] [--budget 3]` reads the
instances and best-known values from ../shared/bench/gap (not part of the repo). The
knapsack bound starts from each task's least reduced cost under the capacity dual's
prices, as in the LNS, and its time excludes that dual's. A bound above the best-known
value would be a bug: the run fails then. Instances whose knapsack tables are too large
say why instead of a figure. Prints per instance and the mean per type over the
instances where the knapsack bound ran.
"""

from __future__ import annotations

import argparse
import statistics
import time

from bench.gap import best_known, instance_paths
from models import compile_problem, gap_to_problem, read_gap_file
from solvers.bounds.knapsack_bound import knapsack_dual, preload, skip_reason
from solvers.bounds.lagrangian import lagrangian_dual
from solvers.bounds.solver import lp_relaxation


def _below(bound: float, best: float) -> float:
    """How far below the best-known value, in percent of it."""
    assert bound <= best + 1e-6 * abs(best), f"bound {bound} above best-known {best}"
    return 100 * (best - bound) / best


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--types", nargs="+", default=["C", "D", "E"])
    ap.add_argument("--only", nargs="*", default=None)
    ap.add_argument("--budget", type=float, default=3.0, help="seconds per knapsack climb")
    args = ap.parse_args(argv)
    known = best_known()
    preload()
    print(f"{'instance':10} {'LP':>16} {'capacity dual':>16} {'knapsack':>16}")
    means: dict[str, list[tuple[float, float]]] = {}
    for kind in args.types:
        for path in instance_paths(kind):
            if args.only and path.name not in args.only:
                continue
            problem = compile_problem(gap_to_problem(read_gap_file(path)[0]))
            best = known[path.name]
            began = time.perf_counter()
            lp, _ = lp_relaxation(problem, 60.0)
            lp_s = time.perf_counter() - began
            began = time.perf_counter()
            dual = lagrangian_dual(problem, 2.0, 500)
            dual_s = time.perf_counter() - began
            row = f"{path.name:10} "
            row += f"{_below(lp, best):7.3f}% {lp_s:5.2f}s  " if lp is not None else f"{'-':>16}  "
            row += f"{_below(dual.bound, best):7.3f}% {dual_s:5.2f}s  "
            reason = skip_reason(problem)
            if reason is not None:
                print(row + f"not run: {reason}", flush=True)
                continue
            start = dual.reduced_costs(problem).min(axis=0)
            began = time.perf_counter()
            knap = knapsack_dual(problem, began + args.budget, start)
            knap_s = time.perf_counter() - began
            assert knap is not None
            gap = _below(knap.bound, best)
            print(row + f"{gap:7.3f}% {knap_s:5.2f}s  ({knap.iterations} steps)", flush=True)
            if lp is not None:
                means.setdefault(kind, []).append((_below(lp, best), gap))
    print("\nmean below best-known where the knapsack bound ran (LP -> knapsack):")
    for kind, pairs in means.items():
        lp_mean = statistics.mean(p[0] for p in pairs)
        knap_mean = statistics.mean(p[1] for p in pairs)
        print(f"  {kind}: {lp_mean:.3f}% -> {knap_mean:.3f}% over {len(pairs)} instances")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
