"""The secrets zone's token service (`POST /internal/tokens` on the web process), against the fake GitHub.

A token is minted only for a run or delivery in progress, restricted to its one repository and the permissions it
needs; without the internal secret there is nothing to get; and a token minted for a worker's run cannot write to
another repository of the same installation.
"""

from __future__ import annotations

import asyncio
import http.server
import json
import socket
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import ClassVar

import httpx
import pytest
from pydantic import SecretStr

from bot.db import store
from bot.db.run_request import RunRequest
from bot.github.client import RUN_PERMISSIONS, GitHubError, TokenScope
from bot.tokens.client import TokenServiceMinter
from bot.tokens.service import (
    AFTER_RUN,
    AFTER_RUN_PERMISSIONS,
    DELIVERY_PERMISSIONS,
    TOKEN_PATH,
    TokenRefused,
    parse_request,
    secret_matches,
)
from evolve.run_status import RunStatus
from tests.bot.conftest import sealer_of
from tests.fakegithub.server import FakeGitHub
from tests.fakegithub.state import FakeRepo

INTERNAL_SECRET = "internal-" + "s3cr3t" * 8
INSTALLATION = 31337


@pytest.fixture
def world(tmp_path, make_settings, app_factory) -> Iterator[tuple[FakeGitHub, FakeRepo, FakeRepo, object]]:
    """The fake GitHub with two repositories of one installation, and a web process (no worker) that knows both."""
    with FakeGitHub(tmp_path / "fakegithub") as fake:
        fake.add_installation(INSTALLATION, "octo-org")
        sample = fake.add_repo("octo-org/sample", INSTALLATION, repo_id=1001)
        other = fake.add_repo("octo-org/other", INSTALLATION, repo_id=1002)
        for repo in (sample, other):
            fake.commit_files(repo, {"README.md": "hello\n"}, "Initial commit")
        settings = make_settings(
            app_id=str(fake.app_id),
            private_key=SecretStr(fake.private_key),
            github_url=fake.base_url,
            internal_secret=SecretStr(INTERNAL_SECRET),
        )
        client = app_factory(settings=settings, role="web")
        db = client.app.state.ctx.db
        store.upsert_installation(db, INSTALLATION, account_login="octo-org")
        store.upsert_repository(db, 1001, "octo-org/sample", INSTALLATION)
        store.upsert_repository(db, 1002, "octo-org/other", INSTALLATION)
        yield fake, sample, other, client


def _ask(client, body: object, secret: str | None = INTERNAL_SECRET) -> httpx.Response:
    headers = {"Authorization": f"Bearer {secret}"} if secret is not None else {}
    return client.post(TOKEN_PATH, json=body, headers=headers)


def test_a_run_token_reaches_only_its_repository_with_the_run_permissions(world):
    fake, sample, other, client = world
    run, _ = store.create_run(client.app.state.ctx.db, RunRequest(1001, "comment"))
    answer = _ask(client, {"run_id": run.id, "installation_id": INSTALLATION})
    assert answer.status_code == 200, answer.text
    data = answer.json()
    assert data["repositories"] == ["sample"] and data["permissions"] == RUN_PERMISSIONS
    assert answer.headers["cache-control"] == "no-store"
    # what the web process asked GitHub for: the one repository, the run's permissions
    (minted,) = fake.requests_to("POST", f"/app/installations/{INSTALLATION}/access_tokens")
    assert minted.body == {"repositories": ["sample"], "permissions": RUN_PERMISSIONS}
    token = {"Authorization": f"token {data['token']}"}
    fake.add_issue(sample)
    fake.add_issue(other)
    # the token writes where the run works ...
    ok = httpx.post(f"{fake.base_url}/repos/octo-org/sample/issues/1/comments", json={"body": "hi"}, headers=token)
    assert ok.status_code == 201
    # ... and nowhere else: another repository of the same installation is not even visible
    for method, path, body in [
        ("POST", "/repos/octo-org/other/issues/1/comments", {"body": "pwned"}),
        ("POST", "/repos/octo-org/other/pulls", {"head": "x", "base": "main", "title": "t", "body": ""}),
        ("GET", "/repos/octo-org/other", None),
    ]:
        response = httpx.request(method, f"{fake.base_url}{path}", json=body, headers=token)
        assert response.status_code == 404, (path, response.status_code)
    assert fake.comments(other, 1) == []
    # nor can it be used to push there through git
    assert not fake.token_works(data["token"], other)


