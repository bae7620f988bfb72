"""The bot's store API in one namespace: `from bot.db import store; store.create_run(ctx.db, ...)`.

Functions take `ctx.db` (a sessionmaker: each call is its own transaction) or an open `Session`
(the caller commits); `record_delivery` takes the engine, it is the intake hot path.
"""

from __future__ import annotations

from bot.db.command_comments import claim_command_comment
from bot.db.deliveries import (
    claim_delivery,
    count_deliveries,
    get_delivery,
    mark_delivery,
    pending_deliveries,
    record_delivery,
)
from bot.db.engine import (
    current_revision,
    head_revision,
    is_migrated,
    make_engine,
    make_sessionmaker,
    migrate,
)
from bot.db.github_writes import WriteIntent, record_write_done, record_write_intent
from bot.db.outcomes import acceptance_for, codemod_stats, record_outcome, record_proposed
from bot.db.repositories import (
    DEFAULT_SCHEDULE,
    enrolled_repositories,
    get_installation,
    get_repository,
    get_repository_by_name,
    repositories_of,
    set_repository,
    set_repository_paused,
    set_repository_schedule,
    upsert_installation,
    upsert_repository,
)
from bot.db.runs import (
    active_run,
    claim_next_run,
    claim_run,
    create_run,
    extend_run_lease,
    finish_run,
    get_run,
    get_run_by_key,
    recent_runs,
    record_attempts,
    record_metrics,
    requeue_stale_run,
    resumable_runs,
    runs_since,
    update_run,
)

__all__ = [
    "DEFAULT_SCHEDULE",
    "WriteIntent",
    "acceptance_for",
    "active_run",
    "claim_command_comment",
    "claim_delivery",
    "claim_next_run",
    "claim_run",
    "codemod_stats",
    "count_deliveries",
    "create_run",
    "current_revision",
    "enrolled_repositories",
    "extend_run_lease",
    "finish_run",
    "get_delivery",
    "get_installation",
    "get_repository",
    "get_repository_by_name",
    "get_run",
    "get_run_by_key",
    "head_revision",
    "is_migrated",
    "make_engine",
    "make_sessionmaker",
    "mark_delivery",
    "migrate",
    "pending_deliveries",
    "recent_runs",
    "record_attempts",
    "record_delivery",
    "record_metrics",
    "record_outcome",
    "record_proposed",
    "record_write_done",
    "record_write_intent",
    "repositories_of",
    "requeue_stale_run",
    "resumable_runs",
    "runs_since",
    "set_repository",
    "set_repository_paused",
    "set_repository_schedule",
    "update_run",
    "upsert_installation",
    "upsert_repository",
]
