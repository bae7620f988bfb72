"""Learning from reviews: a bot PR merged or closed is recorded per codemod and per repository.

The counts feed `RunOptions.acceptance` (the planner's ranking) and `RunOptions.blocked_codemods`
(a codemod closed unmerged twice here is not proposed again until `codemods.reenabled` lists it);
both are read back by `bot.github_run` through `store.acceptance_for`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from bot.db import store
from bot.github_run import BRANCH_PREFIX, pr_codemods
from bot.routing import Event, Router

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


def _repository_id(ctx: Any, event: Event) -> int | None:
    repo_id = event.repository.get("id")
    if isinstance(repo_id, int) and store.get_repository(ctx.db, repo_id) is not None:
        return repo_id
    full_name = event.repository.get("full_name")
    row = store.get_repository_by_name(ctx.db, full_name) if isinstance(full_name, str) else None
    return row.id if row is not None else None


@router.register("pull_request", "closed")
async def record_review_outcome(event: Event, ctx: Any) -> None:
    """A bot PR was merged or closed: record the outcome for each codemod it applied (once per PR)."""
    pull = bot_pull(event.payload)
    number = pull.get("number") if pull else None
    repository_id = _repository_id(ctx, event)
    if pull is None or not isinstance(number, int) or repository_id is None:
        return
    outcome = "merged" if pull.get("merged") or pull.get("merged_at") else "closed"
    codemods, run_id, _theme = pr_codemods(ctx, repository_id, number)
    if not codemods:
        log.info("bot PR #%s closed but no run of ours recorded its codemods", number)
        return
    recorded = store.record_outcome(ctx.db, repository_id, number, codemods, outcome, run_id=run_id)
    log.info("PR #%s %s: recorded for %s", number, outcome, ", ".join(recorded) or "nothing new")


@router.register("pull_request_review", "submitted")
async def note_review(event: Event, ctx: Any) -> None:
    """Reviews on bot PRs are logged; the verdict that teaches is the merge or close that follows."""
    pull = bot_pull(event.payload)
    review = event.payload.get("review")
    if pull is not None and isinstance(review, dict):
        log.info("review %s on bot PR #%s", review.get("state"), pull.get("number"))
