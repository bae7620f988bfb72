"""Guessing the operator token or the internal secret, as a stranger would: a short operator token stops start-up,
and wrong guesses are limited per client address (429 with Retry-After) on the status pages and /internal/tokens.
The real app, its real endpoints, a TestClient per client address; time is a clock the test moves."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from bot.failure_limits import FAILURES_PER_MINUTE, FailureLimiter, limiter_on
from bot.service.server import StartupRefused, serve
from bot.service.startup_checks import operator_token_problem
from bot.settings import MIN_OPERATOR_TOKEN_LENGTH
from bot.status.access import operator_token
from bot.status.pages import SIGN_IN_LIMITER
from bot.tokens.service import TOKEN_LIMITER, TOKEN_PATH

OPERATOR_TOKEN = "operator-" + "0123456789abcdef" * 3
INTERNAL_SECRET = "internal-" + "s3cr3t" * 8


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _sign_in(client: TestClient, token: str) -> Any:
    return client.post(
        "/status/login/token",
        content=f"token={token}&next=/status",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        follow_redirects=False,
    )


@pytest.fixture
def app(make_settings, app_factory) -> tuple[TestClient, Clock]:
    settings = make_settings(operator_token=SecretStr(OPERATOR_TOKEN), internal_secret=SecretStr(INTERNAL_SECRET))
    client = app_factory(settings=settings, role="web")
    clock = Clock()
    for name in (SIGN_IN_LIMITER, TOKEN_LIMITER):
        limiter_on(client.app.state, name).clock = clock  # type: ignore[attr-defined]
    return client, clock


def _from(client: TestClient, address: str) -> TestClient:
    """Another client of the same running app, from `address`."""
    return TestClient(client.app, client=(address, 40000))


def test_five_wrong_operator_tokens_then_429_even_for_the_right_one(app):
    client, clock = app
    stranger = _from(client, "198.51.100.7")
    for _ in range(FAILURES_PER_MINUTE):
        assert _sign_in(stranger, "guess-" + "x" * 40).status_code == 403
    limited = _sign_in(stranger, "guess-" + "y" * 40)
    assert limited.status_code == 429 and 1 <= int(limited.headers["Retry-After"]) <= 60
    assert "try again in" in limited.text
    # The right token from the limited address is not even compared: a guess cannot be told right from wrong.
    assert _sign_in(stranger, OPERATOR_TOKEN).status_code == 429
    # Another address is not affected.
    assert _sign_in(_from(client, "203.0.113.20"), OPERATOR_TOKEN).status_code == 303
    # Once the bucket refills (one failure every 12 s), one more try is allowed, and a right one signs in.
    clock.now += int(limited.headers["Retry-After"])
    assert _sign_in(stranger, OPERATOR_TOKEN).status_code == 303


def test_wrong_bearer_tokens_count_too(app):
    client, _clock = app
    stranger = _from(client, "198.51.100.8")
    for _ in range(FAILURES_PER_MINUTE):
        wrong = stranger.get("/status/runs", headers={"Authorization": "Bearer nope"}, follow_redirects=False)
        assert wrong.status_code == 303
    limited = stranger.get("/status/runs", headers={"Authorization": f"Bearer {OPERATOR_TOKEN}"})
    assert limited.status_code == 429 and "Retry-After" in limited.headers
    ok = _from(client, "203.0.113.21").get("/status/runs", headers={"Authorization": f"Bearer {OPERATOR_TOKEN}"})
    assert ok.status_code == 200


def test_wrong_internal_secrets_on_the_token_service_are_limited(app):
    client, clock = app
    stranger = _from(client, "198.51.100.9")
    for attempt in range(FAILURES_PER_MINUTE):
        answer = stranger.post(TOKEN_PATH, json={"run_id": 1}, headers={"Authorization": f"Bearer wrong-{attempt}"})
        assert answer.status_code == 401
    limited = stranger.post(TOKEN_PATH, json={"run_id": 1}, headers={"Authorization": f"Bearer {INTERNAL_SECRET}"})
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
    # A worker elsewhere with the right secret is answered as before (here: no such run).
    worker = _from(client, "10.0.0.5")
    assert worker.post(
        TOKEN_PATH, json={"run_id": 1}, headers={"Authorization": f"Bearer {INTERNAL_SECRET}"}
    ).status_code in (404, 503)
    clock.now += 60
    again = stranger.post(TOKEN_PATH, json={"run_id": 1}, headers={"Authorization": "Bearer wrong"})
    assert again.status_code == 401


def test_a_right_secret_takes_nothing_from_the_bucket():
    clock = Clock()
    limiter = FailureLimiter(per_minute=5, clock=clock)
    for _ in range(100):
        assert limiter.retry_after("a") is None  # asking is free; only failures count
    for _ in range(5):
        limiter.failed("a")
    assert limiter.retry_after("a") == 12
    clock.now += 12
    assert limiter.retry_after("a") is None


def test_the_address_table_is_bounded():
    limiter = FailureLimiter(clock=Clock(), max_addresses=3)
    for address in ("a", "b", "c", "d"):
        limiter.failed(address)
    assert len(limiter._buckets) == 3 and "a" not in limiter._buckets


def test_a_short_operator_token_is_refused_at_start_up(make_settings):
    short = make_settings(operator_token=SecretStr("hunter2-but-longer"))
    problem = operator_token_problem(short)
    assert problem is not None and "\n" not in problem and str(MIN_OPERATOR_TOKEN_LENGTH) in problem
    assert operator_token(short) is None  # an app built around it anyway takes no token sign-in
    with pytest.raises(StartupRefused) as refused:
        serve(settings=short, role="web")
    assert "EVOLVE_OPERATOR_TOKEN must be at least 32 characters" in str(refused.value)
    assert operator_token_problem(make_settings(operator_token=SecretStr(OPERATOR_TOKEN))) is None
    assert operator_token_problem(make_settings()) is None


def test_evolve_serve_exits_2_with_one_line_for_a_short_token(tmp_path):
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "EVOLVE_DATA_DIR": str(tmp_path / "data"),
        "EVOLVE_OPERATOR_TOKEN": "short-token",
    }
    done = subprocess.run(
        [sys.executable, "-m", "evolve.cli", "serve", "--port", "0"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "EVOLVE_OPERATOR_TOKEN must be at least 32 characters" in lines[0], done.stderr
    assert "short-token" not in done.stderr
