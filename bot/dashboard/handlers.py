"""Keep the dashboard issue: redraw it after runs and reviews, and act on the boxes a maintainer ticks.

`issues.edited` on the dashboard, by someone with write access (the App's own edits are ignored):
skip and pause boxes become the stored state, a ticked "run next" box queues a run with that theme,
a ticked retry box queues the failed run's theme again; then the issue is redrawn, all in one job.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from bot.command_handlers import is_bot
from bot.dashboard import issue_api
from bot.dashboard.body import render_dashboard
from bot.dashboard.checkboxes import MARKER, DashboardRequests, read_requests
from bot.dashboard.collect import collect_view, skipped_themes
from bot.db.models import DashboardIssue, Run
from bot.db.repositories import get_repository, set_repository_paused
from bot.github_run import BRANCH_PREFIX, ConfigProblem, RunTarget, load_repo_config
from bot.routing import Event, Router
from evolve.config import EvolveConfig
from evolve.run_status import RunStatus

log = logging.getLogger(__name__)
router = Router()
TITLE = "Evolve dashboard"


def _target(ctx: Any, repository_id: int) -> RunTarget | None:
    repo = get_repository(ctx.db, repository_id)
    if repo is None or repo.installation_id is None or "/" not in repo.full_name:
        return None
    owner, name = repo.full_name.split("/", 1)
    return RunTarget(repo.id, repo.installation_id, owner, name)


def _stored(ctx: Any, repository_id: int) -> tuple[int | None, list[int]]:
    with ctx.db() as session:
        row = session.get(DashboardIssue, repository_id)
        if row is None:
            return None, []
        return row.issue_number, [int(i) for i in (row.page_comment_ids or {}).get("ids", [])]


def _store(ctx: Any, repository_id: int, **values: Any) -> None:
    with ctx.db.begin() as session:
        row = session.get(DashboardIssue, repository_id)
        if row is None:
            row = DashboardIssue(repository_id=repository_id)
            session.add(row)
        for key, value in values.items():
            setattr(row, key, value)


async def _config(ctx: Any, target: RunTarget) -> tuple[EvolveConfig, str]:
    try:
        return (await load_repo_config(ctx, target))[0], ""
    except ConfigProblem as problem:
        return EvolveConfig(), str(problem)


async def _dashboard_issue(ctx: Any, target: RunTarget, body: str) -> tuple[issue_api.IssueRef, bool]:
    """The repository's open dashboard issue, found by number, else by marker, else opened with `body`."""
    gh, args = ctx.github, (target.installation_id, target.owner, target.name)
    number, _pages = await asyncio.to_thread(_stored, ctx, target.repository_id)
    issue = await issue_api.get_issue(gh, *args, number) if number is not None else None
    if issue is None or MARKER not in issue.body:
        issue = await issue_api.find_dashboard(gh, *args, f"{ctx.settings.app_slug}[bot]")
    if issue is not None:
        return issue, False
    created = await issue_api.create_issue(gh, *args, TITLE, body)
    await asyncio.to_thread(
        _store, ctx, target.repository_id, issue_number=created.number, page_comment_ids={"ids": []}
    )
    return created, True


async def _write_pages(ctx: Any, target: RunTarget, number: int, pages: tuple[str, ...]) -> tuple[str, ...]:
    """Put the history pages in the issue's comments (reusing earlier ones); their web addresses."""
    gh, args = ctx.github, (target.installation_id, target.owner, target.name)
    stored_number, ids = await asyncio.to_thread(_stored, ctx, target.repository_id)
    ids = ids if stored_number == number else []
    urls: list[str] = []
    kept: list[int] = []
    for index, page in enumerate(pages):
        url = await issue_api.update_comment(gh, *args, ids[index], page) if index < len(ids) else None
        if url is None:
            comment_id, url = await issue_api.create_comment(gh, *args, number, page)
        else:
            comment_id = ids[index]
        kept.append(comment_id)
        urls.append(url)
    for spare in ids[len(pages) :]:  # fewer pages than before: keep the comment, say it is empty
        if await issue_api.update_comment(gh, *args, spare, "<!-- evolve:dashboard-page:spare -->\n(empty page)"):
            kept.append(spare)
    await asyncio.to_thread(_store, ctx, target.repository_id, issue_number=number, page_comment_ids={"ids": kept})
    return tuple(urls)


async def refresh_dashboard(ctx: Any, repository_id: int) -> int | None:
    """Create or redraw the repository's dashboard issue; its number, or None when off or not possible.

    A run ending and a PR closing at the same moment must not open two dashboards: redraws of one
    repository are serialised (within a process; across processes the marker search finds the first).
    """
    locks: dict[int, asyncio.Lock] = ctx.extras.setdefault("dashboard_redraws", {})  # per app, per event loop
    async with locks.setdefault(repository_id, asyncio.Lock()):
        return await _redraw(ctx, repository_id)


