"""Keep Evolve's open PRs current: when the default branch moves and a PR conflicts with it, or the push changed
files the PR changes (its finding may be gone), queue a `rebase` run that rebuilds the change on the new base
(same theme, same gates), or closes the PR with a comment when nothing is left to do. `/evolve rebase` asks for
it by hand. Never when someone else pushed to the PR's branch, and never for a PR Evolve stopped on.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING

from bot.db import store
from bot.db.pull_lifecycle import get_pull_state
from bot.db.run_history import pushed_commits
from bot.db.run_request import RunRequest
from bot.github.client import PullInfo
from bot.github.run_target import BRANCH_PREFIX, RunTarget, theme_of_branch
from bot.handlers.ci_events import hands_off
from bot.routing import Event, Router

if TYPE_CHECKING:  # pragma: no cover
    from bot.context import BotContext

log = logging.getLogger(__name__)
router = Router()


def pushed_paths(payload: object) -> set[str]:
    """Files a `push` payload's commits added, changed or removed (a hint only: the rebuild decides)."""
    commits = payload.get("commits") if isinstance(payload, dict) else None
    paths: set[str] = set()
    for commit in commits if isinstance(commits, list) else []:
        if isinstance(commit, dict):
            for key in ("added", "modified", "removed"):
                paths.update(str(p) for p in commit.get(key) or [] if isinstance(p, str))
    return paths


def changed_files(ctx: BotContext, repository_id: int, pr_number: int) -> set[str]:
    """The files the PR's newest run changed."""
    for run in store.recent_runs(ctx.db, repository_id, limit=50):
        if run.pr_number == pr_number and run.report:
            attempts = run.report.get("attempts") or [{}]
            return {str(e.get("path")) for e in attempts[-1].get("edits", []) if isinstance(e, dict)}
    return set()


def rebuild_reason(mergeable: bool | None, changed: Iterable[str], pushed: set[str]) -> str | None:
    """Why a PR needs rebuilding on the new base: a conflict, or the push touched its files; None: it does not."""
    if mergeable is False:
        return "it conflicted with the new base"
    touched = sorted(set(changed) & pushed)
    if touched:
        return f"the new base changed {', '.join(touched[:5])}"
    return None


async def queue_rebuild(ctx: BotContext, target: RunTarget, pull: PullInfo, why: str, key: str, by: str) -> None:
    """Queue a `rebase` run of the PR (once per `key`)."""
    await ctx.jobs.enqueue_run(
        RunRequest(
            target.repository_id,
            "rebase",
            focus=theme_of_branch(pull.head_ref),
            requested_by=by,
            comment_issue_number=pull.number,
            idempotency_key=key,
            pr_number=pull.number,
            options={"why": why},
        )
    )


@router.register("push")
async def on_default_branch_push(event: Event, ctx: BotContext) -> None:
    """The default branch moved: rebuild each open Evolve PR that conflicts with it or whose files it changed."""
    payload = event.payload
    default = event.repository.get("default_branch")
    full_name = event.repository.get("full_name")
    after = payload.get("after")
    if not isinstance(default, str) or payload.get("ref") != f"refs/heads/{default}" or not isinstance(full_name, str):
        return
    repo_row = await asyncio.to_thread(store.get_repository_by_name, ctx.db, full_name)
    if repo_row is None or not repo_row.enrolled or event.installation_id is None or repo_row.paused:
        return
    target = RunTarget.of(repo_row.id, event.installation_id, repo_row.full_name)
    pushed = pushed_paths(payload)
    gh = ctx.github
    pulls = await gh.list_open_pulls(target.installation_id, target.owner, target.name, head_prefix=BRANCH_PREFIX)
    ours = await asyncio.to_thread(pushed_commits, ctx.db, target.repository_id)
    for listed in pulls:
        state = await asyncio.to_thread(get_pull_state, ctx.db, target.repository_id, listed.number)
        if state is None or state.done:
            continue
        if listed.head_sha not in ours:
            await hands_off(ctx, target, listed)
            continue
        pull = await gh.get_pull(target.installation_id, target.owner, target.name, listed.number)
        changed = await asyncio.to_thread(changed_files, ctx, target.repository_id, pull.number)
        why = rebuild_reason(pull.mergeable, changed, pushed)
        if why is not None:
            key = f"rebase:{target.repository_id}:{pull.number}:{after}"
            await queue_rebuild(ctx, target, pull, why, key, "push")
