"""Cron schedules with a web process and a separate worker on PostgreSQL: the worker fires them (the web
process only writes them to the shared store), and a fire queues one run."""

from __future__ import annotations

import time

from apscheduler import ConflictPolicy
from apscheduler.triggers.interval import IntervalTrigger

from bot.db import store
from bot.jobs.queue import schedule_id, scheduled_run_job
from bot.routing import Router
from tests.bot.conftest import context_of
from tests.bot.test_service_jobs import engine_runs
from tests.bot.test_service_postgres import pg_url, pytestmark

__all__ = ["engine_runs", "pg_url", "pytestmark"]


def test_a_worker_fires_the_schedules_the_web_process_stored(pg_url, app_factory, make_settings, engine_runs):
    settings = make_settings(database_url=pg_url, sweep_seconds=60)
    worker = app_factory(settings=settings, router=Router(), role="worker")
    web = app_factory(settings=settings, router=Router(), role="web")
    ctx = context_of(web)
    store.upsert_installation(ctx.db, 9, account_login="octo")
    store.upsert_repository(ctx.db, 5, "octo/repo", 9)
    scheduler = ctx.jobs.scheduler
    web.portal.call(
        lambda: scheduler.add_schedule(
            scheduled_run_job,
            IntervalTrigger(seconds=1),
            id=schedule_id(5),
            args=[5],
            conflict_policy=ConflictPolicy.replace,
        )
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not [r for r in store.recent_runs(ctx.db, 5) if r.trigger == "schedule"]:
        time.sleep(0.2)
    web.portal.call(lambda: scheduler.remove_schedule(schedule_id(5)))
    runs = [run for run in store.recent_runs(context_of(worker).db, 5, limit=50) if run.trigger == "schedule"]
    assert runs, "no scheduled run was queued: nobody fires the schedules"
    keys = [run.idempotency_key for run in runs]
    assert len(keys) == len(set(keys))  # one run per fire time
