"""Workflow input: `after` entries, dependency errors (also through the CLI), transfer times."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError

from models import Problem, compile_problem
from models.workflow import DependencyError, check_dependencies

ROOT = Path(__file__).resolve().parents[2]


def _doc(tasks: list[dict[str, object]], **kw: object) -> dict[str, object]:
    doc: dict[str, object] = {"agents": [{"id": "a"}, {"id": "b"}], "tasks": tasks}
    doc.update(kw)
    return doc


CYCLE = [
    {"id": "x", "after": ["z"]},
    {"id": "y", "after": [{"task": "x", "data": 2}]},
    {"id": "z", "after": ["y"]},
]
BAD_GRAPHS = [
    ([{"id": "x", "after": ["x"]}], "task 'x' lists itself"),
    ([{"id": "x", "after": ["ghost"]}], "unknown predecessor 'ghost'"),
    ([{"id": "x"}, {"id": "y", "after": [{"task": "nope"}]}], "unknown predecessor 'nope'"),
    (CYCLE, "cycle"),
]


@pytest.mark.parametrize(("tasks", "needle"), BAD_GRAPHS)
def test_bad_dependencies_are_validation_errors_naming_the_id(
    tasks: list[dict[str, object]], needle: str
) -> None:
    with pytest.raises(ValidationError, match=needle):
        Problem.model_validate(_doc(tasks))


def test_cycle_message_names_every_task_of_the_cycle() -> None:
    with pytest.raises(DependencyError) as info:
        check_dependencies({"x": ["z"], "y": ["x"], "z": ["y"], "free": []})
    message = str(info.value)
    assert all(name in message for name in ("x", "y", "z"))
    assert "free" not in message


def test_after_accepts_ids_and_data_entries() -> None:
    problem = Problem.model_validate(
        _doc(
            [
                {"id": "x"},
                {"id": "y", "after": ["x"]},
                {"id": "z", "after": [{"task": "y", "data": 4}]},
            ]
        )
    )
    flow = compile_problem(problem).workflow
    assert flow is not None
    assert flow.pred.tolist() == [0, 1] and flow.succ.tolist() == [1, 2]
    assert flow.data.tolist() == [0.0, 4.0]


def test_no_after_means_no_workflow() -> None:
    assert compile_problem(Problem.model_validate(_doc([{"id": "x"}]))).workflow is None


def test_transfer_without_topology_uses_default_bandwidth_and_is_free_on_one_agent() -> None:
    tasks = [{"id": "x"}, {"id": "y", "after": [{"task": "x", "data": 6}]}]
    flow = compile_problem(Problem.model_validate(_doc(tasks, default_bandwidth=3))).workflow
    assert flow is not None
    assert flow.transfer(0, 0, 1) == pytest.approx(2.0)
    assert flow.transfer(0, 1, 1) == 0.0


def test_transfer_follows_the_lowest_latency_path_and_its_narrowest_link() -> None:
    topology = {
        "nodes": [{"id": n} for n in ("p", "q", "r")],
        "links": [
            {"a": "p", "b": "q", "latency_ms": 10, "bandwidth": 5},
            {"a": "q", "b": "r", "latency_ms": 10, "bandwidth": 2},
            {"a": "p", "b": "r", "latency_ms": 50, "bandwidth": 100},
        ],
    }
    doc = _doc(
        [{"id": "x"}, {"id": "y", "after": [{"task": "x", "data": 8}]}],
        topology=topology,
    )
    doc["agents"] = [{"id": "a", "node": "p"}, {"id": "b", "node": "r"}, {"id": "c", "node": "p"}]
    flow = compile_problem(Problem.model_validate(doc)).workflow
    assert flow is not None
    # p-q-r: 20 ms, narrowest 2 -> 8 / 2 + 0.020 s; the direct link is slower (50 ms).
    assert flow.transfer(0, 0, 1) == pytest.approx(4.02)
    assert flow.transfer(0, 1, 0) == pytest.approx(4.02)
    # Same node, different agents: no link, the default bandwidth.
    assert flow.transfer(0, 0, 2) == pytest.approx(8.0)
    assert np.all(np.diag(flow.per_data) == 0) and np.all(np.diag(flow.fixed) == 0)


def test_unconnected_nodes_never_deliver() -> None:
    doc = _doc(
        [{"id": "x"}, {"id": "y", "after": ["x"]}],
        topology={"nodes": [{"id": "p"}, {"id": "q"}], "links": []},
    )
    doc["agents"] = [{"id": "a", "node": "p"}, {"id": "b", "node": "q"}]
    flow = compile_problem(Problem.model_validate(doc)).workflow
    assert flow is not None and flow.transfer(0, 0, 1) == float("inf")


@pytest.mark.parametrize(("tasks", "needle"), [BAD_GRAPHS[0], BAD_GRAPHS[1], (CYCLE, "x -> ")])
def test_cli_solve_exits_2_with_one_line_naming_the_id(
    tmp_path: Path, tasks: list[dict[str, object]], needle: str
) -> None:
    path = tmp_path / "workflow.json"
    path.write_text(json.dumps(_doc(tasks)))
    proc = subprocess.run(
        [sys.executable, "-m", "allocator.cli", "solve", str(path), "--time-limit", "1"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert proc.returncode == 2, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and needle in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr
