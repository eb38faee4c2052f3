"""EDF admission: the exact non-preemptive demand test per agent, GFB across the pool."""

from __future__ import annotations

import pytest

from allocator.coordinator import AdmissionError, CoordinatorConfig, EdfAdmission, TaskSpec


def test_agent_demand_test_counts_the_blocking_term(make_coord) -> None:  # type: ignore[no-untyped-def]
    coord = make_coord(
        1,
        queue="edf",
        admission=EdfAdmission(check_pool=False),
        config=CoordinatorConfig(placement="least_loaded"),
    )
    coord.submit(TaskSpec("long", work=8.0))
    assert coord.next_for("a0") is not None  # running: 8 s it cannot be preempted for
    with pytest.raises(AdmissionError, match=r"non-preemptive EDF demand test.*blocking term 8"):
        coord.submit(TaskSpec("urgent", work=1.0, deadline=5.0))
    coord.submit(TaskSpec("fits", work=1.0, deadline=9.5))
    assert coord.metrics().rejected == 1


def test_gfb_rejection_reason(make_coord) -> None:  # type: ignore[no-untyped-def]
    coord = make_coord(2, queue="edf", admission=EdfAdmission(check_agent=False))
    coord.submit(TaskSpec("a", work=9.0, deadline=10.0))
    with pytest.raises(AdmissionError, match="GFB"):
        coord.submit(TaskSpec("b", work=5.0, deadline=10.0))
    coord.submit(TaskSpec("c", work=1.0, deadline=10.0))  # 0.9 + 0.1 <= 1.1


def test_impossible_deadline_names_the_fastest_agent(make_coord) -> None:  # type: ignore[no-untyped-def]
    coord = make_coord(1, queue="edf", admission=EdfAdmission())
    with pytest.raises(AdmissionError, match="fastest agent"):
        coord.submit(TaskSpec("x", work=10.0, deadline=2.0))


def test_completed_work_releases_density(make_coord) -> None:  # type: ignore[no-untyped-def]
    coord = make_coord(1, queue="edf", admission=EdfAdmission(check_agent=False))
    coord.submit(TaskSpec("a", work=5.0, deadline=10.0))
    task = coord.next_for("a0")
    assert task is not None
    coord.complete("a", "a0")
    assert coord.admission.total_density == pytest.approx(0.0)
