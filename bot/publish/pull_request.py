"""Publishing a run on GitHub: sync the mirror, push the branch, open or update the PR, label it, report checks.

Each write is effectively once: the PR is keyed by its branch (looked for before one is created), check
runs by their `external_id` and replies by their key (`bot.handlers.write_once`). The text comes from `bot.publish.run_text`.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from bot.db.run_history import pushed_commits
from bot.github.client import PullInfo, RepoInfo
from bot.github.run_target import RunTarget
from bot.handlers.write_once import check_run_once, reply
from bot.publish.run_text import gates_check, pr_title, reply_key, risk_labels
from bot.settings import workdir
from bot.templates import block, code, render
from evolve.git import Credentials
from evolve.git.branches import choose_branch
from evolve.git.mirror import GitMirror
from evolve.runs import RunReport

if TYPE_CHECKING:  # pragma: no cover
    from bot.context import BotContext
    from bot.db.models import Run


async def sync_mirror(ctx: BotContext, target: RunTarget, repo: RepoInfo) -> GitMirror:
    """The repository's local mirror, fetched with an installation token."""
    token = await ctx.github.installation_token(target.installation_id)
    mirror = GitMirror(workdir(ctx.settings), target.full_name)
    await asyncio.to_thread(mirror.sync, repo.clone_url, Credentials(token))
    return mirror


def branch_to_push(
    ctx: BotContext, target: RunTarget, mirror: GitMirror, branch: str, base_sha: str
) -> tuple[str, str, bool]:
    """The branch to push to, a note when it is not `branch`, and whether it is `branch` (see choose_branch)."""
    choice = choose_branch(mirror.path, branch, base_sha, pushed_commits(ctx.db, target.repository_id))
    return choice.name, choice.note, choice.name == branch


async def push(ctx: BotContext, target: RunTarget, repo: RepoInfo, mirror: GitMirror, commit: str, branch: str) -> None:
    """Push `commit` to `branch` (a lease on the branch's current tip: someone else's push is never overwritten)."""
    token = await ctx.github.installation_token(target.installation_id)
    await asyncio.to_thread(mirror.push, commit, branch, repo.clone_url, Credentials(token), mirror.branch_sha(branch))


async def open_or_update_pull(
    ctx: BotContext, target: RunTarget, repo: RepoInfo, branch: str, report: RunReport, existing: PullInfo | None
) -> tuple[PullInfo, bool]:
    """The PR of `branch`, updated, or opened when there is none; and whether it was opened now."""
    gh, inst = ctx.github, target.installation_id
    title = pr_title(report, branch)
    if existing is None:  # a resumed run may have opened it before it was interrupted
        found = await gh.list_open_pulls(inst, target.owner, target.name, head_prefix=branch)
        existing = next((p for p in found if p.head_ref == branch), None)
    if existing is not None:
        pull = await gh.update_pull(inst, target.owner, target.name, existing.number, title=title, body=report.markdown)
        return pull, False
    pull = await gh.create_pull(
        inst, target.owner, target.name, head=branch, base=repo.default_branch, title=title, body=report.markdown
    )
    return pull, True


async def label_and_check(ctx: BotContext, target: RunTarget, run: Run, number: int, report: RunReport) -> None:
    """Put the risk labels on PR #`number` and the gates check run on its commit."""
    assert report.commit is not None  # labels and a check run only for a run that made a commit
    await ctx.github.add_labels(target.installation_id, target.owner, target.name, number, risk_labels(report))
    conclusion, output = gates_check(report)
    await check_run_once(
        ctx,
        target,
        name="evolve/gates",
        head_sha=report.commit,
        external_id=f"run-{run.id}-gates",
        status="completed",
        conclusion=conclusion,
        output=output,
    )


async def report_bad_config(ctx: BotContext, target: RunTarget, run: Run, repo: RepoInfo, error: str) -> None:
    """An invalid `.github/evolve.yml`: a reply to whoever asked, else a failing `evolve/config` check run."""
    if run.comment_issue_number is not None:
        await reply(
            ctx,
            target,
            run.comment_issue_number,
            render("config_invalid", branch=code(repo.default_branch), error=block(error)),
            key=reply_key(run.id),
        )
        return
    mirror = await sync_mirror(ctx, target, repo)
    sha = mirror.branch_sha(repo.default_branch)
    if sha:
        await check_run_once(
            ctx,
            target,
            name="evolve/config",
            head_sha=sha,
            external_id=f"run-{run.id}-config",
            status="completed",
            conclusion="failure",
            output={"title": "Invalid .github/evolve.yml", "summary": render("check_config", error=block(error))},
        )
