"""The one object every handler and job receives: settings, database, GitHub gateway, job queue."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.github.api import GitHubAPI, GitHubNotConfigured
from bot.settings import Settings

if TYPE_CHECKING:  # pragma: no cover
    from bot.jobs.queue import JobQueue


@dataclass
class BotContext:
    """Shared state of one bot process.

    `db` is a sessionmaker (`with ctx.db() as session: ...`); `engine` is the SQLAlchemy engine.
    `github` is the GitHub gateway (`bot.github.api.GitHubAPI`: the real `GitHubGateway` built by
    `bot.github.client.build_gateway(settings)`, or `GitHubNotConfigured` before `/setup`). `jobs` is the :class:`bot.jobs.queue.JobQueue` facade (assigned once the context exists: the queue takes it).
    """

    settings: Settings
    engine: Engine
    db: sessionmaker[Session]
    github: GitHubAPI = field(default_factory=GitHubNotConfigured)
    jobs: JobQueue = field(init=False, repr=False)  # set by the app's start-up, which needs this context first
    extras: dict[str, Any] = field(default_factory=dict)  # room for tests and plugins

    def session(self) -> Session:
        """A new database session (use as a context manager)."""
        return self.db()
