"""command comments: a comment's command acts once, whichever delivery brings it

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 12:00:00.000000

Deduplicating by delivery id alone let an old signed `/evolve pause` delivery, sent again with a new
delivery id, pause a repository again after it was resumed. `command_comments` holds one row per
(comment id, edit time) acted on.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision: create `command_comments`."""
    op.create_table(
        "command_comments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("comment_id", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.String(length=40), nullable=False),
        sa.Column("delivery_id", sa.String(length=64), nullable=False),
        sa.Column("repository_id", sa.BigInteger(), nullable=True),
        sa.Column("verb", sa.String(length=16), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_command_comments")),
        sa.UniqueConstraint("comment_id", "updated_at", name=op.f("uq_command_comments_comment_id")),
    )


def downgrade() -> None:
    """Revert this revision: drop `command_comments`."""
    op.drop_table("command_comments")
