"""(e) of `bench.topology`: link bandwidth in placement (issue 15).

Overhead: evaluate_plan per call, and the greedy's wall time at a 1 s limit (the routing
of incumbents and the final repair show as time past the limit), on the same problem
with its network and with the network removed (what the evaluator did before it routed
traffic), plus a plain allocation without topology.

Repair: networked problems whose links get the bandwidth that puts the blind plan's
busiest link (greedy at a 4 s limit, network removed) at 150% and 300%; then the greedy with the
network at a 4 s limit (its final repair gets 1 s of it) and the portfolio's repair of
the blind plan.

`python -m bench.topology --part e --instances 3`

Tiny cases (`--tiny N`, issue 15 second pass): the first N seeds of
`generate_tiny_networked_problem` whose cheapest plan overloads a link, each brute-forced;
how often the repair of the cheapest plan, the greedy, the MILP and CP-SAT (network
kept, link rows) end within bandwidth, and how often at the brute-force optimum.

`python -m bench.placement_bandwidth --tiny 200`

Ring workflows (`--workflows N`): the `heft` engine on `generate_ring_workflow` (30
tasks, 6 agents on a ring with a chord, every dependency talking) at a bandwidth and a
time limit: whether it returns a plan, its makespan, and how the plan's traffic is routed.

`python -m bench.placement_bandwidth --workflows 6 --bandwidth 6 --time-limit 5`
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace

import numpy as np

from models import CompiledProblem, compile_problem, evaluate_plan
from models.generators.instances import generate_attribute_problem
from models.generators.networked import generate_networked_problem, with_bandwidth
from models.generators.networked_workflow import generate_ring_workflow
from models.generators.tiny_networked import (
    brute_force_within_bandwidth,
    generate_tiny_networked_problem,
)
from solvers.base import SolveOptions
from solvers.cpsat.solver import CpSatSolver
from solvers.heuristic.solver import GreedySolver
from solvers.milp.solver import MilpSolver
from solvers.shared.bandwidth_repair import repair_bandwidth
from solvers.workflow.solver import HeftSolver

__all__ = ["part_e", "ring_workflows", "tiny_cases"]


def _seconds(call: Callable[[], object], repeat: int) -> float:
    """Best of three batches, per call."""
    best = np.inf
    for _ in range(3):
        t0 = time.perf_counter()
        for _ in range(repeat):
            call()
        best = min(best, (time.perf_counter() - t0) / repeat)
    return float(best)


def _greedy(compiled: CompiledProblem, seed: int, limit_s: float = 1.0) -> np.ndarray:
    result = GreedySolver().solve(compiled, SolveOptions(time_limit_s=limit_s, seed=seed))
    assert result.assignment is not None
    return result.assignment


def _blind(compiled: CompiledProblem, seed: int, limit_s: float = 1.0) -> np.ndarray:
    result = GreedySolver().solve(
        replace(compiled, network=None), SolveOptions(time_limit_s=limit_s, seed=seed)
    )
    assert result.assignment is not None
    return result.assignment


def _overhead(seed: int) -> None:
    print("  overhead (best of 3; 'none' = the same problem with its network removed)")
    print(
        f"  {'problem':>32} {'eval none ms':>12} {'eval net ms':>11} {'x':>5} "
        f"{'greedy none s':>13} {'greedy net s':>12} {'x':>5}"
    )
    for n_tasks, n_agents, n_nodes in ((200, 20, 8), (1000, 40, 12)):
        compiled = compile_problem(generate_networked_problem(n_tasks, n_agents, n_nodes, seed))
        free = replace(compiled, network=None)
        plan = _blind(compiled, seed)
        e_free = _seconds(lambda p=free, a=plan: evaluate_plan(p, a), 20)  # type: ignore[misc]
        e_net = _seconds(lambda p=compiled, a=plan: evaluate_plan(p, a), 20)  # type: ignore[misc]
        g_free = _seconds(lambda p=free: _greedy(p, seed), 1)  # type: ignore[misc]
        g_net = _seconds(lambda p=compiled: _greedy(p, seed), 1)  # type: ignore[misc]
        label = f"{n_tasks}x{n_agents}, {n_nodes} nodes, fits"
        print(
            f"  {label:>32} {1e3 * e_free:>12.3f} {1e3 * e_net:>11.3f} {e_net / e_free:>5.2f} "
            f"{g_free:>13.2f} {g_net:>12.2f} {g_net / g_free:>5.2f}"
        )
    plain = compile_problem(generate_attribute_problem(2000, 60, seed))
    everyone = np.arange(plain.n_tasks) % plain.n_agents
    e_plain = _seconds(lambda: evaluate_plan(plain, everyone), 20)
    print(f"  {'2000x60, no topology':>32} {1e3 * e_plain:>12.3f} (network None: not routed)")


def _repair(instances: int, seed: int) -> None:
    print("  repair: links scaled so the blind plan's busiest link runs at the given load")
    print(
        f"  {'problem':>26} {'load':>5} {'greedy fits':>11} {'cost +%':>8} {'moved':>5} "
        f"{'repair fits':>11} {'cost +%':>8} {'moved':>5} {'repair s':>8}"
    )
    for k in range(instances):
        problem = generate_networked_problem(300, 16, 8, seed + k)
        compiled = compile_problem(problem)
        blind = _blind(compiled, seed + k, 4.0)
        use = evaluate_plan(compiled, blind).link_use
        assert use is not None
        for load in (1.5, 3.0):
            tight = compile_problem(with_bandwidth(problem, 1000.0 * use.max_utilisation / load))
            base = evaluate_plan(tight, blind)
            greedy = _greedy(tight, seed, 4.0)
            g_ev = evaluate_plan(tight, greedy)
            t0 = time.perf_counter()
            fixed = repair_bandwidth(tight, blind, time_limit_s=10.0)
            elapsed = time.perf_counter() - t0
            r_ev = evaluate_plan(tight, fixed.assignment)
            print(
                f"  {problem.name:>26} {load:>5.0%} {g_ev.feasible!s:>11} "
                f"{100 * (g_ev.score / base.score - 1):>8.2f} {int((greedy != blind).sum()):>5} "
                f"{r_ev.feasible!s:>11} {100 * (r_ev.score / base.score - 1):>8.2f} "
                f"{fixed.moved:>5} {elapsed:>8.2f}"
            )


def part_e(instances: int, seed: int) -> None:
    print("(e) bandwidth in placement: routing cost and repair")
    _overhead(seed)
    _repair(instances, seed)
    print()


def _outcome(
    compiled: CompiledProblem, plan: np.ndarray | None, best: float | None
) -> tuple[bool, bool]:
    """(within bandwidth, at the brute-force optimum) of a plan."""
    if plan is None:
        return False, False
    ev = evaluate_plan(compiled, plan)
    return ev.feasible, ev.feasible and best is not None and abs(ev.score - best) < 1e-6


def tiny_cases(seeds: int, *, repair_only: bool = False) -> dict[str, int]:
    """Counts over the tiny cases whose cheapest plan overloads a link (see the module)."""
    counts = {"cases": 0, "fit exists": 0}
    t0 = time.perf_counter()
    for seed in range(seeds):
        compiled = compile_problem(generate_tiny_networked_problem(seed))
        truth = brute_force_within_bandwidth(compiled)
        if truth.cheapest is None or truth.cheapest_fits:
            continue
        counts["cases"] += 1
        counts["fit exists"] += truth.best_within is not None
        repaired = repair_bandwidth(compiled, truth.cheapest, time_limit_s=2.0).assignment
        plans: dict[str, np.ndarray | None] = {"repair": repaired}
        if not repair_only:
            quick, exact = SolveOptions(1.0, seed=seed), SolveOptions(10.0, seed=seed)
            plans["greedy"] = GreedySolver().solve(compiled, quick).assignment
            plans["milp"] = MilpSolver().solve(compiled, exact).assignment
            plans["cpsat"] = CpSatSolver().solve(compiled, exact).assignment
        for name, plan in plans.items():
            fits, best = _outcome(compiled, plan, truth.best_within)
            counts[f"{name} fits"] = counts.get(f"{name} fits", 0) + fits
            counts[f"{name} optimal"] = counts.get(f"{name} optimal", 0) + best
    print(f"  tiny cases, seeds 0-{seeds - 1} ({time.perf_counter() - t0:.1f} s): {counts}")
    return counts


def ring_workflows(seeds: int, bandwidth: float, limit_s: float) -> None:
    """The heft engine on ring workflows: plan found, makespan, routing, wall time."""
    print(f"  ring workflows, bandwidth {bandwidth:g}, {limit_s:g} s each")
    for seed in range(seeds):
        compiled = compile_problem(generate_ring_workflow(seed, bandwidth))
        t0 = time.perf_counter()
        result = HeftSolver().solve(compiled, SolveOptions(time_limit_s=limit_s, seed=0))
        wall = time.perf_counter() - t0
        if result.assignment is None:
            print(f"  seed {seed}: no plan ({result.status}), {wall:.2f} s")
            continue
        ev = evaluate_plan(compiled, result.assignment, result.start)
        how = ev.link_use.routing.method if ev.link_use is not None else "no traffic"
        print(
            f"  seed {seed}: verified {ev.feasible}, makespan {ev.objectives['makespan']:.2f}, "
            f"routing {how}, {wall:.2f} s"
        )


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiny", type=int, default=0, help="seeds to draw tiny cases from")
    parser.add_argument("--repair-only", action="store_true", help="skip greedy and MILP")
    parser.add_argument("--workflows", type=int, default=0, help="ring workflows (seeds)")
    parser.add_argument("--bandwidth", type=float, default=6.0, help="ring links' bandwidth")
    parser.add_argument("--time-limit", type=float, default=5.0, help="seconds per workflow")
    args = parser.parse_args()
    if args.tiny:
        tiny_cases(args.tiny, repair_only=args.repair_only)
    if args.workflows:
        ring_workflows(args.workflows, args.bandwidth, args.time_limit)
