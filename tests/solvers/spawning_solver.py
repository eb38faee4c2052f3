"""Real solvers that start a child process of their own (as CBC does), for the process
hygiene tests: the portfolio must stop the solver and its child together."""

from __future__ import annotations

import os
import subprocess
import time

import numpy as np

from models import CompiledProblem
from solvers.base import SolveOptions, SolveResult

#: The child's command line carries this marker, so a test can find it even after it
#: was re-parented to init. `sleep` accepts the fractional part; tests append a unique id.
MARKER_ENV = "ALLOCATOR_TEST_SLEEP_MARKER"


class _Base:
    exact = False
    multi_objective = False
    anytime = False

    def available(self) -> bool:
        return True

    def skip_reason(self, problem: CompiledProblem, options: SolveOptions) -> str | None:
        return None


def _spawn_child() -> None:
    subprocess.Popen(["sleep", os.environ.get(MARKER_ENV, "3600")])


class SpawningHanger(_Base):
    """Starts a child, reports a plan, then ignores its time limit."""

    name = "spawner"

    def solve(self, problem: CompiledProblem, options: SolveOptions) -> SolveResult:
        _spawn_child()
        options.report_incumbent(np.zeros(problem.n_tasks, dtype=np.int32), 1e9)
        time.sleep(3600)
        raise AssertionError("unreachable")


class SpawningDier(_Base):
    """Starts a child, then dies like a segfaulting native backend."""

    name = "spawn_dier"

    def solve(self, problem: CompiledProblem, options: SolveOptions) -> SolveResult:
        _spawn_child()
        time.sleep(0.2)
        os._exit(11)
