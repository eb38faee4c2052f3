"""CLI: `allocator simulate` drives the coordinator core with SimPy and compares policies.

With no arguments it runs the default skewed workload under every stealing policy
and prints a Rich table; `--json` prints the same as one JSON document. Bad input
exits with code 2 and one readable line.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import numpy as np
import typer

from allocator.cli_rich import new_console, new_table
from models.errors import InputError

# The simulation (the coordinator core, SimPy) is imported when `simulate` runs: every
# `allocator` command registers this one, and `solve` counts its process start against
# its time limit. The names for the help are therefore spelled out here;
# tests/allocator/test_cli_start.py checks them against allocator.simulation's.
if TYPE_CHECKING:
    from rich.table import Table

    from allocator.simulation import SimResult, Workload

__all__ = ["POLICY_NAMES", "WORKFLOW_SHAPES", "WORKLOADS", "register"]

EXIT_BAD_INPUT = 2
#: allocator.simulation.POLICY_NAMES and allocator.simulation.workflows.WORKFLOW_SHAPES.
POLICY_NAMES = ("round-robin", "seed", "heaviest", "locality", "steal-half", "late-binding")
WORKFLOW_SHAPES = ("fork-join", "layered", "montage")
WORKLOADS: tuple[str, ...] = (
    "skewed",
    "poisson",
    "bursty",
    "fairness",
    "failing",
    *WORKFLOW_SHAPES,  # task graphs, read against online HEFT (simulate_workflows.py)
)


def _fail(message: str) -> NoReturn:
    new_console(stderr=True).print(
        f"error: {message}", markup=False, highlight=False, soft_wrap=True
    )
    raise typer.Exit(EXIT_BAD_INPUT)


def _positive(tasks: int | None, agents: int | None) -> None:
    if tasks is not None and tasks < 1:
        _fail(f"--tasks is {tasks}; use a positive number")
    if agents is not None and agents < 1:
        _fail(f"--agents is {agents}; use a positive number")


def _workload(
    kind: str, trace: Path | None, tasks: int | None, agents: int | None, seed: int
) -> Workload:
    from allocator.simulation import (  # lazily: see the imports above
        failing_agent_workload,
        fairness_workload,
        poisson_workload,
        read_trace,
        skewed_workload,
    )

    _positive(tasks, agents)
    if trace is not None:
        speeds = np.linspace(1.0, 5.0, agents or 20) if (agents or 20) > 1 else np.ones(1)
        try:
            return read_trace(trace, speeds)
        except InputError as exc:
            _fail(str(exc))
    if kind == "skewed":
        return skewed_workload(tasks or 5_000, agents or 50, seed=seed)
    if kind in ("poisson", "bursty"):
        return poisson_workload(tasks or 50_000, agents or 100, bursty=kind == "bursty", seed=seed)
    if kind == "fairness":
        return fairness_workload(
            {"gold": 2.0, "free": 1.0}, tasks or 20_000, agents or 20, seed=seed
        )
    if kind == "failing":
        return failing_agent_workload(tasks or 4_000, agents or 10, seed=seed)
    _fail(f"--workload is {kind!r}; choose one of {', '.join(WORKLOADS)}")


def _fmt(value: Any, digits: int = 4) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    return str(value)


def _table(results: list[SimResult], workload: Workload) -> Table:
    table = new_table(
        title=f"{workload.name}: {workload.n_tasks} tasks, {len(workload.speeds)} agents",
        caption="makespan ratio = makespan / max(total work / total speed, longest / fastest)",
    )
    columns = (
        ("policy", "policy"),
        ("makespan s", "makespan_s"),
        ("bound s", "lower_bound_s"),
        ("ratio", "makespan_ratio"),
        ("migrated %", "migrated_pct"),
        ("steals", "steals"),
        ("p50 wait s", "latency_p50_s"),
        ("p99 wait s", "latency_p99_s"),
        ("util", "utilisation"),
        ("balance", "balance_efficiency"),
        ("Jain", "jain_fairness"),
        ("lost", "lost"),
    )
    for title, _key in columns:
        table.add_column(title, justify="left" if title == "policy" else "right")
    for result in results:
        row = result.row()
        table.add_row(*(_fmt(row[key], 3 if key != "makespan_s" else 5) for _t, key in columns))
    return table


def register(app: typer.Typer) -> None:
    """Add the `simulate` command to `app`."""

    @app.command()
    def simulate(
        workload: Annotated[
            str, typer.Option("--workload", "-w", help=f"One of: {', '.join(WORKLOADS)}.")
        ] = "skewed",
        trace: Annotated[
            Path | None, typer.Option("--trace", help="Recorded arrivals (.csv or .jsonl).")
        ] = None,
        policy: Annotated[
            list[str] | None,
            typer.Option(
                "--policy", "-p", help=f"Repeatable; default all: {', '.join(POLICY_NAMES)}."
            ),
        ] = None,
        tasks: Annotated[int | None, typer.Option("--tasks", help="Number of tasks.")] = None,
        agents: Annotated[int | None, typer.Option("--agents", help="Number of agents.")] = None,
        seed: Annotated[int, typer.Option("--seed", help="Random seed.")] = 0,
        as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
    ) -> None:
        """Simulate the coordinator under several policies and compare their KPIs."""
        from allocator.commands.simulate_workflows import emit_simulation, run_workflow_simulation
        from allocator.simulation import DEFAULT_POLICIES, compare_policies, policy_by_name

        try:
            chosen = [policy_by_name(p) for p in policy] if policy else list(DEFAULT_POLICIES)
        except ValueError as exc:
            _fail(str(exc))
        if workload in WORKFLOW_SHAPES and trace is None:
            _positive(tasks, agents)
            run_workflow_simulation(workload, tasks, agents, seed, chosen, as_json)
            return
        load = _workload(workload, trace, tasks, agents, seed)
        results = compare_policies(load, chosen, seed=seed)
        emit_simulation(load, [r.row() for r in results], _table(results, load), as_json)
