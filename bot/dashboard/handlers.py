"""Keep the dashboard issue: open it when the App is installed, redraw it after runs and reviews, and act on
the boxes a maintainer ticks.

`issues.edited` on the dashboard, by someone with write access (the App's own edits are ignored):
skip and pause boxes become the stored state, a ticked "run next" box queues a run with that theme,
a ticked retry box queues the failed run's theme again; then the issue is redrawn, all in one job.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from bot.dashboard.body import render_dashboard
from bot.dashboard.checkboxes import MARKER, DashboardRequests, read_requests
from bot.dashboard.collect import collect_view
from bot.db.dashboard import (
    claim_redraw,
    dashboard_state,
    drop_redraw_lease,
    release_redraw,
    retry_focus,
    save_dashboard,
    skipped_themes,
)
from bot.db.models import utcnow
from bot.db.pull_lifecycle import states_newer_than_dashboard
from bot.db.repositories import get_repository, set_repository_paused
from bot.db.run_request import RunRequest
from bot.github.api import GitHubNotConfigured
from bot.github.client import IssueInfo
from bot.github.run_target import BRANCH_PREFIX, RunTarget
from bot.handlers.repo_config import ConfigProblem, load_repo_config
from bot.routing import Event, Router, is_bot
from evolve.configuration.model import EvolveConfig

if TYPE_CHECKING:  # pragma: no cover
    from bot.context import BotContext

log = logging.getLogger(__name__)
router = Router()
TITLE = "Evolve dashboard"


def _target(ctx: BotContext, repository_id: int) -> RunTarget | None:
    repo = get_repository(ctx.db, repository_id)
    if repo is None or repo.installation_id is None or "/" not in repo.full_name:
        return None
    return RunTarget.of(repo.id, repo.installation_id, repo.full_name)


async def _config(ctx: BotContext, target: RunTarget) -> tuple[EvolveConfig, str]:
    try:
        return (await load_repo_config(ctx, target))[0], ""
    except ConfigProblem as problem:
        return EvolveConfig(), str(problem)


async def _find_dashboard(ctx: BotContext, target: RunTarget) -> IssueInfo | None:
    """The open issue carrying the dashboard marker, opened by the App (when the store lost its number)."""
    issues = await ctx.github.list_open_issues(
        target.installation_id, target.owner, target.name, ctx.settings.bot_identity
    )
    return next((issue for issue in issues if MARKER in issue.body), None)


async def _dashboard_issue(ctx: BotContext, target: RunTarget, body: str) -> tuple[IssueInfo, bool]:
    """The repository's open dashboard issue, found by number, else by marker, else opened with `body`."""
    gh, args = ctx.github, (target.installation_id, target.owner, target.name)
    number, _pages = await asyncio.to_thread(dashboard_state, ctx.db, target.repository_id)
    issue = await gh.get_open_issue(*args, number) if number is not None else None
    if issue is None or MARKER not in issue.body:
        issue = await _find_dashboard(ctx, target)
    if issue is not None:
        return issue, False
    created = await gh.create_issue(*args, TITLE, body)
    await asyncio.to_thread(
        save_dashboard, ctx.db, target.repository_id, issue_number=created.number, page_comment_ids={"ids": []}
    )
    return created, True


async def _write_pages(ctx: BotContext, target: RunTarget, issue: IssueInfo, pages: tuple[str, ...]) -> tuple[str, ...]:
    """Put the history pages in the issue's comments (reusing earlier ones); their web addresses."""
    gh, args = ctx.github, (target.installation_id, target.owner, target.name)
    stored_number, ids = await asyncio.to_thread(dashboard_state, ctx.db, target.repository_id)
    ids = ids if stored_number == issue.number else []
    urls: list[str] = []
    kept: list[int] = []
    for index, page in enumerate(pages):
        if index < len(ids) and await gh.update_comment(*args, ids[index], page):
            comment_id = ids[index]
        else:
            comment_id = await gh.create_comment(*args, issue.number, page)
        kept.append(comment_id)
        urls.append(issue.comment_url(comment_id))
    for spare in ids[len(pages) :]:  # fewer pages than before: keep the comment, say it is empty
        if await gh.update_comment(*args, spare, "<!-- evolve:dashboard-page:spare -->\n(empty page)"):
            kept.append(spare)
    await asyncio.to_thread(
        save_dashboard, ctx.db, target.repository_id, issue_number=issue.number, page_comment_ids={"ids": kept}
    )
    return tuple(urls)


async def refresh_dashboard(ctx: BotContext, repository_id: int) -> int | None:
    """Create or redraw the repository's dashboard issue; its number, or None when off or not possible.

    One worker draws a repository's dashboard at a time, across processes (the redraw lease in
    `bot.db.dashboard`): a run ending and a PR closing at the same moment never open two dashboards.
    A worker that finds the lease taken asks its holder to draw once more and returns the stored number.
    """
    if not await asyncio.to_thread(claim_redraw, ctx.db, repository_id):
        return (await asyncio.to_thread(dashboard_state, ctx.db, repository_id))[0]
    try:
        while True:
            number = await _redraw(ctx, repository_id)
            if not await asyncio.to_thread(release_redraw, ctx.db, repository_id):
                return number
    except BaseException:
        await asyncio.to_thread(drop_redraw_lease, ctx.db, repository_id)
        raise


