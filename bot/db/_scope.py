"""One calling convention for store functions: pass `ctx.db` (a sessionmaker) or an open Session."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Union

from sqlalchemy.orm import Session, sessionmaker

Db = Union["sessionmaker[Session]", Session]


@contextmanager
def scope(db: Db) -> Iterator[Session]:
    """A sessionmaker gets its own committed transaction; a Session is used as is (caller commits)."""
    if isinstance(db, Session):
        yield db
        db.flush()
        return
    with db.begin() as session:
        yield session
