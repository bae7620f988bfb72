"""delivery payloads in their own insert-only table

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21 17:20:00.000000

Marking a delivery processed used to rewrite its whole row, payload included (kilobytes, and on
SQLite its overflow pages): the payload now lives in `delivery_payloads`, keyed by the delivery's
row id, written once at intake and never updated. Existing payloads are moved.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


# SQLite rebuilds a table to drop or add a column (batch mode), and dropping the old table would
# cascade to `delivery_payloads`: payloads wait in a plain scratch table while `deliveries` changes.
def _create_payloads_table(name: str, *, foreign_key: bool) -> None:
    constraints = [sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{name}"))]
    if foreign_key:
        constraints.append(
            sa.ForeignKeyConstraint(
                ["id"], ["deliveries.id"], name=op.f("fk_delivery_payloads_id_deliveries"), ondelete="CASCADE"
            )
        )
    op.create_table(
        name,
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        *constraints,
    )


def upgrade() -> None:
    """Apply this revision: move the payloads out of `deliveries` into `delivery_payloads`."""
    _create_payloads_table("_delivery_payloads_move", foreign_key=False)
    op.execute("INSERT INTO _delivery_payloads_move (id, payload) SELECT id, payload FROM deliveries")
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_column("payload")
    _create_payloads_table("delivery_payloads", foreign_key=True)
    op.execute("INSERT INTO delivery_payloads (id, payload) SELECT id, payload FROM _delivery_payloads_move")
    op.drop_table("_delivery_payloads_move")


def downgrade() -> None:
    """Revert this revision: the payloads go back into `deliveries`."""
    _create_payloads_table("_delivery_payloads_move", foreign_key=False)
    op.execute("INSERT INTO _delivery_payloads_move (id, payload) SELECT id, payload FROM delivery_payloads")
    op.drop_table("delivery_payloads")
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("payload", sa.Text(), nullable=False, server_default=""))
    op.execute(
        "UPDATE deliveries SET payload = (SELECT m.payload FROM _delivery_payloads_move m WHERE m.id = deliveries.id) "
        "WHERE id IN (SELECT id FROM _delivery_payloads_move)"
    )
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.alter_column("payload", server_default=None)
    op.drop_table("_delivery_payloads_move")
