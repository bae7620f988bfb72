"""pull_lifecycles: each Evolve PR's state after it opened (waiting for CI, retrying n/3, green, merged, stopped)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-08 00:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision: create pull_lifecycles."""
    op.create_table(
        "pull_lifecycles",
        sa.Column("repository_id", sa.BigInteger(), nullable=False),
        sa.Column("pr_number", sa.Integer(), nullable=False),
        sa.Column("branch", sa.String(length=255), nullable=False),
        sa.Column("head_sha", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("ci_retries", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("automerged", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["repository_id"],
            ["repositories.id"],
            name=op.f("fk_pull_lifecycles_repository_id_repositories"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("repository_id", "pr_number", name=op.f("pk_pull_lifecycles")),
    )


def downgrade() -> None:
    """Revert this revision: drop pull_lifecycles."""
    op.drop_table("pull_lifecycles")
