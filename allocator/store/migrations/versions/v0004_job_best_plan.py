"""Jobs keep the best verified plan a worker streamed, so a killed worker loses nothing.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("best_plan", sa.Text(), nullable=True))
        batch.add_column(sa.Column("best_plan_objective", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("best_plan_objective")
        batch.drop_column("best_plan")
