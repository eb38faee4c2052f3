"""SQLAlchemy table definitions of the durable store: jobs, swarm state, history, config.

Times are stored as float seconds since the epoch so SQLite and PostgreSQL agree
without time-zone handling; the API renders them as ISO 8601.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Float, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = ["Base", "JobRow", "KpiSnapshotRow", "RebalanceEventRow", "SettingRow", "SwarmStateRow"]


class Base(DeclarativeBase):
    """Declarative base; `Base.metadata` is what the migrations describe."""


class JobRow(Base):
    """One solver job and its lease; `result` holds the report JSON once finished."""

    __tablename__ = "jobs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    stop_reason: Mapped[str | None] = mapped_column(String(32), nullable=True)
    solution: Mapped[str | None] = mapped_column(String(16), nullable=True)
    request: Mapped[str] = mapped_column(Text)
    request_sha256: Mapped[str] = mapped_column(String(64))
    idempotency_key: Mapped[str | None] = mapped_column(String(200), nullable=True, unique=True)
    n_agents: Mapped[int] = mapped_column(Integer, default=0)
    n_tasks: Mapped[int] = mapped_column(Integer, default=0)
    time_limit_s: Mapped[float] = mapped_column(Float, default=0.0)
    submitted_at: Mapped[float] = mapped_column(Float)
    started_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    finished_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    lease_owner: Mapped[str | None] = mapped_column(String(64), nullable=True)
    lease_expires_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    best_objective: Mapped[float | None] = mapped_column(Float, nullable=True)
    best_bound: Mapped[float | None] = mapped_column(Float, nullable=True)
    progress_solver: Mapped[str | None] = mapped_column(String(32), nullable=True)
    instances_done: Mapped[int | None] = mapped_column(Integer, nullable=True)  # batch jobs
    instances_total: Mapped[int | None] = mapped_column(Integer, nullable=True)
    objective: Mapped[float | None] = mapped_column(Float, nullable=True)
    result: Mapped[str | None] = mapped_column(Text, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    tenant: Mapped[str | None] = mapped_column(String(100), nullable=True)
    # The best verified plan a worker streamed (JSON), kept across a killed worker's retry.
    best_plan: Mapped[str | None] = mapped_column(Text, nullable=True)
    best_plan_objective: Mapped[float | None] = mapped_column(Float, nullable=True)

    __table_args__ = (
        Index("ix_jobs_status_submitted", "status", "submitted_at"),
        Index("ix_jobs_kind_submitted", "kind", "submitted_at"),
        Index("ix_jobs_status_tenant", "status", "tenant"),
    )


class SwarmStateRow(Base):
    """The latest snapshot of one swarm's coordinator state (JSON)."""

    __tablename__ = "swarm_state"

    swarm: Mapped[str] = mapped_column(String(100), primary_key=True)
    state: Mapped[str] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[float] = mapped_column(Float)


class RebalanceEventRow(Base):
    """One rebalancing decision: what moved, why, and the KPIs before and after."""

    __tablename__ = "rebalance_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    swarm: Mapped[str] = mapped_column(String(100))
    at: Mapped[float] = mapped_column(Float)
    strategy: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text)
    moves: Mapped[str] = mapped_column(Text)
    kpi_before: Mapped[str] = mapped_column(Text)
    kpi_after: Mapped[str] = mapped_column(Text)

    __table_args__ = (Index("ix_rebalance_swarm_at", "swarm", "at"),)


class KpiSnapshotRow(Base):
    """The coordinator KPIs of one swarm at one moment."""

    __tablename__ = "kpi_snapshots"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    swarm: Mapped[str] = mapped_column(String(100))
    at: Mapped[float] = mapped_column(Float)
    kpis: Mapped[str] = mapped_column(Text)

    __table_args__ = (Index("ix_kpi_swarm_at", "swarm", "at"),)


class SettingRow(Base):
    """Operator settings applied live (e.g. coordinator tuning), persisted as JSON."""

    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[float] = mapped_column(Float)