async def _redraw(ctx: Any, repository_id: int) -> int | None:
    target = await asyncio.to_thread(_target, ctx, repository_id)
    if target is None or ctx.github is None:
        return None
    config, note = await _config(ctx, target)
    if not config.dashboard:
        return None
    pulls = await ctx.github.list_open_pulls(
        target.installation_id, target.owner, target.name, head_prefix=BRANCH_PREFIX
    )
    view = await asyncio.to_thread(collect_view, ctx.db, repository_id, pulls, config, note)
    first = render_dashboard(view)
    issue, created = await _dashboard_issue(ctx, target, first.body)
    urls = await _write_pages(ctx, target, issue.number, first.pages)
    body = render_dashboard(view, urls).body
    if not created or body != first.body:
        await issue_api.update_issue_body(
            ctx.github, target.installation_id, target.owner, target.name, issue.number, body
        )
    return issue.number


async def refresh_quietly(ctx: Any, repository_id: int) -> None:
    """Redraw the dashboard, logging (not raising) a failure: a run's outcome must not depend on it."""
    try:
        await refresh_dashboard(ctx, repository_id)
    except Exception:
        log.exception("could not redraw the dashboard of repository %s", repository_id)


def _apply_state(ctx: Any, repository_id: int, requests: DashboardRequests) -> frozenset[str]:
    """Store the skip and pause boxes' state; the themes now skipped."""
    shown, before = requests.shown_skip_boxes, skipped_themes(ctx.db, repository_id)
    skipped = (before - shown) | requests.skipped
    _store(ctx, repository_id, skipped_themes={"themes": sorted(skipped)})
    repo = get_repository(ctx.db, repository_id)
    if requests.paused is not None and repo is not None and repo.paused != requests.paused:
        set_repository_paused(ctx.db, repository_id, requests.paused)
    return skipped


def _retry_focus(ctx: Any, repository_id: int, run_id: int) -> tuple[bool, str | None]:
    """Whether run `run_id` is a failed run of this repository, and the theme to try again."""
    with ctx.db() as session:
        run = session.get(Run, run_id)
        if run is None or run.repository_id != repository_id:
            return False, None
        return run.status in (RunStatus.FAILED.value, RunStatus.ERROR.value), run.theme or run.focus


async def _apply(ctx: Any, event: Event, target: RunTarget, requests: DashboardRequests, issue: dict[str, Any]) -> None:
    skipped = await asyncio.to_thread(_apply_state, ctx, target.repository_id, requests)
    edited = str(issue.get("updated_at") or event.delivery_id)
    number = int(issue["number"])
    queued: list[tuple[str, str | None]] = [("run", theme) for theme in requests.run_next if theme not in skipped]
    for run_id in requests.retry:
        failed, focus = await asyncio.to_thread(_retry_focus, ctx, target.repository_id, run_id)
        if failed:
            queued.append((f"retry:{run_id}", focus))
    for kind, focus in queued:
        key = f"dashboard:{target.repository_id}:{kind}:{focus if kind == 'run' else ''}:{edited}"
        await ctx.jobs.enqueue_run(
            target.repository_id,
            "dashboard",
            focus=focus,
            requested_by=event.sender_login,
            comment_issue_number=number,
            idempotency_key=key[:255],
            delivery_id=event.delivery_id,
        )


@router.register("issues", "edited")
async def on_dashboard_edited(event: Event, ctx: Any) -> None:
    """A person edited the dashboard: act on the boxes, then redraw it."""
    issue = event.payload.get("issue")
    repo_id = event.repository.get("id")
    if not isinstance(issue, dict) or not isinstance(repo_id, int) or event.installation_id is None:
        return
    body = str(issue.get("body") or "")
    if MARKER not in body or not is_bot(issue.get("user"), ctx.settings.bot_login):
        return  # not the App's dashboard (anyone can paste the marker into their own issue)
    if is_bot(event.payload.get("sender"), ctx.settings.bot_login):
        return  # our own redraw, or another bot
    target = await asyncio.to_thread(_target, ctx, repo_id)
    stored_number, _pages = await asyncio.to_thread(_stored, ctx, repo_id)
    if target is None or stored_number != issue.get("number"):
        return
    user = event.sender_login or ""
    if await ctx.github.can_write(target.installation_id, target.owner, target.name, user):
        await _apply(ctx, event, target, read_requests(body), issue)
    else:
        log.info("dashboard of %s edited by %s without write access: ticks ignored", target.full_name, user)
    await refresh_dashboard(ctx, repo_id)  # shows the true state again, whoever edited


@router.register("pull_request", "closed")
async def on_pull_closed(event: Event, ctx: Any) -> None:
    """An Evolve PR was merged or closed: the outcome and the learned acceptance changed."""
    pull = event.payload.get("pull_request")
    head = pull.get("head") if isinstance(pull, dict) else None
    repo_id = event.repository.get("id")
    if isinstance(head, dict) and str(head.get("ref") or "").startswith(BRANCH_PREFIX) and isinstance(repo_id, int):
        await refresh_quietly(ctx, repo_id)
