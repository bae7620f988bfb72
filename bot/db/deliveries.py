"""Webhook deliveries: recorded once on intake, claimed by one worker, marked when done.

The single-row functions take `ctx.db` or the engine; the batch ones (`insert_deliveries`,
`claim_batch`, `mark_batch`) take an open `Connection`, so `bot.db.delivery_writer` can put many
requests' writes into one transaction (one commit, one fsync).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import and_, bindparam, or_, select, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from bot.db._scope import Db, scope
from bot.db.delivery_seal import DeliverySealer
from bot.db.models import Delivery, DeliveryPayload, utcnow

if TYPE_CHECKING:
    from sqlalchemy import Table
    from sqlalchemy.engine import CursorResult

# A declarative class without a custom `__table__` maps exactly one Table.
_TABLE = cast("Table", Delivery.__table__)
_PAYLOADS = cast("Table", DeliveryPayload.__table__)
FINAL_STATUSES = ("processed", "failed", "ignored")


@dataclass(frozen=True)
class NewDelivery:
    """One verified delivery to record. With `lease_seconds` it is recorded already claimed
    (processing, first attempt) by the process that is about to work on it. `seal`: the web
    process's seal of it (`bot.db.delivery_seal`); a row stored without one is never dispatched."""

    delivery_id: str
    event: str
    payload: str
    action: str | None = None
    installation_id: int | None = None
    lease_seconds: float | None = None
    seal: str | None = None

    def row(self, now: datetime) -> dict[str, Any]:
        """The values of its `deliveries` row (the payload goes to `delivery_payloads`)."""
        claimed = self.lease_seconds is not None
        return {
            "delivery_id": self.delivery_id,
            "event": self.event,
            "action": self.action,
            "installation_id": self.installation_id,
            "received_at": now,
            "status": "processing" if claimed else "queued",
            "attempts": 1 if claimed else 0,
            "lease_until": now + timedelta(seconds=self.lease_seconds) if self.lease_seconds is not None else None,
            "seal": self.seal,
        }


@dataclass(frozen=True)
class ClaimedDelivery:
    """A delivery a worker has claimed: what it needs to process it (`parsed`: the payload, when
    intake already parsed it; `seal`: as stored, checked before dispatch)."""

    delivery_id: str
    event: str
    payload: str
    attempts: int
    parsed: Any = field(default=None, compare=False, repr=False)
    seal: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class DeliveryMark:
    """A delivery's new status (see `mark_delivery`)."""

    delivery_id: str
    status: str
    error: str | None = None
    retry_after: float | None = None


def _claimable(now: datetime) -> Any:
    return or_(
        and_(Delivery.status == "queued", or_(Delivery.lease_until.is_(None), Delivery.lease_until <= now)),
        and_(Delivery.status == "processing", Delivery.lease_until < now),
    )


_INSERT_COLUMNS = (
    "delivery_id",
    "event",
    "action",
    "installation_id",
    "received_at",
    "status",
    "attempts",
    "lease_until",
    "seal",
)
_TIME_COLUMNS = ("received_at", "lease_until")


@functools.lru_cache(maxsize=64)
def _sqlite_insert_sql(rows: int) -> str:
    """A multi-row INSERT for SQLite, as text: SQLAlchemy compiles multi-VALUES constructs afresh
    every time, which costs more than the insert itself."""
    values = "(" + ", ".join("?" * len(_INSERT_COLUMNS)) + ")"
    return (
        f"INSERT INTO {_TABLE.name} ({', '.join(_INSERT_COLUMNS)}) VALUES {', '.join([values] * rows)} "
        "ON CONFLICT (delivery_id) DO NOTHING"
    )


@functools.lru_cache(maxsize=64)
def _sqlite_payloads_sql(rows: int) -> str:
    return f"INSERT INTO {_PAYLOADS.name} (id, payload) VALUES {', '.join(['(?, ?)'] * rows)}"


