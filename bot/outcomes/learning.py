"""Learning from reviews: a bot PR merged or closed is recorded per codemod and per repository, and
reviews by people with write access are noted on the run they reviewed (weights in `bot.outcomes.acceptance`).

The counts feed `RunOptions.acceptance` (the planner's ranking) and `RunOptions.blocked_codemods`
(a codemod closed unmerged twice here is not proposed again until `codemods.reenabled` lists it);
both are read back by `bot.runs.options` through `bot.outcomes.acceptance.learned_acceptance`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from bot.db import store
from bot.db.pull_lifecycle import get_pull_state, set_pull_state
from bot.db.run_history import pr_codemods, run_for_review
from bot.github.run_target import BRANCH_PREFIX
from bot.outcomes.acceptance import REVIEW_STATES, record_review
from bot.routing import Event, Router, is_bot

if TYPE_CHECKING:  # pragma: no cover
    from bot.context import BotContext

log = logging.getLogger(__name__)
router = Router()


def bot_pull(payload: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The payload's pull request when it is one of ours (head branch `evolve/...`), else None."""
    pull = payload.get("pull_request")
    if not isinstance(pull, dict):
        return None
    head = pull.get("head")
    ref = head.get("ref") if isinstance(head, dict) else None
    return pull if isinstance(ref, str) and ref.startswith(BRANCH_PREFIX) else None


def _repository_id(ctx: BotContext, event: Event) -> int | None:
    repo_id = event.repository.get("id")
    if isinstance(repo_id, int) and store.get_repository(ctx.db, repo_id) is not None:
        return repo_id
    full_name = event.repository.get("full_name")
    row = store.get_repository_by_name(ctx.db, full_name) if isinstance(full_name, str) else None
    return row.id if row is not None else None


def record_pull_outcome(ctx: BotContext, repository_id: int, number: int, outcome: str) -> list[str]:
    """Record a bot PR's outcome (merged or closed) for each codemod it applied, once per PR; those newly recorded.

    A PR Evolve closed itself (its finding was gone on the new base) is no reviewer's verdict: nothing is recorded.
    """
    state = get_pull_state(ctx.db, repository_id, number)
    if outcome == "closed" and state is not None and state.state == "closed":
        log.info("bot PR #%s was closed by Evolve (%s): not a reviewer's verdict", number, state.reason)
        return []
    if outcome == "merged" and state is not None and state.state != "merged":
        set_pull_state(ctx.db, repository_id, number, state="merged")
    codemods, run_id, _theme = pr_codemods(ctx.db, repository_id, number)
    if not codemods:
        log.info("bot PR #%s closed but no run of ours recorded its codemods", number)
        return []
    return store.record_outcome(ctx.db, repository_id, number, codemods, outcome, run_id=run_id)


@router.register("pull_request", "closed")
async def record_review_outcome(event: Event, ctx: BotContext) -> None:
    """A bot PR was merged or closed: record the outcome for each codemod it applied (once per PR)."""
    pull = bot_pull(event.payload)
    number = pull.get("number") if pull else None
    repository_id = await asyncio.to_thread(_repository_id, ctx, event)
    if pull is None or not isinstance(number, int) or repository_id is None:
        return
    outcome = "merged" if pull.get("merged") or pull.get("merged_at") else "closed"
    recorded = await asyncio.to_thread(record_pull_outcome, ctx, repository_id, number, outcome)
    log.info("PR #%s %s: recorded for %s", number, outcome, ", ".join(recorded) or "nothing new")


@router.register("pull_request_review", "submitted")
@router.register("pull_request_review", "dismissed")
async def learn_from_review(event: Event, ctx: BotContext) -> None:
    """A review of a bot PR by someone with write access is noted on the run whose version it reviewed.

    A drive-by review from a reader (or a bot) does not steer the bot: the reviewer's permission is
    asked of the API, as for commands. `bot.outcomes.acceptance` explains how reviews weigh.
    """

    pull, review = bot_pull(event.payload), event.payload.get("review")
    number = pull.get("number") if pull else None
    repository_id = await asyncio.to_thread(_repository_id, ctx, event)
    full_name = event.repository.get("full_name")
    if (
        not isinstance(review, dict)
        or not isinstance(number, int)
        or repository_id is None
        or event.installation_id is None
        or not isinstance(full_name, str)
        or "/" not in full_name
    ):
        return
    user = review.get("user")
    # is_bot holds for anything but a user object, so past this line `user` is a dict.
    if not isinstance(user, dict) or is_bot(user, ctx.settings.bot_identity):
        return
    state = "dismissed" if event.action == "dismissed" else str(review.get("state") or "").lower()
    if state not in REVIEW_STATES:
        return
    commit_id = review.get("commit_id")
    run = await asyncio.to_thread(
        run_for_review, ctx.db, repository_id, number, commit_id if isinstance(commit_id, str) else None
    )
    if run is None:
        log.info("review on bot PR #%s but no run of ours produced it", number)
        return
    login = str(user.get("login"))
    owner, name = full_name.split("/", 1)
    if not await ctx.github.can_write(event.installation_id, owner, name, login):
        log.info("review %s on bot PR #%s by %s ignored: no write access", state, number, login)
        return
    standing = await asyncio.to_thread(record_review, ctx.db, run.id, login, state)
    log.info("review on bot PR #%s by %s: %s (run %s)", number, login, standing, run.id)
