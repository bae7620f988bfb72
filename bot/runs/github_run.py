"""A run from GitHub: config and limits → mirror → engine in a thread → push → PR, labels, check run → reply.

`execute_run(ctx, run_id)` is what the job queue calls. It is idempotent and resumable: a finished run
is left alone; a run interrupted after pushing finds its PR again by branch (GitHub refuses a second
open PR for one head branch, and we look before creating), so a retry updates instead of duplicating.
This module is the control flow only: the engine is `evolve.engine.run_engine` (shared with the CLI),
the options and limits come from `bot.runs.options`, the writes to GitHub from `bot.publish.pull_request`, the
text from `bot.publish.run_text`, the store's reads from `bot.db`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from dataclasses import replace

from bot.context import BotContext
from bot.db import store
from bot.db.models import Run
from bot.db.run_history import pr_codemods, pushed_commits, runs_last_hour
from bot.db.run_notes import RETRY_OF, run_notes
from bot.github.client import GitHubError, PullInfo, RepoInfo
from bot.github.run_target import BRANCH_PREFIX, RunTarget, theme_of_branch
from bot.handlers.repo_config import ConfigProblem, load_repo_config
from bot.handlers.write_once import reply
from bot.publish import lifecycle
from bot.publish.check_runs import ProgressCheck
from bot.publish.pull_request import (
    branch_to_push,
    label_and_check,
    open_or_update_pull,
    push,
    report_bad_config,
    sync_mirror,
)
from bot.publish.run_text import last_gates, pr_title, reply_key, reply_proposed, reply_without_pr
from bot.runs.options import limit_reason, run_options, token_scope
from bot.templates import Markdown, render
from evolve.configuration.model import EvolveConfig
from evolve.git import GitError
from evolve.run_status import FINISHED_STATUSES, RunStatus
from evolve.runs import RunReport

log = logging.getLogger(__name__)


def find_theme_pull(ctx: BotContext, target: RunTarget, pulls: list[PullInfo], theme: str | None) -> PullInfo | None:
    """The open bot PR for `theme`, known from our runs or from its branch name."""
    if not theme:
        return None
    for pull in pulls:
        _, _, known = pr_codemods(ctx.db, target.repository_id, pull.number)
        if (known or theme_of_branch(pull.head_ref)) == theme:
            return pull
    return None


def _finish(ctx: BotContext, run_id: int, status: str, **fields: object) -> None:
    store.finish_run(ctx.db, run_id, status, **fields)


async def execute_run(ctx: BotContext, run_id: int) -> RunReport | None:
    """Execute one queued/claimed run end to end; returns the engine's report (None when it did not run).

    The run works with installation tokens of its own, revoked when it ends (best effort: a token that
    could not be revoked expires within the hour), so they are not usable after the run.
    """
    run = await asyncio.to_thread(store.get_run, ctx.db, run_id)
    if run is None or run.status in FINISHED_STATUSES:
        return None
    repo_row = await asyncio.to_thread(store.get_repository, ctx.db, run.repository_id)
    scoped = ctx.github.scoped(token_scope(repo_row.full_name, run.trigger, run.id)) if repo_row is not None else None
    run_ctx = dataclasses.replace(ctx, github=scoped) if scoped is not None else ctx
    try:
        return await _execute(run_ctx, run)
    finally:
        if scoped is not None:
            try:
                await scoped.revoke_tokens()
            except Exception:  # never fail a run over the clean-up
                log.warning("could not revoke the tokens of run %s", run_id, exc_info=True)


async def _execute(ctx: BotContext, run: Run) -> RunReport | None:
    run_id = run.id
    repo_row = await asyncio.to_thread(store.get_repository, ctx.db, run.repository_id)
    if repo_row is None or repo_row.installation_id is None:
        await asyncio.to_thread(
            _finish, ctx, run_id, RunStatus.CANCELLED, message="the repository is no longer installed"
        )
        return None
    target = RunTarget.of(repo_row.id, repo_row.installation_id, repo_row.full_name)
    repo = await ctx.github.get_repo(target.installation_id, target.owner, target.name)
    try:
        config, _source = await load_repo_config(ctx, target)
    except ConfigProblem as problem:
        await report_bad_config(ctx, target, run, repo, str(problem))
        await asyncio.to_thread(_finish, ctx, run_id, RunStatus.FAILED, message=str(problem))
        return None
    if run.trigger == "plan":
        await _plan_only(ctx, target, run, repo, config)
        return None
    if run.trigger == "merge":  # a green Evolve PR, merged where the configuration allows it (no engine)
        message = await lifecycle.merge_when_green(ctx, target, run, config, repo_row.paused)
        await asyncio.to_thread(_finish, ctx, run_id, RunStatus.SUCCEEDED, message=message)
        return None
    open_pulls = await ctx.github.list_open_pulls(
        target.installation_id, target.owner, target.name, head_prefix=BRANCH_PREFIX
    )
    recent = await asyncio.to_thread(runs_last_hour, ctx.db, run.repository_id)
    reason = limit_reason(
        config,
        paused=repo_row.paused,
        runs_last_hour=recent,
        open_pulls=len(open_pulls),
        retry=run.pr_number is not None,
    )
    if reason is not None:
        await reply(ctx, target, run.comment_issue_number, render("run_skipped", reason=reason), key=reply_key(run.id))
        await asyncio.to_thread(_finish, ctx, run_id, RunStatus.CANCELLED, message=reason)
        return None
    try:
        return await _run_and_publish(ctx, target, run, repo, config, open_pulls)
    except (GitError, GitHubError) as error:  # messages are free of tokens; tell the user, then fail the run
        log.warning("run %s on %s failed: %s", run_id, target.full_name, error)
        await reply(
            ctx, target, run.comment_issue_number, render("run_error", message=str(error)), key=reply_key(run.id)
        )
        await asyncio.to_thread(_finish, ctx, run_id, RunStatus.ERROR, message=str(error)[:2000])
        return None


async def _cancelled(ctx: BotContext, target: RunTarget, run: Run, reason: str) -> RunReport:
    """Close a run that must not go on (its PR closed, taken over, or its CI failure was flaky)."""
    await asyncio.to_thread(_finish, ctx, run.id, RunStatus.CANCELLED, message=reason)
    return RunReport(
        run_id=str(run.id), status=RunStatus.CANCELLED, repo=target.full_name, base_sha=None, plan=None, message=reason
    )


async def _run_and_publish(
    ctx: BotContext, target: RunTarget, run: Run, repo: RepoInfo, config: EvolveConfig, open_pulls: list[PullInfo]
) -> RunReport:
    from evolve.engine import run_engine

    retried = next((p for p in open_pulls if p.number == run.pr_number), None) if run.pr_number else None
    if run.trigger in lifecycle.LIFECYCLE_TRIGGERS:  # redo an open PR in place, and only while it is Evolve's alone
        stale = retried is None or retried.head_sha not in await asyncio.to_thread(
            pushed_commits, ctx.db, target.repository_id
        )
        if stale:
            if retried is not None:
                await lifecycle.hands_off(ctx, target, retried)
            reason = "the pull request is closed, or someone else pushed to its branch"
            return await _cancelled(ctx, target, run, reason)
        if retried is not None and await lifecycle.passed_on_rerun(ctx, target, run, retried):
            reason = "the failure was flaky: it passed when re-run"
            return await _cancelled(ctx, target, run, reason)
    focus = run.focus
    if retried is not None:
        focus = (
            focus
            or (await asyncio.to_thread(pr_codemods, ctx.db, target.repository_id, retried.number))[2]
            or theme_of_branch(retried.head_ref)
        )
    existing = retried or (await asyncio.to_thread(find_theme_pull, ctx, target, open_pulls, focus))
    mirror = await sync_mirror(ctx, target, repo)
    progress = await ProgressCheck.start(ctx, target, run, mirror.branch_sha(repo.default_branch))
    try:
        options = run_options(
            ctx,
            run,
            config,
            focus,
            existing.head_ref if existing else None,
            repo.default_branch,
            target.installation_id,
        )
        report = await asyncio.to_thread(run_engine, mirror.path, options, config)
        theme = report.plan.theme if report.plan else None
        await asyncio.to_thread(store.update_run, ctx.db, run.id, theme=theme, base_sha=report.base_sha)
        if report.status != RunStatus.SUCCEEDED or not report.branch or not report.commit:
            if retried is not None and run.trigger in lifecycle.LIFECYCLE_TRIGGERS:
                await progress.without_pr(report.status, report.message, last_gates(report))
                await lifecycle.without_change(ctx, target, run, retried, report)
            else:
                await _close_without_pr(ctx, target, run, report, progress)
            status = report.status if report.status in FINISHED_STATUSES else RunStatus.ERROR
            await asyncio.to_thread(_finish, ctx, run.id, status, report=report)
            return report
        # A run that made a commit started from a base commit: both SHAs are known from here on.
        assert report.base_sha is not None
        commit = report.commit
        existing = existing or (await asyncio.to_thread(find_theme_pull, ctx, target, open_pulls, theme))
        wanted = existing.head_ref if existing else report.branch
        # Someone else pushed to the branch: leave it (and its PR) alone and propose on a new branch.
        branch, note, same = await asyncio.to_thread(branch_to_push, ctx, target, mirror, wanted, report.base_sha)
        if not same and run.trigger in lifecycle.LIFECYCLE_TRIGGERS and retried is not None:
            await lifecycle.hands_off(ctx, target, retried)
            await progress.without_pr(RunStatus.CANCELLED, note, last_gates(report))
            await asyncio.to_thread(_finish, ctx, run.id, RunStatus.CANCELLED, message=note)
            return report
        if not same:
            existing = None
            report = replace(report, message=f"{report.message} Note: {note}; the change is on `{branch}` instead.")
        # Noted before the push: a replay knows it.
        await asyncio.to_thread(store.update_run, ctx.db, run.id, branch=branch, head_sha=commit)
        await push(ctx, target, repo, mirror, commit, branch)
        pull, created = await open_or_update_pull(ctx, target, repo, branch, report, existing)
        await asyncio.to_thread(store.update_run, ctx.db, run.id, pr_number=pull.number)
        await label_and_check(ctx, target, run, pull.number, report)
        title = pr_title(report, branch)  # the PR's own title: the reply and the check run say the same
        await progress.proposed(pull.number, pull.html_url, title)
        if created:
            await asyncio.to_thread(
                store.record_proposed,
                ctx.db,
                target.repository_id,
                [str(m.get("id")) for m in report.codemods if m.get("id")],
            )
        await lifecycle.published(ctx, target, run, pull.number, branch, report, repo.default_branch)
        retry_of = (await asyncio.to_thread(run_notes, ctx.db, run.id)).get(RETRY_OF)
        body = reply_proposed(
            created=created,
            retry_of=retry_of,
            pr_number=pull.number,
            pr_url=pull.html_url,
            title=title,
            default_branch=repo.default_branch,
            attempts=len(report.attempts),
            branch=branch,
            note=note,
        )
        if run.trigger not in lifecycle.LIFECYCLE_TRIGGERS:  # those said what changed on the PR already
            await reply(ctx, target, run.comment_issue_number, body, key=reply_key(run.id))
        await asyncio.to_thread(
            _finish,
            ctx,
            run.id,
            RunStatus.SUCCEEDED,
            report=replace(report, branch=branch),
            pr_number=pull.number,
            branch=branch,
        )
        return report
    except BaseException as error:  # errors and crashes (even cancellation) must not leave it in progress
        await progress.stopped(error)
        raise


async def _close_without_pr(
    ctx: BotContext, target: RunTarget, run: Run, report: RunReport, progress: ProgressCheck
) -> None:
    """A run that opened no PR: complete its in-progress check run and tell whoever asked."""
    if report.status in (RunStatus.NOTHING_TO_DO, RunStatus.FAILED):
        await progress.without_pr(report.status, report.message, last_gates(report))
    else:
        await progress.finish(
            RunStatus.CANCELLED,
            "The run stopped with an error",
            render("check_stopped", message=report.message or report.status),
        )
    await reply(ctx, target, run.comment_issue_number, reply_without_pr(report), key=reply_key(run.id))


async def _plan_only(ctx: BotContext, target: RunTarget, run: Run, repo: RepoInfo, config: EvolveConfig) -> None:
    from evolve.engine import plan_repository
    from evolve.plan.render import render_plan_markdown

    mirror = await sync_mirror(ctx, target, repo)
    try:
        options = run_options(ctx, run, config, run.focus, None, repo.default_branch, target.installation_id)
        outcome = await asyncio.to_thread(plan_repository, mirror.path, options, config)
        markdown = render_plan_markdown(outcome.plan)
        await reply(
            ctx, target, run.comment_issue_number, render("plan", markdown=Markdown(markdown)), key=reply_key(run.id)
        )
        await asyncio.to_thread(
            _finish,
            ctx,
            run.id,
            RunStatus.SUCCEEDED,
            theme=outcome.plan.theme,
            base_sha=outcome.base_sha,
            markdown=markdown,
            message="plan only",
        )
    except Exception as error:  # ConfigError, GitError, a scanner failing: tell the user, close the run
        log.exception("plan for %s failed", target.full_name)
        await reply(
            ctx,
            target,
            run.comment_issue_number,
            render("run_error", message=f"{type(error).__name__}: {error}"),
            key=reply_key(run.id),
        )
        await asyncio.to_thread(_finish, ctx, run.id, RunStatus.ERROR, message=str(error)[:2000])
