"""Webhook deliveries: recorded once on intake, claimed by one worker, marked when done."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from bot.db._scope import Db, scope
from bot.db.models import Delivery, utcnow

_TABLE = Delivery.__table__


def record_delivery(
    engine: Engine,
    delivery_id: str,
    event: str,
    payload: str,
    *,
    action: str | None = None,
    installation_id: int | None = None,
) -> bool:
    """Insert a queued delivery in one statement; False when this delivery id was recorded before."""
    values = {
        "delivery_id": delivery_id,
        "event": event,
        "action": action,
        "installation_id": installation_id,
        "payload": payload,
        "received_at": utcnow(),
        "status": "queued",
        "attempts": 0,
    }
    dialect = engine.dialect.name
    if dialect in ("sqlite", "postgresql"):
        insert = sqlite.insert if dialect == "sqlite" else postgresql.insert
        statement = (
            insert(_TABLE).values(**values).on_conflict_do_nothing(index_elements=["delivery_id"])
            .returning(_TABLE.c.id)
        )
        with engine.begin() as connection:  # RETURNING: rowcount is not reliable across drivers here
            return connection.execute(statement).first() is not None
    try:  # other databases: rely on the unique constraint
        with engine.begin() as connection:
            connection.execute(_TABLE.insert().values(**values))
        return True
    except IntegrityError:
        return False


def get_delivery(db: Db, delivery_id: str) -> Delivery | None:
    """The delivery row for a GitHub delivery id."""
    with scope(db) as session:
        return session.scalar(select(Delivery).where(Delivery.delivery_id == delivery_id))


def claim_delivery(db: Db, delivery_id: str, lease_seconds: float = 300) -> Delivery | None:
    """Atomically take a queued delivery (or one whose worker's lease expired); None if not claimable."""
    now = utcnow()
    claimable = or_(
        and_(Delivery.status == "queued", or_(Delivery.lease_until.is_(None), Delivery.lease_until <= now)),
        and_(Delivery.status == "processing", Delivery.lease_until < now),
    )
    with scope(db) as session:
        result = session.execute(
            update(Delivery)
            .where(Delivery.delivery_id == delivery_id, claimable)
            .values(status="processing", attempts=Delivery.attempts + 1, lease_until=now + timedelta(seconds=lease_seconds))
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:
            return None
        return session.scalar(
            select(Delivery).where(Delivery.delivery_id == delivery_id).execution_options(populate_existing=True)
        )


def mark_delivery(
    db: Db, delivery_id: str, status: str, error: str | None = None, *, retry_after: float | None = None
) -> None:
    """Set a delivery's status: queued (to retry, not before `retry_after` seconds), processed,
    failed or ignored."""
    not_before = utcnow() + timedelta(seconds=retry_after) if retry_after else None
    values: dict[str, object] = {"status": status, "error": error, "lease_until": not_before}
    if status in ("processed", "failed", "ignored"):
        values["processed_at"] = utcnow()
    with scope(db) as session:
        session.execute(
            update(Delivery).where(Delivery.delivery_id == delivery_id).values(**values)
            .execution_options(synchronize_session=False)
        )


def pending_deliveries(db: Db, limit: int = 1000) -> list[str]:
    """Delivery ids due for processing: queued (past any retry delay), or processing with an
    expired lease (a dead worker)."""
    now = utcnow()
    with scope(db) as session:
        rows = session.scalars(
            select(Delivery.delivery_id)
            .where(or_(
                and_(Delivery.status == "queued", or_(Delivery.lease_until.is_(None), Delivery.lease_until <= now)),
                and_(Delivery.status == "processing", Delivery.lease_until < now),
            ))
            .order_by(Delivery.id)
            .limit(limit)
        )
        return list(rows)


def count_deliveries(db: Db, status: str | None = None) -> int:
    """How many deliveries are recorded (with a status, when given)."""
    from sqlalchemy import func

    with scope(db) as session:
        query = select(func.count()).select_from(Delivery)
        if status is not None:
            query = query.where(Delivery.status == status)
        return int(session.scalar(query) or 0)
