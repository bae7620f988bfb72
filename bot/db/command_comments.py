"""Which comments' commands were acted on: the store side of "a command acts once per comment"."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from bot.db._scope import Db, scope
from bot.db.models import CommandComment


def claim_command_comment(
    db: Db, comment_id: int, updated_at: str, delivery_id: str, *, repository_id: int | None, verb: str
) -> bool:
    """Claim (comment id, edit time) for `delivery_id`; False when another delivery already acted on it.

    The same delivery may claim again: a job retried after a crash finishes what it started.
    """
    key = updated_at[:40]
    try:
        with scope(db) as session:
            session.add(
                CommandComment(
                    comment_id=comment_id,
                    updated_at=key,
                    delivery_id=delivery_id[:64],
                    repository_id=repository_id,
                    verb=verb[:16],
                )
            )
        return True
    except IntegrityError:
        with scope(db) as session:
            owner = session.scalar(
                select(CommandComment.delivery_id).where(
                    CommandComment.comment_id == comment_id, CommandComment.updated_at == key
                )
            )
        return owner == delivery_id[:64]
