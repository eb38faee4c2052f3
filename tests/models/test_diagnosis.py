"""Structural diagnosis names the blocking requirement."""

from __future__ import annotations

from models import Problem, compile_problem
from models.diagnosis import diagnose


def _diag(doc: dict[str, object]) -> list[str]:
    problem = Problem.model_validate(doc)
    return diagnose(problem, compile_problem(problem))


def test_missing_capability_is_named() -> None:
    reasons = _diag(
        {
            "agents": [{"id": "a", "capacity": {"cpu": 4}}],
            "tasks": [{"id": "t17", "requires": ["gpu"]}],
        }
    )
    assert reasons == ["task t17 requires capability gpu that no agent has"]


def test_total_demand_over_capacity_is_quantified() -> None:
    reasons = _diag(
        {
            "resources": ["memory"],
            "agents": [
                {"id": "a", "capacity": {"memory": 10}},
                {"id": "b", "capacity": {"memory": 10}},
            ],
            "tasks": [{"id": f"t{i}", "demand": {"memory": 7.5}} for i in range(3)],
        }
    )
    assert any("memory demand exceeds total capacity by 2.5" in r for r in reasons)


def test_anti_affinity_needs_enough_agents() -> None:
    reasons = _diag(
        {
            "agents": [{"id": "a", "capacity": {"cpu": 9}}],
            "tasks": [{"id": "x"}, {"id": "y"}],
            "groups": [{"kind": "anti_affinity", "tasks": ["x", "y"]}],
        }
    )
    assert any("anti-affinity" in r for r in reasons)


def test_allow_unassigned_has_no_blocking_requirement() -> None:
    assert (
        _diag(
            {
                "allow_unassigned": True,
                "agents": [{"id": "a"}],
                "tasks": [{"id": "t", "requires": ["gpu"]}],
            }
        )
        == []
    )
