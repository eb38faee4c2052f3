"""The durable store: jobs with leases, coordinator state and history (SQLAlchemy 2)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from allocator.store.database import (
    default_sqlite_url,
    make_engine,
    make_session_factory,
    upgrade_to_head,
)
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
    "Store",
    "SwarmRepository",
    "open_store",
]


@dataclass
class Store:
    """One database: its engine and the repositories over it."""

    engine: Engine
    sessions: sessionmaker[Session]
    jobs: JobRepository
    swarms: SwarmRepository

    def ping(self) -> bool:
        """True when the database answers (for /readyz)."""
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            return True
        except Exception:  # any driver error means "not ready", never a crash
            return False

    def close(self) -> None:
        self.engine.dispose()


def open_store(database_url: str | None, data_dir: Path, *, migrate: bool = True) -> Store:
    """Open (and by default migrate to head) the database at `database_url`.

    Without a URL the store is SQLite in WAL mode at `data_dir/allocator.db`.
    """
    engine = make_engine(database_url or default_sqlite_url(data_dir))
    if migrate:
        upgrade_to_head(engine)
    sessions = make_session_factory(engine)
    return Store(engine, sessions, JobRepository(sessions), SwarmRepository(sessions))
