"""APScheduler 4 wiring: one `AsyncScheduler` on the SQLAlchemy data store, SQLite or PostgreSQL.

SQLite (the default): the scheduler's tables live in a sibling file `<db>-scheduler.sqlite` (WAL)
so its polling never contends with webhook intake for the bot database's write lock; one process
runs everything. Deliveries never become jobs one by one: see `bot.jobs.queue`. PostgreSQL: the `apscheduler` schema of the same database, an async psycopg engine and
a LISTEN/NOTIFY event broker, so many web and worker processes share jobs and schedules.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from apscheduler import AsyncScheduler, SchedulerRole
from apscheduler.datastores.sqlalchemy import SQLAlchemyDataStore
from apscheduler.eventbrokers.local import LocalEventBroker
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from bot.db.engine import async_url, make_engine
from bot.settings import Settings

if TYPE_CHECKING:
    from apscheduler.abc import EventBroker

# Workers process the cron schedules too (APScheduler lets many schedulers share one store); the web process
# never starts its scheduler: it only adds jobs and schedules to the shared store.
ROLES = {"web": SchedulerRole.scheduler, "worker": SchedulerRole.both, "all": SchedulerRole.both}
PG_SCHEMA = "apscheduler"


def scheduler_database_url(database_url: str) -> str:
    """Where the scheduler keeps tasks, schedules and jobs for a given bot database URL."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return database_url
    path = Path(url.database)
    return url.set(database=str(path.with_name(f"{path.stem}-scheduler{path.suffix or '.sqlite'}"))).render_as_string(
        hide_password=False
    )


def cron_trigger(expression: str) -> CronTrigger:
    """A UTC cron trigger from a five-field expression (raises ValueError when invalid)."""
    return CronTrigger.from_crontab(expression, timezone="UTC")


def build_scheduler(settings: Settings, role: str = "all") -> AsyncScheduler:
    """The scheduler for this process: `web` only adds jobs and schedules, `worker` and `all` fire the cron
    schedules and run the jobs.

    A web process never processes schedules: it is a client of the shared data store.
    """
    url = scheduler_database_url(settings.database_url)
    engine: Engine | AsyncEngine
    broker: EventBroker
    if make_url(url).get_backend_name() == "postgresql":
        from apscheduler.eventbrokers.psycopg import PsycopgEventBroker

        engine = create_async_engine(async_url(url), pool_pre_ping=True)
        data_store = SQLAlchemyDataStore(engine, schema=PG_SCHEMA)
        broker = PsycopgEventBroker.from_async_sqla_engine(engine)
    else:
        sqlite_path = make_url(url).database
        if sqlite_path and sqlite_path != ":memory:":
            Path(sqlite_path).parent.mkdir(parents=True, exist_ok=True)
        # WAL and synchronous=NORMAL: jobs only point at rows of the bot's own (FULL-synced)
        # tables, so a job lost with power costs nothing that the sweep does not recover.
        engine = make_engine(url, sqlite_synchronous="NORMAL")
        data_store = SQLAlchemyDataStore(engine)
        broker = LocalEventBroker()
    return AsyncScheduler(
        data_store,
        broker,
        role=ROLES.get(role, SchedulerRole.both),
        max_concurrent_jobs=settings.max_concurrent_jobs,
        cleanup_interval=300,
    )
