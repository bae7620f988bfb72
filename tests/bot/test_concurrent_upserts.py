"""Deliveries handled in threads (and processes) create the same installation and repository at once: one row, no error."""

from __future__ import annotations

import functools
import threading
from pathlib import Path

import pytest

from bot.db import store


@pytest.fixture
def db(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'evolve.db'}"
    store.migrate(url)
    engine = store.make_engine(url)
    yield store.make_sessionmaker(engine)
    engine.dispose()


def _race(target, count: int = 8) -> list[BaseException]:
    barrier = threading.Barrier(count)
    errors: list[BaseException] = []

    def run(index: int) -> None:
        barrier.wait()
        try:
            target(index)
        except BaseException as error:  # collected: the assertion shows what went wrong
            errors.append(error)

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return errors


def _installation(db, installation_id: int, index: int) -> None:
    store.upsert_installation(db, installation_id, account_login=f"octo{index}")


def _repository(db, repository_id: int, installation_id: int, name: str, _index: int) -> None:
    store.upsert_repository(db, repository_id, name, installation_id)


def test_the_same_new_repository_from_many_deliveries_at_once(db) -> None:
    for round_number in range(15):
        installation_id, repository_id = 100 + round_number, 1000 + round_number
        errors = _race(functools.partial(_installation, db, installation_id))
        errors += _race(functools.partial(_repository, db, repository_id, installation_id, f"octo/r{round_number}"))
        assert errors == []
        repository = store.get_repository(db, repository_id)
        assert repository is not None and repository.full_name == f"octo/r{round_number}"
        assert store.get_installation(db, installation_id) is not None