def insert_deliveries(connection: Connection, deliveries: Sequence[NewDelivery]) -> set[str]:
    """Insert deliveries and their payloads (the caller commits); the ids that were new.

    An id already stored, or repeated in the batch, is skipped (ON CONFLICT DO NOTHING / OR IGNORE),
    and so is its payload. SQLite: one multi-row INSERT whose row count usually says "all new" at
    once (the new rows got consecutive rowids under the write lock, in order); only a batch with
    duplicates reads back its new rows. (Each row RETURNING would be one more step, and one more
    GIL hand-off, per row.) Then one multi-row INSERT of the new rows' payloads.
    """
    if not deliveries:
        return set()
    now = utcnow()
    rows = [delivery.row(now) for delivery in deliveries]
    dialect = connection.dialect.name
    if dialect == "sqlite":
        return _insert_sqlite(connection, deliveries, rows)
    if dialect == "postgresql" and connection.dialect.driver == "psycopg":
        return _insert_postgres(connection, deliveries, rows)
    if dialect == "postgresql":  # another driver: one statement per row, RETURNING fetched in one round trip
        statement = (
            postgresql.insert(_TABLE)
            .on_conflict_do_nothing(index_elements=["delivery_id"])
            .returning(_TABLE.c.id, _TABLE.c.delivery_id)
        )
        ids = {delivery_id: row_id for row_id, delivery_id in connection.execute(statement, rows)}
    else:  # other databases: one savepoint per row, relying on the unique constraint
        ids = {}
        for row in rows:
            if row["delivery_id"] in ids:
                continue
            try:
                with connection.begin_nested():
                    key = connection.execute(_TABLE.insert().values(**row)).inserted_primary_key
                    assert key is not None  # a single-row INSERT always reports the key it made
                    ids[row["delivery_id"]] = key[0]
            except IntegrityError:
                pass
    _insert_payloads(connection, deliveries, ids)
    return set(ids)


def _insert_payloads(connection: Connection, deliveries: Sequence[NewDelivery], ids: dict[str, int]) -> None:
    """Insert the payload of each delivery whose row is new (`ids`: delivery id -> row id)."""
    pending = dict(ids)
    params = [
        {"id": pending.pop(delivery.delivery_id), "payload": delivery.payload}
        for delivery in deliveries
        if delivery.delivery_id in pending
    ]
    if params:
        connection.execute(_PAYLOADS.insert(), params)


# PostgreSQL: the whole batch, rows and payloads, in ONE statement of a fixed text (prepared once by psycopg):
# each column is one array parameter, sent in binary (`%b`: psycopg's text format would quote and escape every
# JSON body, milliseconds each), unnested server-side.
_PG_INSERT_SQL = f"""
WITH batch AS (
    SELECT * FROM unnest(
        %b::varchar[], %b::varchar[], %b::varchar[], %b::bigint[], %b::timestamptz[], %b::varchar[],
        %b::int[], %b::timestamptz[], %b::varchar[], %b::text[]
    ) AS t({", ".join(_INSERT_COLUMNS)}, payload)
), inserted AS (
    INSERT INTO {_TABLE.name} ({", ".join(_INSERT_COLUMNS)})
    SELECT {", ".join(_INSERT_COLUMNS)} FROM batch
    ON CONFLICT (delivery_id) DO NOTHING
    RETURNING id, delivery_id
), payloads AS (
    INSERT INTO {_PAYLOADS.name} (id, payload)
    SELECT inserted.id, batch.payload FROM inserted JOIN batch USING (delivery_id)
)
SELECT delivery_id FROM inserted
"""


def _insert_postgres(connection: Connection, deliveries: Sequence[NewDelivery], rows: list[dict[str, Any]]) -> set[str]:
    """One statement for the batch (see `_PG_INSERT_SQL`); an id repeated in the batch keeps its first row."""
    first: dict[str, int] = {}
    for index, row in enumerate(rows):
        first.setdefault(row["delivery_id"], index)
    chosen = list(first.values())
    columns: list[list[Any]] = [[rows[i][name] for i in chosen] for name in _INSERT_COLUMNS]
    columns.append([deliveries[i].payload for i in chosen])
    dbapi = connection.connection.driver_connection
    assert dbapi is not None  # an open Connection holds its DBAPI connection
    with dbapi.cursor() as cursor:
        cursor.execute(_PG_INSERT_SQL, columns)
        return {delivery_id for (delivery_id,) in cursor.fetchall()}


def one_statement_inserts(connection: Connection) -> bool:
    """Whether a batch of records is one statement here (PostgreSQL through psycopg: `_PG_INSERT_SQL`)."""
    return connection.dialect.name == "postgresql" and connection.dialect.driver == "psycopg"


