"""one running run per repository: a partial unique index on runs(repository_id) WHERE status = 'running'

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27 14:40:00.000000

Two workers claiming runs of one repository at the same instant cannot both win: the database refuses the
second. Rows that already break the rule (a run left running beside a newer one) keep only the newest
running run per repository; the others go back to the queue.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

INDEX = "uq_runs_one_running_per_repository"
RUNNING = sa.text("status = 'running'")


def upgrade() -> None:
    """Apply this revision: requeue extra running runs, then create the partial unique index."""
    op.execute(
        "UPDATE runs SET status = 'queued', lease_until = NULL WHERE status = 'running' AND id NOT IN "
        "(SELECT newest FROM (SELECT max(id) AS newest FROM runs WHERE status = 'running' GROUP BY repository_id) AS kept)"
    )
    op.create_index(INDEX, "runs", ["repository_id"], unique=True, postgresql_where=RUNNING, sqlite_where=RUNNING)


def downgrade() -> None:
    """Revert this revision: drop the index."""
    op.drop_index(INDEX, table_name="runs")
