"""Executors run solver jobs: a local pool of solve hosts, or a Dask distributed cluster.

`executor_from_env` picks Dask when ALLOCATOR_DASK_ADDRESS (or `--dask`) names a
scheduler; the Dask parts are imported only then, so `dask` stays an optional extra.
"""

from __future__ import annotations

import os

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