async def _redraw(ctx: BotContext, repository_id: int) -> int | None:
    target = await asyncio.to_thread(_target, ctx, repository_id)
    if target is None or isinstance(ctx.github, GitHubNotConfigured):
        return None
    config, note = await _config(ctx, target)
    if not config.dashboard:
        return None
    pulls = await ctx.github.list_open_pulls(
        target.installation_id, target.owner, target.name, head_prefix=BRANCH_PREFIX
    )
    drawn_at = utcnow()  # the PR states it shows are those of this moment (`states_newer_than_dashboard`)
    view = await asyncio.to_thread(collect_view, ctx.db, repository_id, pulls, config, note)
    first = render_dashboard(view)
    issue, created = await _dashboard_issue(ctx, target, first.body)
    urls = await _write_pages(ctx, target, issue, first.pages)
    body = render_dashboard(view, urls).body
    if not created or body != first.body:
        await ctx.github.update_issue(target.installation_id, target.owner, target.name, issue.number, body)
    await asyncio.to_thread(save_dashboard, ctx.db, repository_id, updated_at=drawn_at)
    return issue.number


async def refresh_quietly(ctx: BotContext, repository_id: int) -> None:
    """Redraw the dashboard, logging (not raising) a failure: a run's outcome must not depend on it."""
    try:
        await refresh_dashboard(ctx, repository_id)
    except Exception:
        log.exception("could not redraw the dashboard of repository %s", repository_id)


def _apply_state(ctx: BotContext, repository_id: int, requests: DashboardRequests) -> frozenset[str]:
    """Store the skip and pause boxes' state; the themes now skipped."""
    shown, before = requests.shown_skip_boxes, skipped_themes(ctx.db, repository_id)
    skipped = (before - shown) | requests.skipped
    save_dashboard(ctx.db, repository_id, skipped_themes={"themes": sorted(skipped)})
    repo = get_repository(ctx.db, repository_id)
    if requests.paused is not None and repo is not None and repo.paused != requests.paused:
        set_repository_paused(ctx.db, repository_id, requests.paused)
    return skipped


async def _apply(
    ctx: BotContext, event: Event, target: RunTarget, requests: DashboardRequests, issue: dict[str, Any]
) -> None:
    skipped = await asyncio.to_thread(_apply_state, ctx, target.repository_id, requests)
    edited = str(issue.get("updated_at") or event.delivery_id)
    number = int(issue["number"])
    queued: list[tuple[str, str | None]] = [("run", theme) for theme in requests.run_next if theme not in skipped]
    for run_id in requests.retry:
        failed, focus = await asyncio.to_thread(retry_focus, ctx.db, target.repository_id, run_id)
        if failed:
            queued.append((f"retry:{run_id}", focus))
    for kind, focus in queued:
        key = f"dashboard:{target.repository_id}:{kind}:{focus if kind == 'run' else ''}:{edited}"
        await ctx.jobs.enqueue_run(
            RunRequest(
                target.repository_id,
                "dashboard",
                focus=focus,
                requested_by=event.sender_login,
                comment_issue_number=number,
                idempotency_key=key[:255],
                delivery_id=event.delivery_id,
            )
        )


@router.register("installation", "created")
@router.register("installation_repositories", "added")
async def on_installed(event: Event, ctx: BotContext) -> None:
    """The App was installed or repositories were added: open each one's dashboard now (unless its config
    says `dashboard: false`), not only after its first run. A failure is logged; the next run draws it."""
    key = "repositories" if event.name == "installation" else "repositories_added"
    items = event.payload.get(key)
    for item in items if isinstance(items, list) else ():
        repository_id = item.get("id") if isinstance(item, dict) else None
        if isinstance(repository_id, int):
            await refresh_quietly(ctx, repository_id)


@router.register("issues", "edited")
async def on_dashboard_edited(event: Event, ctx: BotContext) -> None:
    """A person edited the dashboard: act on the boxes, then redraw it."""
    issue = event.payload.get("issue")
    repo_id = event.repository.get("id")
    if not isinstance(issue, dict) or not isinstance(repo_id, int) or event.installation_id is None:
        return
    body = str(issue.get("body") or "")
    if MARKER not in body or not is_bot(issue.get("user"), ctx.settings.bot_identity):
        return  # not the App's dashboard (anyone can paste the marker into their own issue)
    if is_bot(event.payload.get("sender"), ctx.settings.bot_identity):
        return  # our own redraw, or another bot
    target = await asyncio.to_thread(_target, ctx, repo_id)
    stored_number, _pages = await asyncio.to_thread(dashboard_state, ctx.db, repo_id)
    if target is None or stored_number != issue.get("number"):
        return
    user = event.sender_login or ""
    if await ctx.github.can_write(target.installation_id, target.owner, target.name, user):
        await _apply(ctx, event, target, read_requests(body), issue)
    else:
        log.info("dashboard of %s edited by %s without write access: ticks ignored", target.full_name, user)
    await refresh_dashboard(ctx, repo_id)  # shows the true state again, whoever edited


@router.register("check_suite", "completed")
@router.register("check_run", "completed")
@router.register("workflow_run", "completed")
@router.register("status")
@router.register("pull_request_review", "submitted")
async def on_ci_state(event: Event, ctx: BotContext) -> None:
    """The repository's CI moved an Evolve PR to a new state (green, stopped: why): show it (only when one did)."""
    repo_id = event.repository.get("id")
    if isinstance(repo_id, int) and await asyncio.to_thread(states_newer_than_dashboard, ctx.db, repo_id):
        await refresh_quietly(ctx, repo_id)


@router.register("pull_request", "closed")
async def on_pull_closed(event: Event, ctx: BotContext) -> None:
    """An Evolve PR was merged or closed: the outcome and the learned acceptance changed."""
    pull = event.payload.get("pull_request")
    head = pull.get("head") if isinstance(pull, dict) else None
    repo_id = event.repository.get("id")
    if isinstance(head, dict) and str(head.get("ref") or "").startswith(BRANCH_PREFIX) and isinstance(repo_id, int):
        await refresh_quietly(ctx, repo_id)
