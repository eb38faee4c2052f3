"""Work stealing: victim choice, gain check, no thrash, steal-half, locality, newcomers."""

from __future__ import annotations

from allocator.coordinator import (
    AgentSpec,
    Coordinator,
    CoordinatorConfig,
    HeaviestVictim,
    LocalityAware,
    RandomStealHalf,
    TaskSpec,
)


def _set_breaker(coord: Coordinator, agent_id: str, open_: bool) -> None:
    """Flip a breaker through the coordinator so its mirror and queues follow."""
    agent = coord.agents[agent_id]
    old = agent.breaker.state
    if open_:
        agent.breaker.force_open(0.0)
    else:
        agent.breaker._to_closed()
    coord._note_breaker(agent, old, agent.breaker.state, 0.0)


RR = CoordinatorConfig(placement="round_robin", emit_commands=True)


def _load(coord: Coordinator, agent: str, n: int, work: float = 1.0) -> None:
    for i in range(n):
        spec = TaskSpec(f"{agent}-{i}", work=work, pinned_agent=None)
        coord.submit(spec)


def test_idle_agent_steals_from_the_heaviest(make_coord) -> None:  # type: ignore[no-untyped-def]
    coord = make_coord(3, config=CoordinatorConfig(placement="round_robin"))
    _set_breaker(coord, "a1", True)  # placement skips a1 and a2 below
    _set_breaker(coord, "a2", True)
    _load(coord, "x", 6)
    _set_breaker(coord, "a1", False)
    _set_breaker(coord, "a2", False)
    assert len(coord.agents["a0"].queue) == 6
    task = coord.next_for("a1")
    assert task is not None and task.prev_agent is coord.agents["a0"]
    assert coord.metrics().tasks_stolen == 1
    coord.validate()


def test_no_steal_when_it_does_not_pay(make_coord) -> None:  # type: ignore[no-untyped-def]
    # a0 is 10x faster: a slow thief would finish a stolen task later than a0 does.
    coord = make_coord(
        2,
        speeds=[10.0, 1.0],
        config=CoordinatorConfig(placement="least_loaded"),
        steal=HeaviestVictim(threshold=2),
    )
    _set_breaker(coord, "a1", True)
    _load(coord, "x", 5, work=2.0)
    _set_breaker(coord, "a1", False)
    assert coord.next_for("a1") is None
    assert coord.metrics().tasks_stolen == 0


def test_no_thrash_a_task_never_goes_back(make_coord, clock) -> None:  # type: ignore[no-untyped-def]
    coord = make_coord(2, config=CoordinatorConfig(placement="round_robin", prefetch=0))
    _set_breaker(coord, "a1", True)
    _load(coord, "x", 8)
    _set_breaker(coord, "a1", False)
    moved: dict[str, list[str]] = {}
    for step in range(40):
        clock.advance(0.5)
        for agent in ("a0", "a1"):
            task = coord.next_for(agent)
            if task is not None:
                coord.complete(task.id, agent)
        for cmd in coord.drain_commands():
            if type(cmd).__name__ == "Migrated":
                moved.setdefault(cmd.task_id, []).append(cmd.to_agent)  # type: ignore[union-attr]
        if step % 5 == 0:
            coord.validate()
    assert moved, "expected some steals"
    assert all(len(v) == 1 for v in moved.values()), moved


def test_new_agent_joining_a_busy_pool_gets_work_at_once(make_coord) -> None:  # type: ignore[no-untyped-def]
    coord = make_coord(2, config=CoordinatorConfig(placement="least_loaded"))
    _load(coord, "x", 40)
    coord.register_agent(AgentSpec("new"))
    assert coord.next_for("new") is not None


def test_steal_half_takes_half_and_hunters_are_capped(clock) -> None:  # type: ignore[no-untyped-def]
    coord = Coordinator(
        CoordinatorConfig(placement="round_robin"),
        clock=clock,
        steal=RandomStealHalf(tries=16, max_hunters=1),
    )
    coord.register_agent(AgentSpec("busy"))
    for i in range(10):
        coord.submit(TaskSpec(f"t{i}"))
    coord.register_agent(AgentSpec("thief"))
    coord.register_agent(AgentSpec("other"))
    task = coord.next_for("thief")
    assert task is not None
    assert len(coord.agents["thief"].queue) + 1 == 5  # half of 10, one leased
    assert len(coord.agents["busy"].queue) == 5
    # Drain both so a hunter stays hunting; the cap then stops a second one.
    coord.agents["busy"].queue.drain()
    coord.agents["busy"].load = 0.0
    coord._reindex(coord.agents["busy"])
    coord.agents["thief"].hunting = True
    coord.hunters = 1
    before = coord.metrics().steal_attempts
    assert coord.next_for("other") is None
    assert coord.metrics().steal_attempts == before


def test_locality_prefers_the_near_node(clock) -> None:  # type: ignore[no-untyped-def]
    distance = {
        "n0": {"n1": 1.0, "n2": 50.0},
        "n1": {"n0": 1.0, "n2": 50.0},
        "n2": {"n0": 50.0, "n1": 50.0},
    }
    coord = Coordinator(
        CoordinatorConfig(placement="round_robin"), clock=clock, steal=LocalityAware(distance)
    )
    for node in ("n1", "n2"):
        coord.register_agent(AgentSpec(f"busy-{node}", node=node))
    for i in range(20):
        coord.submit(TaskSpec(f"t{i}"))
    coord.register_agent(AgentSpec("thief", node="n0"))
    task = coord.next_for("thief")
    assert task is not None and task.prev_agent is coord.agents["busy-n1"]
    coord.validate()


def test_steals_respect_eligibility(make_coord) -> None:  # type: ignore[no-untyped-def]
    coord = make_coord(0, config=CoordinatorConfig(placement="least_loaded"))
    coord.register_agent(AgentSpec("gpu", capabilities=frozenset({"gpu"})))
    for i in range(6):
        coord.submit(TaskSpec(f"t{i}", requires=frozenset({"gpu"})))
    coord.register_agent(AgentSpec("cpu"))
    assert coord.next_for("cpu") is None
    coord.validate()
