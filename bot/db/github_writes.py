"""The store side of effectively-once GitHub writes: intent before the write, done after it."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from bot.db._scope import Db, scope
from bot.db.models import GitHubWrite


@dataclass(frozen=True)
class WriteIntent:
    """What the store knew of a write key when its intent was recorded."""

    fresh: bool  # no earlier attempt: write without looking
    done: bool  # an earlier attempt wrote it and recorded so
    result_id: int | None = None


def record_write_intent(db: Db, key: str, kind: str) -> WriteIntent:
    """Record the intent to write `key` (once); what an earlier attempt left when there was one."""
    key = key[:200]
    try:
        with scope(db) as session:
            session.add(GitHubWrite(key=key, kind=kind[:16], done=False))
        return WriteIntent(fresh=True, done=False)
    except IntegrityError:
        with scope(db) as session:
            row = session.scalar(select(GitHubWrite).where(GitHubWrite.key == key))
            if row is None:  # deleted in between: treat as an earlier, unfinished attempt
                return WriteIntent(fresh=False, done=False)
            return WriteIntent(fresh=False, done=row.done, result_id=row.result_id)


def record_write_done(db: Db, key: str, result_id: int | None) -> None:
    """Record that the write of `key` reached GitHub (and what GitHub called it)."""
    with scope(db) as session:
        session.execute(update(GitHubWrite).where(GitHubWrite.key == key[:200]).values(done=True, result_id=result_id))