def insert_deliveries_committed(connection: Connection, deliveries: Sequence[NewDelivery]) -> set[str]:
    """`insert_deliveries` and its commit in one round trip (PostgreSQL through psycopg, the connection outside any
    transaction): the batch's one statement runs in autocommit, its own transaction, durable when it returns (as
    after a COMMIT), all rows or none; instead of three round trips, BEGIN, the statement, COMMIT. The ids new."""
    if not deliveries:
        return set()
    if not one_statement_inserts(connection) or connection.in_transaction():
        raise ValueError("a committed batch insert needs PostgreSQL through psycopg, outside a transaction")
    dbapi = connection.connection.driver_connection
    assert dbapi is not None  # an open Connection holds its DBAPI connection
    now = utcnow()
    dbapi.autocommit = True
    try:
        return _insert_postgres(connection, deliveries, [delivery.row(now) for delivery in deliveries])
    finally:
        dbapi.autocommit = False


def _insert_sqlite(connection: Connection, deliveries: Sequence[NewDelivery], rows: list[dict[str, Any]]) -> set[str]:
    dialect_type = _TABLE.c.received_at.type.dialect_impl(connection.dialect)  # stored as SQLAlchemy does
    bind_time = dialect_type.bind_processor(connection.dialect) or (lambda value: value)
    params: list[Any] = []
    for row in rows:
        params += [bind_time(row[name]) if name in _TIME_COLUMNS else row[name] for name in _INSERT_COLUMNS]
    result = connection.exec_driver_sql(_sqlite_insert_sql(len(rows)), tuple(params))
    inserted, last = result.rowcount, result.lastrowid
    if inserted <= 0:
        return set()
    first_occurrences = list(dict.fromkeys(row["delivery_id"] for row in rows))
    if inserted == len(first_occurrences):  # all new: rowids last-inserted+1 .. last, in order
        ids = dict(zip(first_occurrences, range(last - inserted + 1, last + 1)))
    else:
        ids = {
            delivery_id: row_id
            for row_id, delivery_id in connection.execute(
                select(_TABLE.c.id, _TABLE.c.delivery_id).where(_TABLE.c.id > last - inserted, _TABLE.c.id <= last)
            )
        }
    payload_params: list[Any] = []
    pending = dict(ids)
    for delivery in deliveries:
        row_id = pending.pop(delivery.delivery_id, None)
        if row_id is not None:
            payload_params += (row_id, delivery.payload)
    connection.exec_driver_sql(_sqlite_payloads_sql(len(payload_params) // 2), tuple(payload_params))
    return set(ids)


def claim_batch(
    connection: Connection, delivery_ids: Iterable[str], lease_seconds: float = 300
) -> dict[str, ClaimedDelivery]:
    """Claim every claimable delivery among `delivery_ids` in one statement (the caller commits)."""
    ids = sorted(set(delivery_ids))
    if not ids:
        return {}
    now = utcnow()
    statement = (
        update(_TABLE)
        .where(_TABLE.c.delivery_id.in_(ids), _claimable(now))
        .values(status="processing", attempts=_TABLE.c.attempts + 1, lease_until=now + timedelta(seconds=lease_seconds))
        .returning(_TABLE.c.id, _TABLE.c.delivery_id, _TABLE.c.event, _TABLE.c.attempts, _TABLE.c.seal)
    )
    rows = connection.execute(statement).all()
    if not rows:
        return {}
    query = select(_PAYLOADS.c.id, _PAYLOADS.c.payload).where(_PAYLOADS.c.id.in_([row.id for row in rows]))
    payloads: dict[int, str] = {row_id: payload for row_id, payload in connection.execute(query)}
    return {
        row.delivery_id: ClaimedDelivery(
            row.delivery_id, row.event, payloads.get(row.id, ""), row.attempts, seal=row.seal
        )
        for row in rows
    }


def mark_batch(connection: Connection, marks: Sequence[DeliveryMark]) -> None:
    """Apply many `mark_delivery` changes (the caller commits): one UPDATE per final status without
    an error (the common case), one executemany for the rest."""
    if not marks:
        return
    now = utcnow()
    plain: dict[str, list[str]] = {}
    detailed: list[DeliveryMark] = []
    for mark in marks:
        if mark.status in FINAL_STATUSES and mark.error is None:
            plain.setdefault(mark.status, []).append(mark.delivery_id)
        else:
            detailed.append(mark)
    for status, ids in sorted(plain.items()):
        connection.execute(
            update(_TABLE)
            .where(_TABLE.c.delivery_id.in_(ids))
            .values(status=status, error=None, lease_until=None, processed_at=now)
        )
    if detailed:
        statement = (
            update(_TABLE)
            .where(_TABLE.c.delivery_id == bindparam("b_id"))
            .values(
                status=bindparam("b_status"),
                error=bindparam("b_error"),
                lease_until=bindparam("b_lease"),
                processed_at=bindparam("b_processed"),
            )
        )
        connection.execute(
            statement,
            [
                {
                    "b_id": mark.delivery_id,
                    "b_status": mark.status,
                    "b_error": mark.error,
                    "b_lease": now + timedelta(seconds=mark.retry_after) if mark.retry_after else None,
                    "b_processed": now if mark.status in FINAL_STATUSES else None,
                }
                for mark in detailed
            ],
        )


def release_deliveries(engine: Engine, delivery_ids: Sequence[str]) -> None:
    """Give back deliveries this process claimed but never started (a clean shutdown): queued
    again, the attempt not counted, so the next sweep anywhere takes them at once."""
    if not delivery_ids:
        return
    with engine.begin() as connection:
        connection.execute(
            update(_TABLE)
            .where(_TABLE.c.delivery_id.in_(list(delivery_ids)), _TABLE.c.status == "processing")
            .values(status="queued", lease_until=None, attempts=_TABLE.c.attempts - 1)
        )


def extend_delivery_leases(engine: Engine, delivery_ids: Sequence[str], lease_seconds: float) -> int:
    """Heartbeat of the deliveries a worker holds: their leases run `lease_seconds` from now; how many."""
    if not delivery_ids:
        return 0
    with engine.begin() as connection:
        result = connection.execute(
            update(_TABLE)
            .where(_TABLE.c.delivery_id.in_(sorted(delivery_ids)), _TABLE.c.status == "processing")
            .values(lease_until=utcnow() + timedelta(seconds=lease_seconds))
        )
        return int(result.rowcount or 0)


def record_delivery(
    engine: Engine,
    delivery_id: str,
    event: str,
    payload: str,
    *,
    action: str | None = None,
    installation_id: int | None = None,
    sealer: DeliverySealer | None = None,
) -> bool:
    """Insert a queued delivery in its own transaction; False when this delivery id was recorded before.

    Sealed with `sealer` when given; without one the row is stored unsealed and no worker will dispatch it."""
    seal = sealer.seal(delivery_id, event, payload.encode("utf-8")) if sealer is not None else None
    with engine.begin() as connection:
        delivery = NewDelivery(delivery_id, event, payload, action, installation_id, seal=seal)
        new = insert_deliveries(connection, [delivery])
    return delivery_id in new


def get_delivery(db: Db, delivery_id: str) -> Delivery | None:
    """The delivery row for a GitHub delivery id."""
    with scope(db) as session:
        return session.scalar(select(Delivery).where(Delivery.delivery_id == delivery_id))


def claim_delivery(db: Db, delivery_id: str, lease_seconds: float = 300) -> Delivery | None:
    """Atomically take a queued delivery (or one whose worker's lease expired); None if not claimable."""
    now = utcnow()
    with scope(db) as session:
        result = session.execute(
            update(Delivery)
            .where(Delivery.delivery_id == delivery_id, _claimable(now))
            .values(
                status="processing", attempts=Delivery.attempts + 1, lease_until=now + timedelta(seconds=lease_seconds)
            )
            .execution_options(synchronize_session=False)
        )
        # A Session runs DML into a CursorResult, the result kind that counts rows.
        if cast("CursorResult[Any]", result).rowcount != 1:
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
    if status in FINAL_STATUSES:
        values["processed_at"] = utcnow()
    with scope(db) as session:
        session.execute(
            update(Delivery)
            .where(Delivery.delivery_id == delivery_id)
            .values(**values)
            .execution_options(synchronize_session=False)
        )


def pending_deliveries(db: Db, limit: int = 1000) -> list[str]:
    """Delivery ids due for processing: queued (past any retry delay), or processing with an
    expired lease (a dead worker)."""
    now = utcnow()
    with scope(db) as session:
        rows = session.scalars(select(Delivery.delivery_id).where(_claimable(now)).order_by(Delivery.id).limit(limit))
        return list(rows)


def count_deliveries(db: Db, status: str | None = None) -> int:
    """How many deliveries are recorded (with a status, when given)."""
    from sqlalchemy import func

    with scope(db) as session:
        query = select(func.count()).select_from(Delivery)
        if status is not None:
            query = query.where(Delivery.status == status)
        return int(session.scalar(query) or 0)
