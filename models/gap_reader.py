"""Read the OR-Library GAP format (gap1-12, gapa-d, Chu-Beasley, Yagiura files).

Layout: `m n`, then cost[m][n], usage[m][n], capacity[m]; multi-problem files start
with the problem count. gap1-12 are conventionally maximisation problems; types
A-E are minimisation; pass `maximise=True` to negate profits into costs.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from models.errors import ProblemFormatError
from models.schema import Agent, Problem, Task

__all__ = ["GapInstance", "gap_to_problem", "read_gap_file"]


class GapInstance:
    """One GAP instance as arrays: cost[m, n], usage[m, n], capacity[m]."""

    def __init__(self, name: str, cost: np.ndarray, usage: np.ndarray, capacity: np.ndarray):
        self.name = name
        self.cost = cost
        self.usage = usage
        self.capacity = capacity

    @property
    def shape(self) -> tuple[int, int]:
        return int(self.cost.shape[0]), int(self.cost.shape[1])


def read_gap_file(path: str | Path) -> list[GapInstance]:
    """Parse a single- or multi-problem OR-Library GAP file."""
    path = Path(path)
    try:
        tokens = path.read_text().split()
        values = [int(float(t)) for t in tokens]
    except (OSError, UnicodeDecodeError) as exc:
        raise ProblemFormatError(f"cannot read file ({exc})", source=str(path)) from exc
    except ValueError as exc:
        raise ProblemFormatError(
            "the OR-Library GAP format holds only numbers; found text", source=str(path)
        ) from exc
    if len(values) < 2:
        raise ProblemFormatError("file is too short for a GAP instance", source=str(path))
    m, n = values[0], values[1]
    if m > 0 and n > 0 and len(values) == 2 + 2 * m * n + m:
        return [_parse_one(path.stem, values, 0)[0]]
    count = values[0]
    pos = 1
    out = []
    for k in range(count):
        inst, pos = _parse_one(f"{path.stem}-{k + 1}", values, pos, source=str(path))
        out.append(inst)
    if pos != len(values):
        raise ProblemFormatError(
            f"{len(values) - pos} numbers left after {count} problems; is the count right?",
            source=str(path),
        )
    return out


def _parse_one(name: str, values: list[int], pos: int, source: str = "") -> tuple[GapInstance, int]:
    if pos + 2 > len(values):
        raise ProblemFormatError("file ends before 'm n'", source=source)
    m, n = values[pos], values[pos + 1]
    if m <= 0 or n <= 0:
        raise ProblemFormatError(f"bad sizes m={m} n={n}; both must be positive", source=source)
    need = 2 + 2 * m * n + m
    chunk = values[pos : pos + need]
    if len(chunk) != need:
        raise ProblemFormatError(
            f"expected {need} numbers for m={m} n={n}, found {len(chunk)}", source=source
        )
    arr = np.asarray(chunk[2:], dtype=np.float64)
    cost = arr[: m * n].reshape(m, n)
    usage = arr[m * n : 2 * m * n].reshape(m, n)
    capacity = arr[2 * m * n :]
    return GapInstance(name, cost, usage, capacity), pos + need


def gap_to_problem(instance: GapInstance, maximise: bool = False) -> Problem:
    """Express a GAP instance exactly with explicit cost and usage matrices.

    With `maximise` the file's first matrix is profit and cost = -profit: minimising
    the problem's score maximises total profit, and every objective, bound and trace
    value of its reports is a negated profit (the CLI shows them as profits).
    """
    m, n = instance.shape
    cost = -instance.cost if maximise else instance.cost
    return Problem(
        name=instance.name + ("-max" if maximise else ""),
        resources=["capacity"],
        agents=[
            Agent(id=f"a{i}", capacity={"capacity": float(instance.capacity[i])}) for i in range(m)
        ],
        tasks=[Task(id=f"t{j}") for j in range(n)],
        cost=cost.tolist(),
        usage=instance.usage.tolist(),
    )
