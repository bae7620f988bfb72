"""Jobs: resumable deliveries after a restart, one run at a time per repository, runs closed
whatever the engine does, dead workers' runs resumed, cron firings idempotent."""

from __future__ import annotations

import asyncio
import sys
import types
from datetime import timedelta

import pytest

from bot.db import store
from bot.db.models import utcnow
from bot.db.run_request import RunRequest
from bot.routing import Router
from evolve.runs import RunReport
from tests.bot.conftest import RecordingRouter, context_of, drain, example, post_webhook, sealer_of


class FakeEngineRuns:
    """Stands in for bot-github's `bot.runs.github_run`: records calls, can block, fail or report."""

    def __init__(self) -> None:
        self.calls: list[int] = []
        self.active: set[int] = set()
        self.overlap = False
        self.gate: asyncio.Event | None = None
        self.fail = False
        self.status = "succeeded"
        self.llm: dict = {}  # the report's `llm` field (usage of the LLM stage)

    async def execute_run(self, ctx, run_id: int):
        run = store.get_run(ctx.db, run_id)
        if run.repository_id in self.active:
            self.overlap = True
        self.active.add(run.repository_id)
        self.calls.append(run_id)
        try:
            if self.gate is not None:
                await self.gate.wait()
            if self.fail:
                raise RuntimeError("engine exploded")
            return RunReport(
                run_id=f"gh-{run_id}",
                status=self.status,
                repo="octo/repo",
                base_sha=None,
                plan=None,
                markdown="## report",
                message="done",
                llm=self.llm,
            )
        finally:
            self.active.discard(run.repository_id)


@pytest.fixture
def engine_runs(monkeypatch) -> FakeEngineRuns:
    fake = FakeEngineRuns()
    module = types.ModuleType("bot.runs.github_run")
    module.execute_run = fake.execute_run
    monkeypatch.setitem(sys.modules, "bot.runs.github_run", module)
    return fake


def _repo(ctx, repository_id=5, name="octo/repo"):
    store.upsert_installation(ctx.db, 9, account_login="octo")
    return store.upsert_repository(ctx.db, repository_id, name, 9)


def test_restart_resumes_deliveries_still_queued(app_factory, make_settings):
    settings = make_settings()
    blocked = RecordingRouter()
    first = app_factory(settings=settings, router=blocked)
    ctx = context_of(first)
    # Simulate a crash between intake and processing: the rows are queued, nobody processes them.
    for number in range(3):
        store.record_delivery(
            ctx.engine, f"left-{number}", "issues", '{"action": "opened"}', action="opened", sealer=sealer_of(ctx)
        )
    first.__exit__(None, None, None)
    assert store.count_deliveries(ctx.db, "queued") == 3

    recorder = RecordingRouter()
    second = app_factory(settings=settings, router=recorder)
    drain(second)
    assert sorted(e.delivery_id for e in recorder.seen) == ["left-0", "left-1", "left-2"]
    assert store.count_deliveries(context_of(second).db, "processed") == 3


def test_delivery_held_by_a_dead_worker_is_retried_after_its_lease(app_factory):
    recorder = RecordingRouter()
    client = app_factory(router=recorder)
    ctx = context_of(client)
    store.record_delivery(ctx.engine, "orphan", "issues", "{}", sealer=sealer_of(ctx))
    assert store.claim_delivery(ctx.db, "orphan", lease_seconds=-1) is not None  # claimed, lease already over
    client.portal.call(ctx.jobs.sweep)
    drain(client)
    row = store.get_delivery(ctx.db, "orphan")
    assert (row.status, row.attempts) == ("processed", 2)


def test_enqueued_run_executes_and_is_closed(app_factory, engine_runs):
    client = app_factory(router=Router())
    ctx = context_of(client)
    _repo(ctx)
    run = client.portal.call(
        lambda: ctx.jobs.enqueue_run(
            RunRequest(
                5,
                "comment",
                focus="docstrings",
                requested_by="octocat",
                comment_issue_number=3,
                idempotency_key="delivery:abc",
            )
        )
    )
    drain(client)
    done = store.get_run(ctx.db, run.id)
    assert engine_runs.calls == [run.id]
    assert (done.status, done.focus, done.requested_by, done.comment_issue_number, done.tries) == (
        "succeeded",
        "docstrings",
        "octocat",
        3,
        1,
    )
    assert done.finished_at is not None and done.lease_until is None
    assert (done.markdown, done.message, done.report["status"]) == ("## report", "done", "succeeded")
    # The same idempotency key never makes a second run.
    again = client.portal.call(lambda: ctx.jobs.enqueue_run(RunRequest(5, "comment", idempotency_key="delivery:abc")))
    drain(client)
    assert again.id == run.id and engine_runs.calls == [run.id]


def test_engine_exception_closes_the_run_as_error(app_factory, engine_runs):
    engine_runs.fail = True
    client = app_factory(router=Router())
    ctx = context_of(client)
    _repo(ctx)
    run = client.portal.call(lambda: ctx.jobs.enqueue_run(RunRequest(5, "comment")))
    drain(client)
    done = store.get_run(ctx.db, run.id)
    assert done.status == "error" and "engine exploded" in done.message


