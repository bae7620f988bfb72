"""The learning table of `/evolve status`, cached per version of the repository row: every write that changes what
was learned (an outcome, a proposal, a review) moves the version, so a cached table is never shown stale, in this
process or another one reading the same database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.db import store
from bot.db.run_request import RunRequest
from bot.outcomes.acceptance import learning_table, record_review

REPO = 4711


@pytest.fixture
def db(tmp_path: Path) -> Iterator[object]:
    url = f"sqlite:///{tmp_path / 'evolve.db'}"
    store.migrate(url)
    engine = store.make_engine(url)
    sessions = store.make_sessionmaker(engine)
    store.upsert_installation(sessions, 1, account_login="octo-org")
    store.upsert_repository(sessions, REPO, "octo-org/sample", 1)
    yield sessions
    engine.dispose()


def _version(db: object) -> object:
    row = store.get_repository(db, REPO)
    assert row is not None
    return row.updated_at


def _row(db: object, codemod: str) -> tuple[int, int, int, int, int]:
    table = {row.codemod: row for row in learning_table(db, REPO, version=_version(db))}
    row = table[codemod]
    return row.proposed, row.merged, row.closed, row.approved, row.changes_requested


def test_a_proposal_an_outcome_and_a_review_each_show_at_once(db: object) -> None:
    store.record_proposed(db, REPO, ["sort-imports"])
    assert _row(db, "sort-imports") == (1, 0, 0, 0, 0)
    assert _row(db, "sort-imports") == (1, 0, 0, 0, 0)  # read again: the cached table, same version

    store.record_proposed(db, REPO, ["sort-imports"])
    assert _row(db, "sort-imports") == (2, 0, 0, 0, 0)

    store.record_outcome(db, REPO, 7, ["sort-imports"], "merged")
    assert _row(db, "sort-imports") == (2, 1, 0, 0, 0)

    run, _ = store.create_run(db, RunRequest(REPO, "comment", pr_number=8))
    store.update_run(db, run.id, report={"codemods": [{"id": "sort-imports"}]})
    record_review(db, run.id, "Alice", "changes_requested")
    assert _row(db, "sort-imports") == (2, 1, 0, 0, 1)


def test_a_stale_version_is_not_served_a_newer_table(db: object) -> None:
    store.record_proposed(db, REPO, ["sort-imports"])
    old = _version(db)
    assert {row.codemod for row in learning_table(db, REPO, version=old)} == {"sort-imports"}
    store.record_outcome(db, REPO, 3, ["drop-unused"], "closed")
    assert _version(db) != old
    assert {row.codemod for row in learning_table(db, REPO, version=_version(db))} == {"drop-unused", "sort-imports"}
    # Without a version the table is read from the database each time.
    assert {row.codemod for row in learning_table(db, REPO)} == {"drop-unused", "sort-imports"}
