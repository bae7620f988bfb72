"""runs by (repository_id, pr_number): the status pages count open Evolve PRs from the index alone

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27 15:05:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision: index runs by (repository_id, pr_number)."""
    op.create_index("ix_runs_repository_id_pr_number", "runs", ["repository_id", "pr_number"], unique=False)


def downgrade() -> None:
    """Revert this revision: drop the index."""
    op.drop_index("ix_runs_repository_id_pr_number", table_name="runs")
