"""Open the database (SQLite in WAL mode, or PostgreSQL) and bring its schema to head."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

__all__ = ["default_sqlite_url", "make_engine", "make_session_factory", "upgrade_to_head"]

_MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def default_sqlite_url(data_dir: Path) -> str:
    """The embedded store: one SQLite file under the data directory."""
    data_dir.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{(data_dir / 'allocator.db').resolve()}"


def make_engine(url: str) -> Engine:
    """An engine tuned for a web process with worker threads."""
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            # Route handlers and runner threads share the pool; SQLite objects may cross.
            connect_args={"check_same_thread": False, "timeout": 30},
            pool_size=8,
            max_overflow=16,
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers proceed while one writer commits; NORMAL sync is durable
    # against process crashes (our SIGKILL case), only an OS crash may lose the tail.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded attributes after commit (records are copied out)."""
    return sessionmaker(engine, expire_on_commit=False)


def upgrade_to_head(engine: Engine) -> None:
    """Run Alembic `upgrade head` on this engine's database (idempotent)."""
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
