"""The range every number in a request must lie in, so each later stage can carry it.

Solvers compile requests to float32 matrices (duration = work / speed, cost =
duration x cost_rate) and sum objectives in float64. A value that is finite in
JSON can still overflow there (capacity 1e39 is beyond float32; work 1e308 x
cost_rate 1e308 is inf), so every number is checked at validation, where the
message can still say which field to change:

- every float is finite (no NaN or Infinity) and at most `MAX_MAGNITUDE` in size;
- rates a duration is divided by (speed, bandwidth) are at least `MIN_RATE`, so
  the longest duration is 1e12 / 1e-6 = 1e18 s and the largest cost 1e30, both
  within float32 (3.4e38);
- every integer is at most `MAX_INT` in size (the solvers use int32);
- explicit usage, like demand, is never negative.
"""

from __future__ import annotations

import math
from typing import Any

from pydantic import BaseModel

__all__ = ["MAX_INT", "MAX_MAGNITUDE", "MIN_RATE", "check_numbers"]

MAX_MAGNITUDE = 1e12
MIN_RATE = 1e-6
MAX_INT = 1_000_000_000

# Fields that divide a duration: a tiny positive value would overflow float32.
_RATE_FIELDS = frozenset({"speed", "bandwidth", "default_bandwidth"})
# Fields whose numbers are amounts used, never negative (demand and capacity check themselves).
_NON_NEGATIVE_FIELDS = frozenset({"usage"})


def check_numbers(model: BaseModel) -> None:
    """Check the numbers held directly by `model` (nested models check their own).

    Raises:
        ValueError: a number is out of range; the message names the field and the range.
    """
    owner = _owner_label(model)
    for name in type(model).model_fields:
        _check(owner, name, name, getattr(model, name, None))


def _owner_label(model: BaseModel) -> str:
    ident = getattr(model, "id", None)
    kind = type(model).__name__.lower()
    return f"{kind} {ident!r}" if isinstance(ident, str) else kind


def _check(owner: str, field: str, where: str, value: Any) -> None:
    if isinstance(value, bool) or value is None or isinstance(value, BaseModel | str):
        return
    if isinstance(value, float):
        _check_float(owner, field, where, value)
    elif isinstance(value, int):
        if abs(value) > MAX_INT:
            raise ValueError(
                f"{owner}: {where} is {value}; use an integer of at most {MAX_INT:,} in size"
            )
    elif isinstance(value, dict):
        for key, item in value.items():
            _check(owner, field, f"{where}[{key!r}]", item)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _check(owner, field, f"{where}[{index}]", item)


def _check_float(owner: str, field: str, where: str, value: float) -> None:
    if not math.isfinite(value):
        raise ValueError(f"{owner}: {where} is {value}; use a finite number")
    if abs(value) > MAX_MAGNITUDE:
        raise ValueError(
            f"{owner}: {where} is {value:g}; use a number of at most {MAX_MAGNITUDE:g} in size "
            "(solvers compute in float32)"
        )
    if field in _RATE_FIELDS and value < MIN_RATE:
        raise ValueError(f"{owner}: {where} is {value:g}; use at least {MIN_RATE:g}")
    if field in _NON_NEGATIVE_FIELDS and value < 0:
        raise ValueError(f"{owner}: {where} is {value:g}; use a value >= 0")
