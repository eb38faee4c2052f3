"""The background Lagrangian bound is on the weighted score: never above the LP bound."""

from __future__ import annotations

import subprocess
import sys
import time

from models import Objectives, compile_problem
from models.generators.instances import generate_attribute_problem
from solvers.bounds.solver import lp_relaxation
from solvers.portfolio.background_bound import BackgroundBound


def test_a_cost_weight_is_applied_once() -> None:
    problem = generate_attribute_problem(300, 10, seed=1)
    problem.objectives = Objectives(weights={"cost": 2.0})
    compiled = compile_problem(problem)
    lp, _ = lp_relaxation(compiled, 30.0)  # on the weighted score, as the bound must be
    assert lp is not None
    bound = BackgroundBound(compiled, 1.0, lambda _value: None)
    bound._thread.start()
    bound.join(time.perf_counter() + 30.0)
    assert bound.value is not None
    assert bound.value <= lp + 1e-6 * abs(lp)
    assert bound.value >= 0.9 * lp  # and it is on the same scale, not halved


_NO_IMPORT_IN_THREAD = """
import sys, time
from models import compile_problem
from models.generators.instances import generate_attribute_problem
from solvers.portfolio.background_bound import BackgroundBound
compiled = compile_problem(generate_attribute_problem(200, 10, seed=2))
before = set(sys.modules)
bound = BackgroundBound(compiled, 0.5, lambda _value: None)
bound._thread.start()
bound.join(time.perf_counter() + 30.0)
assert bound.value is not None
print(sorted(set(sys.modules) - before))
"""


def test_the_bound_thread_imports_nothing() -> None:
    """The runner forks solver processes while the thread runs: a module imported in the
    thread can hold an import lock at the fork, and the child then waits on it for good
    (a cold CLI process's greedy hung until killed, 1 run in 4, before the import moved
    to the module's top)."""
    done = subprocess.run(
        [sys.executable, "-c", _NO_IMPORT_IN_THREAD], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]", done.stdout
