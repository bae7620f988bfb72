"""Cron schedules, one part of `bot.jobs.queue.JobQueue`: one APScheduler schedule per enrolled repository."""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import suppress
from typing import TYPE_CHECKING, Any

from apscheduler import ConflictPolicy
from apscheduler.abc import Trigger

from bot.db import store
from bot.jobs.apscheduler_setup import cron_trigger

if TYPE_CHECKING:  # pragma: no cover
    from apscheduler import AsyncScheduler

    from bot.context import BotContext

log = logging.getLogger("bot.jobs")


def schedule_id(repository_id: int) -> str:
    """The APScheduler schedule id of a repository's cron schedule."""
    return f"repository-{repository_id}"


class Scheduling:
    """The schedule part of the job queue."""

    def __init__(self, ctx: BotContext, scheduler: AsyncScheduler | None, schedule_task: Callable[[int], Any]) -> None:
        self.ctx = ctx
        self.scheduler = scheduler
        self.schedule_task = schedule_task  # the APScheduler task a repository's cron schedule fires

    async def set_schedule(self, repository_id: int, cron: str | None = None) -> None:
        """Install or replace a repository's cron schedule (default: the stored one, weekly)."""
        if cron is not None:
            store.set_repository_schedule(self.ctx.db, repository_id, cron)
        else:
            repo = store.get_repository(self.ctx.db, repository_id)
            cron = repo.schedule if repo is not None else store.DEFAULT_SCHEDULE
        if self.scheduler is None:
            return
        trigger: Trigger = cron_trigger(cron)
        await self.scheduler.add_schedule(
            self.schedule_task,
            trigger,
            id=schedule_id(repository_id),
            args=[repository_id],
            conflict_policy=ConflictPolicy.replace,
            misfire_grace_time=3600,
        )

    async def remove_schedule(self, repository_id: int) -> None:
        """Drop a repository's cron schedule (unenrolment, uninstall, suspension)."""
        if self.scheduler is None:
            return
        with suppress(Exception):  # ScheduleLookupError when it was never scheduled
            await self.scheduler.remove_schedule(schedule_id(repository_id))

    async def schedules(self) -> dict[int, str]:
        """Scheduled repositories and their triggers' descriptions (for status and tests)."""
        if self.scheduler is None:
            return {}
        found = {}
        for schedule in await self.scheduler.get_schedules():
            if schedule.id.startswith("repository-"):
                found[int(schedule.id.split("-", 1)[1])] = repr(schedule.trigger)
        return found

    async def sync_schedules(self) -> None:
        """Make the scheduler's schedules match the enrolled repositories."""
        wanted = {repo.id: repo.schedule for repo in store.enrolled_repositories(self.ctx.db)}
        for repository_id in set(await self.schedules()) - set(wanted):
            await self.remove_schedule(repository_id)
        for repository_id, cron in wanted.items():
            try:
                await self.set_schedule(repository_id, cron)
            except ValueError:
                log.warning("repository %s has an invalid schedule %r", repository_id, cron)
