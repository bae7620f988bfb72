"""Group-commit intake: many concurrent deliveries share transactions, every 2xx is a durable row,
duplicates are acknowledged once, a failing write answers 503 and leaves no half-recorded batch,
and recording never blocks the event loop."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import OperationalError

from bot.db import delivery_writer, store
from bot.db.deliveries import NewDelivery, insert_deliveries, release_deliveries
from bot.db.models import Delivery
from bot.routing import Router
from bot.service.app import create_app
from tests.bot.conftest import RecordingRouter, example, webhook_headers

BODY = json.dumps(example("issues", "opened")).encode()


@asynccontextmanager
async def running(settings: Any, **kwargs: Any) -> AsyncIterator[tuple[httpx.AsyncClient, Any]]:
    """The real app with its lifespan, driven in-process by an httpx AsyncClient."""
    app = create_app(settings, **kwargs)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://evolve") as client:
            yield client, app.state.ctx


async def post(client: httpx.AsyncClient, delivery_id: str, body: bytes = BODY) -> int:
    response = await client.post("/webhook", content=body, headers=webhook_headers("issues", body, delivery_id))
    return response.status_code


def count_rows(ctx: Any, *delivery_ids: str) -> int:
    with ctx.db() as session:
        query = select(func.count()).select_from(Delivery)
        if delivery_ids:
            query = query.where(Delivery.delivery_id.in_(delivery_ids))
        return int(session.scalar(query) or 0)


def test_concurrent_deliveries_share_commits_and_are_recorded_once(settings):
    recorder = RecordingRouter()

    async def scenario() -> tuple[list[int], list[str], int, int]:
        async with running(settings, router=recorder) as (client, ctx):
            ids = [f"burst-{n}" for n in range(150)] + [f"burst-{n}" for n in range(0, 150, 5)]  # 30 repeats
            statuses = await asyncio.gather(*(post(client, i) for i in ids))
            await ctx.jobs.drain()
            return statuses, ids, ctx.jobs.deliveries.batches, count_rows(ctx)

    statuses, ids, batches, rows = asyncio.run(scenario())
    assert set(statuses) <= {200, 202}
    accepted = [i for i, status in zip(ids, statuses) if status == 202]
    assert sorted(accepted) == sorted(set(ids))  # each id accepted exactly once, the repeats acknowledged 200
    assert statuses.count(200) == 30
    assert rows == 150
    assert sorted(e.delivery_id for e in recorder.seen) == sorted(set(ids))  # processed once each
    assert batches < 150 / 2  # deliveries and their claims and marks were grouped into shared commits


def test_a_failed_commit_answers_503_for_its_whole_batch_and_records_nothing(settings, monkeypatch):
    def insert_then_fail(connection, deliveries):
        insert_deliveries(connection, deliveries)  # rows written, then the transaction fails
        raise OperationalError("INSERT", {}, Exception("disk I/O error"))

    async def scenario() -> tuple[list[int], int, int, int]:
        async with running(settings, router=RecordingRouter()) as (client, ctx):
            monkeypatch.setattr(delivery_writer, "insert_deliveries", insert_then_fail)
            failed = await asyncio.gather(*(post(client, f"lost-{n}") for n in range(40)))
            rows_after_failure = count_rows(ctx)
            monkeypatch.undo()
            again = await post(client, "lost-0")  # GitHub's redelivery is accepted as new
            await ctx.jobs.drain()
            return failed, rows_after_failure, again, count_rows(ctx)

    failed, rows_after_failure, again, rows = asyncio.run(scenario())
    assert failed == [503] * 40
    assert rows_after_failure == 0
    assert again == 202 and rows == 1


def test_one_bad_row_fails_alone_and_its_batch_mates_are_recorded(settings):
    async def scenario() -> tuple[dict[str, int], int]:
        async with running(settings, router=RecordingRouter()) as (client, ctx):
            with ctx.engine.begin() as connection:  # a database that refuses exactly one row
                connection.execute(
                    text(
                        "CREATE TRIGGER refuse_poison BEFORE INSERT ON deliveries WHEN NEW.delivery_id = 'poison' "
                        "BEGIN SELECT RAISE(ABORT, 'refused'); END"
                    )
                )
            ids = [f"good-{n}" for n in range(30)] + ["poison"] + [f"good-{n}" for n in range(30, 60)]
            statuses = await asyncio.gather(*(post(client, i) for i in ids))
            await ctx.jobs.drain()
            return dict(zip(ids, statuses)), count_rows(ctx)

    statuses, rows = asyncio.run(scenario())
    assert statuses.pop("poison") == 503
    assert set(statuses.values()) == {202}
    assert rows == 60


def test_recording_does_not_block_the_event_loop(settings, monkeypatch):
    def slow_insert(connection, deliveries):
        time.sleep(0.5)  # a slow disk, on the writer thread
        return insert_deliveries(connection, deliveries)

    monkeypatch.setattr(delivery_writer, "insert_deliveries", slow_insert)

    async def scenario() -> tuple[int, float, int]:
        async with running(settings, router=RecordingRouter()) as (client, _):
            delivery = asyncio.create_task(post(client, "slow-1"))
            await asyncio.sleep(0.1)  # the write is under way
            started = time.perf_counter()
            health = await client.get("/healthz")
            waited = time.perf_counter() - started
            return health.status_code, waited, await delivery

    health, waited, status = asyncio.run(scenario())
    assert health == 200 and waited < 0.3
    assert status == 202


def test_a_web_process_adds_no_job_per_delivery(make_settings):
    settings = make_settings(sweep_seconds=60)

    async def scenario() -> tuple[list[int], int, int]:
        async with running(settings, router=Router(), role="web") as (client, ctx):
            statuses = await asyncio.gather(*(post(client, f"web-{n}") for n in range(60)))
            await asyncio.sleep(0.1)
            jobs = await ctx.jobs.scheduler.get_jobs()
            return statuses, len(jobs), store.count_deliveries(ctx.db, "queued")

    statuses, jobs, queued = asyncio.run(scenario())
    assert statuses == [202] * 60
    assert queued == 60  # left for the workers, who are nudged at most every NOTIFY_INTERVAL
    assert 1 <= jobs <= 3


def test_deliveries_claimed_at_intake_but_never_started_are_released(settings):
    engine = store.make_engine(settings.database_url)
    store.migrate(engine)
    with engine.begin() as connection:
        insert_deliveries(connection, [NewDelivery("held", "issues", "{}", lease_seconds=300)])
    db = store.make_sessionmaker(engine)
    assert store.pending_deliveries(db) == []  # claimed by a live process
    release_deliveries(engine, ["held"])
    row = store.get_delivery(db, "held")
    assert (row.status, row.attempts, row.lease_until) == ("queued", 0, None)
    assert store.pending_deliveries(db) == ["held"]
    engine.dispose()


@pytest.mark.parametrize("repeats", [1, 3])
def test_insert_reports_new_ids_exactly(settings, repeats):
    engine = store.make_engine(settings.database_url)
    store.migrate(engine)
    store.record_delivery(engine, "old", "issues", "{}")
    batch = [NewDelivery(i, "issues", "{}") for i in ("a", "old", "b") for _ in range(repeats)]
    with engine.begin() as connection:
        assert insert_deliveries(connection, batch) == {"a", "b"}
    with engine.begin() as connection:
        assert insert_deliveries(connection, batch) == set()
    engine.dispose()


def test_the_wal_is_wound_back_under_steady_writes_without_blocking_the_writer(tmp_path, monkeypatch):
    """Under writes that never pause, the background PASSIVE checkpoints never quite catch up; the
    writer checkpoints the rest between two batches, so the WAL restarts from its beginning instead
    of growing (or being reset by a blocking RESTART checkpoint)."""
    monkeypatch.setattr(delivery_writer, "WAL_RESET_FRAMES", 64)
    monkeypatch.setattr(delivery_writer, "CHECKPOINT_PAUSE", 0.001)
    database = tmp_path / "wal.sqlite"
    engine = store.make_engine(f"sqlite:///{database}")
    store.migrate(engine)
    payload = json.dumps({"padding": "x" * 8000})  # two or three WAL frames per delivery

    async def scenario() -> tuple[int, int]:
        writer = delivery_writer.DeliveryWriter(engine)
        await writer.start()

        async def client(number: int) -> None:  # one delivery after the other, like a busy sender
            for n in range(40):
                await writer.record(NewDelivery(f"wal-{number}-{n}", "issues", payload))

        try:
            await asyncio.gather(*(client(number) for number in range(20)))
        finally:
            await writer.stop()
        return writer.wal_resets, writer.batches

    resets, batches = asyncio.run(scenario())
    wal = database.with_name(database.name + "-wal")
    wal_size = wal.stat().st_size if wal.exists() else 0  # before the last connection closes (and removes it)
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT count(*) FROM deliveries")).scalar_one()
    engine.dispose()
    assert rows == 800 and batches >= 40
    assert resets >= 1
    # Without resets the WAL file would hold all 800 payloads (> 6 MiB); wound back, it stays short.
    assert wal_size < 3 << 20
