"""bench.gap compares every method by its plan at the time limit; late plans are shown apart."""

from __future__ import annotations

from bench.gap import Outcome, _row, lost_to, plain_highs, portfolio_outcome
from models.generators.gap import generate_gap


def test_plain_highs_reports_its_plan_found_within_the_limit() -> None:
    inst = generate_gap("C", 3, 12, seed=1)
    outcome = plain_highs(inst, 5.0, 1)
    assert outcome.value is not None  # tiny: proven in milliseconds, nothing late
    assert outcome.late_value is None and outcome.late_s is None


def test_a_late_plan_counts_only_in_the_late_reading() -> None:
    rows = [
        _row("D", "x", "portfolio", Outcome(101.0), 100.0, 10.0),
        _row("D", "x", "plain_highs", Outcome(102.0, late_value=100.5, late_s=10.4), 100.0, 10.5),
    ]
    assert rows[1]["gap_pct"] == 2.0 and rows[1]["late_gap_pct"] == 0.5
    assert lost_to(rows, "x") == []
    assert lost_to(rows, "x", late=True) == ["plain_highs"]


def test_no_plan_at_the_limit_loses_to_any_plan() -> None:
    rows = [
        _row("E", "y", "portfolio", Outcome(None, late_value=90.0, late_s=10.6), 90.0, 10.6),
        _row("E", "y", "plain_highs", Outcome(95.0), 90.0, 10.0),
    ]
    assert lost_to(rows, "y") == ["plain_highs"]
    assert lost_to(rows, "y", late=True) == []


def test_the_portfolio_counts_at_the_limit_only_with_a_plan_found_by_it_and_its_promise_kept() -> (
    None
):
    assert portfolio_outcome(90.0, 9.9, 9.95, 10.0) == Outcome(90.0)
    assert portfolio_outcome(90.0, 9.9, 10.004, 10.0) == Outcome(90.0)  # stopped just before
    assert portfolio_outcome(90.0, 10.2, 10.3, 10.0) == Outcome(None, 90.0, 10.3)  # found late
    assert portfolio_outcome(90.0, 9.0, 10.6, 10.0) == Outcome(None, 90.0, 10.6)  # promise broken
    assert portfolio_outcome(None, None, 10.2, 10.0) == Outcome(None, None, 10.2)
