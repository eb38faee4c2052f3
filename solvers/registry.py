"""The one place that maps solver names to solver classes.

Imports are lazy so that a missing optional backend only disables its solver, and
listing the available solvers imports none of them: OR-Tools alone (with pandas) takes
~0.4 s, which a one-shot process (the CLI) would spend before its solve starts. A solver
runs in a forked child that imports its module there.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys

from solvers.base import Solver

__all__ = [
    "SOLVER_NAMES",
    "UnknownSolverError",
    "get_solver",
    "load_kernels",
    "registered_solvers",
    "solver_modules",
]

# name -> (module, class). Order is the default run order in reports.
_REGISTRY: dict[str, tuple[str, str]] = {
    "greedy": ("solvers.heuristic.solver", "GreedySolver"),
    "cpsat": ("solvers.cpsat.solver", "CpSatSolver"),
    "milp": ("solvers.milp.solver", "MilpSolver"),
    "nsga2": ("solvers.nsga2.solver", "Nsga2Solver"),
    "lns": ("solvers.lns.solver", "LnsSolver"),
    "lp_bound": ("solvers.bounds.solver", "LpBoundSolver"),
    "lp_guided": ("solvers.heuristic.lp_guided", "LpGuidedSolver"),
    "heft": ("solvers.workflow.solver", "HeftSolver"),
}

SOLVER_NAMES: tuple[str, ...] = tuple(_REGISTRY)

# Packages with which the solver is available (its `available()` is then True), found
# without importing them. A solver not listed, or missing one, is imported and asked.
_NEEDS: dict[str, tuple[str, ...]] = {
    "greedy": (),
    "cpsat": ("ortools",),
    "milp": ("pulp", "highspy"),  # without highspy, milp asks for a CBC binary
    "nsga2": ("deap", "ortools"),
    "lns": ("ortools", "highspy"),
    "lp_bound": ("highspy",),
    "lp_guided": (),
    "heft": ("ortools", "deap"),
}


# Compiled kernels a solver loads on first use (numba, from its on-disk cache), as
# (module, function loading it). A long-lived process that forks solvers loads them once.
_KERNELS: tuple[tuple[str, str], ...] = (
    ("solvers.lns.tabu", "preload"),
    ("solvers.bounds.knapsack_bound", "preload"),
    ("solvers.workflow.exact_search", "preload"),
)


class UnknownSolverError(ValueError):
    """A solver name that is not registered."""

    def __init__(self, name: str):
        super().__init__(f"unknown solver {name!r}; choose from: {', '.join(SOLVER_NAMES)}")


def get_solver(name: str) -> Solver:
    """Instantiate the solver registered under `name`."""
    if name not in _REGISTRY:
        raise UnknownSolverError(name)
    module_name, class_name = _REGISTRY[name]
    module = importlib.import_module(module_name)
    solver: Solver = getattr(module, class_name)()
    return solver


def registered_solvers() -> list[str]:
    """Names of registered solvers whose backend is available here."""
    out = []
    for name in list(_REGISTRY):
        if _found_without_import(name):
            out.append(name)
            continue
        try:
            if get_solver(name).available():
                out.append(name)
        except ImportError:
            continue
    return out


def solver_modules() -> tuple[str, ...]:
    """Every registered solver's module, for a long-lived process to import before it
    forks (the job runner's forkserver preloads them, so each job's solvers start warm)."""
    return tuple(module for module, _ in _REGISTRY.values())


def load_kernels() -> list[str]:
    """Load every solver's compiled kernel in this process; the reasons of those that failed.

    For a process that forks solvers (the job runner's fork server): each child then has
    them instead of loading them itself (the LNS's tabu kernel: about 1.3 s per process).
    A kernel that cannot load here (no numba, no compiler) is left to its solver, which
    runs without it and says so.
    """
    failed = []
    for module_name, function in _KERNELS:
        try:
            getattr(importlib.import_module(module_name), function)()
        except Exception as exc:  # the solver reports it when it runs
            failed.append(f"{module_name}.{function}: {type(exc).__name__}: {exc}")
    return failed


def _found_without_import(name: str) -> bool:
    needs = _NEEDS.get(name)
    if needs is None or _REGISTRY[name][0] in sys.modules:
        return False  # not listed, or imported already: asking it costs nothing
    return all(importlib.util.find_spec(package) is not None for package in needs)
