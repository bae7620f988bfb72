"""The same code on PostgreSQL (127.0.0.1:5432, trust auth): migrations, intake, runs, and the
APScheduler data store shared by a web process and a worker process. Skipped when no server answers."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, inspect, text

from bot.db import store
from bot.db.run_request import RunRequest
from bot.handlers import installations
from bot.routing import Router
from tests.bot.conftest import RecordingRouter, context_of, drain, example, post_webhook, postgres_reachable

SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"


pytestmark = pytest.mark.skipif(not postgres_reachable(), reason="no PostgreSQL server on 127.0.0.1:5432")


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh database for one test, dropped afterwards (request it before `app_factory`)."""
    name = f"evolve_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(f"{SERVER}/test", isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_migrations_create_every_table_and_are_idempotent(pg_url):
    store.migrate(pg_url)
    store.migrate(pg_url)
    engine = store.make_engine(pg_url)
    tables = set(inspect(engine).get_table_names())
    assert {
        "installations",
        "repositories",
        "deliveries",
        "runs",
        "attempts",
        "gate_results",
        "metric_snapshots",
        "pr_outcomes",
        "codemod_stats",
        "alembic_version",
    } <= tables
    assert store.is_migrated(engine)
    engine.dispose()


def test_store_on_postgres(pg_url):
    store.migrate(pg_url)
    engine = store.make_engine(pg_url)
    db = store.make_sessionmaker(engine)
    assert store.record_delivery(engine, "pg-1", "issues", '{"a": 1}', action="opened", installation_id=3)
    assert not store.record_delivery(engine, "pg-1", "issues", '{"a": 1}')
    assert store.claim_delivery(db, "pg-1").attempts == 1
    assert store.claim_delivery(db, "pg-1") is None
    store.upsert_installation(db, 3, account_login="octo")
    store.upsert_repository(db, 30, "octo/pg", 3)
    first, _ = store.create_run(db, RunRequest(30, "comment"))
    second, _ = store.create_run(db, RunRequest(30, "comment"))
    assert store.claim_run(db, first.id) is not None
    assert store.claim_run(db, second.id) is None
    assert store.record_outcome(db, 30, 7, ["none-return"], "closed") == ["none-return"]
    assert store.record_outcome(db, 30, 7, ["none-return"], "closed") == []
    assert store.acceptance_for(db, 30) == ({"none-return": 1 / 3}, frozenset())
    engine.dispose()


def test_app_on_postgres_records_processes_and_schedules(pg_url, app_factory, make_settings):
    recorder = RecordingRouter(installations.router, events=("issues",))
    client = app_factory(settings=make_settings(database_url=pg_url), router=recorder)
    assert client.get("/readyz").status_code == 200
    payload = example("installation", "created")
    payload["repositories"] = [{"id": 501, "name": "pg", "full_name": "octo/pg", "private": False}]
    assert post_webhook(client, "installation", payload, delivery_id="i-1").status_code == 202
    assert post_webhook(client, "issues", example("issues"), delivery_id="d-1").status_code == 202
    assert post_webhook(client, "issues", example("issues"), delivery_id="d-1").status_code == 200
    drain(client)
    ctx = context_of(client)
    assert store.count_deliveries(ctx.db, "processed") == 2
    assert len(recorder.seen) == 1
    assert set(client.portal.call(ctx.jobs.schedules)) == {501}
    # APScheduler keeps its tables in its own schema of the same database.
    assert "schedules" in inspect(ctx.engine).get_table_names(schema="apscheduler")


def test_web_and_worker_processes_share_the_store(pg_url, app_factory, make_settings):
    """A web-only app hands deliveries to a separate worker through the shared PostgreSQL store."""
    settings = make_settings(database_url=pg_url, sweep_seconds=60)
    recorder = RecordingRouter(events=("issues",))
    worker = app_factory(settings=settings, router=recorder, role="worker")
    web = app_factory(settings=settings, router=Router(), role="web")
    assert web.get("/readyz").status_code == 200
    assert post_webhook(web, "issues", example("issues"), delivery_id="w-1").status_code == 202
    drain(web)  # the web process itself runs nothing

    def processed() -> bool:
        return store.get_delivery(context_of(worker).db, "w-1").status == "processed"

    import time

    deadline = time.monotonic() + 20
    while not processed() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert processed()
    assert [e.delivery_id for e in recorder.seen] == ["w-1"]


def test_a_batch_of_records_commits_in_one_statement_and_the_writer_goes_on_with_transactions(pg_url):
    """PostgreSQL: records alone are one autocommitted statement (no BEGIN/COMMIT round trips), durable and exact
    about which ids were new; claims and marks on the same connection still run in transactions."""
    from bot.db.deliveries import DeliveryMark, NewDelivery, insert_deliveries_committed
    from bot.db.delivery_writer import DeliveryWriter

    store.migrate(pg_url)
    engine = store.make_engine(pg_url)
    store.record_delivery(engine, "old", "issues", '{"old": true}')

    async def scenario() -> tuple[list[bool], dict[str, object], list[bool]]:
        writer = DeliveryWriter(engine)
        await writer.start()
        try:
            batch = ["a", "old", "b", "a"]
            recorded = await asyncio.gather(
                *(writer.record(NewDelivery(i, "issues", f'{{"id": "{i}"}}')) for i in batch)
            )
            claimed = await writer.claim(["a", "b"], 30.0)
            await writer.mark([DeliveryMark("a", "processed"), DeliveryMark("b", "ignored")])
            again = await asyncio.gather(*(writer.record(NewDelivery(i, "issues", "{}")) for i in ("b", "c")))
            return list(recorded), claimed, list(again)
        finally:
            await writer.stop()

    recorded, claimed, again = asyncio.run(scenario())
    assert recorded.count(True) == 2 and recorded[1] is False  # "a" once, "b"; never "old" again
    assert set(claimed) == {"a", "b"}
    assert again == [False, True]
    other = store.make_engine(pg_url)  # another connection sees every row and its payload: committed
    assert store.get_delivery(store.make_sessionmaker(other), "a").status == "processed"
    assert store.get_delivery(store.make_sessionmaker(other), "b").status == "ignored"
    assert store.pending_deliveries(store.make_sessionmaker(other)) == ["old", "c"]
    with other.connect() as connection:
        payloads = dict(
            connection.execute(
                text("SELECT d.delivery_id, p.payload FROM deliveries d JOIN delivery_payloads p USING (id)")
            ).all()
        )
    assert payloads["b"] == '{"id": "b"}' and payloads["old"] == '{"old": true}'
    with engine.begin() as connection, pytest.raises(ValueError):  # never inside a transaction of the caller's
        insert_deliveries_committed(connection, [NewDelivery("d", "issues", "{}")])
    other.dispose()
    engine.dispose()
