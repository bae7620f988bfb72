"""Installation lifecycle: installs, uninstalls, suspensions and repository selection changes
enrol and unenrol repositories and their cron schedules."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from bot.db import store
from bot.routing import Event, Router

if TYPE_CHECKING:  # pragma: no cover
    from bot.context import BotContext
    from bot.db.models import Repository

log = logging.getLogger(__name__)
router = Router()


def _installation_fields(installation: Mapping[str, Any]) -> dict[str, Any]:
    account = installation.get("account")
    account = account if isinstance(account, dict) else {}
    return {
        "account_login": str(account.get("login") or ""),
        "account_type": str(account.get("type") or ""),
        "repository_selection": str(installation.get("repository_selection") or ""),
    }


def _repositories(items: Any) -> Iterable[Mapping[str, Any]]:
    for item in items if isinstance(items, list) else ():
        if isinstance(item, dict) and isinstance(item.get("id"), int) and item.get("full_name"):
            yield item


def _installation(event: Event) -> Mapping[str, Any]:
    installation = event.payload.get("installation")
    return installation if isinstance(installation, dict) else {}


async def _enrol(ctx: BotContext, installation_id: int, items: Any) -> list[int]:
    enrolled = []
    for item in _repositories(items):
        await asyncio.to_thread(
            store.upsert_repository,
            ctx.db,
            item["id"],
            str(item["full_name"]),
            installation_id,
            enrolled=True,
            default_branch=item.get("default_branch"),
            private=item.get("private"),
        )
        await ctx.jobs.set_schedule(item["id"])
        enrolled.append(item["id"])
    return enrolled


async def _unenrol(ctx: BotContext, repository_ids: Iterable[int]) -> None:
    for repository_id in repository_ids:
        await asyncio.to_thread(store.set_repository, ctx.db, repository_id, enrolled=False)
        await ctx.jobs.remove_schedule(repository_id)


@router.register("installation", "created")
async def installation_created(event: Event, ctx: BotContext) -> None:
    """A new installation: record it and enrol every repository it grants."""
    installation = _installation(event)
    if event.installation_id is None:
        return
    await asyncio.to_thread(
        store.upsert_installation,
        ctx.db,
        event.installation_id,
        suspended=False,
        deleted=False,
        **_installation_fields(installation),
    )
    await _enrol(ctx, event.installation_id, event.payload.get("repositories"))


@router.register("installation", "deleted")
async def installation_deleted(event: Event, ctx: BotContext) -> None:
    """Uninstalled: unenrol its repositories and drop their schedules (history is kept)."""
    if event.installation_id is None:
        return
    await asyncio.to_thread(
        store.upsert_installation,
        ctx.db,
        event.installation_id,
        deleted=True,
        **_installation_fields(_installation(event)),
    )
    repos = await asyncio.to_thread(store.repositories_of, ctx.db, event.installation_id)
    await _unenrol(ctx, [repo.id for repo in repos])


@router.register("installation", "suspend")
async def installation_suspended(event: Event, ctx: BotContext) -> None:
    """Suspended: keep enrolment, stop scheduled runs until unsuspended."""
    if event.installation_id is None:
        return
    await asyncio.to_thread(
        store.upsert_installation,
        ctx.db,
        event.installation_id,
        suspended=True,
        **_installation_fields(_installation(event)),
    )
    for repo in await asyncio.to_thread(store.repositories_of, ctx.db, event.installation_id):
        await ctx.jobs.remove_schedule(repo.id)


@router.register("installation", "unsuspend")
async def installation_unsuspended(event: Event, ctx: BotContext) -> None:
    """Unsuspended: restore the schedules of enrolled repositories."""
    if event.installation_id is None:
        return
    await asyncio.to_thread(
        store.upsert_installation,
        ctx.db,
        event.installation_id,
        suspended=False,
        deleted=False,
        **_installation_fields(_installation(event)),
    )
    for repo in await asyncio.to_thread(store.repositories_of, ctx.db, event.installation_id, enrolled_only=True):
        await ctx.jobs.set_schedule(repo.id)


@router.register("installation", "new_permissions_accepted")
async def installation_updated(event: Event, ctx: BotContext) -> None:
    """Permissions changed: refresh the installation row."""
    if event.installation_id is not None:
        await asyncio.to_thread(
            store.upsert_installation, ctx.db, event.installation_id, **_installation_fields(_installation(event))
        )


@router.register("installation_repositories", "added")
async def repositories_added(event: Event, ctx: BotContext) -> None:
    """Repositories added to the installation's selection are enrolled."""
    if event.installation_id is None:
        return
    if (await asyncio.to_thread(store.get_installation, ctx.db, event.installation_id)) is None:
        await asyncio.to_thread(
            store.upsert_installation, ctx.db, event.installation_id, **_installation_fields(_installation(event))
        )
    await _enrol(ctx, event.installation_id, event.payload.get("repositories_added"))


@router.register("installation_repositories", "removed")
async def repositories_removed(event: Event, ctx: BotContext) -> None:
    """Repositories removed from the selection are unenrolled and unscheduled."""
    ids = [item["id"] for item in _repositories(event.payload.get("repositories_removed"))]
    known = [rid for rid in ids if (await asyncio.to_thread(store.get_repository, ctx.db, rid)) is not None]
    await _unenrol(ctx, known)


async def ensure_repository(ctx: BotContext, event: Event) -> Repository | None:
    """The stored repository of an event, created (enrolled, scheduled) when first seen.

    Events from an installation prove the app is installed there, even if the install happened
    before this bot's database existed. Returns None when the payload names no repository.
    """
    repo = event.repository
    repository_id = repo.get("id")
    if not isinstance(repository_id, int) or not repo.get("full_name"):
        return None
    existing = await asyncio.to_thread(store.get_repository, ctx.db, repository_id)
    if existing is not None and existing.full_name == repo["full_name"]:
        return existing
    if (
        event.installation_id is not None
        and (await asyncio.to_thread(store.get_installation, ctx.db, event.installation_id)) is None
    ):
        await asyncio.to_thread(
            store.upsert_installation, ctx.db, event.installation_id, **_installation_fields(_installation(event))
        )
    row = await asyncio.to_thread(
        store.upsert_repository,
        ctx.db,
        repository_id,
        str(repo["full_name"]),
        event.installation_id,
        enrolled=None if existing is not None else True,
        default_branch=repo.get("default_branch"),
        private=repo.get("private"),
    )
    if existing is None:
        await ctx.jobs.set_schedule(repository_id)
    return row
