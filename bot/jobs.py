"""The job queue: delivery processing, engine runs and cron schedules on top of APScheduler 4.

The bot's tables are the source of truth; jobs only say "look at this row now". So a job may
run twice or be lost with a dead process and nothing breaks: claims in the database decide who
works, and a periodic sweep re-enqueues whatever is still queued (that is also how a restart
resumes).

`JobQueue` (`ctx.jobs`) is assembled from three parts: `bot.delivery_processing` (intake hand-off,
claims, dispatch, marks), `bot.run_execution` (runs and their leases) and `bot.scheduling` (cron
schedules). The APScheduler task functions stay here: stored jobs and schedules name them by
their import path (`bot.jobs:...`).
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import suppress
from typing import TYPE_CHECKING, Any

from apscheduler import current_async_scheduler, current_job

from bot import metrics
from bot.db import store
from bot.db.deliveries import ClaimedDelivery, release_deliveries
from bot.db.delivery_writer import DeliveryWriter
from bot.db.engine import schema_lock
from bot.delivery_processing import (
    DELIVERY_BATCH,
    DELIVERY_LEASE,
    INLINE_LIMIT,
    NOTIFY_INTERVAL,
    DeliveryProcessing,
    _retry_delay,
)
from bot.routing import Router
from bot.run_execution import RUN_LEASE, RUN_MAX_TRIES, RunExecution
from bot.scheduling import Scheduling, schedule_id
from evolve.run_status import RunStatus

if TYPE_CHECKING:  # pragma: no cover
    from apscheduler import AsyncScheduler

    from bot.context import BotContext

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
    await queue.enqueue_run(repository_id, "schedule", idempotency_key=key)


class JobQueue(DeliveryProcessing, RunExecution, Scheduling):
    """`ctx.jobs`: enqueue deliveries and runs, manage cron schedules, run workers."""

    sweep_task = staticmethod(sweep_deliveries_job)
    run_task = staticmethod(run_repository_job)
    schedule_task = staticmethod(scheduled_run_job)

    def __init__(
        self, ctx: BotContext, router: Router | None, scheduler: AsyncScheduler | None, role: str = "all"
    ) -> None:
        self.ctx = ctx
        self.router = router or Router()
        self.scheduler = scheduler
        self.role = role
        self.works = role in ("all", "worker")
        # Delivery ids to claim, or deliveries claimed at intake (payload already parsed).
        self._local: asyncio.Queue[str | ClaimedDelivery] = asyncio.Queue()
        self._claimed: set[str] = set()  # delivery ids queued or being processed here
        self._held: set[str] = set()  # delivery ids whose rows are claimed by this process
        self._runs: set[int] = set()  # run ids with a job pending or executing here
        self._tasks: list[asyncio.Task[Any]] = []
        self._run_slots = asyncio.Semaphore(ctx.settings.max_concurrent_runs)
        self._dispatch_slots = asyncio.Semaphore(max(1, ctx.settings.delivery_workers))
        self._notify_wanted = False
        self._notifier: asyncio.Task[None] | None = None
        self._started = False
        self.deliveries = DeliveryWriter(ctx.engine)

    async def sweep(self) -> tuple[int, int]:
        """Re-enqueue work left behind (restart, dead worker, another process's intake)."""
        deliveries = await self.sweep_deliveries()
        runs = 0
        for run_id in await asyncio.to_thread(store.resumable_runs, self.ctx.db):
            if run_id in self._runs:  # executing here: its own heartbeat keeps it
                continue
            requeued = await asyncio.to_thread(store.requeue_stale_run, self.ctx.db, run_id, RUN_MAX_TRIES)
            if requeued is not None:
                metrics.LEASE_TAKEOVERS.labels("run").inc()
            if requeued == RunStatus.ERROR:
                await self._close_abandoned(run_id)
                continue
            await self.kick_run(run_id)
            runs += 1
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
        if self.works:
            for _ in range(max(1, self.ctx.settings.delivery_workers)):
                self._spawn(self._consume())
            self._spawn(self._renew_leases())
            metrics.QUEUE_DEPTH.set_function(self._local.qsize)
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
            if self._claimed or self._runs or not self._local.empty():
                return False
            if self._notifier is not None and not self._notifier.done() and self._notify_wanted:
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
        if self._notifier is not None:
            self._notifier.cancel()
            with suppress(asyncio.CancelledError, Exception):
                await self._notifier
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
        await self.deliveries.stop()
        unstarted = []
        while not self._local.empty():
            item = self._local.get_nowait()
            if not isinstance(item, str):
                unstarted.append(item.delivery_id)
        if unstarted:  # claimed at intake, never started: queued again for the next sweep
            with suppress(Exception):
                await asyncio.to_thread(release_deliveries, self.ctx.engine, unstarted)
        self._claimed.clear()
        self._held.clear()
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
