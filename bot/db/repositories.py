"""Installations and repositories: who installed the app, and which repositories are enrolled."""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import sessionmaker

from bot.db._scope import Db, scope
from bot.db.models import Installation, Repository

DEFAULT_SCHEDULE = "0 6 * * 1"


def upsert_installation(db: Db, installation_id: int, **fields: Any) -> Installation:
    """Create or update an installation (fields: account_login, account_type, repository_selection,
    suspended, deleted)."""
    try:
        return _upsert_installation(db, installation_id, **fields)
    except IntegrityError:  # another delivery created it between our read and our insert: update it instead
        if not isinstance(db, sessionmaker):
            raise  # the caller's own transaction is spoilt; it decides
        return _upsert_installation(db, installation_id, **fields)


def _upsert_installation(db: Db, installation_id: int, **fields: Any) -> Installation:
    clean = {key: value for key, value in fields.items() if value is not None}
    with scope(db) as session:
        row = session.get(Installation, installation_id)
        if row is None:
            row = Installation(id=installation_id, **clean)
            session.add(row)
        else:
            for key, value in clean.items():
                setattr(row, key, value)
        session.flush()
        return row


def get_installation(db: Db, installation_id: int) -> Installation | None:
    """One installation by GitHub id."""
    with scope(db) as session:
        return session.get(Installation, installation_id)


def upsert_repository(
    db: Db,
    repository_id: int,
    full_name: str,
    installation_id: int | None,
    *,
    enrolled: bool | None = True,
    default_branch: str | None = None,
    private: bool | None = None,
) -> Repository:
    """Create or update a repository; a new one gets the default weekly schedule."""
    upsert = functools.partial(
        _upsert_repository,
        db,
        repository_id,
        full_name,
        installation_id,
        enrolled=enrolled,
        default_branch=default_branch,
        private=private,
    )
    try:
        return upsert()
    except IntegrityError:  # another delivery created it between our read and our insert: update it instead
        if not isinstance(db, sessionmaker):
            raise  # the caller's own transaction is spoilt; it decides
        return upsert()


def _upsert_repository(
    db: Db,
    repository_id: int,
    full_name: str,
    installation_id: int | None,
    *,
    enrolled: bool | None,
    default_branch: str | None,
    private: bool | None,
) -> Repository:
    with scope(db) as session:
        row = session.get(Repository, repository_id)
        if row is None:
            row = Repository(
                id=repository_id,
                full_name=full_name,
                installation_id=installation_id,
                enrolled=True if enrolled is None else enrolled,
                paused=False,
                schedule=DEFAULT_SCHEDULE,
                default_branch=default_branch or "main",
                private=bool(private),
            )
            session.add(row)
        else:
            row.full_name = full_name
            row.installation_id = installation_id
            if enrolled is not None:
                row.enrolled = enrolled
            if default_branch:
                row.default_branch = default_branch
            if private is not None:
                row.private = private
        session.flush()
        return row


def get_repository(db: Db, repository_id: int) -> Repository | None:
    """One repository by GitHub id."""
    with scope(db) as session:
        return session.get(Repository, repository_id)


def get_repository_by_name(db: Db, full_name: str) -> Repository | None:
    """One repository by `owner/name` (case-insensitive, as on GitHub)."""
    with scope(db) as session:
        rows = session.scalars(select(Repository).where(Repository.full_name.ilike(full_name)))
        return rows.first()


def set_repository(db: Db, repository_id: int, **fields: Any) -> None:
    """Update fields of a repository: enrolled, paused, schedule, default_branch, full_name."""
    with scope(db) as session:
        session.execute(
            update(Repository)
            .where(Repository.id == repository_id)
            .values(**fields)
            .execution_options(synchronize_session=False)
        )


def set_repository_paused(db: Db, repository_id: int, paused: bool) -> None:
    """The pause switch (`/evolve pause` / `resume`)."""
    set_repository(db, repository_id, paused=paused)


def set_repository_schedule(db: Db, repository_id: int, schedule: str) -> None:
    """Store a repository's cron expression (the job queue applies it with `set_schedule`)."""
    set_repository(db, repository_id, schedule=schedule)


def repositories_of(db: Db, installation_id: int, *, enrolled_only: bool = False) -> list[Repository]:
    """The repositories of one installation, sorted by name."""
    with scope(db) as session:
        query = select(Repository).where(Repository.installation_id == installation_id)
        if enrolled_only:
            query = query.where(Repository.enrolled.is_(True))
        return list(session.scalars(query.order_by(Repository.full_name)))


def enrolled_repositories(db: Db) -> list[Repository]:
    """Every enrolled repository of a live (not suspended, not deleted) installation."""
    with scope(db) as session:
        query = (
            select(Repository)
            .join(Installation, Installation.id == Repository.installation_id)
            .where(Repository.enrolled.is_(True), Installation.suspended.is_(False), Installation.deleted.is_(False))
            .order_by(Repository.full_name)
        )
        return list(session.scalars(query))
