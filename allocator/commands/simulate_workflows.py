"""`allocator simulate --workload fork-join|layered|montage`: workflows through the coordinator.

Each policy runs the same task graph through the coordinator core (tasks wait for
their predecessors and are released as those complete); the table reads each makespan
against online HEFT (earliest finish time when a task becomes ready) and a lower bound.
"""

from __future__ import annotations

import json
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from allocator.simulation import SimPolicy
from allocator.simulation.workflow_driver import WorkflowResult, compare_workflow
from allocator.simulation.workflows import WorkflowLoad, workflow_by_name

__all__ = ["run_workflow_simulation"]


def _table(results: list[WorkflowResult], load: WorkflowLoad) -> Table:
    table = Table(
        title=f"{load.name}: {load.n_tasks} tasks, {len(load.speeds)} agents",
        caption="ratio = makespan / online HEFT makespan; bound = max(critical path at the "
        "fastest speed, total work / total speed); transfers not modelled",
    )
    for title in ("policy", "makespan s", "online HEFT s", "ratio", "bound s"):
        table.add_column(title, justify="left" if title == "policy" else "right")
    for r in results:
        table.add_row(
            r.policy,
            f"{r.makespan_s:.5g}",
            f"{r.heft_online_s:.5g}",
            f"{r.ratio_to_heft:.3f}",
            f"{r.lower_bound_s:.5g}",
        )
    return table


def run_workflow_simulation(
    shape: str,
    tasks: int | None,
    agents: int | None,
    seed: int,
    policies: list[SimPolicy],
    as_json: bool,
) -> None:
    """Build the workflow, run every policy, print a table or one JSON document."""
    load = workflow_by_name(shape, tasks or 400, agents or 16, seed)
    results = compare_workflow(load, policies, seed=seed)
    emit_simulation(load, [r.row() for r in results], _table(results, load), as_json)


def emit_simulation(load: Any, rows: list[dict[str, Any]], table: Table, as_json: bool) -> None:
    """One JSON document (workload, sizes, a row per policy) or the Rich table.

    `load` is any simulated workload: it has `name`, `n_tasks` and `speeds`.
    """
    if as_json:
        doc = {"workload": load.name, "tasks": load.n_tasks, "agents": len(load.speeds)}
        typer.echo(json.dumps({**doc, "results": rows}, indent=2, default=float))
        return
    console = Console()
    (console if console.is_terminal else Console(width=160)).print(table)
