"""A run's time limit and the sweep's give-up close the run, its check run (`cancelled`, with the
reason) and tell the requester once; leases are renewed by a heartbeat (real app, fake GitHub)."""

from __future__ import annotations

import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.db import store
from bot.db.deliveries import extend_delivery_leases
from bot.db.models import utcnow
from bot.db.run_notes import PROGRESS_CHECK, update_run_notes
from bot.db.run_request import RunRequest
from evolve.sandbox import SandboxSpec, interpreter_mounts, run_sandboxed
from evolve.sandbox.cancellation import RunCancelled
from tests.fakegithub.fixtures import BotWorld
from tests.fakegithub.stub_engine import StubEngine


@dataclass
class SlowEngine(StubEngine):
    """The stand-in, waiting until released (at most a minute) before it reports."""

    release: threading.Event = field(default_factory=threading.Event)

    def __call__(self, repo: Path, options: Any, config: Any = None, progress: Any = None) -> Any:  # type: ignore[override]
        self.release.wait(60)
        return super().__call__(repo, options, config, progress)


def test_run_past_its_time_limit_is_cancelled_and_reported(
    bot_world: BotWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    slow = SlowEngine()
    monkeypatch.setattr("evolve.engine.run_engine", slow)
    bot_world.install()
    bot_world.ctx.settings.run_timeout_seconds = 15
    try:
        payload = bot_world.comment("alice", "/evolve run")
    finally:
        slow.release.set()
    (run,) = store.recent_runs(bot_world.ctx.db, BotWorld.REPO_ID, limit=5)
    assert run.status == "cancelled" and "time limit (15 s)" in (run.message or "")
    (check,) = bot_world.repo.check_runs.values()
    assert (check["status"], check["conclusion"]) == ("completed", "cancelled")
    assert "cancelled" in check["output"]["summary"]
    replies = [b for b in bot_world.fake.comments(bot_world.repo, payload["issue"]["number"]) if "evolve:run-" in b]
    assert len(replies) == 1 and "time limit" in replies[0]
    assert bot_world.repo.pulls == {}


@dataclass
class SandboxedSlowEngine(StubEngine):
    """The stand-in, running a sandboxed child that sleeps for minutes before it reports (as a test suite would)."""

    results: list[Any] = field(default_factory=list)
    returned: threading.Event = field(default_factory=threading.Event)

    def __call__(self, repo: Path, options: Any, config: Any = None, progress: Any = None) -> Any:  # type: ignore[override]
        code = "import time; time.sleep(600)"
        spec = SandboxSpec(argv=(sys.executable, "-c", code), mounts=interpreter_mounts(sys.executable), timeout=300)
        try:
            self.results.append(run_sandboxed(spec))
        except RunCancelled as stopped:  # asked to stop before the child started (a slow machine)
            self.results.append(stopped)
            raise
        finally:
            self.returned.set()
        return super().__call__(repo, options, config, progress)


def test_a_cancelled_run_kills_its_sandboxed_child_and_its_engine_thread_ends(
    bot_world: BotWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    slow = SandboxedSlowEngine()
    monkeypatch.setattr("evolve.engine.run_engine", slow)
    bot_world.install()
    bot_world.ctx.settings.run_timeout_seconds = 15
    bot_world.comment("alice", "/evolve run")
    (run,) = store.recent_runs(bot_world.ctx.db, BotWorld.REPO_ID, limit=5)
    assert run.status == "cancelled" and "time limit (15 s)" in (run.message or "")
    assert slow.returned.wait(120)  # the engine's thread ended, not after the child's 300 s limit
    (result,) = slow.results
    assert isinstance(result, RunCancelled) or (result.cancelled and not result.timed_out and result.returncode == -9)


def test_run_the_sweep_gives_up_on_has_its_check_run_cancelled_with_the_reason(bot_world: BotWorld) -> None:
    bot_world.install()
    ctx = bot_world.ctx
    number = bot_world.fake.add_issue(bot_world.repo)
    # The run stands for one a dead worker left: no sweep of this process may start it while it is set up.
    ctx.settings.sweep_seconds = 600
    time.sleep(1)  # the periodic sweep's current wait (0.5 s) ends; its next is 600 s
    run, _ = store.create_run(ctx.db, RunRequest(BotWorld.REPO_ID, "comment", comment_issue_number=number))
    sha = bot_world.fake.state.head_sha(bot_world.repo, "main")
    check_id = bot_world.fake.state.next_id()
    bot_world.repo.check_runs[check_id] = {"name": "evolve/gates", "head_sha": sha, "status": "in_progress"}
    update_run_notes(ctx.db, run.id, lambda notes: notes.update({PROGRESS_CHECK: check_id}))
    store.update_run(ctx.db, run.id, status="running", tries=3, lease_until=utcnow() - timedelta(seconds=1))
    bot_world.client.portal.call(ctx.jobs.sweep)
    assert store.get_run(ctx.db, run.id).status == "error"
    check = bot_world.repo.check_runs[check_id]
    assert (check["status"], check["conclusion"]) == ("completed", "cancelled")
    assert "stopped 3 times" in check["output"]["summary"]
    bot_world.client.portal.call(ctx.jobs.sweep)  # nothing more to say
    replies = [b for b in bot_world.fake.comments(bot_world.repo, number) if "evolve:run-" in b]
    assert len(replies) == 1 and "stopped 3 times" in replies[0]


def test_heartbeat_keeps_a_held_delivery_from_being_taken_over(app_factory: Any, make_settings: Any) -> None:
    client = app_factory(settings=make_settings(lease_seconds=1.0, heartbeat_seconds=0.2, sweep_seconds=60))
    ctx = client.app.state.ctx
    store.record_delivery(ctx.engine, "held-1", "issues", "{}")
    assert store.claim_delivery(ctx.db, "held-1", lease_seconds=1.0) is not None
    ctx.jobs.delivery_processing.held.add("held-1")  # as if this worker were processing it
    time.sleep(2.0)
    assert store.claim_delivery(ctx.db, "held-1", lease_seconds=1.0) is None  # renewed: not claimable
    ctx.jobs.delivery_processing.held.discard("held-1")
    time.sleep(1.3)
    assert store.claim_delivery(ctx.db, "held-1", lease_seconds=1.0) is not None  # no beat: taken over
    assert extend_delivery_leases(ctx.engine, ["held-1"], 30.0) == 1