def test_one_run_at_a_time_per_repository(app_factory, engine_runs):
    engine_runs.gate = None
    client = app_factory(router=Router())
    ctx = context_of(client)
    _repo(ctx, 5, "octo/a")
    _repo(ctx, 6, "octo/b")

    async def scenario():
        engine_runs.gate = asyncio.Event()
        runs = [await ctx.jobs.enqueue_run(RunRequest(repo, "comment")) for repo in (5, 5, 5, 6)]
        for _ in range(100):  # let the first run of each repository start
            await asyncio.sleep(0.02)
            if len(engine_runs.active) == 2:
                break
        running = {store.get_run(ctx.db, r.id).status for r in runs[1:3]}
        engine_runs.gate.set()
        return runs, running

    runs, waiting = client.portal.call(scenario)
    drain(client)
    assert waiting == {"queued"}
    assert not engine_runs.overlap
    assert sorted(engine_runs.calls) == sorted(r.id for r in runs)
    assert {store.get_run(ctx.db, r.id).status for r in runs} == {"succeeded"}


def test_run_left_running_by_a_dead_worker_is_resumed(app_factory, engine_runs):
    client = app_factory(router=Router())
    ctx = context_of(client)
    _repo(ctx)
    run, _ = store.create_run(ctx.db, RunRequest(5, "schedule"))
    assert store.claim_run(ctx.db, run.id, lease_seconds=-1) is not None  # the worker died; lease over
    client.portal.call(ctx.jobs.sweep)
    drain(client)
    done = store.get_run(ctx.db, run.id)
    assert (done.status, done.tries) == ("succeeded", 2)


def test_run_that_kills_its_worker_three_times_ends_in_error(app_factory, engine_runs):
    client = app_factory(router=Router())
    ctx = context_of(client)
    _repo(ctx)
    run, _ = store.create_run(ctx.db, RunRequest(5, "schedule"))
    store.update_run(ctx.db, run.id, status="running", tries=3, lease_until=utcnow() - timedelta(seconds=1))
    client.portal.call(ctx.jobs.sweep)
    drain(client)
    done = store.get_run(ctx.db, run.id)
    assert done.status == "error" and "stopped 3 times" in done.message
    assert engine_runs.calls == []


def test_cron_firing_queues_one_run_per_fire_time(app_factory, engine_runs, monkeypatch):
    from datetime import datetime, timezone

    import bot.jobs.queue as jobs

    client = app_factory(router=Router())
    ctx = context_of(client)
    _repo(ctx)
    fire = datetime(2030, 1, 7, 6, 0, tzinfo=timezone.utc)
    fake_job = types.SimpleNamespace(scheduled_fire_time=fire)
    monkeypatch.setattr(jobs, "current_job", types.SimpleNamespace(get=lambda default=None: fake_job))
    client.portal.call(jobs.scheduled_run_job, 5)
    client.portal.call(jobs.scheduled_run_job, 5)  # a second scheduler firing the same time
    drain(client)
    runs = store.recent_runs(ctx.db, 5)
    assert [(r.trigger, r.idempotency_key) for r in runs] == [("schedule", f"schedule:5:{fire.isoformat()}")]


def test_paused_repository_skips_scheduled_runs(app_factory, engine_runs):
    import bot.jobs.queue as jobs

    client = app_factory(router=Router())
    ctx = context_of(client)
    _repo(ctx)
    store.set_repository_paused(ctx.db, 5, True)
    client.portal.call(jobs.scheduled_run_job, 5)
    drain(client)
    assert store.recent_runs(ctx.db, 5) == []


def test_webhook_to_handler_to_run(app_factory, engine_runs):
    router = Router()

    @router.register("issue_comment", "created")
    async def start_run(event, ctx):
        repo = event.repository
        store.upsert_installation(ctx.db, event.installation_id or 1)
        store.upsert_repository(ctx.db, repo["id"], repo["full_name"], event.installation_id or 1)
        await ctx.jobs.enqueue_run(RunRequest(repo["id"], "comment", idempotency_key=f"delivery:{event.delivery_id}"))

    client = app_factory(router=router)
    payload = example("issue_comment", "created")
    post_webhook(client, "issue_comment", payload, delivery_id="c-1")
    post_webhook(client, "issue_comment", payload, delivery_id="c-1")
    drain(client)
    runs = store.recent_runs(context_of(client).db, payload["repository"]["id"])
    assert [(r.status, r.delivery_id or r.idempotency_key) for r in runs] == [("succeeded", "delivery:c-1")]


def test_schedule_fires_through_apscheduler(app_factory, engine_runs):
    from datetime import datetime, timezone

    from apscheduler.triggers.date import DateTrigger

    import bot.jobs.queue as jobs

    client = app_factory(router=Router())
    ctx = context_of(client)
    _repo(ctx)
    when = datetime.now(timezone.utc) + timedelta(milliseconds=200)

    async def fire_and_wait():
        await ctx.jobs.scheduler.add_schedule(jobs.scheduled_run_job, DateTrigger(when), args=[5])
        for _ in range(250):
            await asyncio.sleep(0.02)
            if store.recent_runs(ctx.db, 5):
                return

    client.portal.call(fire_and_wait)
    drain(client)
    [run] = store.recent_runs(ctx.db, 5)
    assert run.trigger == "schedule" and run.status == "succeeded"
    assert run.idempotency_key.startswith("schedule:5:") and "now" not in run.idempotency_key


def test_run_that_the_engine_declines_is_cancelled(app_factory, engine_runs, monkeypatch):
    async def decline(ctx, run_id):
        return None

    monkeypatch.setattr(sys.modules["bot.runs.github_run"], "execute_run", decline)
    client = app_factory(router=Router())
    ctx = context_of(client)
    _repo(ctx)
    run = client.portal.call(lambda: ctx.jobs.enqueue_run(RunRequest(5, "comment")))
    drain(client)
    assert store.get_run(ctx.db, run.id).status == "cancelled"
