"""Command-line overrides of a request's RunOptions, validated like the request itself."""

from __future__ import annotations

from pydantic import ValidationError

from allocator.problem_files import format_validation_error
from models import InputError, RunOptions

__all__ = ["RunFlags", "run_options"]

#: --solver, --time-limit, --seed, --workers, --deterministic as the user gave them.
RunFlags = tuple[list[str] | None, float | None, int | None, int | None, bool]


def run_options(
    base: RunOptions | None,
    solvers: list[str] | None,
    time_limit: float | None,
    seed: int | None,
    workers: int | None,
    deterministic: bool = False,
) -> RunOptions:
    """`base` (from the problem file, or defaults) with the flags the user gave on top.

    `--deterministic` only switches the option on; a request file that asks for it keeps it.
    """
    update: dict[str, object] = {}
    if solvers:
        update["solvers"] = solvers
    if time_limit is not None:
        update["time_limit_s"] = time_limit
    if seed is not None:
        update["seed"] = seed
    if workers is not None:
        update["workers"] = workers
    if deterministic:
        update["deterministic"] = True
    start = base.model_dump() if base is not None else {}
    try:
        return RunOptions.model_validate({**start, **update})
    except ValidationError as exc:
        raise InputError(format_validation_error(exc)) from exc
