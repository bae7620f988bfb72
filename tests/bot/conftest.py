"""Shared fixtures of the bot tests: settings on a temp SQLite file, a running app, signed deliveries,
the vendored real webhook payloads, and a router that records what it was given."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import create_engine, text

from bot.context import BotContext
from bot.db.delivery_seal import DeliverySealer, sealer_for
from bot.routing import Event, Router
from bot.service.app import create_app
from bot.settings import Settings

# The fake GitHub's fixtures, for every test in this directory.
from tests.fakegithub.fixtures import bot_world, fake_github  # noqa: F401
from tests.fakegithub.stub_engine import engine  # noqa: F401

WEBHOOK_SECRET = "it's a secret to everybody"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "webhooks"
SUBSCRIBED_EVENTS = (
    "installation",
    "installation_repositories",
    "issue_comment",
    "issues",
    "pull_request",
    "pull_request_review",
    "push",
    "ping",
    "check_run",
    "check_suite",
    "status",
    "workflow_run",
)


def sign(body: bytes, secret: str = WEBHOOK_SECRET) -> str:
    """The `X-Hub-Signature-256` GitHub would send for `body`."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def webhook_headers(
    event: str, body: bytes, delivery_id: str | None = None, secret: str | None = WEBHOOK_SECRET
) -> dict[str, str]:
    """GitHub's delivery headers for a body; `secret=None` leaves the signature out."""
    headers = {
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery_id or str(uuid.uuid4()),
        "Content-Type": "application/json",
        "User-Agent": "GitHub-Hookshot/test",
    }
    if secret is not None:
        headers["X-Hub-Signature-256"] = sign(body, secret)
    return headers


def post_webhook(
    client: TestClient, event: str, payload: Any, *, delivery_id: str | None = None, secret: str | None = WEBHOOK_SECRET
) -> Any:
    """POST a signed delivery to `/webhook` and return the response."""
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return client.post("/webhook", content=body, headers=webhook_headers(event, body, delivery_id, secret))


def webhook_examples(*events: str, source: str | None = None) -> list[tuple[str, str, int, dict[str, Any]]]:
    """Real payloads from `@octokit/webhooks-examples`: (source, event, index, payload) tuples."""
    wanted = events or SUBSCRIBED_EVENTS
    found = []
    for directory in sorted(p for p in FIXTURES.iterdir() if p.is_dir()):
        if source is not None and directory.name != source:
            continue
        for event in wanted:
            path = directory / f"{event}.json"
            if path.exists():
                for index, payload in enumerate(json.loads(path.read_text(encoding="utf-8"))):
                    found.append((directory.name, event, index, payload))
    return found


def example(event: str, action: str | None = None, source: str = "api.github.com") -> dict[str, Any]:
    """The first real payload of an event (and action) — a deep copy, free to modify."""
    for _, _name, _, payload in webhook_examples(event, source=source):
        if action is None or payload.get("action") == action:
            return json.loads(json.dumps(payload))
    raise LookupError(f"no example for {event}.{action}")


class RecordingRouter(Router):
    """A router that records every event it is asked to dispatch (and can be made to fail)."""

    def __init__(self, *routers: Router, events: tuple[str, ...] = SUBSCRIBED_EVENTS) -> None:
        super().__init__(*routers)
        self.seen: list[Event] = []
        self.fail_times = 0
        for name in events:
            self.add(self._record, name)

    async def _record(self, event: Event, ctx: BotContext) -> None:
        self.seen.append(event)
        if self.fail_times > 0:
            self.fail_times -= 1
            raise RuntimeError("handler failed on purpose")


@pytest.fixture
def make_settings(tmp_path: Path) -> Callable[..., Settings]:
    """Build settings on a SQLite file in `tmp_path`; keyword arguments override fields."""

    def build(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "app_id": "12345",
            "webhook_secret": SecretStr(WEBHOOK_SECRET),
            "data_dir": tmp_path / "data",
            "github_url": "http://127.0.0.1:9/",  # nothing listens: tests that need GitHub pass a fake
            "sweep_seconds": 0.5,
            "delivery_workers": 2,
        }
        values.update(overrides)
        return Settings(**values)

    return build


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    """Default test settings (SQLite in tmp_path, no private key, no GitHub)."""
    return make_settings()


@pytest.fixture
def app_factory(settings: Settings) -> Iterator[Callable[..., TestClient]]:
    """Start the real app (lifespan: migrations, scheduler, workers) and return a TestClient.

    `app_factory(router=..., github=..., settings=..., role=...)`; every client is closed at teardown.
    """
    clients: list[TestClient] = []

    def start(*, settings: Settings = settings, **kwargs: Any) -> TestClient:
        client = TestClient(create_app(settings, **kwargs))
        client.__enter__()
        clients.append(client)
        return client

    yield start
    for client in reversed(clients):
        client.__exit__(None, None, None)


def sealer_of(ctx: BotContext) -> DeliverySealer:
    """The sealer of the app's web process: rows recorded with it are rows the web process wrote."""
    secret = ctx.settings.delivery_seal_secret()
    assert secret is not None
    return sealer_for(secret)


def context_of(client: TestClient) -> BotContext:
    """The running app's `BotContext`."""
    return client.app.state.ctx  # type: ignore[attr-defined]


def drain(client: TestClient, timeout: float = 30.0) -> None:
    """Wait until the app's job queue has processed everything it was given."""
    ctx = context_of(client)
    client.portal.call(ctx.jobs.drain, timeout)  # type: ignore[union-attr]


def postgres_reachable(url: str = "postgresql+psycopg://postgres@127.0.0.1:5432/test") -> bool:
    """Whether the machine's PostgreSQL answers a query at `url` (the tests that need one check this first)."""
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            pass
        engine = create_engine(url)
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        engine.dispose()
        return True
    except Exception:
        return False
