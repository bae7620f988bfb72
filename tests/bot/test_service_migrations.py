"""Migration 0002 moves delivery payloads into the insert-only `delivery_payloads` table: an
upgrade from 0001 keeps every payload (SQLite's table rebuild must not cascade them away), the
moved rows are claimed and processed as before, and a downgrade puts the payloads back."""

from __future__ import annotations

import json
from typing import Any

import pytest
from alembic import command
from sqlalchemy import inspect, text

from bot.db import store
from bot.db.deliveries import DeliveryMark, NewDelivery, claim_batch, insert_deliveries, mark_batch
from bot.db.delivery_seal import BEFORE_SEALING
from bot.db.engine import alembic_config
from tests.bot.conftest import postgres_reachable
from tests.bot.test_service_postgres import SERVER

PAYLOADS = {f"old-{n}": json.dumps({"action": "created", "n": n, "blob": "x" * (n * 3000)}) for n in range(6)}


def _at_0001_with_deliveries(url: str) -> Any:
    engine = store.make_engine(url)
    with engine.connect() as connection:
        config = alembic_config(url)
        config.attributes["connection"] = connection
        command.upgrade(config, "0001")
        connection.commit()
    with engine.begin() as connection:
        for n, (delivery_id, payload) in enumerate(PAYLOADS.items()):
            connection.execute(
                text(
                    "INSERT INTO deliveries (delivery_id, event, action, installation_id, payload, received_at, status, attempts) "
                    "VALUES (:d, 'issue_comment', 'created', 7, :p, CURRENT_TIMESTAMP, :s, 0)"
                ),
                {"d": delivery_id, "p": payload, "s": "queued" if n % 2 else "processed"},
            )
    return engine


def _check_upgrade(engine: Any) -> None:
    store.migrate(engine)
    assert store.current_revision(engine) == store.head_revision()
    pending = [i for n, i in enumerate(PAYLOADS) if n % 2]
    with engine.begin() as connection:  # 0010: deliveries pending before sealing are ignored, not dispatched
        rows = connection.execute(text("SELECT delivery_id, status, error FROM deliveries WHERE status = 'ignored'"))
        assert {row.delivery_id: row.error for row in rows} == {i: BEFORE_SEALING for i in pending}
        # Queued again by hand (as an operator might), to check the moved rows are claimed with their payloads.
        connection.execute(text("UPDATE deliveries SET status = 'queued', error = NULL WHERE status = 'ignored'"))
    columns = {c["name"] for c in inspect(engine).get_columns("deliveries")}
    assert "payload" not in columns and {"delivery_id", "status", "attempts"} <= columns
    tables = set(inspect(engine).get_table_names())
    assert {"delivery_payloads", "github_writes"} <= tables and "_delivery_payloads_move" not in tables
    db = store.make_sessionmaker(engine)
    for delivery_id, payload in PAYLOADS.items():
        assert store.get_delivery(db, delivery_id).payload == payload
    with engine.begin() as connection:  # moved rows are claimed with their payloads; marks leave them alone
        claimed = claim_batch(connection, list(PAYLOADS), 60)
        assert {i: c.payload for i, c in claimed.items()} == {
            i: p for n, (i, p) in enumerate(PAYLOADS.items()) if n % 2
        }
        mark_batch(connection, [DeliveryMark(i, "processed") for i in claimed])
        assert insert_deliveries(
            connection, [NewDelivery("new-1", "issues", '{"a": 1}'), NewDelivery("old-1", "issues", "{}")]
        ) == {"new-1"}
    assert store.get_delivery(db, "old-1").payload == PAYLOADS["old-1"]
    assert store.get_delivery(db, "new-1").payload == '{"a": 1}'
    assert store.count_deliveries(db, "processed") == len(PAYLOADS)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM delivery_payloads")).scalar() == len(PAYLOADS) + 1


def _check_downgrade(engine: Any, url: str) -> None:
    with engine.connect() as connection:
        config = alembic_config(url)
        config.attributes["connection"] = connection
        command.downgrade(config, "0001")
        connection.commit()
    assert "delivery_payloads" not in set(inspect(engine).get_table_names())
    with engine.connect() as connection:
        rows = dict(connection.execute(text("SELECT delivery_id, payload FROM deliveries")).all())
    assert rows == {**PAYLOADS, "new-1": '{"a": 1}'}


def test_upgrade_from_0001_moves_payloads_on_sqlite(tmp_path):
    url = f"sqlite:///{tmp_path / 'evolve.sqlite'}"
    engine = _at_0001_with_deliveries(url)
    try:
        _check_upgrade(engine)
        _check_downgrade(engine, url)
        store.migrate(engine)  # and up again
        assert store.get_delivery(store.make_sessionmaker(engine), "old-3").payload == PAYLOADS["old-3"]
    finally:
        engine.dispose()


@pytest.mark.skipif(not postgres_reachable(), reason="no PostgreSQL server on 127.0.0.1:5432")
def test_upgrade_from_0001_moves_payloads_on_postgresql():
    import uuid

    from sqlalchemy import create_engine

    name = f"evolve_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(f"{SERVER}/test", isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = f"postgresql://postgres@127.0.0.1:5432/{name}"
    engine = _at_0001_with_deliveries(url)
    try:
        _check_upgrade(engine)
        _check_downgrade(engine, url)
    finally:
        engine.dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
