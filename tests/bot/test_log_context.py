"""JSON log lines carry the delivery, installation and repository (and run) they are about, redacted."""

from __future__ import annotations

import json
import logging

import pytest

from bot.log_context import JsonFormatter, bind
from evolve.untrusted_text import register_secret
from tests.fakegithub.fixtures import BotWorld
from tests.fakegithub.stub_engine import StubEngine


class Lines(logging.Handler):
    """Keeps every record formatted as JSON."""

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(JsonFormatter())
        self.lines: list[dict[str, object]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(self.format(record)))


@pytest.fixture
def lines() -> object:
    handler = Lines()
    root = logging.getLogger()
    root.addHandler(handler)
    level = root.level
    root.setLevel(logging.INFO)
    yield handler
    root.removeHandler(handler)
    root.setLevel(level)


def test_bound_fields_and_redaction() -> None:
    register_secret("s3cr3t-value-for-the-log-test")
    handler = Lines()
    log = logging.getLogger("test.bind")
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    with bind(delivery_id="d-1", installation_id=7, nonsense="dropped"):
        with bind(run_id=3):
            log.info("token %s", "s3cr3t-value-for-the-log-test")
        log.info("after")
    log.info("outside")
    log.removeHandler(handler)
    inner, after, outside = handler.lines
    assert (inner["delivery_id"], inner["installation_id"], inner["run_id"]) == ("d-1", 7, 3)
    assert "s3cr3t" not in str(inner["message"]) and "nonsense" not in inner
    assert "run_id" not in after and after["delivery_id"] == "d-1"
    assert "delivery_id" not in outside and outside["level"] == "INFO"


def test_a_run_logs_with_its_delivery_and_run(bot_world: BotWorld, engine: StubEngine, lines: Lines) -> None:
    bot_world.install()
    bot_world.comment("alice", "/evolve run", delivery_id="delivery-logged-1")
    mine = [line for line in lines.lines if line.get("delivery_id") == "delivery-logged-1"]
    assert mine and all(line["repository"] == "octo-org/sample" for line in mine)
    assert any(line.get("run_id") and line.get("repository_id") == BotWorld.REPO_ID for line in mine)
    assert all(line["installation_id"] == BotWorld.INSTALLATION for line in mine)
