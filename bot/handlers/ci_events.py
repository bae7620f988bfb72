"""After an Evolve PR opens, follow the repository's own CI: `check_suite`, `check_run`, `status` and `workflow_run`
completions and `pull_request.synchronize` on `evolve/…` branches.

The payload is only a wake-up call: which PR, which commit and what the CI says are read back from the API, so a
forged or stale event (a commit that is not the PR's head, a branch that is not Evolve's) changes nothing. A PR
whose head Evolve did not push is someone else's now and never touched again. The verdict is pure
(`bot.outcomes.ci_verdict`); this module reads, decides and acts: wait, queue a retry run with the failure as
evidence, queue a merge run, or stop with a label and a comment. Work that pushes or merges is a run (its own
token, one at a time per repository), queued once per PR head.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from bot import metrics
from bot.db import store
from bot.db.models import Run
from bot.db.pull_lifecycle import PullState, get_pull_state, mark_hands_off, set_pull_state
from bot.db.run_history import pushed_commits
from bot.db.run_notes import CI_FEEDBACK, MERGE_SHA, REVIEWS
from bot.db.run_request import RunRequest
from bot.github.ci_reads import Annotation, CiResult, JobLog
from bot.github.client import GitHubError, PullInfo
from bot.github.run_target import BRANCH_PREFIX, RunTarget, theme_of_branch
from bot.handlers.repo_config import ConfigProblem, load_repo_config
from bot.handlers.write_once import reply
from bot.outcomes.ci_verdict import (
    Green,
    Retry,
    Stop,
    Waiting,
    automerge_refusal,
    ci_evidence,
    flaky,
    judge_ci,
    repository_checks,
)
from bot.routing import Event, Router
from bot.templates import render

if TYPE_CHECKING:  # pragma: no cover
    from bot.context import BotContext

log = logging.getLogger(__name__)
router = Router()
STOP_LABEL_COLOR = "b60205"


def _dict(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}


def head_of(event: Event) -> tuple[str | None, list[str]]:
    """The commit an event is about and the branches it names (the payload's claim, checked against the API)."""
    p = event.payload
    if event.name == "check_suite":
        suite = _dict(p.get("check_suite"))
        return suite.get("head_sha"), [suite.get("head_branch") or ""]
    if event.name == "check_run":
        check = _dict(p.get("check_run"))
        refs = [_dict(_dict(pr).get("head")).get("ref") or "" for pr in check.get("pull_requests") or []]
        return check.get("head_sha"), [_dict(check.get("check_suite")).get("head_branch") or "", *refs]
    if event.name == "status":
        return p.get("sha"), [_dict(b).get("name") or "" for b in p.get("branches") or []]
    if event.name == "workflow_run":
        run = _dict(p.get("workflow_run"))
        return run.get("head_sha"), [run.get("head_branch") or ""]
    head = _dict(_dict(p.get("pull_request")).get("head"))
    return head.get("sha"), [head.get("ref") or ""]


def is_own_check(event: Event, app_slug: str) -> bool:
    """Evolve's own check runs and suites (`evolve/gates`) are not the repository's CI."""
    for key in ("check_run", "check_suite"):
        item = _dict(event.payload.get(key))
        if item and (_dict(item.get("app")).get("slug") == app_slug or str(item.get("name", "")).startswith("evolve/")):
            return True
    return False


@router.register("check_suite", "completed")
@router.register("check_run", "completed")
@router.register("workflow_run", "completed")
@router.register("status")
@router.register("pull_request", "synchronize")
@router.register("pull_request_review", "submitted")  # an approval may be what automerge waited for
async def on_ci_event(event: Event, ctx: BotContext) -> None:
    """A CI result (or a push) on an `evolve/…` branch: look at the PR's CI again and act on it."""
    sha, branches = head_of(event)
    if not isinstance(sha, str) or not any(isinstance(b, str) and b.startswith(BRANCH_PREFIX) for b in branches):
        return  # not one of Evolve's branches
    if event.name == "status" and event.payload.get("state") == "pending":
        return
    if is_own_check(event, ctx.settings.app_slug) or event.installation_id is None:
        return
    full_name = event.repository.get("full_name")
    repo_row = (
        await asyncio.to_thread(store.get_repository_by_name, ctx.db, full_name) if isinstance(full_name, str) else None
    )
    if (
        repo_row is None
        or not repo_row.enrolled
        or repo_row.paused
        or repo_row.installation_id != event.installation_id
    ):
        return  # paused: CI is not followed either (`/evolve resume`)
    target = RunTarget.of(repo_row.id, event.installation_id, repo_row.full_name)
    await follow_ci(ctx, target, sha)


async def _pull_with_head(ctx: BotContext, target: RunTarget, sha: str) -> PullInfo | None:
    pulls = await ctx.github.list_open_pulls(
        target.installation_id, target.owner, target.name, head_prefix=BRANCH_PREFIX
    )
    return next((p for p in pulls if p.head_sha == sha), None)


def _run_of_head(ctx: BotContext, repository_id: int, pr_number: int, sha: str) -> Run | None:
    return next(
        (
            r
            for r in store.recent_runs(ctx.db, repository_id, limit=50)
            if r.pr_number == pr_number and r.head_sha == sha
        ),
        None,
    )


async def hands_off(ctx: BotContext, target: RunTarget, pull: PullInfo) -> bool:
    """Whether someone else pushed to the PR's branch (its head is no commit Evolve pushed); noted once if so."""
    if pull.head_sha in await asyncio.to_thread(pushed_commits, ctx.db, target.repository_id):
        return False
    await asyncio.to_thread(mark_hands_off, ctx.db, target.repository_id, pull.number, pull.head_sha)
    return True


async def follow_ci(ctx: BotContext, target: RunTarget, sha: str) -> None:
    """Read the CI of the open Evolve PR whose head is `sha` and act on the verdict."""
    pull = await _pull_with_head(ctx, target, sha)
    if pull is None:
        log.info("%s: no open Evolve PR has head %s; event ignored", target.full_name, sha[:12])
        return
    state = await asyncio.to_thread(get_pull_state, ctx.db, target.repository_id, pull.number)
    if (state is not None and state.done) or await hands_off(ctx, target, pull):
        return
    run = await asyncio.to_thread(_run_of_head, ctx, target.repository_id, pull.number, sha)
    if state is None or run is None:
        log.info("%s#%s: head %s was pushed by no run of the PR's; ignored", target.full_name, pull.number, sha[:12])
        return
    try:
        config = (await load_repo_config(ctx, target))[0]
    except ConfigProblem:
        return  # the runs report an invalid file; nothing is decided on it
    gh, inst = ctx.github, target.installation_id
    everything = await gh.ci_results(inst, target.owner, target.name, sha)
    head = repository_checks(everything, ctx.settings.app_slug)
    base: list[CiResult] = []
    default: list[CiResult] = []
    if any(r.state == "failure" for r in head):
        if run.base_sha:
            base = repository_checks(
                await gh.ci_results(inst, target.owner, target.name, run.base_sha), ctx.settings.app_slug
            )
        default = repository_checks(
            await gh.ci_results(inst, target.owner, target.name, pull.base_ref), ctx.settings.app_slug
        )
    verdict = judge_ci(head, base, default, state.attempts)
    if isinstance(verdict, Waiting):
        await asyncio.to_thread(
            set_pull_state, ctx.db, target.repository_id, pull.number, state="waiting", head_sha=sha
        )
    elif isinstance(verdict, Green):
        green = tuple(r.name for r in everything if r.state == "success")
        await _on_green(ctx, target, pull, run, config.automerge, green, verdict)
    elif isinstance(verdict, Retry):
        history = {
            check.name: await gh.check_run_states(inst, target.owner, target.name, sha, check.name)
            for check in verdict.failing
            if check.kind == "check_run"
        }
        unstable = flaky(verdict.failing, history)
        if unstable is not None:
            await stop(ctx, target, pull, unstable)
        else:
            await _retry(ctx, target, pull, run, state, verdict)
    else:
        await stop(ctx, target, pull, verdict)


async def _on_green(
    ctx: BotContext, target: RunTarget, pull: PullInfo, run: Run, automerge: Any, green: tuple[str, ...], verdict: Green
) -> None:
    risk = next((label.removeprefix("evolve:risk-") for label in pull.labels if label.startswith("evolve:risk-")), None)
    reviews = await asyncio.to_thread(_reviews_of_pull, ctx, target.repository_id, pull.number)
    required = (
        await ctx.github.required_checks(target.installation_id, target.owner, target.name, pull.base_ref)
        if automerge.enabled
        else ()
    )
    approved = "approved" in reviews and "changes_requested" not in reviews  # any writer's request holds it back
    refusal = automerge_refusal(automerge, risk=risk, approved=approved, required=required, green=green, only_ours=True)
    checks = ", ".join(verdict.checks) or "no CI checks"
    await asyncio.to_thread(
        set_pull_state,
        ctx.db,
        target.repository_id,
        pull.number,
        state="green",
        head_sha=pull.head_sha,
        reason=refusal if refusal is not None else "merging",
    )
    if refusal is not None:
        return
    await ctx.jobs.enqueue_run(
        RunRequest(
            target.repository_id,
            "merge",
            requested_by="ci",
            comment_issue_number=pull.number,
            idempotency_key=f"merge:{target.repository_id}:{pull.number}:{pull.head_sha}",
            pr_number=pull.number,
            options={MERGE_SHA: pull.head_sha, "checks": checks},
        )
    )


def _reviews_of_pull(ctx: BotContext, repository_id: int, pr_number: int) -> set[str]:
    """The latest review states writers left on the PR's runs."""
    states: set[str] = set()
    for run in store.recent_runs(ctx.db, repository_id, limit=50):
        if run.pr_number == pr_number:
            states.update(str(s) for s in ((run.options or {}).get(REVIEWS) or {}).values())
    return states


async def _retry(
    ctx: BotContext, target: RunTarget, pull: PullInfo, run: Run, state: PullState, verdict: Retry
) -> None:
    gh, inst = ctx.github, target.installation_id
    annotations: list[Annotation] = []
    logs: list[JobLog] = []
    try:  # evidence helps; its absence does not stop the retry
        for check in verdict.failing:
            if check.kind == "check_run" and check.annotations_count:
                annotations.extend(await gh.check_annotations(inst, target.owner, target.name, check.id))
        if any(c.app == "github-actions" for c in verdict.failing):
            logs = await gh.failed_job_logs(inst, target.owner, target.name, pull.head_sha)
    except GitHubError as error:
        log.warning("%s#%s: could not read all of CI's evidence: %s", target.full_name, pull.number, error)
    attempts = (run.report or {}).get("attempts") or [{}]
    changed = [str(e.get("path")) for e in attempts[-1].get("edits", []) if isinstance(e, dict)]
    evidence = ci_evidence(verdict.failing, annotations, logs, changed)
    names = ", ".join(sorted(c.name for c in verdict.failing))
    queued = await ctx.jobs.enqueue_run(
        RunRequest(
            target.repository_id,
            "ci-retry",
            focus=run.theme or theme_of_branch(pull.head_ref),
            requested_by="ci",
            comment_issue_number=pull.number,
            idempotency_key=f"ci-retry:{target.repository_id}:{pull.number}:{pull.head_sha}",
            pr_number=pull.number,
            options={
                CI_FEEDBACK: {
                    "result": evidence.to_dict(),
                    "attempts_used": state.attempts,
                    "checks": names,
                    "failed_on": pull.head_sha,
                    "names": sorted(c.name for c in verdict.failing),
                }
            },
        )
    )
    if state.state != "retrying" or state.head_sha != pull.head_sha:
        metrics.CI_RETRIES.inc()
        await asyncio.to_thread(
            set_pull_state,
            ctx.db,
            target.repository_id,
            pull.number,
            state="retrying",
            head_sha=pull.head_sha,
            ci_retries=state.ci_retries + 1,
            reason=f"CI failed: {names} (run {queued.id})",
        )


async def stop(ctx: BotContext, target: RunTarget, pull: PullInfo, verdict: Stop) -> None:
    """Label the PR, say why once, and leave it alone from now on."""
    await ctx.github.add_labels(
        target.installation_id, target.owner, target.name, pull.number, {verdict.label: STOP_LABEL_COLOR}
    )
    checks = ", ".join(sorted(c.name for c in verdict.failing)) or "none"
    body = render("ci_stopped", reason=verdict.reason, checks=checks, label=verdict.label)
    await reply(
        ctx, target, pull.number, body, key=f"ci-stop-{target.repository_id}-{pull.number}-{pull.head_sha[:12]}"
    )
    await asyncio.to_thread(
        set_pull_state,
        ctx.db,
        target.repository_id,
        pull.number,
        state="stopped",
        head_sha=pull.head_sha,
        reason=verdict.reason,
    )
