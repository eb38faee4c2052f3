"""The job runner's fork server loads the solvers' compiled kernels, so jobs fork warm."""

from __future__ import annotations

from multiprocessing.queues import Queue

import pytest

from allocator.jobs.runner import _worker_context
from solvers.registry import load_kernels


def _count_compiled_signatures(queue: Queue) -> None:
    from solvers.lns.tabu_kernel import rounds

    queue.put(len(rounds.signatures))


def test_a_job_process_forks_with_the_tabu_kernel_already_compiled() -> None:
    pytest.importorskip("numba")
    ctx = _worker_context()
    if ctx.get_start_method() != "forkserver":
        pytest.skip("no fork server on this platform: each job process loads its kernels")
    queue = ctx.Queue()
    child = ctx.Process(target=_count_compiled_signatures, args=(queue,))
    child.start()
    try:
        assert queue.get(timeout=120) >= 1
    finally:
        child.join(timeout=30)
    assert child.exitcode == 0


def test_every_kernel_loads_here() -> None:
    pytest.importorskip("numba")
    assert load_kernels() == []
