"""Effectively-once GitHub writes: each write carries an idempotency key, recorded before it and
checked after a crash.

A job may be replayed (a worker killed mid-delivery, a run taken over after its lease ran out). Every
comment, check run and pull request the bot writes therefore has a key derived from what caused it
(the delivery and comment a reply answers, the run whose outcome it reports). The write's intent is
recorded in `github_writes` before it goes to GitHub and marked done with GitHub's id after it:

- done: the replay reuses the id and writes nothing;
- only the intent: the earlier attempt may or may not have reached GitHub, so the replay looks for the
  write's mark there (a hidden `<!-- evolve:KEY -->` marker in a comment written by the bot, a check
  run's `external_id`) and writes only when it is not found.

Pull requests are keyed by their branch: `bot.publish.pull_request` looks for an open PR of the branch before
opening one.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from bot.db import store
from bot.github.client import GitHubError

if TYPE_CHECKING:  # pragma: no cover
    from bot.context import BotContext
    from bot.github.run_target import RunTarget

log = logging.getLogger(__name__)


def marker(key: str) -> str:
    """The hidden mark a comment written under `key` carries (invisible in rendered Markdown)."""
    return f"<!-- evolve:{key} -->"


def _written_by_bot(author: str, bot_login: str) -> bool:
    own = bot_login.removesuffix("[bot]").lower()
    return author.lower() in (own, f"{own}[bot]")


async def comment_once(ctx: BotContext, target: RunTarget, number: int, body: str, *, key: str) -> int | None:
    """Post `body` on issue/PR `number` once per `key` (per repository); the comment's id."""
    store_key = f"comment:{target.repository_id}:{number}:{key}"
    tag = marker(key)
    intent = await asyncio.to_thread(store.record_write_intent, ctx.db, store_key, "comment")
    if intent.done:
        log.info("reply %s on %s#%s was posted before; not posting it again", key, target.full_name, number)
        return intent.result_id
    if not intent.fresh:  # an earlier attempt stopped after its intent: did its write reach GitHub?
        comments = await ctx.github.list_comments(target.installation_id, target.owner, target.name, number)
        found = next(
            (c.id for c in comments if tag in c.body and _written_by_bot(c.author, ctx.settings.bot_identity)), None
        )
        if found is not None:
            log.info("reply %s on %s#%s found on GitHub; not posting it again", key, target.full_name, number)
            await asyncio.to_thread(store.record_write_done, ctx.db, store_key, found)
            return found
    comment_id: int = await ctx.github.create_comment(
        target.installation_id, target.owner, target.name, number, f"{body}\n\n{tag}"
    )
    await asyncio.to_thread(store.record_write_done, ctx.db, store_key, comment_id)
    return comment_id


async def reply(ctx: BotContext, target: RunTarget, number: int | None, body: str, *, key: str) -> None:
    """Comment once per `key` on the issue/PR that asked (nothing for scheduled runs); GitHub errors are logged."""
    if number is None:
        return
    try:
        await comment_once(ctx, target, number, body, key=key)
    except GitHubError as error:
        log.warning("could not reply on %s#%s: %s", target.full_name, number, error)


async def check_run_once(
    ctx: BotContext, target: RunTarget, *, name: str, head_sha: str, external_id: str, **fields: Any
) -> int:
    """Create check run `name` on `head_sha` once per `external_id`; its id (an earlier attempt's when it wrote)."""
    store_key = f"check:{target.repository_id}:{external_id}:{head_sha}"
    intent = await asyncio.to_thread(store.record_write_intent, ctx.db, store_key, "check_run")
    if intent.done and intent.result_id is not None:
        return intent.result_id
    if not intent.fresh:
        found = await ctx.github.find_check_run(
            target.installation_id, target.owner, target.name, head_sha=head_sha, name=name, external_id=external_id
        )
        if found is not None:
            await asyncio.to_thread(store.record_write_done, ctx.db, store_key, found)
            return int(found)
    check_id: int = await ctx.github.create_check_run(
        target.installation_id,
        target.owner,
        target.name,
        name=name,
        head_sha=head_sha,
        external_id=external_id,
        **fields,
    )
    await asyncio.to_thread(store.record_write_done, ctx.db, store_key, check_id)
    return check_id
