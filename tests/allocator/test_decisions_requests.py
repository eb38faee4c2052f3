"""Document-level decision calls: each bad input is an InputError naming its field."""

from __future__ import annotations

import pytest

from allocator import decisions
from allocator.decisions import explain_request, parse_task, recommend_request
from models import Agent, InputError, Problem, Task

PLAN = {"assignments": {"t0": "a"}}


def _problem(**kw: object) -> Problem:
    base: dict[str, object] = {
        "agents": [Agent(id="a", capacity={"cpu": 4})],
        "tasks": [Task(id="t0", demand={"cpu": 1}), Task(id="t1", demand={"cpu": 1})],
        "allow_unassigned": True,
    }
    base.update(kw)
    return Problem.model_validate(base)


def test_task_documents_are_checked_field_by_field() -> None:
    task, comm = parse_task(
        {"task": {"id": "n"}, "communication": [{"a": "n", "b": "t0", "volume": 2}]}
    )
    assert task.id == "n" and comm[0].volume == 2
    with pytest.raises(InputError, match=r"communication\.0\.volume"):
        parse_task({"task": {"id": "n"}, "communication": [{"a": "n", "b": "t0", "volume": -1}]})
    with pytest.raises(InputError, match=r"task\.work"):
        parse_task({"id": "n", "work": -2})
    with pytest.raises(InputError, match="task"):
        parse_task("n")


def test_recommend_refuses_what_it_cannot_price() -> None:
    with pytest.raises(InputError, match="explicit cost"):
        recommend_request(_problem(cost=[[1.0, 2.0]]), PLAN, task={"id": "n"})
    with pytest.raises(InputError, match="already in the problem"):
        recommend_request(_problem(), PLAN, task={"id": "t1"})
    with pytest.raises(InputError, match=r"task\.demand\.gpu"):
        recommend_request(_problem(), PLAN, task={"id": "n", "demand": {"gpu": 1}})
    with pytest.raises(InputError, match="exactly one"):
        recommend_request(_problem(), PLAN)
    with pytest.raises(InputError, match="top"):
        recommend_request(_problem(), PLAN, agent="a", top=0)


def test_explain_caps_the_number_of_tasks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(decisions, "MAX_EXPLAINED_TASKS", 1)
    with pytest.raises(InputError, match="tasks: would explain 2 tasks"):
        explain_request(_problem(), PLAN)
    assert set(explain_request(_problem(), PLAN, tasks=["t1"])["tasks"]) == {"t1"}
