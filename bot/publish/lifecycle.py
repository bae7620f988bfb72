"""Publishing what follows an open Evolve PR: the merge on green, and the outcome of a run that redid the change
because CI failed (`ci-retry`) or the default branch moved (`rebase`): the PR's state, its label, one comment.

Every comment is keyed by the run (`bot.handlers.write_once`), so a replayed run says it once.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from bot import metrics
from bot.db.pull_lifecycle import get_pull_state, mark_hands_off, set_pull_state
from bot.db.run_notes import CI_FEEDBACK, MERGE_SHA, run_notes
from bot.github.client import PullInfo
from bot.github.run_target import RunTarget
from bot.handlers.write_once import reply
from bot.outcomes.learning import record_pull_outcome
from bot.publish.run_text import reply_key
from bot.templates import code, render
from evolve.configuration.model import EvolveConfig
from evolve.run_status import RunStatus
from evolve.runs import RunReport

if TYPE_CHECKING:  # pragma: no cover
    from bot.context import BotContext
    from bot.db.models import Run

log = logging.getLogger(__name__)
LIFECYCLE_TRIGGERS = frozenset({"ci-retry", "rebase"})  # runs that redo an open PR's change in place
STOP_LABEL = "evolve:stopped"
FLAKY_LABEL = "evolve:ci-flaky"


def attempts_spent(run: Run, report: RunReport) -> int:
    """Attempts spent on the PR's change once this run published: a CI retry continues the count."""
    numbers = [a.number for a in report.attempts] or [0]
    if run.trigger == "ci-retry":
        return max(numbers)
    return len(report.attempts)


async def merge_when_green(ctx: BotContext, target: RunTarget, run: Run, config: EvolveConfig, paused: bool) -> str:
    """A `merge` run: merge the PR at the head CI passed on, through the merge API (branch protection decides)."""
    notes = await asyncio.to_thread(run_notes, ctx.db, run.id)
    sha, number = str(notes.get(MERGE_SHA) or ""), run.pr_number
    if number is None or not sha:
        return "nothing to merge"
    if paused or not config.automerge.enabled:
        return "automerge is off or Evolve is paused"
    gh, inst = ctx.github, target.installation_id
    pull = await gh.get_pull(inst, target.owner, target.name, number)
    if pull.state != "open" or pull.head_sha != sha:
        return "the PR moved on since its checks passed"
    result = await gh.merge_pull(inst, target.owner, target.name, number, sha=sha, method=config.automerge.method)
    if not result.merged:
        metrics.AUTOMERGES.labels("refused").inc()
        await reply(ctx, target, number, render("automerge_refused", message=result.message), key=reply_key(run.id))
        await asyncio.to_thread(
            set_pull_state,
            ctx.db,
            target.repository_id,
            number,
            state="green",
            reason=f"merge refused: {result.message}",
        )
        return f"GitHub refused the merge: {result.message}"
    metrics.AUTOMERGES.labels("merged").inc()
    await asyncio.to_thread(
        set_pull_state, ctx.db, target.repository_id, number, state="merged", automerged=True, reason="merged on green"
    )
    await asyncio.to_thread(record_pull_outcome, ctx, target.repository_id, number, "merged")
    checks = str(notes.get("checks") or "no CI checks")
    await reply(
        ctx, target, number, render("automerged", method=config.automerge.method, checks=checks), key=reply_key(run.id)
    )
    return "merged"


async def passed_on_rerun(ctx: BotContext, target: RunTarget, run: Run, pull: PullInfo) -> bool:
    """Before a `ci-retry` run redoes the change: when every check that failed now passes on the same commit (a
    re-run passed meanwhile), the failure was flaky, not the change's: stop, label `evolve:ci-flaky`, say why."""
    notes = await asyncio.to_thread(run_notes, ctx.db, run.id)
    feedback = notes.get(CI_FEEDBACK) or {}
    names, sha = feedback.get("names") or [], feedback.get("failed_on")
    if run.trigger != "ci-retry" or not names or sha != pull.head_sha:
        return False
    results = await ctx.github.ci_results(target.installation_id, target.owner, target.name, sha)
    states = {r.name: r.state for r in results}
    if not all(states.get(name) == "success" for name in names):
        return False
    checks = ", ".join(names)
    reason = f"{checks} passed when re-run on the same commit, so the failure was flaky, not the change's; no retry."
    await ctx.github.add_labels(target.installation_id, target.owner, target.name, pull.number, {FLAKY_LABEL: "b60205"})
    body = render("ci_stopped", reason=reason, checks=checks, label=FLAKY_LABEL)
    await reply(ctx, target, pull.number, body, key=reply_key(run.id))
    await asyncio.to_thread(set_pull_state, ctx.db, target.repository_id, pull.number, state="stopped", reason=reason)
    return True


