"""OR-Library GAP reader: generated files always; the shared benchmark files when present."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from models import ProblemFormatError, compile_problem, evaluate_plan, gap_to_problem, read_gap_file

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "bench" / "gap"


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "g.txt"
    path.write_text(text)
    return path


def test_single_problem_file_round_trips(tmp_path: Path) -> None:
    # m=2 n=3: cost rows, usage rows, capacities
    path = _write(tmp_path, "2 3\n1 2 3\n4 5 6\n1 1 1\n2 2 2\n3 4\n")
    [inst] = read_gap_file(path)
    assert inst.shape == (2, 3)
    assert inst.capacity.tolist() == [3, 4]
    compiled = compile_problem(gap_to_problem(inst))
    ev = evaluate_plan(compiled, np.array([0, 0, 1]))
    assert ev.objectives["cost"] == 1 + 2 + 6
    assert ev.feasible


def test_multi_problem_file(tmp_path: Path) -> None:
    one = "1 2\n5 6\n1 1\n2\n"
    path = _write(tmp_path, "2\n" + one + one)
    assert len(read_gap_file(path)) == 2


def test_maximise_negates_profits(tmp_path: Path) -> None:
    path = _write(tmp_path, "1 2\n5 6\n1 1\n2\n")
    problem = gap_to_problem(read_gap_file(path)[0], maximise=True)
    assert problem.cost == [[-5.0, -6.0]]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2 3\n1 2\n", "expected"),
        ("hello", "only numbers"),
        ("1", "too short"),
        ("1\n0 3", "bad sizes"),
    ],
)
def test_bad_files_get_a_clear_error(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ProblemFormatError, match=message):
        read_gap_file(_write(tmp_path, text))


@pytest.mark.skipif(not SHARED.exists(), reason="../shared/bench/gap is absent (fresh clone)")
def test_reads_every_shared_file() -> None:
    for path in sorted((SHARED / "orlib").glob("gap[0-9]*.txt")):
        assert len(read_gap_file(path)) == 5
    for path in sorted((SHARED / "yagiura2004").iterdir()):
        [inst] = read_gap_file(path)
        assert inst.cost.shape == inst.usage.shape
