"""Initial schema: jobs, swarm state, rebalancing and KPI history, settings.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "jobs",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("stop_reason", sa.String(32), nullable=True),
        sa.Column("solution", sa.String(16), nullable=True),
        sa.Column("request", sa.Text(), nullable=False),
        sa.Column("request_sha256", sa.String(64), nullable=False),
        sa.Column("idempotency_key", sa.String(200), nullable=True, unique=True),
        sa.Column("n_agents", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("n_tasks", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("time_limit_s", sa.Float(), nullable=False, server_default="0"),
        sa.Column("submitted_at", sa.Float(), nullable=False),
        sa.Column("started_at", sa.Float(), nullable=True),
        sa.Column("finished_at", sa.Float(), nullable=True),
        sa.Column("lease_owner", sa.String(64), nullable=True),
        sa.Column("lease_expires_at", sa.Float(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("cancel_requested", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("best_objective", sa.Float(), nullable=True),
        sa.Column("best_bound", sa.Float(), nullable=True),
        sa.Column("progress_solver", sa.String(32), nullable=True),
        sa.Column("objective", sa.Float(), nullable=True),
        sa.Column("result", sa.Text(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
    )
    op.create_index("ix_jobs_status_submitted", "jobs", ["status", "submitted_at"])
    op.create_index("ix_jobs_kind_submitted", "jobs", ["kind", "submitted_at"])
    op.create_table(
        "swarm_state",
        sa.Column("swarm", sa.String(100), primary_key=True),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("updated_at", sa.Float(), nullable=False),
    )
    op.create_table(
        "rebalance_events",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("swarm", sa.String(100), nullable=False),
        sa.Column("at", sa.Float(), nullable=False),
        sa.Column("strategy", sa.String(32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("moves", sa.Text(), nullable=False),
        sa.Column("kpi_before", sa.Text(), nullable=False),
        sa.Column("kpi_after", sa.Text(), nullable=False),
    )
    op.create_index("ix_rebalance_swarm_at", "rebalance_events", ["swarm", "at"])
    op.create_table(
        "kpi_snapshots",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("swarm", sa.String(100), nullable=False),
        sa.Column("at", sa.Float(), nullable=False),
        sa.Column("kpis", sa.Text(), nullable=False),
    )
    op.create_index("ix_kpi_swarm_at", "kpi_snapshots", ["swarm", "at"])
    op.create_table(
        "settings",
        sa.Column("key", sa.String(100), primary_key=True),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("settings")
    op.drop_index("ix_kpi_swarm_at", table_name="kpi_snapshots")
    op.drop_table("kpi_snapshots")
    op.drop_index("ix_rebalance_swarm_at", table_name="rebalance_events")
    op.drop_table("rebalance_events")
    op.drop_table("swarm_state")
    op.drop_index("ix_jobs_kind_submitted", table_name="jobs")
    op.drop_index("ix_jobs_status_submitted", table_name="jobs")
    op.drop_table("jobs")
