"""The job queue: delivery processing, engine runs and cron schedules on top of APScheduler 4.

The bot's tables are the source of truth; jobs only say "look at this row now". So a job may
run twice or be lost with a dead process and nothing breaks: claims in the database decide who
works, and a periodic sweep re-enqueues whatever is still queued (that is also how a restart
resumes).

`JobQueue` (`ctx.jobs`) is composed of three parts, each owning its state: `bot.jobs.delivery_processing` (intake hand-off,
claims, dispatch, marks), `bot.runs.execution` (runs and their leases) and `bot.jobs.repository_schedules` (cron
schedules). The APScheduler task functions stay here: stored jobs and schedules name them by
their import path (`bot.jobs.queue:...`; those stored before the move say `bot.jobs:...`, which
`bot/jobs/__init__.py` keeps resolving).
"""

from __future__ import annotations

import asyncio
import logging
import socket
from contextlib import suppress
from typing import TYPE_CHECKING, Any

from apscheduler import current_async_scheduler, current_job

from bot.db import store
from bot.db.deliveries import ClaimedDelivery, NewDelivery
from bot.db.delivery_writer import DeliveryWriter
from bot.db.engine import schema_lock
from bot.db.run_request import RunRequest
from bot.db.writer_process import RemoteDeliveryWriter
from bot.jobs.delivery_processing import (
    DELIVERY_BATCH,
    DELIVERY_LEASE,
    INLINE_LIMIT,
    NOTIFY_INTERVAL,
    DeliveryProcessing,
    _retry_delay,
)
from bot.jobs.repository_schedules import Scheduling, schedule_id
from bot.routing import Router
from bot.runs.execution import RUN_LEASE, RUN_MAX_TRIES, RunExecution

if TYPE_CHECKING:  # pragma: no cover
    from apscheduler import AsyncScheduler

    from bot.context import BotContext
    from bot.db.models import Run

__all__ = [
    "DELIVERY_BATCH",
    "DELIVERY_LEASE",
    "INLINE_LIMIT",
    "NOTIFY_INTERVAL",
    "RUN_LEASE",
    "RUN_MAX_TRIES",
    "JobQueue",
    "_retry_delay",
    "active_queue",
    "process_delivery_job",
    "run_repository_job",
    "schedule_id",
    "scheduled_run_job",
    "sweep_deliveries_job",
]

log = logging.getLogger(__name__)
_ACTIVE: JobQueue | None = None
_BY_SCHEDULER: dict[int, JobQueue] = {}


def active_queue() -> JobQueue:
    """The queue whose scheduler runs the current job (else the last started), for task functions."""
    scheduler = current_async_scheduler.get(None)
    if scheduler is not None and id(scheduler) in _BY_SCHEDULER:
        return _BY_SCHEDULER[id(scheduler)]
    if _ACTIVE is None:
        raise RuntimeError("no job queue is running in this process")
    return _ACTIVE


async def process_delivery_job(delivery_id: str) -> None:
    """APScheduler task: process one recorded delivery (jobs left by older web processes)."""
    await active_queue().process_delivery(delivery_id)


async def sweep_deliveries_job() -> None:
    """APScheduler task a web process adds when it recorded deliveries: pick up the queued ones."""
    await active_queue().sweep_deliveries()


async def run_repository_job(run_id: int) -> None:
    """APScheduler task: execute one queued run."""
    await active_queue().run_repository(run_id)


async def scheduled_run_job(repository_id: int) -> None:
    """APScheduler task fired by a repository's cron schedule: queue one run per fire time."""
    queue = active_queue()
    repo = await asyncio.to_thread(store.get_repository, queue.ctx.db, repository_id)
    if repo is None or not repo.enrolled or repo.paused:
        return
    fire = getattr(current_job.get(None), "scheduled_fire_time", None)
    key = f"schedule:{repository_id}:{fire.isoformat() if fire else 'now'}"
    await queue.enqueue_run(RunRequest(repository_id, "schedule", idempotency_key=key))


