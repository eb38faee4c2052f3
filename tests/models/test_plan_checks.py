"""Plan documents: unknown ids are bad input; broken constraints come back with codes."""

from __future__ import annotations

import numpy as np
import pytest

from models import Agent, ConstraintGroup, InputError, Problem, Task, compile_problem
from models.plan_checks import evaluate_document, parse_plan
from models.plan_diff import diff_plans


def _problem() -> Problem:
    return Problem(
        resources=["cpu"],
        agents=[
            Agent(id="a", capacity={"cpu": 2}, max_tasks=2),
            Agent(id="b", capacity={"cpu": 4}, capabilities=["gpu"]),
        ],
        tasks=[
            Task(id="t0", demand={"cpu": 1}),
            Task(id="t1", demand={"cpu": 1}, requires=["gpu"]),
            Task(id="t2", demand={"cpu": 1}, pinned_agent="b"),
            Task(id="t3", demand={"cpu": 1}),
        ],
        groups=[ConstraintGroup(kind="anti_affinity", tasks=["t0", "t3"])],
    )


def test_unknown_ids_are_input_errors_naming_the_field() -> None:
    compiled = compile_problem(_problem())
    with pytest.raises(InputError, match=r"plan\.assignments: unknown task 'zz'"):
        parse_plan(compiled, {"assignments": {"zz": "a"}})
    with pytest.raises(InputError, match=r"plan\.assignments\.t0: unknown agent 'q'"):
        parse_plan(compiled, {"assignments": {"t0": "q"}})
    with pytest.raises(InputError, match="both assigned and unassigned"):
        parse_plan(compiled, {"assignments": {"t0": "a"}, "unassigned": ["t0"]})
    with pytest.raises(InputError, match="plan"):
        parse_plan(compiled, ["t0"])


def test_each_broken_rule_has_its_code() -> None:
    problem = _problem()
    compiled = compile_problem(problem)
    doc = {"assignments": {"t0": "a", "t1": "a", "t2": "a", "t3": "a"}}
    _, coded = evaluate_document(problem, compiled, doc)
    codes = sorted({v.kind for v in coded.violations})
    assert codes == ["anti_affinity", "capability", "capacity", "max_tasks", "pinned"]
    assert not coded.feasible
    assert any("capability gpu missing" in v.message for v in coded.violations)


def test_a_good_plan_is_feasible_and_reports_loads() -> None:
    problem = _problem()
    compiled = compile_problem(problem)
    doc = {"assignments": {"t0": "a", "t1": "b", "t2": "b", "t3": "b"}}
    assignment, coded = evaluate_document(problem, compiled, doc)
    report = coded.to_dict(compiled, assignment)
    assert report["feasible"] and report["violations"] == []
    assert [row["tasks"] for row in report["loads"]] == [1, 3]
    assert report["loads"][1]["usage"] == {"cpu": 3.0}


def test_diff_lists_moves_additions_drops_and_exact_deltas() -> None:
    problem = _problem().model_copy(update={"allow_unassigned": True})
    compiled = compile_problem(problem)
    a = np.array([0, 1, 1, -1])
    b = np.array([1, 1, -1, 0])
    out = diff_plans(compiled, a, b)
    assert out["moved"] == [{"task": "t0", "from": "a", "to": "b"}]
    assert out["added"] == [{"task": "t3", "to": "a"}]
    assert out["dropped"] == [{"task": "t2", "from": "b"}]
    assert out["n_changed"] == 3
    assert out["score_delta"] == out["score_b"] - out["score_a"]
    assert out["agents"]["b"]["tasks_delta"] == 0
    assert out["agents"]["a"]["usage_delta"] == {"cpu": 0.0}
