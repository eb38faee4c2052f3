"""bench.bounds prints the three bounds of a shared GAP instance below its best-known value."""

from __future__ import annotations

import pytest

from bench.bounds import main
from bench.gap import SHARED


@pytest.mark.skipif(
    not (SHARED / "fontanf" / "data.csv").exists(),
    reason="needs the public GAP instances in ../shared/bench/gap (not part of the repo)",
)
def test_prints_each_bound_below_best_known(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--types", "C", "--only", "c05100", "--budget", "1"]) == 0
    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if line.startswith("c05100"))
    lp, dual, knapsack = (float(part.rstrip("%")) for part in row.split() if part.endswith("%"))
    assert 0 <= knapsack < lp  # measured: LP 0.364 %, knapsack 0.078 % below best-known
    assert dual >= lp - 1e-3  # the capacity dual never beats the LP
    assert "C: " in out


@pytest.mark.skipif(
    not (SHARED / "fontanf" / "data.csv").exists(),
    reason="needs the public GAP instances in ../shared/bench/gap (not part of the repo)",
)
def test_the_search_proves_the_best_known_value_optimal(capsys: pytest.CaptureFixture[str]) -> None:
    # c05100's best-known value, 1,931, is its optimum (HiGHS proves it in about 1 s).
    assert main(["--types", "C", "--only", "c05100", "--budget", "1", "--search", "20"]) == 0
    row = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("c05100"))
    assert "search: optimal 1931 proven" in row