def test_a_delivery_token_is_for_its_repository_replies_only(world):
    fake, _sample, _other, client = world
    payload = {"action": "created", "installation": {"id": INSTALLATION}, "repository": {"full_name": "octo-org/other"}}
    store.record_delivery(
        client.app.state.ctx.engine,
        "d-1",
        "issue_comment",
        json.dumps(payload),
        installation_id=INSTALLATION,
        sealer=sealer_of(client.app.state.ctx),
    )
    answer = _ask(client, {"delivery_id": "d-1"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["repositories"] == ["other"] and answer.json()["permissions"] == DELIVERY_PERMISSIONS
    assert DELIVERY_PERMISSIONS["contents"] == "read"
    (minted,) = fake.requests_to("POST", f"/app/installations/{INSTALLATION}/access_tokens")
    assert minted.body == {"repositories": ["other"], "permissions": DELIVERY_PERMISSIONS}
    # a delivery's token cannot push code (git's receive-pack needs contents: write)
    push = httpx.get(
        f"{fake.base_url}/git/octo-org/other.git/info/refs",
        params={"service": "git-receive-pack"},
        auth=("x-access-token", answer.json()["token"]),
    )
    assert push.status_code == 403


def _record(client, delivery_id: str, repository: str) -> None:
    payload = {"action": "created", "installation": {"id": INSTALLATION}, "repository": {"full_name": repository}}
    store.record_delivery(
        client.app.state.ctx.engine,
        delivery_id,
        "issue_comment",
        json.dumps(payload),
        installation_id=INSTALLATION,
        sealer=sealer_of(client.app.state.ctx),
    )


def test_deliveries_with_one_grant_share_a_token_runs_never_do(world):
    fake, _sample, _other, client = world
    for delivery_id, repository in [("d-1", "octo-org/other"), ("d-2", "octo-org/other"), ("d-3", "octo-org/sample")]:
        _record(client, delivery_id, repository)
    first, second, elsewhere = (_ask(client, {"delivery_id": d}).json() for d in ("d-1", "d-2", "d-3"))
    # the same repositories and permissions: the token minted for the first delivery serves the second
    assert second["token"] == first["token"] and second["repositories"] == ["other"]
    # another repository is another grant: a token of its own, that reaches only that one
    assert elsewhere["token"] != first["token"] and elsewhere["repositories"] == ["sample"]
    minted = fake.requests_to("POST", f"/app/installations/{INSTALLATION}/access_tokens")
    assert [m.body["repositories"] for m in minted] == [["other"], ["sample"]]
    # a finished delivery still gets nothing, kept token or not
    store.mark_delivery(client.app.state.ctx.db, "d-2", "processed")
    assert _ask(client, {"delivery_id": "d-2"}).status_code == 409
    # a run's token is revoked when it ends: each run gets its own
    run_1, _ = store.create_run(client.app.state.ctx.db, RunRequest(1001, "comment"))
    run_2, _ = store.create_run(client.app.state.ctx.db, RunRequest(1001, "schedule"))
    tokens = {_ask(client, {"run_id": run.id}).json()["token"] for run in (run_1, run_2, run_1)}
    assert len(tokens) == 3


def test_refusals(world):
    fake, _sample, _other, client = world
    db = client.app.state.ctx.db
    run, _ = store.create_run(db, RunRequest(1001, "comment"))
    assert _ask(client, {"run_id": run.id}, secret=None).status_code == 401
    assert _ask(client, {"run_id": run.id}, secret=INTERNAL_SECRET + "x").status_code == 401
    assert _ask(client, {"run_id": run.id}, secret="").status_code == 401
    forged = client.post(TOKEN_PATH, json={"run_id": run.id}, headers={"Authorization": f"Basic {INTERNAL_SECRET}"})
    assert forged.status_code == 401
    assert _ask(client, {"run_id": 999_999}).status_code == 404
    assert _ask(client, {"delivery_id": "never-delivered"}).status_code == 404
    assert _ask(client, {"run_id": run.id, "installation_id": 7}).status_code == 409
    assert _ask(client, {"run_id": run.id, "delivery_id": "d"}).status_code == 400
    assert _ask(client, ["run_id"]).status_code == 400
    store.finish_run(db, run.id, RunStatus.SUCCEEDED)
    # just finished: the worker may still redraw the dashboard, with issues write and nothing else
    after = _ask(client, {"run_id": run.id})
    assert after.status_code == 200 and after.json()["permissions"] == AFTER_RUN_PERMISSIONS
    store.update_run(db, run.id, finished_at=datetime.now(timezone.utc) - AFTER_RUN - timedelta(seconds=5))
    finished = _ask(client, {"run_id": run.id})
    assert finished.status_code == 409 and "succeeded" in finished.json()["message"]
    big = client.post(
        TOKEN_PATH, content=b"{" + b" " * 10_000 + b"}", headers={"Authorization": f"Bearer {INTERNAL_SECRET}"}
    )
    assert big.status_code == 413
    # of all that, only the one token after the run reached GitHub
    (minted,) = fake.requests_to("POST", f"/app/installations/{INSTALLATION}/access_tokens")
    assert minted.body == {"repositories": ["sample"], "permissions": AFTER_RUN_PERMISSIONS}


def test_without_the_setting_the_endpoint_does_not_exist(tmp_path, make_settings, app_factory):
    client = app_factory(settings=make_settings(), role="web")
    assert client.post(TOKEN_PATH, json={"run_id": 1}, headers={"Authorization": "Bearer "}).status_code == 404
    assert client.post(TOKEN_PATH, json={"run_id": 1}).status_code == 404


def test_a_worker_serves_no_token_endpoint(make_settings, app_factory):
    settings = make_settings(internal_secret=SecretStr(INTERNAL_SECRET), token_service_url="http://127.0.0.1:9")
    client = app_factory(settings=settings, role="worker")
    assert _ask(client, {"run_id": 1}).status_code == 404


def test_the_worker_minter_asks_for_its_run_or_its_delivery_and_nothing_else():
    from bot import log_context

    minter = TokenServiceMinter("http://127.0.0.1:9", INTERNAL_SECRET, wait_seconds=0.5)
    scope = TokenScope(("sample",), RUN_PERMISSIONS, run_id=12)
    assert minter.request_body(5, scope) == {"installation_id": 5, "run_id": 12}
    with log_context.bind(delivery_id="abc"):
        assert minter.request_body(5, None) == {"installation_id": 5, "delivery_id": "abc"}
        assert minter.grant(None) != minter.grant(scope)
        with log_context.bind(run_id=12):  # code working for a run (a redraw after it) asks for the run
            assert minter.request_body(5, None) == {"installation_id": 5, "run_id": 12}
    with pytest.raises(GitHubError, match="only for a run or a delivery"):
        minter.request_body(5, None)
    assert INTERNAL_SECRET not in repr(minter)
    # a token service still unreachable after the wait is a clear GitHubError, not a crash
    with pytest.raises(GitHubError, match=r"did not answer .*gave up after"):
        asyncio.run(minter.mint(5, scope))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class _TokenHandler(http.server.BaseHTTPRequestHandler):
    answers: ClassVar[list[int]] = []  # statuses to answer in turn; 200 (a token) once used up

    def do_POST(self) -> None:
        status = self.answers.pop(0) if self.answers else 200
        body = b'{"token": "ghs_fromservice", "expires_at": "2099-01-01T00:00:00Z"}' if status == 200 else b"{}"
        kind = "application/json"
        if status == 599:  # a proxy's 502 while the service is down: an HTML page
            status, body, kind = 502, b"<html>Bad Gateway</html>", "text/html"
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def test_a_worker_waits_out_a_restarting_token_service_but_a_refusal_is_final():
    port = _free_port()
    minter = TokenServiceMinter(f"http://127.0.0.1:{port}", INTERNAL_SECRET, wait_seconds=30)
    scope = TokenScope(("sample",), RUN_PERMISSIONS, run_id=12)
    _TokenHandler.answers = [503, 599]  # a proxy in front of the web process, before it is back
    servers: list[http.server.ThreadingHTTPServer] = []

    def come_up() -> None:
        servers.append(http.server.ThreadingHTTPServer(("127.0.0.1", port), _TokenHandler))
        servers[0].serve_forever()

    # the service comes up only after the worker has started asking: connection refused until then
    starter = threading.Timer(0.5, come_up)
    starter.start()
    try:
        token = asyncio.run(minter.mint(5, scope))
        assert token.value == "ghs_fromservice" and _TokenHandler.answers == []
        for final in (409, 502):  # a refusal, and the service's own 502 (GitHub would not mint): no waiting
            _TokenHandler.answers = [final]
            began = time.monotonic()
            with pytest.raises(GitHubError, match=f"answered {final}") as refused:
                asyncio.run(minter.mint(5, scope))
            assert refused.value.status == final and time.monotonic() - began < 5
    finally:
        for _ in range(50):  # the service may still be on its way up when an assertion failed
            if servers:
                break
            time.sleep(0.1)
        for server in servers:
            server.shutdown()
            server.server_close()
        starter.join()


def test_request_parsing_and_secret_comparison_are_strict():
    assert parse_request(b'{"run_id": 3}').run_id == 3
    for body in (b"nope", b"[]", b'{"run_id": true}', b'{"run_id": -1}', b'{"delivery_id": ""}', b"{}"):
        with pytest.raises(TokenRefused) as refused:
            parse_request(body)
        assert refused.value.status == 400
    assert secret_matches(f"Bearer {INTERNAL_SECRET}", INTERNAL_SECRET)
    assert secret_matches(f"bearer {INTERNAL_SECRET}", INTERNAL_SECRET)
    for header in (None, "", "Bearer", f"Token {INTERNAL_SECRET}", f"Bearer {INTERNAL_SECRET[:-1]}"):
        assert not secret_matches(header, INTERNAL_SECRET)
