"""Command-line overrides of a request's RunOptions, validated like the request itself."""

from __future__ import annotations

from pydantic import ValidationError

from allocator.problem_files import format_validation_error
from models import InputError, RunOptions

__all__ = ["run_options"]


def run_options(
    base: RunOptions | None,
    solvers: list[str] | None,
    time_limit: float | None,
    seed: int | None,
    workers: int | None,
) -> RunOptions:
    """`base` (from the problem file, or defaults) with the flags the user gave on top."""
    update: dict[str, object] = {}
    if solvers:
        update["solvers"] = solvers
    if time_limit is not None:
        update["time_limit_s"] = time_limit
    if seed is not None:
        update["seed"] = seed
    if workers is not None:
        update["workers"] = workers
    start = base.model_dump() if base is not None else {}
    try:
        return RunOptions.model_validate({**start, **update})
    except ValidationError as exc:
        raise InputError(format_validation_error(exc)) from exc
