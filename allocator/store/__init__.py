"""The durable store: jobs with leases, coordinator state and history (SQLAlchemy 2)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine, make_url, text
from sqlalchemy.orm import Session, sessionmaker

from allocator.store.database import (
    default_sqlite_url,
    make_engine,
    make_session_factory,
    upgrade_to_head,
)
from allocator.store.health import StorageHealth, storage_reason
from allocator.store.job_repository import (
    FINAL_STATUSES,
    IdempotencyConflict,
    JobOutcome,
    JobRecord,
    JobRepository,
    NewJob,
    QueueCaps,
    QueueFull,
)
from allocator.store.swarm_repository import SwarmRepository

__all__ = [
    "FINAL_STATUSES",
    "IdempotencyConflict",
    "JobOutcome",
    "JobRecord",
    "JobRepository",
    "NewJob",
    "QueueCaps",
    "QueueFull",
    "StorageHealth",
    "Store",
    "StoreUnusable",
    "SwarmRepository",
    "open_store",
    "open_writable_store",
    "storage_reason",
]


@dataclass
class Store:
    """One database: its engine and the repositories over it."""

    engine: Engine
    sessions: sessionmaker[Session]
    jobs: JobRepository
    swarms: SwarmRepository
    health: StorageHealth = field(default_factory=StorageHealth)

    def ping(self) -> bool:
        """True when the database answers (for /readyz)."""
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            return True
        except Exception:  # any driver error means "not ready", never a crash
            return False

    def probe_write(self) -> bool:
        """Write 64 KiB for real, then free it (a full or read-only disk refuses it, and a
        disk with room for a few pages only is not ready for requests); updates `health`."""
        try:
            self.swarms.put_setting("storage_probe", "x" * _PROBE_BYTES)
            self.swarms.put_setting("storage_probe", str(time.time()))
        except Exception as exc:  # any driver error means "cannot write"
            self.health.failed(exc)
            return False
        self.health.recovered()
        return True

    def close(self) -> None:
        self.engine.dispose()


_PROBE_BYTES = 64 * 1024


class StoreUnusable(RuntimeError):
    """The store cannot be opened or written; the message names the place and the reason."""


def open_writable_store(database_url: str | None, data_dir: Path) -> Store:
    """`open_store`, then one real write: a read-only or full disk is found at start-up.

    Raises:
        StoreUnusable: one line naming the data directory (or database) and why.
    """
    where = _describe(database_url, data_dir)
    if not database_url and data_dir.exists() and not data_dir.is_dir():
        raise StoreUnusable(f"cannot use {where}: it is a file, not a directory")
    try:
        store = open_store(database_url, data_dir)
    except OSError as exc:
        raise StoreUnusable(f"cannot use {where}: {exc.strerror or exc}") from exc
    except Exception as exc:  # SQLAlchemy/driver errors: say the driver's reason only
        raise StoreUnusable(f"cannot open {where}: {storage_reason(exc)}") from exc
    if not store.probe_write():
        store.close()
        raise StoreUnusable(f"cannot write to {where}: {store.health.reason}")
    return store


def _describe(database_url: str | None, data_dir: Path) -> str:
    if database_url:
        return f"the database {make_url(database_url).render_as_string(hide_password=True)}"
    return f"the data directory {data_dir.resolve()} (ALLOCATOR_DATA_DIR)"


def open_store(database_url: str | None, data_dir: Path, *, migrate: bool = True) -> Store:
    """Open (and by default migrate to head) the database at `database_url`.

    Without a URL the store is SQLite in WAL mode at `data_dir/allocator.db`.
    """
    engine = make_engine(database_url or default_sqlite_url(data_dir))
    if migrate:
        upgrade_to_head(engine)
    sessions = make_session_factory(engine)
    return Store(engine, sessions, JobRepository(sessions), SwarmRepository(sessions))
