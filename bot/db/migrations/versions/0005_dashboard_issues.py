"""dashboard issues: the issue the App keeps per repository, its page comments and skipped themes

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 13:10:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision: create `dashboard_issues`."""
    op.create_table(
        "dashboard_issues",
        sa.Column("repository_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("issue_number", sa.Integer(), nullable=True),
        sa.Column("page_comment_ids", sa.JSON(), nullable=True),
        sa.Column("skipped_themes", sa.JSON(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["repository_id"],
            ["repositories.id"],
            name=op.f("fk_dashboard_issues_repository_id_repositories"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("repository_id", name=op.f("pk_dashboard_issues")),
    )


def downgrade() -> None:
    """Revert this revision: drop `dashboard_issues`."""
    op.drop_table("dashboard_issues")
