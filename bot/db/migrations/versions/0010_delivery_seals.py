"""delivery seals: workers dispatch only rows the web process sealed

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-08 00:30:00.000000

`deliveries.seal` holds the web process's HMAC over (delivery id, event, payload) (see
`bot/db/delivery_seal.py`). A row without one is never dispatched. Deliveries still pending when this
revision runs (queued, or processing under a lease) were recorded unsealed and cannot be told apart
from rows written by something else: they are marked ignored with the reason "recorded before
sealing", never dispatched (GitHub's "Redeliver" brings any that matter back, sealed). Stop the web
process and let the workers drain the queue before upgrading to lose none.

On PostgreSQL 14+ the payload column is also compressed with lz4 from now on (cheaper than pglz).
"""

from __future__ import annotations

from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

BEFORE_SEALING = "recorded before sealing (migration 0010): not dispatched; redeliver it from GitHub if it is needed"


def upgrade() -> None:
    """Apply this revision: add `deliveries.seal`; pending unsealed deliveries are ignored with the reason."""
    op.add_column("deliveries", sa.Column("seal", sa.String(length=64), nullable=True))
    deliveries = sa.table(
        "deliveries",
        sa.column("status", sa.String),
        sa.column("error", sa.Text),
        sa.column("lease_until", sa.DateTime(timezone=True)),
        sa.column("processed_at", sa.DateTime(timezone=True)),
    )
    if op.get_bind().dialect.name == "postgresql":
        # Not about seals, but in the same revision: payloads compressed with lz4 instead of pglz cost the
        # server about 60 µs per 12 KB delivery instead of 150 (PostgreSQL 14+ built with lz4; else unchanged).
        op.execute(
            "DO $$ BEGIN "
            "IF current_setting('server_version_num')::int >= 140000 THEN "
            "ALTER TABLE delivery_payloads ALTER COLUMN payload SET COMPRESSION lz4; END IF; "
            "EXCEPTION WHEN feature_not_supported OR invalid_parameter_value THEN NULL; END $$"
        )
    op.execute(
        deliveries.update()
        .where(deliveries.c.status.in_(("queued", "processing")))
        .values(status="ignored", error=BEFORE_SEALING, lease_until=None, processed_at=datetime.now(timezone.utc))
    )


def downgrade() -> None:
    """Revert this revision: drop the column (the ignored deliveries stay ignored). A plain ALTER TABLE (SQLite
    3.35+): a batch rebuild of `deliveries` would cascade to `delivery_payloads`."""
    op.execute("ALTER TABLE deliveries DROP COLUMN seal")
