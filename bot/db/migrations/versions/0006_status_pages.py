"""status pages: login sessions, and run indexes for the keyset-paginated run list

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 14:50:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision: create `status_sessions`; index runs by (repository_id, id) and (status, id)."""
    op.create_table(
        "status_sessions",
        sa.Column("id_hash", sa.String(length=64), nullable=False),
        sa.Column("login", sa.String(length=255), nullable=False),
        sa.Column("operator", sa.Boolean(), nullable=False),
        sa.Column("access", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id_hash", name=op.f("pk_status_sessions")),
    )
    op.create_index(op.f("ix_status_sessions_expires_at"), "status_sessions", ["expires_at"], unique=False)
    op.create_index("ix_runs_repository_id_id", "runs", ["repository_id", "id"], unique=False)
    op.create_index("ix_runs_status_id", "runs", ["status", "id"], unique=False)


def downgrade() -> None:
    """Revert this revision: drop the run indexes and `status_sessions`."""
    op.drop_index("ix_runs_status_id", table_name="runs")
    op.drop_index("ix_runs_repository_id_id", table_name="runs")
    op.drop_index(op.f("ix_status_sessions_expires_at"), table_name="status_sessions")
    op.drop_table("status_sessions")
