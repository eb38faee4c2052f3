"""Unit tests per queue discipline: order, aging, fairness, removal and stealing."""

from __future__ import annotations

import pytest

from allocator.coordinator import TaskSpec, make_queue_factory
from allocator.coordinator.queues import CfsQueue, EdfQueue, FifoQueue, PriorityQueue, WfqQueue
from allocator.coordinator.records import TaskRecord


def rec(
    i: int | str,
    *,
    priority: int = 2,
    deadline: float | None = None,
    tenant: str = "t",
    weight: float = 1.0,
    est: float = 1.0,
    now: float = 0.0,
) -> TaskRecord:
    spec = TaskSpec(str(i), priority=priority, deadline=deadline, tenant=tenant, weight=weight)
    return TaskRecord(spec, est, now)


def drain(q, now: float = 0.0) -> list[str]:  # type: ignore[no-untyped-def]
    out = []
    while (t := q.pop(now)) is not None:
        out.append(t.id)
    return out


def test_fifo_order_remove_steal_and_unpop() -> None:
    q = FifoQueue()
    tasks = [rec(i) for i in range(5)]
    for t in tasks:
        q.push(t, 0.0)
    q.remove(tasks[1])
    assert q.steal_one() is tasks[4]
    head = q.pop(0.0)
    assert head is tasks[0]
    q.unpop(head)
    q.validate()
    assert drain(q) == ["0", "2", "3"]
    assert len(q) == 0


@pytest.mark.parametrize("name", ["fifo", "priority", "edf", "cfs", "wfq"])
def test_every_discipline_keeps_count_through_mixed_ops(name: str) -> None:
    q = make_queue_factory(name)()
    tasks = [rec(i, priority=i % 4, deadline=float(10 - i), tenant=f"t{i % 2}") for i in range(10)]
    for t in tasks:
        q.push(t, 0.0)
    q.remove(tasks[3])
    stolen = q.steal_one()
    assert stolen is not None and stolen is not tasks[3]
    q.unsteal(stolen)
    popped = q.pop(0.0)
    assert popped is not None
    q.unpop(popped)
    q.validate()
    got = drain(q)
    assert sorted(got) == sorted(t.id for t in tasks if t is not tasks[3])
    assert len(q) == 0
    q.validate()


def test_priority_critical_first_then_weighted_3_2_1() -> None:
    q = PriorityQueue(aging_s=1e9)
    for i in range(60):
        q.push(rec(f"h{i}", priority=1), 0.0)
        q.push(rec(f"n{i}", priority=2), 0.0)
        q.push(rec(f"l{i}", priority=3), 0.0)
    q.push(rec("c", priority=0), 0.0)
    order = drain(q)
    assert order[0] == "c"
    first = order[1:61]  # 60 picks while all three classes are busy
    counts = {k: sum(1 for x in first if x.startswith(k)) for k in "hnl"}
    assert counts == {"h": 30, "n": 20, "l": 10}


def test_priority_aging_prevents_starvation() -> None:
    q = PriorityQueue(aging_s=5.0)
    q.push(rec("low", priority=3, now=0.0), 0.0)
    now = 0.0
    served = []
    # A steady stream of critical work would starve "low" without aging.
    for i in range(100):
        now += 1.0
        t = rec(f"c{i}", priority=0, now=now)
        t.enqueued_at = now
        q.push(t, now)
        served.append(q.pop(now).id)  # type: ignore[union-attr]
    assert "low" in served
    assert served.index("low") <= 20  # three promotions of 5 s each, then critical FIFO


def test_edf_serves_by_deadline_none_last() -> None:
    q = EdfQueue()
    for i, d in enumerate([5.0, None, 1.0, 3.0]):
        q.push(rec(i, deadline=d), 0.0)
    assert drain(q) == ["2", "3", "0", "1"]


def _served_work(q, tenants: dict[str, float], n: int) -> dict[str, float]:  # type: ignore[no-untyped-def]
    served = dict.fromkeys(tenants, 0.0)
    counter = 0
    for tenant, weight in tenants.items():
        for _ in range(50):
            counter += 1
            q.push(rec(f"{tenant}{counter}", tenant=tenant, weight=weight), 0.0)
    for _ in range(n):
        t = q.pop(0.0)
        served[t.tenant] += t.est
        counter += 1
        q.push(rec(f"{t.tenant}{counter}", tenant=t.tenant, weight=t.weight), 0.0)  # overload
    return served


@pytest.mark.parametrize("cls", [CfsQueue, WfqQueue])
def test_fair_queues_share_2_to_1_within_5_percent(cls: type) -> None:
    served = _served_work(cls(), {"gold": 2.0, "free": 1.0}, 3000)
    assert served["gold"] / served["free"] == pytest.approx(2.0, rel=0.05)


@pytest.mark.parametrize("cls", [CfsQueue, WfqQueue])
def test_fair_queues_equal_weights_jain(cls: type) -> None:
    from allocator.coordinator import jain_index

    served = _served_work(cls(), {f"t{i}": 1.0 for i in range(5)}, 2000)
    assert jain_index(served.values()) >= 0.98


def test_cfs_new_tenant_banks_no_credit() -> None:
    q = CfsQueue()
    for i in range(100):
        q.push(rec(f"a{i}", tenant="a"), 0.0)
    for _ in range(50):
        q.pop(0.0)
    q.push(rec("b0", tenant="b"), 0.0)
    q.push(rec("b1", tenant="b"), 0.0)
    first = [q.pop(0.0).tenant for _ in range(4)]  # type: ignore[union-attr]
    assert first.count("a") >= 1  # b starts at the minimum, not 50 units ahead


def test_unknown_discipline_names_choices() -> None:
    with pytest.raises(ValueError, match="fifo"):
        make_queue_factory("lifo")


@pytest.mark.parametrize("name", ["fifo", "priority", "edf", "cfs", "wfq"])
def test_pops_undone_by_unpops_leave_the_order_unchanged(name: str) -> None:
    """A lookahead (pops, then unpops in reverse) is a peek: the queue serves afterwards
    exactly as if it had not happened (class credits, virtual times and all)."""

    def filled():  # type: ignore[no-untyped-def]
        q = make_queue_factory(name)()
        for i in range(24):
            q.push(rec(i, priority=1 + i % 3, deadline=float(i % 7), tenant=f"t{i % 3}"), 0.0)
        return q

    plain, peeked = filled(), filled()
    expected, got = [], []
    for _ in range(8):
        popped = [peeked.pop(0.0) for _ in range(3)]
        for task in reversed(popped):
            peeked.unpop(task)  # type: ignore[arg-type]
        expected.append(plain.pop(0.0).id)  # type: ignore[union-attr]
        got.append(peeked.pop(0.0).id)  # type: ignore[union-attr]
    assert got == expected
    assert drain(peeked) == drain(plain)
