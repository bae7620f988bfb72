"""github writes: an idempotency key per GitHub write, recorded before and checked after a crash

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 13:00:00.000000

A job replayed after a kill -9 posted its reply a second time. `github_writes` holds one row per
write key: the intent before the write, `done` and GitHub's id after it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision: create `github_writes`."""
    op.create_table(
        "github_writes",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("done", sa.Boolean(), nullable=False),
        sa.Column("result_id", sa.BigInteger(), nullable=True),
        sa.Column("intended_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_github_writes")),
    )


def downgrade() -> None:
    """Revert this revision: drop `github_writes`."""
    op.drop_table("github_writes")
