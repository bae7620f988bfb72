"""The job queue: delivery processing, engine runs and cron schedules on top of APScheduler 4.

The bot's tables are the source of truth; jobs only say "look at this row now". So a job may
run twice or be lost with a dead process and nothing breaks: claims in the database decide who
works, and a periodic sweep re-enqueues whatever is still queued (that is also how a restart
resumes). Fresh deliveries take an in-process fast path when this process runs workers; a
web-only process instead nudges the workers with one "sweep now" job at most every
`NOTIFY_INTERVAL` seconds, never one job per delivery.

Every write to the deliveries table (intake, claims, marks) goes through one `DeliveryWriter`,
which group-commits them off the event loop.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
from contextlib import suppress
from typing import TYPE_CHECKING, Any

from apscheduler import ConflictPolicy, current_async_scheduler, current_job
from apscheduler.abc import Trigger

from bot.db import store
from bot.db.deliveries import ClaimedDelivery, DeliveryMark, NewDelivery, release_deliveries
from bot.db.delivery_writer import DeliveryWriter
from bot.routing import Event, Router
from bot.scheduler import cron_trigger

if TYPE_CHECKING:  # pragma: no cover
    from apscheduler import AsyncScheduler

    from bot.context import BotContext
    from bot.db.models import Run

log = logging.getLogger(__name__)
DELIVERY_LEASE = 300.0
RUN_LEASE = 600.0
RUN_MAX_TRIES = 3
DELIVERY_BATCH = 32  # deliveries one consumer takes at once
INLINE_LIMIT = 256  # fresh deliveries held in memory, parsed and claimed at intake; beyond: ids only
NOTIFY_INTERVAL = 0.25  # seconds between a web process's "sweep now" jobs for the workers
_ACTIVE: "JobQueue | None" = None
_BY_SCHEDULER: dict[int, "JobQueue"] = {}


def active_queue() -> "JobQueue":
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
    repo = store.get_repository(queue.ctx.db, repository_id)
    if repo is None or not repo.enrolled or repo.paused:
        return
    fire = getattr(current_job.get(None), "scheduled_fire_time", None)
    key = f"schedule:{repository_id}:{fire.isoformat() if fire else 'now'}"
    await queue.enqueue_run(repository_id, "schedule", idempotency_key=key)


def schedule_id(repository_id: int) -> str:
    """The APScheduler schedule id of a repository's cron schedule."""
    return f"repository-{repository_id}"


def _retry_delay(attempts: int) -> float:
    return min(600.0, 5.0 * 2 ** max(0, attempts - 1))


