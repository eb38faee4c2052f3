"""The coordinator's event interface, eligibility filter, errors and metrics."""

from __future__ import annotations

import pytest

from allocator.coordinator import (
    Accepted,
    AdmissionError,
    AgentSpec,
    Assign,
    Completed,
    CompleteTask,
    CompletionRejected,
    Coordinator,
    CoordinatorConfig,
    FailTask,
    NoWork,
    Pull,
    RegisterAgent,
    Rejected,
    SubmitTask,
    TaskSpec,
    Tick,
    UnknownAgentError,
    task_spec_from_model,
)
from models import Agent, Task


def test_handle_round_trip(clock) -> None:  # type: ignore[no-untyped-def]
    coord = Coordinator(clock=clock)
    assert coord.handle(RegisterAgent(AgentSpec("a"))) == []
    assert coord.handle(SubmitTask(TaskSpec("t"))) == [Accepted("t", None)]
    assert coord.handle(Pull("a")) == [Assign("t", "a")]
    assert coord.handle(Pull("a")) == [NoWork("a", "nothing eligible")]
    assert coord.handle(CompleteTask("t", "a", 0.5)) == [Completed("t", "a")]
    out = coord.handle(CompleteTask("t", "a"))
    assert isinstance(out[0], CompletionRejected) and "at most once" in out[0].reason
    assert coord.handle(SubmitTask(TaskSpec("t"))) == [
        Rejected("t", "a task with this id was already submitted")
    ]
    coord.handle(SubmitTask(TaskSpec("u")))
    coord.handle(Pull("a"))
    assert coord.handle(FailTask("u", "a", "x")) == []  # retried: requeued quietly
    assert coord.handle(Tick()) == []
    coord.validate()


def test_agents_only_get_tasks_they_are_eligible_for(clock) -> None:  # type: ignore[no-untyped-def]
    coord = Coordinator(CoordinatorConfig(placement="global"), clock=clock)
    coord.register_agent(AgentSpec("cpu", capacity={"mem": 4.0}))
    coord.register_agent(AgentSpec("gpu", capabilities=frozenset({"gpu"}), capacity={"mem": 64.0}))
    coord.submit(TaskSpec("needs-gpu", requires=frozenset({"gpu"})))
    coord.submit(TaskSpec("big", demand={"mem": 32.0}))
    coord.submit(TaskSpec("pinned", pinned_agent="cpu"))
    assert coord.next_for("cpu").id == "pinned"  # type: ignore[union-attr]
    assert coord.next_for("cpu") is None
    got = {coord.next_for("gpu").id, coord.next_for("gpu").id}  # type: ignore[union-attr]
    assert got == {"needs-gpu", "big"}
    coord.validate()


def test_impossible_tasks_are_rejected_with_a_reason(clock) -> None:  # type: ignore[no-untyped-def]
    coord = Coordinator(clock=clock, agents=[AgentSpec("a")])
    with pytest.raises(AdmissionError, match="capabilities \\[gpu\\]"):
        coord.submit(TaskSpec("x", requires=frozenset({"gpu"})))
    with pytest.raises(AdmissionError, match="not registered"):
        coord.submit(TaskSpec("y", pinned_agent="ghost"))
    with pytest.raises(UnknownAgentError, match="register it first"):
        coord.next_for("ghost")


def test_anti_affinity_group_members_land_on_different_agents(clock) -> None:  # type: ignore[no-untyped-def]
    coord = Coordinator(
        CoordinatorConfig(placement="least_loaded"),
        clock=clock,
        agents=[AgentSpec(f"a{i}") for i in range(3)],
    )
    for i in range(3):
        coord.submit(TaskSpec(f"g{i}", group="replicas"))
    homes = {t.agent.id for t in coord.tasks.values()}  # type: ignore[union-attr]
    assert len(homes) == 3
    coord.validate()


def test_models_agents_and_tasks_are_accepted(clock) -> None:  # type: ignore[no-untyped-def]
    coord = Coordinator(clock=clock, agents=[Agent(id="m", speed=2.0, capabilities=["x"])])
    coord.submit(task_spec_from_model(Task(id="t", work=4.0, requires=["x"], priority="high")))
    assert coord.next_for("m").est == 4.0  # type: ignore[union-attr]


def test_unknown_work_uses_the_kind_estimate(clock) -> None:  # type: ignore[no-untyped-def]
    coord = Coordinator(clock=clock, agents=[AgentSpec("a", speed=2.0)])
    coord.submit(TaskSpec("t1", work=None, kind="resize"))
    assert coord.next_for("a").est == 1.0  # type: ignore[union-attr]  # safe default
    clock.advance(3.0)
    coord.complete("t1", "a")  # 3 s at speed 2 = 6 work units
    coord.submit(TaskSpec("t2", work=None, kind="resize"))
    assert coord.tasks["t2"].est == pytest.approx(6.0)


def test_metrics_snapshot(clock) -> None:  # type: ignore[no-untyped-def]
    coord = Coordinator(
        clock=clock, tenant_weights={"a": 1.0, "b": 1.0}, agents=[AgentSpec("x"), AgentSpec("y")]
    )
    for i in range(4):
        coord.submit(TaskSpec(f"t{i}", tenant="a" if i % 2 else "b"))
    clock.advance(1.0)
    for agent in ("x", "y", "x", "y"):
        task = coord.next_for(agent)
        assert task is not None
        coord.complete(task.id, agent, 0.5)
    m = coord.metrics()
    assert m.completed == 4 and m.queue_latency_p99_s == pytest.approx(1.0)
    assert m.jain_fairness == pytest.approx(1.0)
    assert m.tenant_share == {"b": 0.5, "a": 0.5}
    assert 0 < m.balance_efficiency <= 1 and m.utilisation_efficiency == pytest.approx(1.0)
    assert m.to_dict()["throughput_per_s"] == pytest.approx(4.0)


def test_remove_agent_requeues_everything(clock) -> None:  # type: ignore[no-untyped-def]
    coord = Coordinator(
        CoordinatorConfig(placement="least_loaded"),
        clock=clock,
        agents=[AgentSpec("a"), AgentSpec("b")],
    )
    for i in range(6):
        coord.submit(TaskSpec(f"t{i}"))
    coord.next_for("a")
    assert coord.remove_agent("a") >= 1
    assert all(t.agent is None or t.agent.id == "b" for t in coord.tasks.values())
    coord.validate()


def test_breaker_opens_redistributes_and_loses_nothing(clock) -> None:  # type: ignore[no-untyped-def]
    coord = Coordinator(
        CoordinatorConfig(placement="least_loaded", max_retries=50),
        clock=clock,
        agents=[AgentSpec("bad"), AgentSpec("good")],
    )
    for i in range(40):
        coord.submit(TaskSpec(f"t{i}"))
    calls = 0
    while coord.agents["bad"].breaker.state == "closed":
        task = coord.next_for("bad")
        assert task is not None
        coord.fail(task.id, "bad", "crash")
        calls += 1
    assert calls <= 20
    assert len(coord.agents["bad"].queue) == 0
    assert coord.next_for("bad") is None
    coord.validate()
    while (task := coord.next_for("good")) is not None:
        coord.complete(task.id, "good")
    assert coord.metrics().completed == 40
