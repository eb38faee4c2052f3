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

With `--search S`, the knapsack branch and bound (`solvers.bounds.knapsack_search`) then
runs from that climb for up to S seconds, alone, with no incumbent given (the LNS hands
it its own), where the penalties are computed (up to the LNS's 20,000 pairs): its bound
below best-known, and the time to the proof of optimality or why it stopped.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from bench.gap import best_known, instance_paths
from models import CompiledProblem, compile_problem, evaluate_plan, gap_to_problem, read_gap_file
from solvers.bounds.knapsack_bound import KnapsackDual, knapsack_dual, preload, skip_reason
from solvers.bounds.knapsack_search import search_levels
from solvers.bounds.lagrangian import lagrangian_dual
from solvers.bounds.solver import lp_relaxation
from solvers.lns.knapsack_beside import PENALTY_MAX_PAIRS


def _below(bound: float, best: float) -> float:
    """How far below the best-known value, in percent of it."""
    assert bound <= best + 1e-6 * abs(best), f"bound {bound} above best-known {best}"
    return 100 * (best - bound) / best


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--types", nargs="+", default=["C", "D", "E"])
    ap.add_argument("--only", nargs="*", default=None)
    ap.add_argument("--budget", type=float, default=3.0, help="seconds per knapsack climb")
    ap.add_argument("--search", type=float, default=0.0, help="seconds of branch and bound")
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
            ranks = args.search > 0 and int(problem.eligible.sum()) <= PENALTY_MAX_PAIRS
            knap = knapsack_dual(problem, began + args.budget, start, penalties=ranks)
            knap_s = time.perf_counter() - began
            assert knap is not None
            gap = _below(knap.bound, best)
            row += f"{gap:7.3f}% {knap_s:5.2f}s  ({knap.iterations} steps)"
            if ranks:
                row += "  " + _search(problem, knap, best, args.search)
            print(row, flush=True)
            if lp is not None:
                means.setdefault(kind, []).append((_below(lp, best), gap))
    print("\nmean below best-known where the knapsack bound ran (LP -> knapsack):")
    for kind, pairs in means.items():
        lp_mean = statistics.mean(p[0] for p in pairs)
        knap_mean = statistics.mean(p[1] for p in pairs)
        print(f"  {kind}: {lp_mean:.3f}% -> {knap_mean:.3f}% over {len(pairs)} instances")
    return 0


def _search(problem: CompiledProblem, dual: KnapsackDual, best: float, budget_s: float) -> str:
    """The branch and bound alone from `dual`: its bound and how it ended."""
    found = [np.inf]

    def offer(plan: np.ndarray) -> float | None:
        ev = evaluate_plan(problem, plan)
        if not ev.feasible:
            return None
        found[0] = min(found[0], ev.score)
        return ev.score

    deadline = time.perf_counter() + budget_s
    out = search_levels(
        problem,
        dual,
        lambda: found[0],
        offer,
        lambda outcome: None,
        lambda: time.perf_counter() > deadline,
        deadline,
    )
    if out is None:
        return "search: does not apply"
    below = _below(out.bound, best)
    if out.proven:
        return f"search: optimal {found[0]:.0f} proven in {out.seconds:.2f} s ({out.nodes:,} nodes)"
    ended = out.gave_up or "out of time"
    return f"search: {below:.3f}% below, {ended} after {out.seconds:.2f} s ({out.nodes:,} nodes)"


if __name__ == "__main__":
    raise SystemExit(main())
