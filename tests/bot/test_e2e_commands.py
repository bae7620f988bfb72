"""End to end through the real app and the fake GitHub: who may command the bot, and how it answers.

None of these scenarios reaches the engine: refusals, help, status, config, pause, duplicates and an
invalid `.github/evolve.yml` are all decided before a run would start.
"""

from __future__ import annotations

import logging

import pytest

from bot.db import store
from tests.fakegithub.fixtures import BotWorld
from tests.fakegithub.payloads import comment_created


def _last_reply(world: BotWorld, payload: dict) -> str:
    return world.fake.comments(world.repo, payload["issue"]["number"])[-1]


def test_reader_is_refused_politely_and_nothing_runs(bot_world: BotWorld) -> None:
    bot_world.install()
    payload = bot_world.comment("rita", "/evolve run")
    reply = _last_reply(bot_world, payload)
    assert reply.startswith("Sorry @rita, only people with write access")
    assert payload["comment"]["id"] not in bot_world.repo.reactions
    assert store.recent_runs(bot_world.ctx.db, BotWorld.REPO_ID) == []
    assert not bot_world.repo.pulls
    (permission,) = bot_world.fake.requests_to("GET", "/collaborators/rita/permission")
    assert permission.auth == "token" and permission.status == 200


def test_reader_may_ask_for_help_and_status(bot_world: BotWorld) -> None:
    bot_world.install()
    help_payload = bot_world.comment("rita", "@evolve-bot help")
    assert "| `/evolve run [focus]` |" in _last_reply(bot_world, help_payload)
    assert bot_world.repo.reactions[help_payload["comment"]["id"]] == ["+1"]
    status_payload = bot_world.comment("rita", "/evolve status")
    status = _last_reply(bot_world, status_payload)
    assert "**Evolve status** — active" in status and "limit 2" in status
    assert not bot_world.fake.requests_to("GET", "/collaborators/rita/permission")  # not asked for open verbs


def test_unknown_verb_gets_help_and_bots_are_ignored(bot_world: BotWorld) -> None:
    bot_world.install()
    payload = bot_world.comment("alice", "/evolve frobnicate")
    assert _last_reply(bot_world, payload).startswith("I don't know the command `frobnicate`")
    assert bot_world.repo.reactions[payload["comment"]["id"]] == ["confused"]
    bare = bot_world.comment("alice", "/evolve")
    assert _last_reply(bot_world, bare).startswith("**Evolve** studies this repository")
    comments_before = sum(len(bot_world.fake.comments(bot_world.repo, n)) for n in bot_world.repo.issues)
    bot_world.comment("evolve-bot[bot]", "/evolve run")
    bot_world.comment("dependabot[bot]", "/evolve run")
    assert sum(len(bot_world.fake.comments(bot_world.repo, n)) for n in bot_world.repo.issues) == comments_before + 2
    assert store.recent_runs(bot_world.ctx.db, BotWorld.REPO_ID) == []


def test_duplicate_delivery_is_processed_once(bot_world: BotWorld) -> None:
    bot_world.install()
    number = bot_world.fake.add_issue(bot_world.repo)
    payload = comment_created(bot_world.fake, bot_world.repo, number, "alice", "/evolve status")
    for _ in range(3):
        assert bot_world.deliver("issue_comment", payload, delivery_id="delivery-42").status_code in (200, 202)
    bot_world.drain()
    assert len(bot_world.fake.comments(bot_world.repo, number)) == 2  # the command and one answer
    assert bot_world.repo.reactions[payload["comment"]["id"]] == ["+1"]


def test_pause_resume_and_config(bot_world: BotWorld) -> None:
    bot_world.install()
    payload = bot_world.comment("alice", "/evolve pause")
    assert "paused" in _last_reply(bot_world, payload)
    assert store.get_repository(bot_world.ctx.db, BotWorld.REPO_ID).paused
    bot_world.comment("alice", "/evolve resume")
    assert not store.get_repository(bot_world.ctx.db, BotWorld.REPO_ID).paused
    payload = bot_world.comment("alice", "/evolve config")
    reply = _last_reply(bot_world, payload)
    assert "Effective configuration (.github/evolve.yml)" in reply and "- tests" in reply and "max_open_prs: 2" in reply
    assert "rita" not in reply


def test_invalid_config_gets_a_clear_comment_and_nothing_else(bot_world: BotWorld) -> None:
    bot_world.install()
    bot_world.fake.commit_files(bot_world.repo, {".github/evolve.yml": "limits:\n  max_open_prs: -1\n"}, "oops")
    payload = bot_world.comment("alice", "/evolve run")
    reply = _last_reply(bot_world, payload)
    assert "`.github/evolve.yml` on `main` is invalid" in reply and "limits.max_open_prs" in reply
    assert not bot_world.repo.pulls and not bot_world.repo.check_runs
    assert not [r for r in bot_world.fake.requests if r.path.startswith("/git/")]
    (run,) = store.recent_runs(bot_world.ctx.db, BotWorld.REPO_ID)
    assert run.status == "failed" and "max_open_prs" in (run.message or "")
    config_payload = bot_world.comment("alice", "/evolve config")
    assert "limits.max_open_prs" in _last_reply(bot_world, config_payload)


def test_no_token_in_urls_or_logs(bot_world: BotWorld, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    bot_world.install()
    bot_world.fake.commit_files(bot_world.repo, {".github/evolve.yml": "attempts: 7\n"}, "bad")
    bot_world.comment("alice", "/evolve run")
    bot_world.comment("alice", "/evolve status")
    from bot.jobs.queue import scheduled_run_job

    bot_world.client.portal.call(scheduled_run_job, BotWorld.REPO_ID)  # clones the mirror for the check run
    bot_world.drain()
    assert [r for r in bot_world.fake.requests if r.path.endswith("git-upload-pack")]
    tokens = bot_world.fake.issued_tokens
    assert tokens
    for token in tokens:
        assert token not in caplog.text
        for request in bot_world.fake.requests:
            assert token not in request.url and token not in str(request.headers)
