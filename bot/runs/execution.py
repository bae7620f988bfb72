"""Run execution, one part of `bot.jobs.queue.JobQueue`: queue runs, claim them in turn (one per repository and at
most `max_runs_per_installation` per installation at a time, across workers; `bot.db.run_order`), execute them through bot-github's `execute_run` with a lease heartbeat, and always close them."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from bot import log_context, metrics
from bot.db import store
from bot.db.run_request import RunRequest
from bot.runs.llm_metrics import record_llm_usage
from evolve.run_status import RunStatus
from evolve.sandbox.cancellation import cancel_scope

if TYPE_CHECKING:  # pragma: no cover
    from apscheduler import AsyncScheduler

    from bot.context import BotContext
    from bot.db.models import Run

log = logging.getLogger("bot.jobs")
RUN_LEASE = 15.0  # the default of settings.lease_seconds, renewed every settings.heartbeat_seconds
RUN_MAX_TRIES = 3


class RunExecution:
    """The run part of the job queue; it owns the set of runs pending or executing in this process."""

    def __init__(
        self,
        ctx: BotContext,
        scheduler: AsyncScheduler | None,
        works: bool,
        run_task: Callable[[int], Any],
        spawn: Callable[[Any], None],
    ) -> None:
        self.ctx = ctx
        self.scheduler = scheduler
        self.works = works
        self.run_task = run_task  # the APScheduler task that executes one run
        self._spawn = spawn  # starts a background task owned by the queue
        self.runs: set[int] = set()  # run ids whose job is pending or claiming here
        self.executing: set[int] = set()  # run ids executing here (their heartbeat holds the lease)
        self._run_slots = asyncio.Semaphore(ctx.settings.max_concurrent_runs)

    async def sweep_runs(self) -> int:
        """Requeue runs left behind by dead workers (closing those given up on) and wake this process's run
        slots when runs wait; how many runs are queued."""
        queued = []
        for run_id in await asyncio.to_thread(store.resumable_runs, self.ctx.db):
            if run_id in self.executing:  # executing here: its own heartbeat keeps it
                continue
            requeued = await asyncio.to_thread(store.requeue_stale_run, self.ctx.db, run_id, RUN_MAX_TRIES)
            if requeued is not None:
                metrics.LEASE_TAKEOVERS.labels("run").inc()
            if requeued == RunStatus.ERROR:
                await self._close_abandoned(run_id)
                continue
            queued.append(run_id)
        # A run job claims whichever run's turn it is and goes on claiming: one job per run slot is enough.
        for run_id in queued[: self.ctx.settings.max_concurrent_runs]:
            await self.kick_run(run_id)
        return len(queued)

    async def enqueue_run(self, request: RunRequest) -> Run:
        """Create a queued run (once per idempotency key) and start a job for it; returns the run row."""
        run, created = await asyncio.to_thread(store.create_run, self.ctx.db, request)
        if created:
            await self.kick_run(run.id)
        return run

    async def kick_run(self, run_id: int) -> None:
        """Start a job that tries to claim and execute a queued run."""
        if run_id in self.runs:
            return
        if self.scheduler is not None:
            if not self.works:  # a web process: some worker's job will run it
                await self.scheduler.add_job(self.run_task, args=[run_id])
                return
            self.runs.add(run_id)
            try:
                await self.scheduler.add_job(self.run_task, args=[run_id])
            except Exception:
                self.runs.discard(run_id)
                raise
        elif self.works:
            self.runs.add(run_id)
            self._spawn(self._run_local(run_id))

    async def run_repository(self, run_id: int) -> str | None:
        """The job of a queued run: claim whichever run's turn it is (`bot.db.run_order`; maybe another one),
        execute it and always close it, then claim again until no queued run may start."""
        try:
            return await self.claim_and_execute()
        finally:
            self.runs.discard(run_id)

    async def claim_and_execute(self) -> str | None:
        """Execute runs in their turn while this process has a free run slot; the last run's status."""
        settings = self.ctx.settings
        status: str | None = None
        while True:
            async with self._run_slots:
                run = await asyncio.to_thread(
                    store.claim_next_run, self.ctx.db, settings.lease_seconds, settings.max_runs_per_installation
                )
                if run is None:
                    return status
                self.executing.add(run.id)
                try:
                    status = await self._execute_claimed(run)
                finally:
                    self.executing.discard(run.id)

    async def _execute_claimed(self, run: Run) -> str:
        started = time.monotonic()
        repo = await asyncio.to_thread(store.get_repository, self.ctx.db, run.repository_id)
        with log_context.bind(
            run_id=run.id,
            delivery_id=run.delivery_id,
            repository_id=run.repository_id,
            repository=repo.full_name if repo is not None else None,
            installation_id=repo.installation_id if repo is not None else None,
        ):
            status = await self._execute_within_limits(run.id)
        metrics.RUNS.labels(str(status)).inc()
        metrics.RUN_SECONDS.observe(time.monotonic() - started)
        from bot.dashboard.handlers import refresh_quietly  # the dashboard shows every outcome

        with log_context.bind(run_id=run.id):  # a keyless worker's token for the redraw is asked for this run
            await refresh_quietly(self.ctx, run.repository_id)
        return status

    async def _execute_within_limits(self, run_id: int) -> str:
        """Execute a claimed run while its heartbeat holds the lease, at most `run_timeout_seconds`.

        A run past its time limit is cancelled (its check run completed as `cancelled`, the requester
        told); a run whose lease was lost (taken over after this process stalled) is cancelled here and
        left to the worker that took it.
        """
        settings = self.ctx.settings
        stop = threading.Event()  # reaches the engine's thread and its sandboxed children (evolve.sandbox.cancellation)
        work = asyncio.create_task(self._execute(run_id, stop))
        heartbeat = asyncio.create_task(self._heartbeat(run_id))
        done, _ = await asyncio.wait(
            {work, heartbeat}, timeout=settings.run_timeout_seconds, return_when=asyncio.FIRST_COMPLETED
        )
        heartbeat.cancel()
        if work in done:
            return work.result()
        stop.set()  # the engine stops at its next step; a running test suite is killed now
        work.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await work
        if heartbeat in done:
            log.warning("run %s: its lease was taken over by another worker; stopped here", run_id)
            return RunStatus.CANCELLED
        message = f"the run took longer than its time limit ({settings.run_timeout_seconds} s) and was cancelled"
        log.warning("run %s: %s", run_id, message)
        await asyncio.to_thread(self._finish_if_running, run_id, RunStatus.CANCELLED, message=message)
        await self._tell_stopped(run_id, message)
        return RunStatus.CANCELLED

    async def _tell_stopped(self, run_id: int, message: str) -> None:
        """Complete the run's noted check run as `cancelled` with `message` and reply to the requester once."""
        from bot.publish.check_runs import (
            close_abandoned_check,  # bot-github's half; imported late to keep layers apart
        )

        try:
            with log_context.bind(run_id=run_id):  # a keyless worker's token is asked for this run
                await close_abandoned_check(self.ctx, run_id, message)
        except Exception:  # best effort: the next run of the repository closes what is left
            log.exception("could not report the end of run %s", run_id)

    async def _close_abandoned(self, run_id: int) -> None:
        """A run the sweep gave up on (its workers died too often): close its check run with the reason."""
        run = await asyncio.to_thread(store.get_run, self.ctx.db, run_id)
        await self._tell_stopped(run_id, run.message if run is not None and run.message else "the run was abandoned")

    async def _execute(self, run_id: int, stop: threading.Event) -> str:
        from bot.runs.github_run import (
            execute_run,  # bot-github's half; imported late to keep layers apart
        )

        try:
            with cancel_scope(stop):  # the engine's thread copies this context
                report = await execute_run(self.ctx, run_id)
        except Exception as error:
            log.exception("run %s failed", run_id)
            self._finish_if_running(run_id, RunStatus.ERROR, message=f"{type(error).__name__}: {error}"[:2000])
            return RunStatus.ERROR
        if report is None:  # it did not run and did not say why
            self._finish_if_running(run_id, RunStatus.CANCELLED, message="the run ended without running the engine")
        else:
            record_llm_usage(report.llm)
            status = RunStatus.SUCCEEDED if report.status == RunStatus.DRY_RUN else report.status
            self._finish_if_running(run_id, status, report=report)
        run = await asyncio.to_thread(store.get_run, self.ctx.db, run_id)
        return run.status if run is not None else status

    def _finish_if_running(self, run_id: int, status: str, **fields: Any) -> None:
        run = store.get_run(self.ctx.db, run_id)
        if run is not None and run.status == RunStatus.RUNNING:  # execute_run may have closed it itself
            store.finish_run(self.ctx.db, run_id, status, **fields)

    async def _heartbeat(self, run_id: int) -> None:
        """Renew the run's lease every `heartbeat_seconds`; returns when the run is no longer ours."""
        settings = self.ctx.settings
        while True:
            await asyncio.sleep(settings.heartbeat_seconds)
            try:
                ours = await asyncio.to_thread(store.extend_run_lease, self.ctx.db, run_id, settings.lease_seconds)
            except Exception:  # a database hiccup: try again at the next beat
                log.exception("could not renew the lease of run %s", run_id)
                continue
            if not ours:
                return

    async def _run_local(self, run_id: int) -> None:
        try:
            await self.run_repository(run_id)
        except Exception:
            log.exception("run job %s crashed", run_id)
