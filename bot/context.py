"""The one object every handler and job receives: settings, database, GitHub gateway, job queue."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.github.api import GitHubAPI, GitHubNotConfigured
from bot.settings import Settings

if TYPE_CHECKING:  # pragma: no cover
    from bot.db.deliveries import NewDelivery
    from bot.db.models import Run
    from bot.db.run_request import RunRequest


class JobQueueInterface(Protocol):
    """What the steps below the job queue may ask of it (`bot.jobs.queue.JobQueue` implements it).

    The context depends on this interface, not on the queue, so nothing the queue runs imports it back.
    """

    works: bool

    @property
    def running(self) -> bool:
        """Whether the queue (and, for workers, the scheduler) is up."""
        ...

    async def accept_delivery(self, delivery: NewDelivery, parsed: Any = None) -> bool:
        """Record a verified delivery durably, then enqueue it; False for a duplicate."""
        ...

    async def enqueue_run(self, request: RunRequest) -> Run:
        """Create a queued run (once per idempotency key) and start a job for it."""
        ...

    async def set_schedule(self, repository_id: int, cron: str | None = None) -> None:
        """Install or replace a repository's cron schedule."""
        ...

    async def remove_schedule(self, repository_id: int) -> None:
        """Drop a repository's cron schedule."""
        ...

    async def start(self) -> None:
        """Start the queue's workers and scheduler."""
        ...

    async def stop(self) -> None:
        """Stop them; unfinished work stays queued in the database."""
        ...

    async def drain(self, timeout: float = 30.0) -> None:
        """Wait until every enqueued delivery and run of this process is done (for tests)."""
        ...


@dataclass
class BotContext:
    """Shared state of one bot process.

    `db` is a sessionmaker (`with ctx.db() as session: ...`); `engine` is the SQLAlchemy engine.
    `github` is the GitHub gateway (`bot.github.api.GitHubAPI`: the real `GitHubGateway` built by
    `bot.github.client.build_gateway(settings)`, or `GitHubNotConfigured` before `/setup`). `jobs` is the job queue, seen through :class:`JobQueueInterface` (assigned once the context exists: the queue takes it).
    """

    settings: Settings
    engine: Engine
    db: sessionmaker[Session]
    github: GitHubAPI = field(default_factory=GitHubNotConfigured)
    jobs: JobQueueInterface = field(init=False, repr=False)  # set by the app's start-up, which needs this context first
    extras: dict[str, Any] = field(default_factory=dict)  # room for tests and plugins

    def session(self) -> Session:
        """A new database session (use as a context manager)."""
        return self.db()