async def hands_off(ctx: BotContext, target: RunTarget, pull: PullInfo) -> None:
    """Someone else pushed to the branch: the run leaves it as it is, and so does everything after it."""
    await asyncio.to_thread(mark_hands_off, ctx.db, target.repository_id, pull.number, pull.head_sha)


async def without_change(ctx: BotContext, target: RunTarget, run: Run, pull: PullInfo, report: RunReport) -> None:
    """A `ci-retry` or `rebase` run that produced no passing change: a rebuilt PR whose finding is gone is closed
    with a comment; otherwise the PR is labelled `evolve:stopped` and the comment says why."""
    gh, inst = ctx.github, target.installation_id
    if run.trigger == "rebase" and report.status == RunStatus.NOTHING_TO_DO:
        await asyncio.to_thread(
            set_pull_state, ctx.db, target.repository_id, pull.number, state="closed", reason="its finding is gone"
        )
        body = render("finding_gone", base=code(pull.base_ref), message=report.message or "no finding left")
        await reply(ctx, target, pull.number, body, key=reply_key(run.id))
        await gh.update_pull(inst, target.owner, target.name, pull.number, state="closed")
        return
    attempt = max([a.number for a in report.attempts] or [0])
    await gh.add_labels(inst, target.owner, target.name, pull.number, {STOP_LABEL: "b60205"})
    message = report.message or str(report.status)
    await reply(
        ctx,
        target,
        pull.number,
        (
            render("ci_attempt_failed", message=message)
            if run.trigger == "ci-retry"
            else render("rebuild_failed", base=code(pull.base_ref), message=message)
        ),
        key=reply_key(run.id),
    )
    await asyncio.to_thread(
        set_pull_state,
        ctx.db,
        target.repository_id,
        pull.number,
        state="stopped",
        attempts=max(attempt, 1),
        reason=f"no passing version after attempt {attempt}: {message}",
    )


async def published(
    ctx: BotContext, target: RunTarget, run: Run, number: int, branch: str, report: RunReport, default_branch: str
) -> None:
    """Note the PR's new version (waiting for CI) and, for a `ci-retry` or `rebase` run, say what changed."""
    assert report.commit is not None
    previous = await asyncio.to_thread(get_pull_state, ctx.db, target.repository_id, number)
    spent = attempts_spent(run, report)
    await asyncio.to_thread(
        set_pull_state,
        ctx.db,
        target.repository_id,
        number,
        state="waiting",
        branch=branch,
        head_sha=report.commit,
        attempts=spent,
        reason="",
        ci_retries=previous.ci_retries if previous else 0,
    )
    if run.trigger == "ci-retry":
        notes = await asyncio.to_thread(run_notes, ctx.db, run.id)
        feedback = notes.get(CI_FEEDBACK) or {}
        ci_notes = [a.note.removeprefix("CI: ") for a in report.attempts if a.note.startswith("CI: ")]
        note = ci_notes[0] if ci_notes else "the next version was built with it"
        body = render(
            "ci_retry",
            checks=str(feedback.get("checks") or "CI"),
            attempt=spent,
            note=note,
            commit=code(report.commit[:12]),
        )
        await reply(ctx, target, number, body, key=reply_key(run.id))
    elif run.trigger == "rebase":
        why = str((await asyncio.to_thread(run_notes, ctx.db, run.id)).get("why") or "asked for")
        body = render("rebuilt", base=code(default_branch), why=why, attempts=spent, commit=code(report.commit[:12]))
        await reply(ctx, target, number, body, key=reply_key(run.id))
