"""Claims by many workers at once, on real PostgreSQL (and SQLite): never two running runs of one
repository, never more than the per-installation limit, and a quiet installation's runs start before a busy
installation's backlog drains. Threads stand in for workers: each claim is its own database transaction."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import text

from bot.db import store
from bot.db.run_request import RunRequest
from evolve.run_status import RunStatus
from tests.bot.conftest import postgres_reachable
from tests.bot.test_service_postgres import pg_url

__all__ = ["pg_url"]  # the fixture, imported for the PostgreSQL variants

BACKENDS = [
    "sqlite",
    pytest.param("postgresql", marks=pytest.mark.skipif(not postgres_reachable(), reason="no PostgreSQL")),
]


@pytest.fixture(params=BACKENDS)
def db(request: Any, tmp_path: Any) -> Iterator[Any]:
    """A migrated database of either kind, as a sessionmaker."""
    url = request.getfixturevalue("pg_url") if request.param == "postgresql" else f"sqlite:///{tmp_path / 'e.sqlite'}"
    store.migrate(url)
    engine = store.make_engine(url, pool_size=20) if request.param == "postgresql" else store.make_engine(url)
    yield store.make_sessionmaker(engine)
    engine.dispose()


def _repositories(db: Any, layout: dict[int, list[int]]) -> None:
    for installation_id, repository_ids in layout.items():
        store.upsert_installation(db, installation_id, account_login=f"owner{installation_id}")
        for repository_id in repository_ids:
            store.upsert_repository(db, repository_id, f"owner{installation_id}/r{repository_id}", installation_id)


def _together(workers: int, work: Callable[[int], None]) -> None:
    """Run `work(n)` in `workers` threads released at the same instant; re-raise the first failure."""
    gate = threading.Barrier(workers)
    errors: list[BaseException] = []

    def body(n: int) -> None:
        try:
            gate.wait()
            work(n)
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=body, args=(n,)) for n in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


def _running(db: Any) -> list[tuple[int, int]]:
    with db() as session:
        return list(
            session.execute(
                text(
                    "SELECT r.repository_id, p.installation_id FROM runs r JOIN repositories p ON p.id = r.repository_id "
                    "WHERE r.status = 'running'"
                )
            )
        )


def test_the_database_refuses_a_second_running_run_of_a_repository(db):
    _repositories(db, {1: [10]})
    run, _ = store.create_run(db, RunRequest(10, "comment"))
    other, _ = store.create_run(db, RunRequest(10, "comment"))
    assert store.claim_run(db, run.id) is not None
    with pytest.raises(Exception, match="(?i)unique"):
        store.update_run(db, other.id, status=RunStatus.RUNNING)
    assert store.claim_run(db, other.id) is None


def test_workers_claiming_runs_of_one_repository_at_once_start_exactly_one(db):
    _repositories(db, {1: [10]})
    for _ in range(10):  # ten rounds of eight workers, each claiming its own queued run of the same repository
        runs = [store.create_run(db, RunRequest(10, "comment"))[0].id for _ in range(8)]
        won: list[int] = []
        _together(8, lambda n, runs=runs, won=won: won.append(runs[n]) if store.claim_run(db, runs[n]) else None)
        assert len(won) == 1
        assert _running(db) == [(10, 1)]
        store.finish_run(db, won[0], RunStatus.SUCCEEDED)
        for run_id in runs:
            if run_id not in won:
                store.finish_run(db, run_id, RunStatus.CANCELLED)


def test_many_workers_keep_both_limits_and_run_everything(db):
    _repositories(db, {1: [10, 11, 12, 13], 2: [20, 21, 22]})
    expected = [
        store.create_run(db, RunRequest(repo, "comment"))[0].id
        for repo in (10, 11, 12, 13, 20, 21, 22)
        for _ in range(3)
    ]
    done: list[int] = []
    per_round: list[dict[int, int]] = []
    for _ in range(len(expected)):  # rounds: eight workers claim at the same instant, then the runs end
        claimed: list[int] = []
        _together(8, lambda _n, claimed=claimed: claimed.append(getattr(store.claim_next_run(db), "id", 0)))
        snapshot = _running(db)
        repositories = [repo for repo, _ in snapshot]
        assert len(repositories) == len(set(repositories))  # one run per repository
        per_round.append({i: sum(1 for _, owner in snapshot if owner == i) for i in (1, 2)})
        started = [run_id for run_id in claimed if run_id]
        assert len(started) == len(snapshot)
        for run_id in started:
            store.finish_run(db, run_id, RunStatus.SUCCEEDED)
        done += started
        if not started:
            break
    assert per_round[0] == {1: 2, 2: 2}  # the limit is reached at once ...
    assert all(counts[1] <= 2 and counts[2] <= 2 for counts in per_round)  # ... and never passed
    assert sorted(done) == sorted(expected)  # every run started exactly once


def test_a_quiet_installation_starts_before_a_busy_ones_backlog_drains(db):
    _repositories(db, {1: list(range(100, 110)), 2: [200, 201]})
    busy = [store.create_run(db, RunRequest(100 + n % 10, "schedule"))[0].id for n in range(50)]  # queued first: older
    quiet = [store.create_run(db, RunRequest(repo, "comment"))[0].id for repo in (200, 201)]
    order: list[int] = []
    lock = threading.Lock()

    def worker(_: int) -> None:
        idle = 0
        while idle < 3:
            run = store.claim_next_run(db, lease_seconds=60, per_installation=2)
            if run is None:
                idle += 1
                continue
            idle = 0
            with lock:
                order.append(run.id)
            store.finish_run(db, run.id, RunStatus.SUCCEEDED)

    for _ in range(6):
        _together(3, worker)
        if len(order) == 52:
            break
    assert sorted(order) == sorted(busy + quiet)
    last_quiet = max(order.index(run_id) for run_id in quiet)
    assert last_quiet < 8, order[:10]  # among the first few starts, not after the 50-run backlog
    assert max(order.index(run_id) for run_id in busy) > last_quiet


def test_an_installation_at_its_limit_is_skipped(db):
    _repositories(db, {1: [10, 11], 2: [20]})
    first = store.create_run(db, RunRequest(10, "comment"))[0].id
    store.create_run(db, RunRequest(11, "comment"))
    third = store.create_run(db, RunRequest(20, "comment"))[0].id
    assert store.claim_next_run(db, per_installation=1).id == first
    # installation 1 is at its limit: the claim skips to installation 2
    assert store.claim_next_run(db, per_installation=1).id == third
    assert store.claim_next_run(db, per_installation=1) is None
