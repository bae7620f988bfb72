"""Workers pull deliveries in shares: one sweep takes at most its share of a backlog and sweeps again when it
is done, so every delivery is processed and none is claimed before this worker can start it; on PostgreSQL a
NOTIFY wakes every listening worker (bot/jobs/wakeups.py)."""

from __future__ import annotations

import asyncio

from bot.db import store
from bot.jobs import wakeups
from bot.jobs.delivery_processing import SWEEP_SHARE
from tests.bot.conftest import RecordingRouter, context_of, drain, sealer_of
from tests.bot.test_service_postgres import SERVER, pg_url

__all__ = ["pg_url"]


def test_a_backlog_is_pulled_share_by_share_until_it_is_done(pg_url, app_factory, make_settings):
    settings = make_settings(database_url=pg_url, sweep_seconds=600, delivery_workers=2)
    recorder = RecordingRouter(events=("issues",))
    client = app_factory(settings=settings, router=recorder, role="worker")
    ctx = context_of(client)
    backlog = [f"b-{n}" for n in range(25)]
    for delivery_id in backlog:
        store.record_delivery(
            ctx.engine, delivery_id, "issues", '{"action": "opened"}', action="opened", sealer=sealer_of(ctx)
        )
    share = SWEEP_SHARE * settings.delivery_workers
    taken = client.portal.call(ctx.jobs.sweep_deliveries)
    assert taken == share  # one share, not the whole backlog ...
    drain(client, 60)
    assert sorted(e.delivery_id for e in recorder.seen) == sorted(backlog)  # ... and the rest pulled after it
    assert store.count_deliveries(ctx.db, "processed") == len(backlog)


def test_a_notification_wakes_a_listener(pg_url):
    store.migrate(pg_url)
    engine = store.make_engine(pg_url)
    url = wakeups.listen_url(engine)
    assert url is not None and url.startswith("postgresql://")

    async def scenario() -> int:
        woken = asyncio.Event()
        calls = 0

        async def on_wake() -> None:
            nonlocal calls
            calls += 1
            if calls >= 2:  # the first call comes when listening starts
                woken.set()

        listener = asyncio.create_task(wakeups.listen(url, on_wake))
        try:
            for _ in range(100):
                if calls:
                    break
                await asyncio.sleep(0.05)
            await asyncio.to_thread(wakeups.notify, engine)
            await asyncio.wait_for(woken.wait(), 30)
        finally:
            listener.cancel()
        return calls

    try:
        assert asyncio.run(scenario()) >= 2
    finally:
        engine.dispose()
    assert wakeups.listen_url(store.make_engine("sqlite://")) is None and SERVER
