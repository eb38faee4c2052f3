"""Batch statistics against values computed by hand."""

from __future__ import annotations

import math

import pytest

from allocator.reports.batch import summarise_batch
from allocator.reports.batch_models import InstanceResult, SolverOutcome
from allocator.reports.batch_stats import (
    holm_adjust,
    paired_wilcoxon,
    performance_profile,
    rank_biserial,
    shifted_geometric_mean,
)
from models import RunOptions


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
    assert agg["slow"].sgm_time_s == pytest.approx(3.0)
    assert agg["bound"].n_solved == 0
    assert {(t.solver_a, t.solver_b) for t in batch.tests} == {("fast", "slow")}
    gap_test = next(t for t in batch.tests if t.metric == "relative gap")
    # 7 non-zero pairs, all favour "fast": exact p = 2 / 2**7; one pair per metric, Holm = p.
    assert gap_test.p_value == pytest.approx(2 / 2**7)
    assert gap_test.p_holm == pytest.approx(gap_test.p_value)
    assert gap_test.effect_size == pytest.approx(1.0)
    assert gap_test.verdict == "fast better"
    assert any("bound produced no verified plan" in n for n in batch.notes)
    assert any(n.startswith("broken:") for n in batch.notes)
    fast_profile = next(c for c in batch.objective_profile if c.solver == "fast")
    assert fast_profile.fractions == [1.0]
