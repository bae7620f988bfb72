"""Effectively-once GitHub writes: a crash between "intent recorded" and "written", or between
"written" and "recorded done", is replayed without a second write (real store, fake GitHub)."""

from __future__ import annotations

from typing import Any

import pytest

from bot.db import store
from bot.github.run_target import RunTarget
from bot.handlers.write_once import check_run_once, comment_once, marker
from tests.fakegithub.fixtures import BotWorld


class Crash(Exception):
    """Stands for a kill -9 at the injected point."""


def _target() -> RunTarget:
    return RunTarget(BotWorld.REPO_ID, BotWorld.INSTALLATION, BotWorld.OWNER, "sample")


def _crash_once(monkeypatch: pytest.MonkeyPatch, owner: Any, name: str) -> None:
    real = getattr(owner, name)
    calls = {"n": 0}

    async def crashing(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            raise Crash(name)
        return await real(*args, **kwargs)

    def crashing_sync(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            raise Crash(name)
        return real(*args, **kwargs)

    import inspect

    monkeypatch.setattr(owner, name, crashing if inspect.iscoroutinefunction(real) else crashing_sync)


def _post(world: BotWorld, number: int, body: str, key: str) -> int | None:
    return world.client.portal.call(lambda: comment_once(world.ctx, _target(), number, body, key=key))


def _bot_comments(world: BotWorld, number: int) -> list[str]:
    return world.fake.comments(world.repo, number)


def test_crash_between_intent_and_write_writes_once_on_replay(
    bot_world: BotWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot_world.install()
    number = bot_world.fake.add_issue(bot_world.repo)
    _crash_once(monkeypatch, bot_world.ctx.github, "create_comment")
    with pytest.raises(Crash):
        _post(bot_world, number, "Hello", "k-1")
    assert _bot_comments(bot_world, number) == []
    _post(bot_world, number, "Hello", "k-1")  # the replay looks on GitHub, finds nothing, writes
    assert _bot_comments(bot_world, number) == [f"Hello\n\n{marker('k-1')}"]


def test_crash_between_write_and_done_finds_the_earlier_write(
    bot_world: BotWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot_world.install()
    number = bot_world.fake.add_issue(bot_world.repo)
    _crash_once(monkeypatch, store, "record_write_done")
    with pytest.raises(Crash):
        _post(bot_world, number, "Hello", "k-2")
    first = _bot_comments(bot_world, number)
    assert len(first) == 1
    found = _post(bot_world, number, "Hello again", "k-2")
    assert _bot_comments(bot_world, number) == first  # found by its marker, not posted again
    assert found is not None
    posts = bot_world.fake.requests_to("POST", f"/repos/octo-org/sample/issues/{number}/comments")
    assert len(posts) == 1
    before = len(bot_world.fake.requests)
    assert _post(bot_world, number, "Hello", "k-2") == found  # recorded done now: no GitHub request at all
    assert len(bot_world.fake.requests) == before


def test_a_persons_comment_carrying_the_marker_does_not_suppress_the_reply(
    bot_world: BotWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot_world.install()
    number = bot_world.fake.add_issue(bot_world.repo)
    bot_world.fake.add_comment(bot_world.repo, number, "mallory", f"nothing to see {marker('k-3')}")
    _crash_once(monkeypatch, bot_world.ctx.github, "create_comment")
    with pytest.raises(Crash):
        _post(bot_world, number, "Reply", "k-3")
    _post(bot_world, number, "Reply", "k-3")
    assert _bot_comments(bot_world, number)[-1] == f"Reply\n\n{marker('k-3')}"


def test_check_run_crash_after_write_is_found_by_external_id(
    bot_world: BotWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot_world.install()
    sha = bot_world.fake.state.head_sha(bot_world.repo, "main")
    assert sha

    def create() -> int:
        return bot_world.client.portal.call(
            lambda: check_run_once(
                bot_world.ctx, _target(), name="evolve/gates", head_sha=sha, external_id="run-7", status="in_progress"
            )
        )

    _crash_once(monkeypatch, store, "record_write_done")
    with pytest.raises(Crash):
        create()
    (check_id,) = bot_world.repo.check_runs
    assert create() == check_id
    assert list(bot_world.repo.check_runs) == [check_id]
    assert bot_world.repo.check_runs[check_id]["external_id"] == "run-7"


def test_replayed_help_delivery_replies_once(bot_world: BotWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    """The job of `/evolve help` dies after GitHub took the reply; its retry must not reply again."""
    from bot.routing import Event
    from tests.fakegithub.payloads import comment_created

    bot_world.install()
    number = bot_world.fake.add_issue(bot_world.repo)
    payload = comment_created(bot_world.fake, bot_world.repo, number, "alice", "/evolve help")
    event = Event.from_payload("issue_comment", payload, "delivery-help-1")
    ctx = bot_world.ctx
    _crash_once(monkeypatch, store, "record_write_done")
    with pytest.raises(Crash):
        bot_world.client.portal.call(ctx.jobs.router.dispatch, event, ctx)
    bot_world.client.portal.call(ctx.jobs.router.dispatch, event, ctx)  # the same delivery, retried
    replies = [body for body in _bot_comments(bot_world, number) if "evolve:" in body]
    assert len(replies) == 1 and marker(f"reply-{payload['comment']['id']}-delivery-help-1") in replies[0]