class JobQueue:
    """`ctx.jobs`: enqueue deliveries and runs, manage cron schedules, run workers.

    Composed of three parts, each owning its own state: `delivery_processing`, `run_execution` and
    `scheduling`; this facade starts and stops them and forwards the public calls.
    """

    def __init__(
        self,
        ctx: BotContext,
        router: Router | None,
        scheduler: AsyncScheduler | None,
        role: str = "all",
        record_socket: socket.socket | None = None,
    ) -> None:
        self.ctx = ctx
        self.router = router or Router()
        self.scheduler = scheduler
        self.role = role
        self.works = role in ("all", "worker")
        self._tasks: list[asyncio.Task[Any]] = []
        self._started = False
        # Records go to the writer process at `record_socket`'s other end when there is one (`evolve serve --role web`).
        self.deliveries = (
            RemoteDeliveryWriter(ctx.engine, record_socket) if record_socket is not None else DeliveryWriter(ctx.engine)
        )
        self.delivery_processing = DeliveryProcessing(
            ctx, self.router, scheduler, self.works, self.deliveries, sweep_deliveries_job
        )
        self.run_execution = RunExecution(ctx, scheduler, self.works, run_repository_job, self._spawn)
        self.scheduling = Scheduling(ctx, scheduler, scheduled_run_job)

    # -- deliveries -------------------------------------------------------------------------
    async def accept_delivery(self, delivery: NewDelivery, parsed: Any = None) -> bool:
        """Record a verified delivery durably, then enqueue it; False for a duplicate (see `DeliveryProcessing`)."""
        return await self.delivery_processing.accept_delivery(delivery, parsed)

    async def enqueue_delivery(self, delivery_id: str) -> None:
        """Hand a recorded delivery to a worker without waiting for it to be processed."""
        await self.delivery_processing.enqueue_delivery(delivery_id)

    async def process_delivery(self, delivery_id: str) -> str | None:
        """Claim a delivery, dispatch it through the router, mark it; returns its final status."""
        return await self.delivery_processing.process_delivery(delivery_id)

    async def process_deliveries(
        self, delivery_ids: list[str], claimed_already: tuple[ClaimedDelivery, ...] = ()
    ) -> dict[str, str]:
        """Claim deliveries in one write, dispatch each, mark each; statuses of those claimed here."""
        return await self.delivery_processing.process_deliveries(delivery_ids, claimed_already)

    async def sweep_deliveries(self) -> int:
        """Enqueue the deliveries due for processing; how many were due."""
        return await self.delivery_processing.sweep_deliveries()

    # -- runs -------------------------------------------------------------------------------
    async def enqueue_run(self, request: RunRequest) -> Run:
        """Create a queued run (once per idempotency key) and start a job for it; returns the run row."""
        return await self.run_execution.enqueue_run(request)

    async def kick_run(self, run_id: int) -> None:
        """Start a job that tries to claim and execute a queued run."""
        await self.run_execution.kick_run(run_id)

    async def run_repository(self, run_id: int) -> str | None:
        """Claim a run (one per repository at a time), execute it, and always close it."""
        return await self.run_execution.run_repository(run_id)

    # -- schedules --------------------------------------------------------------------------
    async def set_schedule(self, repository_id: int, cron: str | None = None) -> None:
        """Install or replace a repository's cron schedule (default: the stored one, weekly)."""
        await self.scheduling.set_schedule(repository_id, cron)

    async def remove_schedule(self, repository_id: int) -> None:
        """Drop a repository's cron schedule (unenrolment, uninstall, suspension)."""
        await self.scheduling.remove_schedule(repository_id)

    async def schedules(self) -> dict[int, str]:
        """Scheduled repositories and their triggers' descriptions (for status and tests)."""
        return await self.scheduling.schedules()

    async def sync_schedules(self) -> None:
        """Make the scheduler's schedules match the enrolled repositories."""
        await self.scheduling.sync_schedules()

    async def sweep(self) -> tuple[int, int]:
        """Re-enqueue work left behind (restart, dead worker, another process's intake)."""
        deliveries = await self.sweep_deliveries()
        runs = await self.run_execution.sweep_runs()
        return deliveries, runs

    async def _sweep_forever(self) -> None:
        while True:
            await asyncio.sleep(self.ctx.settings.sweep_seconds)
            try:
                await self.sweep()
            except Exception:
                log.exception("sweep failed")

    # -- life cycle -------------------------------------------------------------------------
    async def start(self) -> None:
        """Register tasks, start the scheduler and the in-process workers, resume pending work."""
        global _ACTIVE
        _ACTIVE = self
        await self.deliveries.start()
        if self.scheduler is not None:
            _BY_SCHEDULER[id(self.scheduler)] = self
            # The scheduler creates its schema and tables on first start: one process at a time.
            lock = schema_lock(self.ctx.engine)
            await asyncio.to_thread(lock.__enter__)
            try:
                await self.scheduler.__aenter__()
            finally:
                await asyncio.to_thread(lock.__exit__, None, None, None)
            await self.scheduler.configure_task(process_delivery_job, max_running_jobs=None)
            await self.scheduler.configure_task(sweep_deliveries_job, max_running_jobs=None)
            await self.scheduler.configure_task(run_repository_job, max_running_jobs=None)
            await self.scheduler.configure_task(scheduled_run_job, max_running_jobs=None)
            if self.works:
                await self.scheduler.start_in_background()
        self._started = True
        self.delivery_processing.start(self._spawn)
        if self.works:
            await self.sync_schedules()
            # Work left behind by a restart is queued before start() returns, so nothing waits a sweep period.
            try:
                await self.sweep()
            except Exception:
                log.exception("start-up sweep failed")
            self._spawn(self._sweep_forever())

    @property
    def running(self) -> bool:
        """Whether the queue (and, for workers, the scheduler) is up."""
        if not self._started or not self.deliveries.running:
            return False
        if self.scheduler is not None and self.works:
            return self.scheduler.state.name == "started"
        return True

    async def drain(self, timeout: float = 30.0) -> None:
        """Wait until every enqueued delivery and run of this process is done (for tests)."""

        async def settled() -> bool:
            if not self.delivery_processing.settled() or self.run_execution.runs or self.run_execution.executing:
                return False
            return self.scheduler is None or not await self.scheduler.get_jobs()

        async def wait() -> None:
            while not await settled():
                await asyncio.sleep(0.02)

        await asyncio.wait_for(wait(), timeout)

    async def stop(self) -> None:
        """Stop workers and the scheduler; unfinished work stays queued in the database."""
        global _ACTIVE
        self._started = False
        await self.delivery_processing.stop_notifier()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
        await self.deliveries.stop()
        await self.delivery_processing.release_unstarted()
        if self.scheduler is not None:
            with suppress(Exception):
                await self.scheduler.__aexit__(None, None, None)
            _BY_SCHEDULER.pop(id(self.scheduler), None)
        if _ACTIVE is self:
            _ACTIVE = None

    def _spawn(self, coroutine: Any) -> None:
        task = asyncio.create_task(coroutine)
        self._tasks.append(task)
        task.add_done_callback(lambda t: self._tasks.remove(t) if t in self._tasks else None)
