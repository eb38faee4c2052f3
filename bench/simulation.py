"""Simulation goals: 1M tasks over 1,000 agents, skewed makespan, fairness, breakers,
and workflows (fork-join, layered DAG, Montage-like) read against online HEFT.

Run: .venv/bin/python -m bench.simulation [--quick] [--workflows-only]
"""

from __future__ import annotations

import argparse
import time

from allocator.simulation import (
    DEFAULT_POLICIES,
    WORKFLOW_SHAPES,
    SimPolicy,
    compare_policies,
    compare_workflow,
    failing_agent_workload,
    fairness_workload,
    poisson_workload,
    policy_by_name,
    simulate,
    skewed_workload,
    workflow_by_name,
)


def million(n_tasks: int, n_agents: int) -> None:
    workload = poisson_workload(n_tasks, n_agents, load=0.9)
    start = time.perf_counter()
    result = simulate(workload, policy_by_name("late-binding"))
    wall = time.perf_counter() - start
    print(f"[scale] {n_tasks:,} tasks over {n_agents:,} agents (Poisson, load 0.9, Pareto sizes):")
    print(
        f"  wall {wall:.1f} s (goal < 60 s); completed {result.kpis['completed']:,}, "
        f"lost {result.lost}, p99 queue wait {result.kpis['queue_latency_p99_s']:.3g} s"
    )


def skewed(n_tasks: int, n_agents: int, seeds: range) -> None:
    print(
        f"[skewed] Pareto(1.5) sizes, speeds 1..5, heaviest first, {n_tasks} tasks, "
        f"{n_agents} agents; makespan / lower bound (migrated %), per seed"
    )
    rows: dict[str, list[str]] = {}
    for seed in seeds:
        for r in compare_policies(skewed_workload(n_tasks, n_agents, seed=seed), seed=seed):
            rows.setdefault(f"{r.policy:13s} {r.label}", []).append(
                f"{r.makespan_ratio:.3f} ({100 * r.migrated_fraction:.1f}%)"
            )
    for name, cells in rows.items():
        print(f"  {name:60s} " + "  ".join(cells))


def fairness(n_tasks: int) -> None:
    for queue in ("cfs", "wfq"):
        two = simulate(
            fairness_workload({"gold": 2.0, "free": 1.0}, n_tasks, 20),
            SimPolicy("fair", "global", "none", queue),
            until_last_arrival=True,
        )
        share = two.kpis["tenant_share"]
        four = simulate(
            fairness_workload({f"t{i}": 1.0 for i in range(4)}, n_tasks, 20),
            SimPolicy("fair", "global", "none", queue),
            until_last_arrival=True,
        )
        print(
            f"[fairness] {queue}: gold:free served work {share['gold'] / share['free']:.3f} "
            f"(goal 2 +- 5%); Jain over 4 equal tenants {four.kpis['jain_fairness']:.4f} "
            f"(goal >= 0.98)"
        )


def breaker() -> None:
    result = simulate(failing_agent_workload(4_000, 10), policy_by_name("late-binding"))
    print(
        f"[breaker] failing agent opened after {result.breaker_open_after_calls} failed calls, "
        f"{result.breaker_open_after_s:.2f} simulated s (goal <= 20 calls or 5 s); "
        f"lost {result.lost}, dead-lettered {result.kpis['dead_lettered']}, "
        f"completed {result.kpis['completed']}/4000"
    )


def workflows(n_tasks: int, n_agents: int, seeds: range) -> None:
    print(
        f"[workflows] ~{n_tasks} tasks, {n_agents} agents (speeds 0.5-2); makespan / online "
        "HEFT per seed (no transfers)"
    )
    for shape in WORKFLOW_SHAPES:
        rows: dict[str, list[str]] = {}
        for seed in seeds:
            load = workflow_by_name(shape, n_tasks, n_agents, seed=seed)
            for r in compare_workflow(load, list(DEFAULT_POLICIES), seed=seed):
                rows.setdefault(r.policy, []).append(f"{r.ratio_to_heft:.3f}")
        print(f"  {shape} ({load.n_tasks} tasks):")
        for policy, cells in rows.items():
            print(f"    {policy:13s} " + "  ".join(cells))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller sizes (about 10 s)")
    parser.add_argument("--workflows-only", action="store_true", help="only the workflow part")
    args = parser.parse_args()
    if args.workflows_only:
        workflows(400 if args.quick else 2_000, 16 if args.quick else 64, range(3))
        return
    if args.quick:
        million(100_000, 100)
        skewed(5_000, 50, range(2))
        fairness(10_000)
    else:
        million(1_000_000, 1_000)
        skewed(20_000, 100, range(3))
        fairness(40_000)
    breaker()
    workflows(400 if args.quick else 2_000, 16 if args.quick else 64, range(3))


if __name__ == "__main__":
    main()
