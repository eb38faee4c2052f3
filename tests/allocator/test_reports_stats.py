"""Batch statistics against values computed by hand."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from allocator.reports.batch import summarise_batch
from allocator.reports.batch_models import InstanceResult, SolverOutcome
from allocator.reports.batch_stats import (
    holm_adjust,
    paired_wilcoxon,
    performance_profile,
    rank_biserial,
    shifted_geometric_mean,
)
from allocator.reports.batch_summary import PROFILE_TOLERANCE, outcome_from_report, time_to_target
from models import RunOptions
from models.report import ComparisonReport, ProblemSummary, RunSettings, SolverRun


def test_shifted_geometric_mean() -> None:
    # exp((ln 2 + ln 4) / 2) - 1 = sqrt(8) - 1
    assert shifted_geometric_mean([1.0, 3.0]) == pytest.approx(math.sqrt(8) - 1)
    assert shifted_geometric_mean([0.0, 0.0], shift=10) == pytest.approx(0.0)
    assert shifted_geometric_mean([]) is None


def test_holm_adjust() -> None:
    # sorted 0.01, 0.03, 0.04 -> 3*0.01, 2*0.03, max(0.06, 1*0.04); back in input order.
    assert holm_adjust([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert holm_adjust([0.5, 0.6]) == pytest.approx([1.0, 1.0])
    assert holm_adjust([]) == []


def test_rank_biserial() -> None:
    # d = b - a = [1, 2, 0, -1]; zero dropped; |d| ranks 1.5, 3, 1.5 -> (4.5 - 1.5) / 6.
    assert rank_biserial([1, 2, 3, 4], [2, 4, 3, 3]) == pytest.approx(0.5)
    assert rank_biserial([1, 2], [0, 0]) == pytest.approx(-1.0)
    assert rank_biserial([1, 2], [1, 2]) is None


def test_wilcoxon_exact_p() -> None:
    # Five differences, all one sign: exact two-sided p = 2 / 2**5.
    test = paired_wilcoxon([1, 2, 3, 4, 5], [0, 0, 0, 0, 0])
    assert test.p_value == pytest.approx(0.0625)
    assert test.statistic == 0
    assert test.effect_size == pytest.approx(-1.0)  # the first is worse (higher)
    same = paired_wilcoxon([1.0, 2.0], [1.0, 2.0])
    assert same.p_value == 1.0 and same.n_nonzero == 0
    with pytest.raises(ValueError, match="differ in length"):
        paired_wilcoxon([1.0], [1.0, 2.0])


def test_performance_profile() -> None:
    # Instance ratios: a = [1, 2, inf], b = [2, 1, 1].
    curves = performance_profile({"a": [1.0, 4.0, math.inf], "b": [2.0, 2.0, 3.0]})
    a, b = curves
    assert a.taus == [1.0, 2.0] and a.fractions == pytest.approx([1 / 3, 2 / 3])
    assert b.taus == [1.0, 2.0] and b.fractions == pytest.approx([2 / 3, 1.0])


def _inst(name: str, values: dict[str, float | None], times: dict[str, float]) -> InstanceResult:
    return InstanceResult(
        instance=name,
        source=f"{name}.json",
        status="solved",
        outcomes=[
            SolverOutcome(
                solver=s,
                status="feasible" if v is not None else "no_solution",
                objective=v,
                wall_time_s=times[s],
                time_to_best_s=times[s] if v is not None else None,
            )
            for s, v in values.items()
        ],
    )


def test_summarise_batch_aggregates_and_tests() -> None:
    # "fast" is always best by 10 %, except a tie on the last instance; "bound" never plans.
    instances = [
        _inst(
            f"i{k}",
            {"fast": 100.0, "slow": 110.0, "bound": None},
            {"fast": 1.0, "slow": 3.0, "bound": 0.1},
        )
        for k in range(7)
    ]
    instances.append(
        _inst(
            "tie",
            {"fast": 50.0, "slow": 50.0, "bound": None},
            {"fast": 1.0, "slow": 3.0, "bound": 0.1},
        )
    )
    instances.append(InstanceResult(instance="broken", source="broken.txt", error="bad file"))
    batch = summarise_batch("demo", RunOptions(solvers=["fast", "slow", "bound"]), instances)
    agg = {a.solver: a for a in batch.aggregates}
    assert (agg["fast"].wins, agg["fast"].ties, agg["fast"].losses) == (7, 1, 0)
    assert (agg["slow"].wins, agg["slow"].ties, agg["slow"].losses) == (0, 1, 7)
    assert agg["slow"].mean_rel_gap == pytest.approx(0.1 * 7 / 8)
    assert agg["slow"].median_rel_gap == pytest.approx(0.1)
    # Time to target: "slow" reaches the best plan only on "tie" (at 3 s); elsewhere it counts
    # as 2 x the 10 s limit. "fast" gets there at 1 s everywhere.
    assert batch.unreached_time_s == pytest.approx(20.0)
    assert (agg["fast"].n_reached_target, agg["slow"].n_reached_target) == (8, 1)
    assert agg["fast"].sgm_time_to_target_s == pytest.approx(1.0)
    assert agg["slow"].median_time_to_target_s == pytest.approx(20.0)
    assert agg["bound"].sgm_time_to_target_s is None
    assert agg["bound"].n_solved == 0
    assert {(t.solver_a, t.solver_b) for t in batch.tests} == {("fast", "slow")}
    gap_test = next(t for t in batch.tests if t.metric == "relative gap")
    # 7 non-zero pairs, all favour "fast": exact p = 2 / 2**7; one pair per metric, Holm = p.
    assert gap_test.p_value == pytest.approx(2 / 2**7)
    assert gap_test.p_holm == pytest.approx(gap_test.p_value)
    assert gap_test.effect_size == pytest.approx(1.0)
    assert gap_test.verdict == "fast better"
    time_test = next(t for t in batch.tests if t.metric == "time to target")
    # 8 non-zero pairs (20 s or 3 s against 1 s), all favour "fast": exact p = 2 / 2**8.
    assert (time_test.n_pairs, time_test.n_nonzero) == (8, 8)
    assert time_test.p_value == pytest.approx(2 / 2**8)
    assert time_test.verdict == "fast better"
    assert any("bound produced no verified plan" in n for n in batch.notes)
    assert any(n.startswith("broken:") for n in batch.notes)
    fast_profile = next(c for c in batch.objective_profile if c.solver == "fast")
    assert fast_profile.fractions == [1.0]


def _run(name: str, objective: float | None, start: float, wall: float, trace: list) -> SolverRun:
    return SolverRun(
        name=name,
        status="feasible" if objective is not None else "no_solution",
        stop_reason="time_limit",
        objective=objective,
        verified=objective is not None,
        wall_time_s=wall,
        time_to_first_s=trace[0][0] if trace else None,
        time_to_best_s=trace[-1][0] if trace else None,
        trace=trace,
    )


def _report(runs: list[SolverRun]) -> ComparisonReport:
    return ComparisonReport(
        status="solved",
        problem=ProblemSummary(
            name="p",
            n_agents=2,
            n_tasks=4,
            n_resources=1,
            resources=["cpu"],
            mode="weighted",
            objectives=["cost"],
            allow_unassigned=False,
        ),
        settings=RunSettings(solvers=[r.name for r in runs], time_limit_s=10, seed=0, workers=1),
        solvers=runs,
    )


def test_time_to_target_is_on_the_request_clock_not_the_budget() -> None:
    # "late" started at 6 s and ran 1 s (a short wall time: its budget), reaching the best
    # value 100 at 6.5 s; "early" started at 0 and came within 0.1 % (100.05) at 2 s, its
    # final plan at 4 s. Wall times would call "late" faster; the request clock does not.
    early = _run("early", 100.05, 0.0, 8.0, [(0.5, 130.0), (2.0, 100.08), (4.0, 100.05)])
    late = _run("late", 100.0, 6.0, 1.0, [(6.2, 120.0), (6.5, 100.0)])
    far = _run("far", 150.0, 0.0, 9.0, [(0.1, 150.0)])
    bound_only = _run("lp_bound", None, 0.0, 0.2, [])
    outcomes = {o.solver: o for o in outcome_from_report(_report([early, late, far, bound_only]))}
    assert outcomes["early"].time_to_target_s == pytest.approx(2.0)
    assert outcomes["late"].time_to_target_s == pytest.approx(6.5)
    assert outcomes["far"].time_to_target_s is None
    assert outcomes["lp_bound"].time_to_target_s is None


def test_time_to_target_ignores_a_trace_that_disagrees_with_the_verified_plan() -> None:
    # The trace claims 90 at 1 s but the verified plan is worth 100: only time to best counts.
    assert time_to_target([(1.0, 90.0), (3.0, 95.0)], 100.0, 3.0, 100.0) == pytest.approx(3.0)
    assert time_to_target([(1.0, 100.0)], 100.0, 1.0, None) is None


@given(
    values=st.lists(st.floats(1.0, 1000.0), min_size=1, max_size=12),
    target=st.floats(1.0, 1000.0),
)
def test_time_to_target_invariants(values: list[float], target: float) -> None:
    """Reached iff the verified value is within tolerance; never after the best plan; the
    moment it names holds a value within tolerance."""
    best = sorted(values, reverse=True)  # an improving trace
    trace = [(0.5 * (k + 1), v) for k, v in enumerate(best)]
    objective, best_s = trace[-1][1], trace[-1][0]
    target = min(target, objective)  # the target is the best of all solvers
    t = time_to_target(trace, objective, best_s, target)
    within = objective <= target + PROFILE_TOLERANCE * abs(target)
    assert (t is not None) == within
    if t is not None:
        assert t <= best_s
        value_then = next(v for time, v in trace if time == t)
        assert value_then <= target + PROFILE_TOLERANCE * abs(target)
