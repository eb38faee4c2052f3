"""Executors run solver jobs: a local pool of solve hosts, or a Dask distributed cluster.

`executor_from_env` picks Dask when ALLOCATOR_DASK_ADDRESS (or `--dask`) names a
scheduler; the Dask parts are imported only then, so `dask` stays an optional extra.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import Any

from allocator.executors.base import SolveExecutor, SolveHandle
from allocator.executors.host_client import ProgressNote, SolveHost
from allocator.executors.local import LocalExecutor

__all__ = [
    "DASK_ADDRESS_ENV",
    "LocalExecutor",
    "ProgressNote",
    "SolveExecutor",
    "SolveHandle",
    "SolveHost",
    "dask_address",
    "executor_from_env",
    "job_process_factory",
]

DASK_ADDRESS_ENV = "ALLOCATOR_DASK_ADDRESS"


def dask_address(explicit: str | None = None) -> str | None:
    """The Dask scheduler to use: `explicit` (a `--dask` flag), else the environment."""
    return explicit or os.environ.get(DASK_ADDRESS_ENV) or None


def executor_from_env(explicit: str | None = None, *, local_workers: int = 1) -> SolveExecutor:
    """A Dask executor when a scheduler address is configured, else a local one.

    Raises:
        RuntimeError: an address is set but `dask[distributed]` is not installed.
    """
    address = dask_address(explicit)
    if address is None:
        return LocalExecutor(local_workers)
    try:
        import distributed  # noqa: F401  (only to say clearly when the extra is missing)
    except ImportError as exc:
        raise RuntimeError(
            f"{DASK_ADDRESS_ENV} is set but Dask is not installed; "
            "pip install 'allocator-service[dask]' or unset it"
        ) from exc
    from allocator.executors.dask_executor import DaskExecutor

    return DaskExecutor(address)


_shared: dict[str, SolveExecutor] = {}
_shared_lock = threading.Lock()


def job_process_factory(default: Callable[..., Any]) -> Callable[..., Any]:
    """What the job runner builds per job: `default` (a local worker process), or, when
    ALLOCATOR_DASK_ADDRESS is set, a `RemoteJobProcess` on that cluster.

    The cluster is reached on the first job, not at start-up, so a service whose
    scheduler is briefly away still starts and re-queues the job.
    """
    address = dask_address()
    if address is None:
        return default
    from allocator.executors.remote_job import remote_job_factory

    def executor() -> SolveExecutor:
        with _shared_lock:
            if address not in _shared:
                _shared[address] = executor_from_env(address)
            return _shared[address]

    return remote_job_factory(executor)