class JobQueue:
    """`ctx.jobs`: enqueue deliveries and runs, manage cron schedules, run workers."""

    def __init__(self, ctx: "BotContext", router: Router | None, scheduler: "AsyncScheduler | None",
                 role: str = "all") -> None:
        self.ctx = ctx
        self.router = router or Router()
        self.scheduler = scheduler
        self.role = role
        self.works = role in ("all", "worker")
        # Delivery ids to claim, or deliveries claimed at intake (payload already parsed).
        self._local: asyncio.Queue[str | ClaimedDelivery] = asyncio.Queue()
        self._claimed: set[str] = set()  # delivery ids queued or being processed here
        self._runs: set[int] = set()  # run ids with a job pending or executing here
        self._tasks: list[asyncio.Task[Any]] = []
        self._run_slots = asyncio.Semaphore(ctx.settings.max_concurrent_runs)
        self._dispatch_slots = asyncio.Semaphore(max(1, ctx.settings.delivery_workers))
        self._notify_wanted = False
        self._notifier: asyncio.Task[None] | None = None
        self._started = False
        self.deliveries = DeliveryWriter(ctx.engine)

    # -- what handlers and the web endpoint call ------------------------------------------
    async def accept_delivery(self, delivery: NewDelivery, parsed: Any = None) -> bool:
        """Record a verified delivery durably (group commit), then enqueue it; False for a duplicate.

        A process that works and is not backlogged records it already claimed and keeps the parsed
        payload in memory, so processing costs no claim and no second parse. Raises when it could
        not be recorded (the caller answers 503 and GitHub may redeliver).
        """
        inline = self.works and self._started and self._local.qsize() < INLINE_LIMIT
        if inline:
            delivery = dataclasses.replace(delivery, lease_seconds=DELIVERY_LEASE)
        if not await self.deliveries.record(delivery):
            return False
        if inline and delivery.delivery_id not in self._claimed:
            self._claimed.add(delivery.delivery_id)
            self._local.put_nowait(ClaimedDelivery(delivery.delivery_id, delivery.event, delivery.payload, 1, parsed))
        else:
            await self.enqueue_delivery(delivery.delivery_id)
        return True

    async def enqueue_delivery(self, delivery_id: str) -> None:
        """Hand a recorded delivery to a worker without waiting for it to be processed."""
        if self.works:
            if delivery_id not in self._claimed:
                self._claimed.add(delivery_id)
                self._local.put_nowait(delivery_id)
        elif self.scheduler is not None:
            self._notify_workers()
        # Otherwise the row stays queued and a worker's sweep finds it.

    def _notify_workers(self) -> None:
        """Web role: one "sweep now" job per `NOTIFY_INTERVAL` at most, added off the request path."""
        self._notify_wanted = True
        if self._notifier is None or self._notifier.done():
            self._notifier = asyncio.create_task(self._notify_loop())

    async def _notify_loop(self) -> None:
        while self._notify_wanted and self._started and self.scheduler is not None:
            self._notify_wanted = False
            try:
                await self.scheduler.add_job(sweep_deliveries_job)
            except Exception:  # the rows are recorded: the workers' periodic sweep finds them anyway
                log.exception("could not notify the workers; their sweep will pick the deliveries up")
            await asyncio.sleep(NOTIFY_INTERVAL)

    async def enqueue_run(self, repository_id: int, trigger: str, *, focus: str | None = None,
                          requested_by: str | None = None, comment_issue_number: int | None = None,
                          idempotency_key: str | None = None, options: dict[str, Any] | None = None,
                          delivery_id: str | None = None, pr_number: int | None = None) -> "Run":
        """Create a queued run (once per idempotency key) and start a job for it; returns the run row."""
        run, created = store.create_run(
            self.ctx.db, repository_id, trigger, focus=focus, requested_by=requested_by,
            comment_issue_number=comment_issue_number, idempotency_key=idempotency_key,
            options=options, delivery_id=delivery_id, pr_number=pr_number,
        )
        if created:
            await self.kick_run(run.id)
        return run

    async def kick_run(self, run_id: int) -> None:
        """Start a job that tries to claim and execute a queued run."""
        if run_id in self._runs:
            return
        if self.scheduler is not None:
            if not self.works:  # a web process: some worker's job will run it
                await self.scheduler.add_job(run_repository_job, args=[run_id])
                return
            self._runs.add(run_id)
            try:
                await self.scheduler.add_job(run_repository_job, args=[run_id])
            except Exception:
                self._runs.discard(run_id)
                raise
        elif self.works:
            self._runs.add(run_id)
            self._spawn(self._run_local(run_id))

    async def set_schedule(self, repository_id: int, cron: str | None = None) -> None:
        """Install or replace a repository's cron schedule (default: the stored one, weekly)."""
        if cron is not None:
            store.set_repository_schedule(self.ctx.db, repository_id, cron)
        else:
            repo = store.get_repository(self.ctx.db, repository_id)
            cron = repo.schedule if repo is not None else store.DEFAULT_SCHEDULE
        if self.scheduler is None:
            return
        trigger: Trigger = cron_trigger(cron)
        await self.scheduler.add_schedule(
            scheduled_run_job, trigger, id=schedule_id(repository_id), args=[repository_id],
            conflict_policy=ConflictPolicy.replace, misfire_grace_time=3600,
        )

    async def remove_schedule(self, repository_id: int) -> None:
        """Drop a repository's cron schedule (unenrolment, uninstall, suspension)."""
        if self.scheduler is None:
            return
        with suppress(Exception):  # ScheduleLookupError when it was never scheduled
            await self.scheduler.remove_schedule(schedule_id(repository_id))

    async def schedules(self) -> dict[int, str]:
        """Scheduled repositories and their triggers' descriptions (for status and tests)."""
        if self.scheduler is None:
            return {}
        found = {}
        for schedule in await self.scheduler.get_schedules():
            if schedule.id.startswith("repository-"):
                found[int(schedule.id.split("-", 1)[1])] = repr(schedule.trigger)
        return found

    # -- workers ----------------------------------------------------------------------------
    async def process_delivery(self, delivery_id: str) -> str | None:
        """Claim a delivery, dispatch it through the router, mark it; returns its final status."""
        return (await self.process_deliveries([delivery_id])).get(delivery_id)

    async def process_deliveries(self, delivery_ids: list[str],
                                 claimed_already: tuple[ClaimedDelivery, ...] = ()) -> dict[str, str]:
        """Claim deliveries in one write, dispatch each, mark each; statuses of those claimed here."""
        claimed = {delivery.delivery_id: delivery for delivery in claimed_already}
        try:
            try:
                claimed.update(await self.deliveries.claim(delivery_ids, DELIVERY_LEASE))
            except Exception:  # the rows stay queued: the sweep retries them
                log.exception("could not claim %d deliveries", len(delivery_ids))
            outcomes = await asyncio.gather(*(self._process_claimed(d) for d in claimed.values()),
                                            return_exceptions=True)
            statuses = {}
            for delivery_id, outcome in zip(claimed, outcomes):
                if isinstance(outcome, BaseException):  # still claimed: after its lease the sweep retries it
                    log.error("processing delivery %s crashed: %s", delivery_id, type(outcome).__name__,
                              exc_info=outcome)
                else:
                    statuses[delivery_id] = outcome
            return statuses
        finally:
            for delivery_id in [*delivery_ids, *claimed]:
                self._claimed.discard(delivery_id)

    async def _process_claimed(self, delivery: ClaimedDelivery) -> str:
        async with self._dispatch_slots:
            mark = await self._dispatch(delivery)
        await self.deliveries.mark([mark])
        if mark.status == "queued" and mark.retry_after and self.works:
            asyncio.get_running_loop().call_later(mark.retry_after, self._requeue_local, delivery.delivery_id)
        return mark.status

    async def _dispatch(self, delivery: ClaimedDelivery) -> DeliveryMark:
        """Run the router on one claimed delivery; what to mark it as."""
        delivery_id = delivery.delivery_id
        try:
            payload = delivery.parsed if delivery.parsed is not None else json.loads(delivery.payload)
        except ValueError:
            return DeliveryMark(delivery_id, "ignored", "payload is not valid JSON")
        event = Event.from_payload(delivery.event, payload, delivery_id)
        if not self.router.handles(event):
            return DeliveryMark(delivery_id, "ignored")
        try:
            await self.router.dispatch(event, self.ctx)
        except Exception as error:  # a handler failed: retry with backoff, then record the failure
            log.exception("delivery %s (%s) failed", delivery_id, event.name)
            message = f"{type(error).__name__}: {error}"[:2000]
            if delivery.attempts >= self.ctx.settings.delivery_attempts:
                return DeliveryMark(delivery_id, "failed", message)
            return DeliveryMark(delivery_id, "queued", message, retry_after=_retry_delay(delivery.attempts))
        return DeliveryMark(delivery_id, "processed")

    async def run_repository(self, run_id: int) -> str | None:
        """Claim a run (one per repository at a time), execute it, and always close it."""
        try:
            async with self._run_slots:
                run = store.claim_run(self.ctx.db, run_id, RUN_LEASE)
                if run is None:
                    return None
                heartbeat = asyncio.create_task(self._heartbeat(run_id))
                try:
                    status = await self._execute(run_id)
                finally:
                    heartbeat.cancel()
                follower = store.next_queued_run(self.ctx.db, run.repository_id)
                if follower is not None:
                    self._runs.discard(follower)
                    await self.kick_run(follower)
                return status
        finally:
            self._runs.discard(run_id)

    async def _execute(self, run_id: int) -> str:
        from bot.github_run import execute_run  # bot-github's half; imported late to keep layers apart

        try:
            report = await execute_run(self.ctx, run_id)
        except Exception as error:
            log.exception("run %s failed", run_id)
            self._finish_if_running(run_id, "error", message=f"{type(error).__name__}: {error}"[:2000])
            return "error"
        if report is None:  # it did not run and did not say why
            self._finish_if_running(run_id, "cancelled", message="the run ended without running the engine")
        else:
            status = "succeeded" if report.status == "dry-run" else report.status
            self._finish_if_running(run_id, status, report=report)
        run = store.get_run(self.ctx.db, run_id)
        return run.status if run is not None else status

    def _finish_if_running(self, run_id: int, status: str, **fields: Any) -> None:
        run = store.get_run(self.ctx.db, run_id)
        if run is not None and run.status == "running":  # execute_run may have closed it itself
            store.finish_run(self.ctx.db, run_id, status, **fields)

    async def _heartbeat(self, run_id: int) -> None:
        while True:
            await asyncio.sleep(RUN_LEASE / 3)
            store.extend_run_lease(self.ctx.db, run_id, RUN_LEASE)

    async def _run_local(self, run_id: int) -> None:
        try:
            await self.run_repository(run_id)
        except Exception:
            log.exception("run job %s crashed", run_id)

    def _requeue_local(self, delivery_id: str) -> None:
        if self._started and delivery_id not in self._claimed:
            self._claimed.add(delivery_id)
            self._local.put_nowait(delivery_id)

    async def _consume(self) -> None:
        while True:
            batch = [await self._local.get()]
            while len(batch) < DELIVERY_BATCH and not self._local.empty():
                batch.append(self._local.get_nowait())
            try:
                await self.process_deliveries([i for i in batch if isinstance(i, str)],
                                              tuple(i for i in batch if not isinstance(i, str)))
            except Exception:  # the rows stay claimed; their leases expire and the sweep retries them
                log.exception("processing %d deliveries crashed", len(batch))
            finally:
                for _ in batch:
                    self._local.task_done()

    async def sweep_deliveries(self) -> int:
        """Enqueue the deliveries due for processing (read off the event loop); how many were due."""
        deliveries = await asyncio.to_thread(store.pending_deliveries, self.ctx.db)
        for delivery_id in deliveries:
            if delivery_id not in self._claimed:
                self._claimed.add(delivery_id)
                self._local.put_nowait(delivery_id)
        return len(deliveries)

    async def sweep(self) -> tuple[int, int]:
        """Re-enqueue work left behind (restart, dead worker, another process's intake)."""
        deliveries = await self.sweep_deliveries()
        runs = 0
        for run_id in await asyncio.to_thread(store.resumable_runs, self.ctx.db):
            if await asyncio.to_thread(store.requeue_stale_run, self.ctx.db, run_id, RUN_MAX_TRIES) == "error":
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

    async def sync_schedules(self) -> None:
        """Make the scheduler's schedules match the enrolled repositories."""
        wanted = {repo.id: repo.schedule for repo in store.enrolled_repositories(self.ctx.db)}
        for repository_id in set(await self.schedules()) - set(wanted):
            await self.remove_schedule(repository_id)
        for repository_id, cron in wanted.items():
            try:
                await self.set_schedule(repository_id, cron)
            except ValueError:
                log.warning("repository %s has an invalid schedule %r", repository_id, cron)

    # -- life cycle -------------------------------------------------------------------------
    async def start(self) -> None:
        """Register tasks, start the scheduler and the in-process workers, resume pending work."""
        global _ACTIVE
        _ACTIVE = self
        await self.deliveries.start()
        if self.scheduler is not None:
            _BY_SCHEDULER[id(self.scheduler)] = self
            await self.scheduler.__aenter__()
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
