"""Delivery processing, one part of `bot.jobs.queue.JobQueue`: intake hand-off, claiming, dispatch, marks, sweeps.

Fresh deliveries take an in-process fast path when this process runs workers (recorded already
claimed, the parsed payload kept in memory); a web-only process instead nudges the workers with one
"sweep now" job and, on PostgreSQL, one notification that wakes every worker (`bot.jobs.wakeups`), at most every
`NOTIFY_INTERVAL` seconds, never one per delivery. A sweep takes only what this worker can start soon
(`SWEEP_SHARE` per consumer) and sweeps again when that is done, so a backlog is pulled by every worker in
shares instead of being claimed whole by the first one awake. Every write to the deliveries table goes
through the queue's one `DeliveryWriter` (group commit).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import random
import time
from collections.abc import Callable
from contextlib import suppress
from typing import TYPE_CHECKING, Any

from bot import log_context, metrics
from bot.db import store
from bot.db.deliveries import ClaimedDelivery, DeliveryMark, NewDelivery, extend_delivery_leases, release_deliveries
from bot.db.delivery_seal import ALTERED, NOT_SEALED, sealer_for
from bot.github.unreachable import unreachable_cause
from bot.intake.payloads import parse_payload
from bot.jobs import wakeups
from bot.routing import Event

if TYPE_CHECKING:  # pragma: no cover
    from apscheduler import AsyncScheduler

    from bot.context import BotContext
    from bot.db.delivery_writer import DeliveryWriter
    from bot.routing import Router

log = logging.getLogger("bot.jobs")
DELIVERY_LEASE = 15.0  # the default of settings.lease_seconds, renewed every settings.heartbeat_seconds
DELIVERY_BATCH = 32  # deliveries one consumer takes at once
INLINE_LIMIT = 256  # fresh deliveries held in memory, parsed and claimed at intake; beyond: ids only
NOTIFY_INTERVAL = 0.25  # seconds between a web process's "sweep now" jobs for the workers
SWEEP_SHARE = 2  # deliveries one sweep takes per in-process consumer; a full take sweeps again when done
SWEEP_WINDOW = 4  # a sweep picks its share at random among this many shares of the oldest due deliveries


def _retry_delay(attempts: int) -> float:
    return min(600.0, 5.0 * 2 ** max(0, attempts - 1))


class DeliveryProcessing:
    """The delivery part of the job queue; it owns the in-process delivery queue and its claims."""

    def __init__(
        self,
        ctx: BotContext,
        router: Router,
        scheduler: AsyncScheduler | None,
        works: bool,
        writer: DeliveryWriter,
        sweep_task: Callable[[], Any],
    ) -> None:
        self.ctx = ctx
        self.router = router
        self.scheduler = scheduler
        self.works = works
        self.deliveries = writer  # every write to the deliveries table (group commit)
        self.sweep_task = sweep_task  # the APScheduler task that makes a worker sweep
        # Delivery ids to claim, or deliveries claimed at intake (payload already parsed).
        self._local: asyncio.Queue[str | ClaimedDelivery] = asyncio.Queue()
        self._claimed: set[str] = set()  # delivery ids queued or being processed here
        self.held: set[str] = set()  # delivery ids whose rows this process holds claimed (leases renewed here)
        self._dispatch_slots = asyncio.Semaphore(max(1, ctx.settings.delivery_workers))
        self._notify_wanted = False
        self._notifier: asyncio.Task[None] | None = None
        self._started = False
        self._sweeping = False
        self._sweep_again = False  # the last sweep took a full share: more may be waiting

    def start(self, spawn: Callable[[Any], None]) -> None:
        """Accept deliveries; a worker also starts its consumers and the lease heartbeat through `spawn`."""
        self._started = True
        if self.works:
            for _ in range(max(1, self.ctx.settings.delivery_workers)):
                spawn(self._consume())
            spawn(self._renew_leases())
            metrics.QUEUE_DEPTH.set_function(self._local.qsize)
            url = wakeups.listen_url(self.ctx.engine)
            if url is not None and self.scheduler is not None:
                spawn(wakeups.listen(url, self.sweep_deliveries))

    async def stop_notifier(self) -> None:
        """Stop accepting and stop the web role's notifier."""
        self._started = False
        if self._notifier is not None:
            self._notifier.cancel()
            with suppress(asyncio.CancelledError, Exception):
                await self._notifier

    async def release_unstarted(self) -> None:
        """Deliveries claimed at intake and never started go back to queued, for the next sweep."""
        unstarted = []
        while not self._local.empty():
            item = self._local.get_nowait()
            if not isinstance(item, str):
                unstarted.append(item.delivery_id)
        if unstarted:
            with suppress(Exception):
                await asyncio.to_thread(release_deliveries, self.ctx.engine, unstarted)
        self._claimed.clear()
        self.held.clear()

    def settled(self) -> bool:
        """Nothing queued, processing or waiting to notify the workers in this process."""
        if self._claimed or not self._local.empty() or self._sweeping or (self._sweep_again and self.works):
            return False
        return self._notifier is None or self._notifier.done() or not self._notify_wanted

    async def accept_delivery(self, delivery: NewDelivery, parsed: Any = None) -> bool:
        """Record a verified delivery durably (group commit), then enqueue it; False for a duplicate.

        A process that works and is not backlogged records it already claimed and keeps the parsed
        payload in memory, so processing costs no claim and no second parse. Raises when it could
        not be recorded (the caller answers 503 and GitHub may redeliver).
        """
        inline = self.works and self._started and self._local.qsize() < INLINE_LIMIT
        if inline:
            delivery = dataclasses.replace(delivery, lease_seconds=self.ctx.settings.lease_seconds)
        if not await self.deliveries.record(delivery):
            return False
        if inline and delivery.delivery_id not in self._claimed:
            self._claimed.add(delivery.delivery_id)
            self.held.add(delivery.delivery_id)
            self._local.put_nowait(
                ClaimedDelivery(delivery.delivery_id, delivery.event, delivery.payload, 1, parsed, delivery.seal)
            )
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
            started = time.perf_counter()
            try:
                await asyncio.to_thread(wakeups.notify, self.ctx.engine)  # every worker, on PostgreSQL
                await self.scheduler.add_job(self.sweep_task)
                self.deliveries.trace("notify", (time.perf_counter() - started) * 1e3)
            except Exception:  # the rows are recorded: the workers' periodic sweep finds them anyway
                log.exception("could not notify the workers; their sweep will pick the deliveries up")
            await asyncio.sleep(NOTIFY_INTERVAL)

    async def process_delivery(self, delivery_id: str) -> str | None:
        """Claim a delivery, dispatch it through the router, mark it; returns its final status."""
        return (await self.process_deliveries([delivery_id])).get(delivery_id)

    async def process_deliveries(
        self, delivery_ids: list[str], claimed_already: tuple[ClaimedDelivery, ...] = ()
    ) -> dict[str, str]:
        """Claim deliveries in one write, dispatch each, mark each; statuses of those claimed here."""
        claimed = {delivery.delivery_id: delivery for delivery in claimed_already}
        try:
            try:
                claimed.update(await self.deliveries.claim(delivery_ids, self.ctx.settings.lease_seconds))
                self.held.update(claimed)
            except Exception:  # the rows stay queued: the sweep retries them
                log.exception("could not claim %d deliveries", len(delivery_ids))
            outcomes = await asyncio.gather(
                *(self._process_claimed(d) for d in claimed.values()), return_exceptions=True
            )
            statuses = {}
            for delivery_id, outcome in zip(claimed, outcomes):
                if isinstance(outcome, BaseException):  # still claimed: after its lease the sweep retries it
                    log.error(
                        "processing delivery %s crashed: %s", delivery_id, type(outcome).__name__, exc_info=outcome
                    )
                else:
                    statuses[delivery_id] = outcome
            return statuses
        finally:
            for delivery_id in [*delivery_ids, *claimed]:
                self._claimed.discard(delivery_id)
                self.held.discard(delivery_id)

    async def _process_claimed(self, delivery: ClaimedDelivery) -> str:
        refusal = self._seal_problem(delivery)
        if refusal is not None:  # never dispatched, never retried; its event name is not trusted for metrics
            await self.deliveries.mark([refusal])
            metrics.count_processed("", refusal.status)
            return refusal.status
        if delivery.attempts > 1:  # claimed before, by a worker that died or a try that failed
            metrics.LEASE_TAKEOVERS.labels("delivery").inc()
        async with self._dispatch_slots:
            mark = await self._dispatch(delivery)
        await self.deliveries.mark([mark])
        metrics.count_processed(delivery.event, mark.status)
        if mark.status == "queued" and mark.retry_after and self.works:
            asyncio.get_running_loop().call_later(mark.retry_after, self._requeue_local, delivery.delivery_id)
        return mark.status

    def _seal_problem(self, delivery: ClaimedDelivery) -> DeliveryMark | None:
        """The mark of a delivery whose row the web process did not seal, or whose id, event or body
        changed since (ignored with the reason, logged, counted); None when its seal matches."""
        secret = self.ctx.settings.delivery_seal_secret()
        reason: str | None
        if secret is None:
            reason, label = "this process holds no secret to check delivery seals (EVOLVE_INTERNAL_SECRET)", "no_key"
        else:
            reason = sealer_for(secret).problem(delivery.delivery_id, delivery.event, delivery.payload, delivery.seal)
            if reason is None:
                return None
            label = "not_sealed" if reason == NOT_SEALED else "altered" if reason == ALTERED else "other"
        metrics.count_refused(label)
        log.warning("delivery %r: ignored, not dispatched: %s", delivery.delivery_id[:64], reason)
        return DeliveryMark(delivery.delivery_id, "ignored", reason)

    async def _dispatch(self, delivery: ClaimedDelivery) -> DeliveryMark:
        """Run the router on one claimed delivery; what to mark it as (logged with the delivery's context)."""
        with log_context.bind(delivery_id=delivery.delivery_id):
            return await self._dispatch_bound(delivery)

    async def _dispatch_bound(self, delivery: ClaimedDelivery) -> DeliveryMark:
        delivery_id = delivery.delivery_id
        try:
            payload = delivery.parsed if delivery.parsed is not None else parse_payload(delivery.payload)
        except ValueError as error:  # the web process's summary let it through (see bot/intake/payloads.py)
            log.info("delivery %s: ignored (payload is not readable JSON: %s)", delivery_id, error)
            return DeliveryMark(delivery_id, "ignored", f"payload is not valid JSON: {error}"[:2000])
        event = Event.from_payload(delivery.event, payload, delivery_id)
        repository = event.payload.get("repository")
        full_name = repository.get("full_name") if isinstance(repository, dict) else None
        with log_context.bind(installation_id=event.installation_id, repository=full_name):
            return await self._route(delivery, event)

    async def _route(self, delivery: ClaimedDelivery, event: Event) -> DeliveryMark:
        delivery_id = delivery.delivery_id
        if not self.router.handles(event):
            log.info("delivery %s: ignored (no handler for %s %s)", delivery_id, event.name, event.action or "")
            return DeliveryMark(delivery_id, "ignored")
        try:
            await self.router.dispatch(event, self.ctx)
        except Exception as error:  # a handler failed: retry with backoff, then record the failure
            most = self.ctx.settings.delivery_attempts
            last = delivery.attempts >= most
            delay = _retry_delay(delivery.attempts)
            unreachable = unreachable_cause(error)
            if unreachable is not None:  # not a bug: one line naming the host and the cause, no traceback
                log.warning(
                    "delivery %s (%s), attempt %d of %d: %s; %s",
                    delivery_id,
                    event.name,
                    delivery.attempts,
                    most,
                    unreachable,
                    "giving up" if last else f"retrying in {delay:.0f} s",
                )
                message = unreachable[:2000]
            else:
                log.exception("delivery %s (%s) failed", delivery_id, event.name)
                message = f"{type(error).__name__}: {error}"[:2000]
            if last:
                return DeliveryMark(delivery_id, "failed", message)
            return DeliveryMark(delivery_id, "queued", message, retry_after=delay)
        return DeliveryMark(delivery_id, "processed")

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
                await self.process_deliveries(
                    [i for i in batch if isinstance(i, str)], tuple(i for i in batch if not isinstance(i, str))
                )
            except Exception:  # the rows stay claimed; their leases expire and the sweep retries them
                log.exception("processing %d deliveries crashed", len(batch))
            finally:
                for _ in batch:
                    self._local.task_done()
            if self._sweep_again and self._local.empty() and self._started:  # pull the next share
                await self.sweep_deliveries()

    async def _renew_leases(self) -> None:
        """Heartbeat: renew the leases of the deliveries held here, so only a dead worker's are taken over."""
        settings = self.ctx.settings
        while True:
            await asyncio.sleep(settings.heartbeat_seconds)
            held = list(self.held)
            try:
                await asyncio.to_thread(extend_delivery_leases, self.ctx.engine, held, settings.lease_seconds)
            except Exception:  # the next beat tries again; a lease outliving a few misses is taken over
                log.exception("could not renew the leases of %d deliveries", len(held))

    async def sweep_deliveries(self) -> int:
        """Enqueue deliveries due for processing, at most this worker's share (read off the event loop); how
        many were taken. Another sweep starting meanwhile runs once this one is done."""
        if self._sweeping:
            self._sweep_again = True
            return 0
        self._sweeping = True
        try:
            taken = 0
            while True:
                self._sweep_again = False
                share = SWEEP_SHARE * max(1, self.ctx.settings.delivery_workers)
                room = share - self._local.qsize()
                if room <= 0:  # enough waiting here: the consumers sweep again when they run dry
                    self._sweep_again = True
                    return taken
                window = SWEEP_WINDOW * room + len(self._claimed)
                due = await asyncio.to_thread(store.pending_deliveries, self.ctx.db, window)
                fresh = [delivery_id for delivery_id in due if delivery_id not in self._claimed]
                if len(fresh) > room:  # a random share of the oldest: workers sweeping together rarely collide
                    fresh = sorted(random.sample(fresh, room), key=fresh.index)
                for delivery_id in fresh:
                    self._claimed.add(delivery_id)
                    self._local.put_nowait(delivery_id)
                taken += len(fresh)
                if len(fresh) == room:  # a full share: more may wait, once these are started
                    self._sweep_again = True
                    return taken
                if not self._sweep_again:
                    return taken
        finally:
            self._sweeping = False
