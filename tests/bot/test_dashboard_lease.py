"""The dashboard's redraw lease: one drawer per repository across workers, a redraw asked for meanwhile is not
lost, a dead drawer's lease is taken over. On SQLite, and on PostgreSQL when a server runs on 127.0.0.1:5432."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from bot.db import store
from bot.db.dashboard import REDRAW_LEASE, claim_redraw, drop_redraw_lease, release_redraw
from bot.db.models import utcnow
from tests.bot.conftest import postgres_reachable

SERVER = "postgresql://postgres@127.0.0.1:5432"


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[object]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'evolve.db'}"
        admin = None
    else:
        if not postgres_reachable():
            pytest.skip("no PostgreSQL server on 127.0.0.1:5432")
        name = f"evolve_test_{uuid.uuid4().hex[:10]}"
        admin = create_engine(
            f"{SERVER.replace('postgresql:', 'postgresql+psycopg:')}/test", isolation_level="AUTOCOMMIT"
        )
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        url = f"{SERVER}/{name}"
    store.migrate(url)
    engine = store.make_engine(url)
    yield store.make_sessionmaker(engine)
    engine.dispose()
    if admin is not None:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_one_drawer_and_a_redraw_asked_for_meanwhile_is_kept(db) -> None:
    assert claim_redraw(db, 7)
    assert not claim_redraw(db, 7)  # another worker: asks the holder to draw again
    assert claim_redraw(db, 8)  # another repository is independent
    assert release_redraw(db, 7)  # asked for: the holder keeps the lease and draws again
    assert not release_redraw(db, 7)  # nothing new: released
    assert claim_redraw(db, 7)  # free again
    drop_redraw_lease(db, 7)
    assert claim_redraw(db, 7)


def test_a_dead_drawers_lease_is_taken_over(db) -> None:
    assert claim_redraw(db, 7, now=utcnow() - REDRAW_LEASE - timedelta(seconds=1))
    assert claim_redraw(db, 7)  # the first holder died while drawing
    assert not claim_redraw(db, 7)


def test_many_workers_at_once_one_holds_it(db) -> None:
    barrier = threading.Barrier(8)
    won: list[bool] = []

    def claim() -> None:
        barrier.wait()
        won.append(claim_redraw(db, 9))

    threads = [threading.Thread(target=claim) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(won) == [False] * 7 + [True]
    assert release_redraw(db, 9)  # the seven asked for one more redraw, which the holder does
    assert not release_redraw(db, 9)
