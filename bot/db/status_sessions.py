"""Status-page logins: created at sign-in, looked up per request by the SHA-256 of the cookie's session id."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete

from bot.db._scope import Db, scope
from bot.db.models import StatusSession, as_utc, utcnow


@dataclass(frozen=True)
class Viewer:
    """Who is looking: the operator sees everything; a GitHub user sees the installations and repositories
    GitHub listed for them at login (`repository_ids` None means all, for the operator only)."""

    login: str
    operator: bool
    installation_ids: frozenset[int] | None
    repository_ids: frozenset[int] | None

    def sees_installation(self, installation_id: int | None) -> bool:
        """Whether this viewer may see an installation."""
        return self.installation_ids is None or installation_id in self.installation_ids

    def sees_repository(self, repository_id: int) -> bool:
        """Whether this viewer may see a repository."""
        return self.repository_ids is None or repository_id in self.repository_ids


OPERATOR = Viewer("operator", True, None, None)


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def create_session(db: Db, session_id: str, viewer: Viewer, lifetime: timedelta) -> None:
    """Store a login for `viewer` under `session_id`; expired logins are removed on the way."""
    now = utcnow()
    access = None
    if not viewer.operator:
        access = {
            "installations": sorted(viewer.installation_ids or ()),
            "repositories": sorted(viewer.repository_ids or ()),
        }
    with scope(db) as session:
        session.execute(delete(StatusSession).where(StatusSession.expires_at < now))
        session.add(
            StatusSession(
                id_hash=_hash(session_id),
                login=viewer.login,
                operator=viewer.operator,
                access=access,
                created_at=now,
                expires_at=now + lifetime,
            )
        )


def session_viewer(db: Db, session_id: str, now: datetime | None = None) -> Viewer | None:
    """The viewer of a live session, or None when it is unknown or expired."""
    with scope(db) as session:
        row = session.get(StatusSession, _hash(session_id))
        if row is None:
            return None
        expires = as_utc(row.expires_at)
        if expires is None or expires <= (now or utcnow()):
            return None
        if row.operator:
            return Viewer(row.login, True, None, None)
        access = row.access or {}
        return Viewer(
            row.login,
            False,
            frozenset(int(i) for i in access.get("installations", ())),
            frozenset(int(i) for i in access.get("repositories", ())),
        )


def end_session(db: Db, session_id: str) -> None:
    """Log out: the session stops working at once, whoever holds a copy of its cookie."""
    with scope(db) as session:
        session.execute(delete(StatusSession).where(StatusSession.id_hash == _hash(session_id)))
