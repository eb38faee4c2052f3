"""Simulation goals at test size: makespan bound, fairness, breakers, faults, traces."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from allocator.simulation import (
    Fault,
    SimPolicy,
    compare_policies,
    failing_agent_workload,
    fairness_workload,
    lower_bound_s,
    poisson_workload,
    policy_by_name,
    read_trace,
    simulate,
    skewed_workload,
)
from models import InputError


def test_skewed_late_binding_within_10_percent_of_bound() -> None:
    workload = skewed_workload(3_000, 30, seed=3)
    results = {r.policy: r for r in compare_policies(workload)}
    ours = results["late-binding"]
    assert ours.makespan_ratio <= 1.10 and ours.migrated_fraction <= 0.10
    assert results["round-robin"].makespan_ratio > ours.makespan_ratio
    assert all(r.lost == 0 for r in results.values())
    assert all(r.kpis["completed"] == 3_000 for r in results.values())


@pytest.mark.parametrize("queue", ["cfs", "wfq"])
def test_two_tenants_2_to_1_under_overload(queue: str) -> None:
    workload = fairness_workload({"gold": 2.0, "free": 1.0}, 6_000, 10, seed=1)
    result = simulate(workload, SimPolicy("fair", "global", "none", queue), until_last_arrival=True)
    share = result.kpis["tenant_share"]
    assert share["gold"] / share["free"] == pytest.approx(2.0, rel=0.05)


def test_equal_tenants_jain_at_least_098() -> None:
    workload = fairness_workload({f"t{i}": 1.0 for i in range(4)}, 6_000, 10, seed=2)
    result = simulate(workload, SimPolicy("fair", "global", "none", "wfq"), until_last_arrival=True)
    assert result.kpis["jain_fairness"] >= 0.98


def test_failing_agent_breaker_opens_fast_and_nothing_is_lost() -> None:
    result = simulate(failing_agent_workload(2_000, 8), policy_by_name("late-binding"))
    assert result.breaker_open_after_calls is not None
    assert result.breaker_open_after_calls <= 20 or (result.breaker_open_after_s or 99) <= 5.0
    assert result.lost == 0 and result.kpis["dead_lettered"] == 0
    assert result.kpis["completed"] == 2_000


def test_crash_and_slowdown_lose_nothing() -> None:
    workload = poisson_workload(2_000, 8, load=0.6, seed=4)
    workload.faults = [Fault("a1", "crash", 10.0, 40.0), Fault("a2", "slow", 0.0, 100.0, 4.0)]
    result = simulate(workload, policy_by_name("heaviest"))
    assert result.lost == 0 and result.kpis["completed"] == 2_000
    assert result.kpis["lease_expiries"] >= 1


def test_bursty_poisson_runs_every_policy() -> None:
    workload = poisson_workload(1_500, 12, bursty=True, seed=5)
    for result in compare_policies(workload):
        assert result.lost == 0 and result.kpis["completed"] == 1_500


def test_lower_bound() -> None:
    assert lower_bound_s(np.array([4.0, 4.0]), np.array([1.0, 1.0])) == 4.0
    assert lower_bound_s(np.array([10.0, 1.0]), np.array([1.0, 5.0])) == 2.0


def test_traces_csv_and_jsonl(tmp_path: Path) -> None:
    csv_file = tmp_path / "t.csv"
    csv_file.write_text("at_s,work,tenant,priority\n1.0,2.0,a,high\n0.5,1.0,b,low\n")
    jsonl = tmp_path / "t.jsonl"
    jsonl.write_text('{"at_s": 0.0, "work": 3}\n\n{"at_s": 2.0}\n')
    speeds = np.ones(2)
    w = read_trace(csv_file, speeds)
    assert w.at_s.tolist() == [0.5, 1.0] and w.tenants == ("a", "b")
    assert simulate(w, policy_by_name("late-binding")).kpis["completed"] == 2
    assert read_trace(jsonl, speeds).work.tolist() == [3.0, 1.0]


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("bad.csv", "at_s,work\nx,1\n", "line 2"),
        ("bad.jsonl", "[1]\n", "JSON object"),
        ("bad.txt", "", "unknown trace format"),
        ("neg.csv", "at_s,work\n-1,1\n", ">= 0"),
        ("prio.csv", "at_s,priority\n1,urgent\n", "critical, high"),
    ],
)
def test_bad_traces_say_what_to_fix(tmp_path: Path, name: str, text: str, message: str) -> None:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(InputError, match=message):
        read_trace(path, np.ones(1))


def test_policy_names_are_checked() -> None:
    with pytest.raises(ValueError, match="late-binding"):
        policy_by_name("fastest")
    with pytest.raises(ValueError, match="placement"):
        SimPolicy("x", placement="teleport")
