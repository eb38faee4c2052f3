"""Workflow simulation: task-graph shapes, online HEFT, the coordinator run, the CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from allocator.commands.simulate import register
from allocator.simulation import (
    DEFAULT_POLICIES,
    WorkflowLoad,
    compare_workflow,
    fork_join,
    layered_dag,
    montage,
    online_heft,
    policy_by_name,
    simulate_workflow,
    workflow_by_name,
)


def _chain_on_two_agents() -> WorkflowLoad:
    # a (2) -> b (4) -> c (2), agents of speed 1 and 2: all on the fast one, 1 + 2 + 1 = 4 s.
    return WorkflowLoad(
        "chain", ["a", "b", "c"], [2.0, 4.0, 2.0], [[], [0], [1]], np.array([1.0, 2.0])
    )


def test_online_heft_puts_a_chain_on_the_fastest_agent() -> None:
    assert online_heft(_chain_on_two_agents()) == pytest.approx(4.0)


def test_online_heft_spreads_a_fork_by_earliest_finish() -> None:
    # Two independent 4-unit tasks on speeds 1 and 2: the fast agent finishes the first at
    # 2 s; the second finishes at 4 s on either, so the makespan is 4 s.
    load = WorkflowLoad("pair", ["x", "y"], [4.0, 4.0], [[], []], np.array([1.0, 2.0]))
    assert online_heft(load) == pytest.approx(4.0)


def test_shapes_are_graphs_in_topological_order() -> None:
    for load in (fork_join(3, 4, 5), layered_dag(60, 5, 4, seed=2), montage(10, 4)):
        assert len(set(load.ids)) == load.n_tasks
        assert all(p < j for j, ps in enumerate(load.preds) for p in ps)
    assert montage(10, 4).n_tasks == 4 * 10 + 6
    fj = fork_join(2, 3, 2)
    assert fj.n_tasks == 1 + 2 * (3 + 1) and fj.preds[-1] == [5, 6, 7]


def test_one_agent_runs_the_whole_graph_back_to_back() -> None:
    load = fork_join(2, 3, 1)
    load.speeds = np.array([2.0])
    total = sum(load.work) / 2.0
    assert online_heft(load) == pytest.approx(total)
    result = simulate_workflow(load, policy_by_name("late-binding"))
    assert result.makespan_s == pytest.approx(total)


@pytest.mark.parametrize("shape", ["fork-join", "layered", "montage"])
def test_every_policy_finishes_the_graph_within_the_bounds(shape: str) -> None:
    load = workflow_by_name(shape, 120, 6, seed=3)
    for result in compare_workflow(load, list(DEFAULT_POLICIES)):
        assert result.completed == load.n_tasks
        assert result.makespan_s >= result.lower_bound_s - 1e-9
        assert result.heft_online_s >= result.lower_bound_s - 1e-9
        # Never slower than running everything on the slowest agent alone.
        assert result.makespan_s <= sum(load.work) / float(load.speeds.min()) + 1e-9


def test_late_binding_stays_near_online_heft_on_a_montage() -> None:
    result = simulate_workflow(
        workflow_by_name("montage", 400, 16, seed=1), policy_by_name("late-binding")
    )
    assert result.ratio_to_heft < 1.25


app = typer.Typer()
register(app)


@app.callback()
def _root() -> None:
    """Keep `simulate` a sub-command."""


def test_cli_reports_makespan_against_online_heft() -> None:
    runner = CliRunner()
    result = runner.invoke(
        app, ["simulate", "-w", "montage", "--tasks", "80", "--agents", "4", "--json"]
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    row = doc["results"][0]
    assert row["ratio_to_heft"] == pytest.approx(row["makespan_s"] / row["heft_online_s"])
    table = runner.invoke(app, ["simulate", "-w", "fork-join", "-p", "heaviest"])
    assert table.exit_code == 0 and "online HEFT" in table.output
    bad = runner.invoke(app, ["simulate", "-w", "layered", "--agents", "0"])
    assert bad.exit_code == 2 and bad.output.strip().startswith("error:")
