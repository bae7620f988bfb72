"""The `evolve/gates` check runs of a run from GitHub.

A check run belongs to a commit, and while a run is researching there is no PR commit yet. So a run
shows itself as an `in_progress` check run on the default branch's head (the commit it works from);
when it opens or updates a PR it creates a completed check run with the gate results on the PR's head
and closes the in-progress one as `neutral`, pointing to the PR. Without a PR (gates failed, nothing
to do) the in-progress one is closed as `neutral` with the reason: the base commit is not at fault,
so it never turns red. An error or crash closes it as `cancelled`.

The in-progress check run's id is noted on the run row; a process that dies mid-run leaves the note,
and the next run of the repository (one runs at a time per repository) closes what it finds, so no
check run stays `in_progress` for longer than the gap between two runs.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.db.run_notes import PROGRESS_CHECK, runs_with_note, update_run_notes
from bot.github.client import GitHubError
from bot.github.run_target import RunTarget
from bot.templates import link_target, render

if TYPE_CHECKING:  # pragma: no cover
    from bot.context import BotContext
    from bot.db.models import Run

log = logging.getLogger(__name__)
GATES_CHECK = "evolve/gates"


def _forget(notes: dict[str, Any]) -> None:
    notes.pop(PROGRESS_CHECK, None)


async def _complete(
    ctx: BotContext, target: RunTarget, check_id: int, conclusion: str, title: str, summary: str
) -> bool:
    """Complete a check run; False when GitHub did not take it (it stays noted for a later try)."""
    try:
        await ctx.github.update_check_run(
            target.installation_id,
            target.owner,
            target.name,
            check_id,
            status="completed",
            conclusion=conclusion,
            output={"title": title, "summary": summary},
        )
    except GitHubError as error:
        if error.status == 404:  # gone (repository recreated, check deleted): nothing left to close
            return True
        log.warning("could not complete check run %s on %s: %s", check_id, target.full_name, error)
        return False
    return True


async def close_orphaned_checks(ctx: BotContext, target: RunTarget, keep_run: int | None = None) -> int:
    """Cancel in-progress check runs that earlier runs of the repository left open (all but `keep_run`'s,
    the run resuming); how many were closed."""
    closed = 0
    for run in await asyncio.to_thread(runs_with_note, ctx.db, target.repository_id, PROGRESS_CHECK):
        if run.id == keep_run:
            continue
        check_id = (run.options or {}).get(PROGRESS_CHECK)
        if not isinstance(check_id, int):
            await asyncio.to_thread(update_run_notes, ctx.db, run.id, _forget)
            continue
        summary = render("check_interrupted", run_id=run.id)
        if await _complete(ctx, target, check_id, "cancelled", "The run was interrupted", summary):
            await asyncio.to_thread(update_run_notes, ctx.db, run.id, _forget)
            closed += 1
    return closed


async def close_abandoned_check(ctx: BotContext, run_id: int, message: str) -> None:
    """A run stopped outside its own code (time limit, abandoned by the sweep): complete its in-progress
    check run as `cancelled` with `message`, and tell whoever asked for it (once)."""
    from bot.db import store
    from bot.handlers.write_once import reply

    run = await asyncio.to_thread(store.get_run, ctx.db, run_id)
    repo = await asyncio.to_thread(store.get_repository, ctx.db, run.repository_id) if run is not None else None
    if run is None or repo is None or repo.installation_id is None:
        return
    owner, name = repo.full_name.split("/", 1)
    target = RunTarget(repo.id, repo.installation_id, owner, name)
    check_id = (run.options or {}).get(PROGRESS_CHECK)
    if isinstance(check_id, int):
        summary = render("check_stopped", message=message)
        if await _complete(ctx, target, check_id, "cancelled", "The run was stopped", summary):
            await asyncio.to_thread(update_run_notes, ctx.db, run.id, _forget)
    await reply(ctx, target, run.comment_issue_number, render("run_error", message=message), key=f"run-{run.id}")


@dataclass
class ProgressCheck:
    """The in-progress `evolve/gates` check run of one run (`check_id` None when none could be created)."""

    ctx: BotContext
    target: RunTarget
    run_id: int
    check_id: int | None = None

    @classmethod
    async def start(cls, ctx: BotContext, target: RunTarget, run: Run, base_sha: str | None) -> ProgressCheck:
        """Close leftovers of earlier runs, then show this run as in progress on `base_sha` (best effort).

        A run resumed after a crash finds the check run it created before (by its `external_id`)."""
        from bot.handlers.write_once import check_run_once

        progress = cls(ctx, target, run.id)
        await close_orphaned_checks(ctx, target, keep_run=run.id)
        if not base_sha:
            return progress
        try:
            progress.check_id = await check_run_once(
                ctx,
                target,
                name=GATES_CHECK,
                head_sha=base_sha,
                status="in_progress",
                external_id=f"run-{run.id}",
                output={
                    "title": "Evolve is researching and running gates",
                    "summary": render("check_running", run_id=run.id, trigger=run.trigger),
                },
            )
        except GitHubError as error:  # the run itself does not depend on it
            log.warning("could not create the in-progress check run on %s: %s", target.full_name, error)
            return progress
        check_id = progress.check_id
        await asyncio.to_thread(
            update_run_notes, ctx.db, run.id, lambda notes: notes.update({PROGRESS_CHECK: check_id})
        )
        return progress

    async def finish(self, conclusion: str, title: str, summary: str) -> None:
        """Complete the in-progress check run (never raises); the note goes once GitHub took it."""
        if self.check_id is None:
            return
        if await _complete(self.ctx, self.target, self.check_id, conclusion, title, summary):
            await asyncio.to_thread(update_run_notes, self.ctx.db, self.run_id, _forget)
            self.check_id = None

    async def proposed(self, number: int, url: str, title: str) -> None:
        """The run opened or updated PR #`number`: close as neutral, pointing to it."""
        await self.finish(
            "neutral",
            f"Proposed in #{number}",
            render("check_proposed", pr_number=number, pr_url=link_target(url), title=title),
        )

    async def without_pr(self, status: str, message: str, gates: str = "") -> None:
        """The run ended without a PR (gates failed, nothing to do): close as neutral with the reason."""
        title = {"failed": "No pull request: the gates did not pass", "nothing-to-do": "Nothing to do"}.get(
            status, f"No pull request ({status})"
        )
        await self.finish("neutral", title, render("check_no_pr", message=message, gates=gates))

    async def stopped(self, error: BaseException) -> None:
        """The run failed or crashed: close as cancelled. Only our own error types carry their (token-free) text."""
        from evolve.git import GitError

        if isinstance(error, (GitError, GitHubError)):
            message = str(error)[:500]
        elif isinstance(error, asyncio.CancelledError):
            message = "the run was cancelled: it passed its time limit, or its worker lost its lease or stopped"
        else:
            message = f"an internal error ({type(error).__name__}); the operator's logs have the details"
        await self.finish("cancelled", "The run stopped with an error", render("check_stopped", message=message))
