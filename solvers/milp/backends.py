"""What every MILP backend hands back (`BackendOutcome`), and which backends run here."""

from __future__ import annotations

import importlib.util
import shutil
from dataclasses import dataclass, field

import pulp

__all__ = [
    "BACKENDS",
    "BackendOutcome",
    "BackendSettings",
    "MilpBackendError",
    "backend_available",
    "cbc_path",
    "check_backend",
]

BACKENDS = ("highs", "cbc")


@dataclass(frozen=True)
class BackendSettings:
    """The options one solve runs with, whichever the backend."""

    time_limit_s: float
    rel_gap: float
    threads: int
    seed: int
    log: bool = False


class MilpBackendError(ValueError):
    """An unknown or unavailable MILP backend was requested."""


@dataclass
class BackendOutcome:
    """What the backend reported, before we interpret it."""

    has_solution: bool = False
    proven_optimal: bool = False  # the backend says optimal (within its gap setting)
    infeasible: bool = False
    stopped_by_limit: bool = False  # its own time limit, or we stopped it from outside
    objective: float | None = None  # model objective, without constants kept outside
    bound: float | None = None  # proven dual bound on the model objective
    status_text: str = ""
    values: list[float] | None = None  # every column's value, when has_solution
    trace: list[tuple[float, float]] = field(default_factory=list)  # (s since start, obj)
    notes: list[str] = field(default_factory=list)


def cbc_path() -> str | None:
    """The CBC binary PuLP bundles, else one on PATH."""
    bundled = getattr(pulp.PULP_CBC_CMD, "pulp_cbc_path", None)
    for candidate in (bundled, "cbc"):
        if candidate and shutil.which(candidate):
            return str(shutil.which(candidate))
    return None


def backend_available(name: str) -> bool:
    """Whether `name` can run here (HiGHS needs highspy; CBC needs a cbc binary)."""
    if name == "highs":
        return importlib.util.find_spec("highspy") is not None
    if name == "cbc":
        return cbc_path() is not None
    return False


def check_backend(name: str | None) -> str:
    """Normalise a backend name; raise `MilpBackendError` saying what to use instead."""
    chosen = (name or "highs").lower()
    if chosen not in BACKENDS:
        raise MilpBackendError(f"unknown MILP backend {name!r}; use one of: {', '.join(BACKENDS)}")
    if not backend_available(chosen):
        hint = "pip install highspy" if chosen == "highs" else "install CBC (pulp[cbc])"
        raise MilpBackendError(f"MILP backend {chosen!r} is not available here; {hint}")
    return chosen
