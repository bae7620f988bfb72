"""Comments from people who try to trick the bot, end to end through the real app and the fake GitHub:
replayed deliveries, hidden commands, verbs that inject Markdown, configuration bombs."""

from __future__ import annotations

import time

from bot.db import store
from tests.fakegithub.fixtures import BotWorld


def _replies(world: BotWorld, number: int) -> list[str]:
    return world.fake.comments(world.repo, number)


def test_a_replayed_pause_under_a_new_delivery_id_changes_nothing(bot_world: BotWorld) -> None:
    bot_world.install()
    number = bot_world.fake.add_issue(bot_world.repo)
    pause = bot_world.comment("alice", "/evolve pause", number=number, delivery_id="pause-1")
    bot_world.comment("alice", "/evolve resume", number=number)
    assert not store.get_repository(bot_world.ctx.db, BotWorld.REPO_ID).paused
    before = len(_replies(bot_world, number))
    for delivery_id in ("pause-1-replayed", "pause-1-again"):  # the old signed body, a new delivery id
        assert bot_world.deliver("issue_comment", pause, delivery_id).status_code == 202
    bot_world.drain()
    assert not store.get_repository(bot_world.ctx.db, BotWorld.REPO_ID).paused
    assert len(_replies(bot_world, number)) == before  # no second answer either
    # An edit of the comment is a new command (new updated_at).
    edited = {**pause, "comment": {**pause["comment"], "updated_at": "2031-01-01T00:00:00Z"}}
    assert bot_world.deliver("issue_comment", edited, "pause-1-edited").status_code == 202
    bot_world.drain()
    assert store.get_repository(bot_world.ctx.db, BotWorld.REPO_ID).paused


def _edit(comment: dict, body: str, updated_at: str) -> dict:
    """`issue_comment.edited` for `comment` (a delivered payload): the new body, GitHub's `changes.body.from`."""
    return {
        **comment,
        "action": "edited",
        "comment": {**comment["comment"], "body": body, "updated_at": updated_at},
        "changes": {"body": {"from": comment["comment"]["body"]}},
    }


def test_an_edit_that_adds_a_command_acts_once(bot_world: BotWorld) -> None:
    bot_world.install()
    number = bot_world.fake.add_issue(bot_world.repo)
    plain = bot_world.comment("alice", "Looks good to me.", number=number)
    assert not store.get_repository(bot_world.ctx.db, BotWorld.REPO_ID).paused
    edited = _edit(plain, "Looks good to me.\n/evolve pause", "2031-01-01T00:00:00Z")
    assert bot_world.deliver("issue_comment", edited, "edit-1").status_code == 202
    bot_world.drain()
    assert store.get_repository(bot_world.ctx.db, BotWorld.REPO_ID).paused
    bot_world.comment("alice", "/evolve resume", number=number)
    before = len(_replies(bot_world, number))
    # The same edit redelivered, and a later edit that keeps the same command: nothing happens again.
    assert bot_world.deliver("issue_comment", edited, "edit-1-redelivered").status_code == 202
    typo = _edit(edited, "Looks good to me!\n/evolve pause", "2031-01-02T00:00:00Z")
    assert bot_world.deliver("issue_comment", typo, "edit-2").status_code == 202
    bot_world.drain()
    assert not store.get_repository(bot_world.ctx.db, BotWorld.REPO_ID).paused
    assert len(_replies(bot_world, number)) == before


def test_commands_hidden_in_comments_code_or_quotes_do_nothing(bot_world: BotWorld) -> None:
    bot_world.install()
    for body in (
        "LGTM <!-- /evolve pause -->",
        "Nice.\n<!--\n/evolve pause\n-->",
        "Try:\n\n    /evolve pause",
        "```\n/evolve pause\n```",
        "> /evolve pause",
    ):
        payload = bot_world.comment("alice", body)
        assert _replies(bot_world, payload["issue"]["number"]) == [body]
        assert payload["comment"]["id"] not in bot_world.repo.reactions
    assert not store.get_repository(bot_world.ctx.db, BotWorld.REPO_ID).paused


def test_an_unknown_verb_with_backticks_cannot_mention_anyone(bot_world: BotWorld) -> None:
    bot_world.install()
    for body, shown in (
        ("/evolve x`@octocat", "``x`@octocat``"),
        ("/evolve x` @octocat `y", "``x`@octocat`y``"),
        ("/evolve `` ` @octocat", "``` `` ```"),
    ):
        payload = bot_world.comment("alice", body)
        reply = _replies(bot_world, payload["issue"]["number"])[-1]
        assert reply.splitlines()[0] == f"I don't know the command {shown}. Here is what I understand:"
        # The only @octocat is inside a code span, where GitHub links and notifies no one.
        assert reply.replace(shown, "").count("@octocat") == 0


def test_config_reply_of_an_alias_bomb_is_a_clear_message_at_once(bot_world: BotWorld) -> None:
    bot_world.install()
    bomb = "gates:\n  plugins:\n    a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"    {chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8)
    )
    bot_world.fake.commit_files(bot_world.repo, {".github/evolve.yml": bomb}, "bomb")
    started = time.monotonic()
    payload = bot_world.comment("alice", "/evolve config")
    reply = _replies(bot_world, payload["issue"]["number"])[-1]
    assert time.monotonic() - started < 10
    assert "YAML aliases (*name) are not allowed (line 4)" in reply
    assert len(reply) < 10_000


def test_config_reply_of_nested_brackets_is_a_clear_message(bot_world: BotWorld) -> None:
    bot_world.install()
    bot_world.fake.commit_files(bot_world.repo, {".github/evolve.yml": "[" * 10_000}, "brackets")
    payload = bot_world.comment("alice", "/evolve run")
    reply = _replies(bot_world, payload["issue"]["number"])[-1]
    assert "nested more than 20 levels deep" in reply
    (run,) = store.recent_runs(bot_world.ctx.db, BotWorld.REPO_ID)
    assert run.status == "failed" and "nested" in (run.message or "")


def test_a_repository_cannot_pick_the_model_or_raise_its_budget(bot_world: BotWorld) -> None:
    bot_world.install()
    greedy = "llm:\n  model: claude-opus-4-5\n  cost_per_day_usd: 100000\nlimits:\n  max_open_prs: 50\n"
    bot_world.fake.commit_files(bot_world.repo, {".github/evolve.yml": greedy}, "greedy")
    payload = bot_world.comment("alice", "/evolve config")
    reply = _replies(bot_world, payload["issue"]["number"])[-1]
    assert "model: claude-sonnet-5-5" in reply and "cost_per_day_usd: 20.0" in reply and "max_open_prs: 5" in reply
    assert "The operator's limits apply:" in reply
    assert "llm.model claude-opus-4-5 is not one the operator allows" in reply
