"""Workers dispatch only delivery rows the web process sealed (issue 17, defence in depth for the queue).

A row written to the database by anything but the web process (a hostile build that reached
PostgreSQL, say), or a sealed row whose id, event or body changed since, is marked ignored with the
reason, never dispatched, and counted in /metrics; a sealed delivery is processed once. Through the
real app against the fake GitHub, on SQLite and on a PostgreSQL database the test creates.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr
from sqlalchemy import create_engine, text
from starlette.testclient import TestClient

from bot.db import store
from bot.db.deliveries import NewDelivery, insert_deliveries
from bot.db.delivery_seal import ALTERED, BEFORE_SEALING, NOT_SEALED, DeliverySealer, sealer_for
from bot.settings import Settings
from tests.bot.conftest import context_of, drain, postgres_reachable
from tests.fakegithub.fixtures import BotWorld
from tests.fakegithub.payloads import comment_created, installation_created, signed
from tests.fakegithub.sample_repo import SAMPLE_FILES
from tests.fakegithub.server import FakeGitHub

SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"
INTERNAL = "an-internal-secret-of-at-least-thirty-two-characters"


# -- the seal itself (pure) -------------------------------------------------------------------
def test_a_seal_matches_only_its_own_id_event_and_body() -> None:
    sealer = sealer_for("s" * 40)
    seal = sealer.seal("d-1", "issues", b'{"a": 1}')
    assert len(seal) == 64 and int(seal, 16) >= 0
    assert sealer.problem("d-1", "issues", '{"a": 1}', seal) is None
    assert sealer.problem("d-1", "issues", b'{"a": 1}', seal) is None
    assert sealer.problem("d-1", "issues", '{"a": 2}', seal) == ALTERED
    assert sealer.problem("d-1", "issue_comment", '{"a": 1}', seal) == ALTERED
    assert sealer.problem("d-2", "issues", '{"a": 1}', seal) == ALTERED
    assert sealer.problem("d-1", "issues", '{"a": 1}', None) == NOT_SEALED
    assert sealer.problem("d-1", "issues", '{"a": 1}', "") == NOT_SEALED
    assert sealer_for("t" * 40).problem("d-1", "issues", '{"a": 1}', seal) == ALTERED  # another key


def test_the_parts_are_framed_so_no_two_triples_share_a_message() -> None:
    sealer = DeliverySealer(b"k" * 32)
    assert sealer.seal("ab", "c", b"") != sealer.seal("a", "bc", b"")
    assert sealer.seal("a", "b", b"\n1:c") != sealer.seal("a", "b\n1:c", b"")


def test_the_key_comes_from_the_internal_secret_else_the_webhook_secret(make_settings: Callable[..., Settings]) -> None:
    assert make_settings().delivery_seal_secret() == make_settings().webhook_secret_value()
    assert make_settings(internal_secret=SecretStr(INTERNAL)).delivery_seal_secret() == INTERNAL
    assert make_settings(webhook_secret=None).delivery_seal_secret() is None


# -- through the app, against the fake GitHub ---------------------------------------------------
class World:
    """The real app (role all, no periodic sweep) wired to the fake GitHub: one installation, one repository
    with a writer `alice`; deliveries are swept only when the test says so."""

    INSTALLATION = BotWorld.INSTALLATION
    REPO_ID = BotWorld.REPO_ID

    def __init__(self, fake: FakeGitHub, client: TestClient, settings: Settings, repo: Any) -> None:
        self.fake, self.client, self.settings, self.repo = fake, client, settings, repo
        self.ctx = context_of(client)

    def deliver(self, event: str, payload: dict[str, Any], delivery_id: str) -> int:
        secret = self.settings.webhook_secret_value()
        assert secret is not None
        body, headers = signed(payload, event, secret, delivery_id)
        return self.client.post("/webhook", content=body, headers=headers).status_code

    def sweep(self) -> None:
        self.client.portal.call(self.ctx.jobs.sweep_deliveries)  # type: ignore[attr-defined]
        drain(self.client)

    def comment(self, body: str) -> tuple[int, dict[str, Any]]:
        number = self.fake.add_issue(self.repo)
        return number, comment_created(self.fake, self.repo, number, "alice", body)

    def insert_row(self, event: str, payload: dict[str, Any], delivery_id: str, seal: str | None = None) -> None:
        """A queued row written straight into the database, as an attacker with database access would."""
        with self.ctx.engine.begin() as connection:
            insert_deliveries(connection, [NewDelivery(delivery_id, event, json.dumps(payload), seal=seal)])

    def status(self, delivery_id: str) -> tuple[str, str | None]:
        row = store.get_delivery(self.ctx.db, delivery_id)
        assert row is not None
        return row.status, row.error

    def refused(self, reason: str) -> float:
        samples = {
            (sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(self.client.get("/metrics").text)
            for sample in family.samples
        }
        return samples.get(("evolve_deliveries_refused_total", (("reason", reason),)), 0.0)


def _world(
    tmp_path: Any, make_settings: Callable[..., Settings], app_factory: Any, **overrides: Any
) -> Iterator[World]:
    with FakeGitHub(tmp_path / "fakegithub") as fake:
        fake.add_installation(World.INSTALLATION, BotWorld.OWNER)
        repo = fake.add_repo(f"{BotWorld.OWNER}/sample", World.INSTALLATION, repo_id=World.REPO_ID)
        fake.commit_files(repo, SAMPLE_FILES, "Initial commit")
        fake.set_permission(repo, "alice", "write")
        settings = make_settings(
            app_id=str(fake.app_id),
            private_key=SecretStr(fake.private_key),
            github_url=fake.base_url,
            sweep_seconds=3600,  # only the test sweeps
            **overrides,
        )
        world = World(fake, app_factory(settings=settings), settings, repo)
        install = installation_created(fake, World.INSTALLATION, [repo], "alice")
        assert world.deliver("installation", install, "install-1") == 202
        drain(world.client)
        yield world


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database for one test, dropped afterwards."""
    if not postgres_reachable():
        pytest.skip("no PostgreSQL server on 127.0.0.1:5432")
    name = f"evolve_seal_{uuid.uuid4().hex[:10]}"
    admin = create_engine(f"{SERVER}/test", isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def world(request: pytest.FixtureRequest, tmp_path: Any, make_settings: Any) -> Iterator[World]:
    overrides: dict[str, Any] = {"internal_secret": SecretStr(INTERNAL)}
    if request.param == "postgresql":  # made before the app, so dropped after it stopped
        overrides["database_url"] = request.getfixturevalue("pg_url")
    yield from _world(tmp_path, make_settings, request.getfixturevalue("app_factory"), **overrides)


def test_a_row_inserted_into_the_database_is_never_dispatched(world: World) -> None:
    number, payload = world.comment("/evolve pause")
    before = world.refused("not_sealed")
    world.insert_row("issue_comment", payload, "forged-1")
    world.sweep()
    assert world.status("forged-1") == ("ignored", NOT_SEALED)
    assert world.fake.comments(world.repo, number) == ["/evolve pause"]  # no reply, no reaction
    assert payload["comment"]["id"] not in world.repo.reactions
    repository = store.get_repository(world.ctx.db, World.REPO_ID)
    assert repository is not None and not repository.paused
    assert world.refused("not_sealed") == before + 1
    world.sweep()  # ignored for good: never claimed again
    assert world.status("forged-1") == ("ignored", NOT_SEALED)


def test_a_seal_from_another_key_or_over_another_body_or_event_is_refused(world: World) -> None:
    number, payload = world.comment("/evolve pause")
    original = json.dumps(payload)
    altered = dict(payload, comment=dict(payload["comment"], body="/evolve pause"))
    wrong_key = sealer_for("another-secret-the-attacker-guessed-0123456789")
    sealer = sealer_for(INTERNAL)
    before = world.refused("altered")
    world.insert_row(
        "issue_comment", payload, "wrong-key", wrong_key.seal("wrong-key", "issue_comment", original.encode())
    )
    # A seal copied from a genuine delivery onto another id, event or body.
    world.insert_row("issue_comment", payload, "copied-id", sealer.seal("genuine", "issue_comment", original.encode()))
    world.insert_row("issue_comment", payload, "other-event", sealer.seal("other-event", "issues", original.encode()))
    world.insert_row(
        "issue_comment", altered, "other-body", sealer.seal("other-body", "issue_comment", b'{"action": "deleted"}')
    )
    world.sweep()
    for delivery_id in ("wrong-key", "copied-id", "other-event", "other-body"):
        assert world.status(delivery_id) == ("ignored", ALTERED)
    assert world.fake.comments(world.repo, number) == ["/evolve pause"]
    assert world.refused("altered") == before + 4


def test_a_sealed_row_altered_in_the_database_is_refused(world: World) -> None:
    """Deliveries the web process recorded (and sealed), then changed in the database before a worker took them."""
    number, payload = world.comment("/evolve status")
    for delivery_id in ("body-changed", "event-changed", "kept"):
        secret = world.settings.webhook_secret_value()
        assert secret is not None
        body, _ = signed(payload, "issue_comment", secret, delivery_id)
        assert store.record_delivery(
            world.ctx.engine, delivery_id, "issue_comment", body.decode(), sealer=sealer_for(INTERNAL)
        )
    evil = json.dumps(dict(payload, comment=dict(payload["comment"], body="/evolve pause")))
    with world.ctx.engine.begin() as connection:
        connection.execute(
            text(
                "UPDATE delivery_payloads SET payload = :evil "
                "WHERE id = (SELECT id FROM deliveries WHERE delivery_id = 'body-changed')"
            ),
            {"evil": evil},
        )
        connection.execute(text("UPDATE deliveries SET event = 'issues' WHERE delivery_id = 'event-changed'"))
    world.sweep()
    assert world.status("body-changed") == ("ignored", ALTERED)
    assert world.status("event-changed") == ("ignored", ALTERED)
    assert world.status("kept")[0] == "processed"
    comments = world.fake.comments(world.repo, number)
    assert len(comments) == 2 and "Evolve status" in comments[1]  # the kept one answered, once
    repository = store.get_repository(world.ctx.db, World.REPO_ID)
    assert repository is not None and not repository.paused


def test_a_sealed_delivery_is_processed_once(world: World) -> None:
    number, payload = world.comment("/evolve status")
    assert world.deliver("issue_comment", payload, "real-1") == 202
    assert world.deliver("issue_comment", payload, "real-1") == 200
    drain(world.client)
    world.sweep()
    status, error = world.status("real-1")
    assert (status, error) == ("processed", None)
    row = store.get_delivery(world.ctx.db, "real-1")
    assert row is not None and row.seal == sealer_for(INTERNAL).seal("real-1", "issue_comment", row.payload.encode())
    comments = world.fake.comments(world.repo, number)
    assert len(comments) == 2 and "Evolve status" in comments[1]


def test_the_token_service_mints_nothing_for_an_unsealed_row(world: World) -> None:
    _, payload = world.comment("/evolve status")
    world.insert_row("issue_comment", payload, "forged-token")
    with world.ctx.engine.begin() as connection:  # as if a worker held it
        connection.execute(text("UPDATE deliveries SET status = 'processing' WHERE delivery_id = 'forged-token'"))
    response = world.client.post(
        "/internal/tokens",
        json={"delivery_id": "forged-token"},
        headers={"Authorization": f"Bearer {INTERNAL}"},
    )
    assert response.status_code == 409 and "sealed" in response.json()["message"]


def test_a_web_process_seals_and_a_separate_worker_checks(
    pg_url: str, tmp_path: Any, make_settings: Callable[..., Settings], app_factory: Any
) -> None:
    """`--role web` records and seals; a `--role worker` process on the same PostgreSQL database checks:
    the genuine delivery is processed once, a row inserted beside it is not."""
    with FakeGitHub(tmp_path / "fakegithub") as fake:
        fake.add_installation(World.INSTALLATION, BotWorld.OWNER)
        repo = fake.add_repo(f"{BotWorld.OWNER}/sample", World.INSTALLATION, repo_id=World.REPO_ID)
        fake.commit_files(repo, SAMPLE_FILES, "Initial commit")
        fake.set_permission(repo, "alice", "write")
        settings = make_settings(
            app_id=str(fake.app_id),
            private_key=SecretStr(fake.private_key),
            github_url=fake.base_url,
            database_url=pg_url,
            internal_secret=SecretStr(INTERNAL),
            sweep_seconds=0.2,
        )
        web = World(fake, app_factory(settings=settings, role="web"), settings, repo)
        worker = app_factory(settings=settings, role="worker")
        assert (
            web.deliver("installation", installation_created(fake, World.INSTALLATION, [repo], "alice"), "i-1") == 202
        )
        number, payload = web.comment("/evolve status")
        web.insert_row("issue_comment", dict(payload, comment=dict(payload["comment"], body="/evolve pause")), "forged")
        assert web.deliver("issue_comment", payload, "genuine") == 202
        import time

        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if {web.status(i)[0] for i in ("i-1", "genuine", "forged")} <= {"processed", "ignored", "failed"}:
                break
            time.sleep(0.1)
        assert web.status("i-1")[0] == "processed"
        assert web.status("genuine") == ("processed", None)
        assert web.status("forged") == ("ignored", NOT_SEALED)
        comments = fake.comments(repo, number)
        assert len(comments) == 2 and "Evolve status" in comments[1]
        assert worker is not None


def test_migration_0010_ignores_deliveries_left_pending_before_sealing(tmp_path: Any) -> None:
    from alembic import command

    from bot.db.engine import alembic_config

    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    command.upgrade(alembic_config(url), "0009")
    engine = create_engine(url)
    with engine.begin() as connection:
        for number, status in enumerate(("queued", "processing", "processed")):
            connection.execute(
                text(
                    "INSERT INTO deliveries (delivery_id, event, received_at, status, attempts) "
                    "VALUES (:d, 'issues', '2026-12-01 00:00:00.000000', :s, 0)"
                ),
                {"d": f"old-{status}", "s": status},
            )
            connection.execute(text("INSERT INTO delivery_payloads (id, payload) VALUES (:i, '{}')"), {"i": number + 1})
    engine.dispose()
    store.migrate(url)
    engine = store.make_engine(url)
    db = store.make_sessionmaker(engine)
    for delivery_id, expected in (("old-queued", "ignored"), ("old-processing", "ignored")):
        row = store.get_delivery(db, delivery_id)
        assert row is not None and (row.status, row.error, row.seal) == (expected, BEFORE_SEALING, None)
        assert row.processed_at is not None
    old = store.get_delivery(db, "old-processed")
    assert old is not None and (old.status, old.error) == ("processed", None)
    assert store.pending_deliveries(db) == []
    engine.dispose()
