"""The `/setup` manifest flow against a tiny local stand-in for GitHub's conversion endpoint."""

from __future__ import annotations

import html
import json
import re
import stat
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

from bot.service.setup_flow import build_manifest, manifest_path
from bot.settings import credentials_path, load_settings
from tests.bot.conftest import context_of

REPO_ROOT = Path(__file__).resolve().parents[2]
CONVERSION = {
    "id": 424242,
    "slug": "evolve-test",
    "node_id": "A_1",
    "name": "Evolve test",
    "owner": {"login": "octo", "id": 1, "type": "User"},
    "html_url": "https://github.com/apps/evolve-test",
    "client_id": "Iv1.abc",
    "client_secret": "client-secret-value",
    "webhook_secret": "hook-secret-value",
    "pem": "-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY-----\n",
    "permissions": {},
    "events": [],
    "created_at": "2024-01-01T00:00:00Z",
    "updated_at": "2024-01-01T00:00:00Z",
}


class FakeConversions(BaseHTTPRequestHandler):
    """Answers `POST /app-manifests/{code}/conversions` like GitHub: 201 for `good-code`, else 404."""

    seen: list[str] = []

    def do_POST(self) -> None:
        FakeConversions.seen.append(self.path)
        match = re.fullmatch(r"/app-manifests/([^/]+)/conversions", self.path)
        if match and match.group(1) == "good-code":
            body, status = json.dumps(CONVERSION).encode(), 201
        else:
            body, status = b'{"message": "Not Found"}', 404
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def fake_github() -> Iterator[str]:
    FakeConversions.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeConversions)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


SETUP_TOKEN = "one-time-setup-token"
PUBLIC_URL = "https://bot.example.org"


@pytest.fixture
def unconfigured(app_factory, make_settings, fake_github):
    settings = make_settings(
        app_id=None,
        webhook_secret=None,
        github_url=fake_github,
        github_web_url="https://github.example",
        public_url=PUBLIC_URL,
    )
    return app_factory(settings=settings, setup_token=SETUP_TOKEN)


def _setup_page(client, **params):
    return client.get("/setup", params={"token": SETUP_TOKEN, **params})


def _form(page: str) -> tuple[str, dict]:
    action = html.unescape(re.search(r'<form action="([^"]+)"', page).group(1))
    manifest = json.loads(html.unescape(re.search(r'name="manifest" value="([^"]*)"', page).group(1)))
    return action, manifest


def test_app_manifest_declares_the_permissions_and_events():
    manifest = yaml.safe_load((REPO_ROOT / "app.yml").read_text())
    assert manifest["default_permissions"] == {
        "contents": "write",
        "pull_requests": "write",
        "issues": "write",
        "checks": "write",
        "metadata": "read",
        "statuses": "read",  # the repository's CI on Evolve's PRs (docs/github-app.md#after-the-pr-opens)
        "actions": "read",
    }
    assert set(manifest["default_events"]) == {
        "check_run",
        "check_suite",
        "status",
        "workflow_run",
        "installation",
        "installation_repositories",
        "issue_comment",
        "issues",
        "pull_request",
        "pull_request_review",
        "push",
    }
    assert manifest["hook_attributes"]["active"] is True


def test_packaged_manifest_is_the_same_as_app_yml():
    packaged = Path(__file__).resolve().parents[2] / "bot" / "templates" / "app.yml"
    assert packaged.read_text() == (REPO_ROOT / "app.yml").read_text()
    assert manifest_path().read_text() == (REPO_ROOT / "app.yml").read_text()


def test_manifest_urls_follow_the_server_address():
    manifest = build_manifest("https://bot.example.org/")
    assert manifest["hook_attributes"]["url"] == "https://bot.example.org/webhook"
    assert manifest["redirect_url"] == "https://bot.example.org/setup/callback"
    assert manifest["callback_urls"] == ["https://bot.example.org/status/callback"]  # the status pages' sign-in


def test_setup_page_posts_the_manifest_to_github(unconfigured):
    page = _setup_page(unconfigured)
    assert page.status_code == 200
    action, manifest = _form(page.text)
    assert action.startswith("https://github.example/settings/apps/new?state=")
    assert manifest["hook_attributes"]["url"] == "https://bot.example.org/webhook"
    assert manifest["redirect_url"] == "https://bot.example.org/setup/callback"
    # No server path on the page.
    assert str(context_of(unconfigured).settings.data_dir) not in page.text
    assert manifest["default_permissions"]["contents"] == "write"


def test_setup_page_for_an_organization(unconfigured):
    action, _ = _form(_setup_page(unconfigured, org="my-org").text)
    assert action.startswith("https://github.example/organizations/my-org/settings/apps/new?state=")


def test_callback_exchanges_the_code_and_stores_credentials_owner_only(unconfigured, fake_github):
    action, _ = _form(_setup_page(unconfigured).text)
    state = action.split("state=")[1]
    done = unconfigured.get("/setup/callback", params={"code": "good-code", "state": state})
    assert done.status_code == 200, done.text
    assert FakeConversions.seen == ["/app-manifests/good-code/conversions"]
    assert "https://github.example/apps/evolve-test/installations/new" in done.text
    assert CONVERSION["pem"] not in done.text and "hook-secret-value" not in done.text

    ctx = context_of(unconfigured)
    stored = credentials_path(ctx.settings.data_dir)
    key = Path(json.loads(stored.read_text())["private_key_path"])
    for path in (stored, key):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert key.read_text() == CONVERSION["pem"]
    # The running service uses the new credentials at once, and after a restart.
    assert ctx.settings.app_id == "424242"
    assert ctx.settings.webhook_secret_value() == "hook-secret-value"
    reloaded = load_settings(data_dir=ctx.settings.data_dir)
    assert (reloaded.app_id, reloaded.webhook_secret_value(), reloaded.private_key_pem()) == (
        "424242",
        "hook-secret-value",
        CONVERSION["pem"],
    )
    assert reloaded.client_secret.get_secret_value() == "client-secret-value"
    assert "client-secret-value" not in repr(reloaded)


def test_callback_refuses_an_unknown_state(unconfigured):
    _setup_page(unconfigured)
    response = unconfigured.get("/setup/callback", params={"code": "good-code", "state": "forged"})
    assert response.status_code == 400
    assert FakeConversions.seen == []
    assert not credentials_path(context_of(unconfigured).settings.data_dir).exists()


def test_callback_reports_a_code_github_refuses(unconfigured):
    state = _form(_setup_page(unconfigured).text)[0].split("state=")[1]
    response = unconfigured.get("/setup/callback", params={"code": "stale-code", "state": state})
    assert response.status_code == 502
    assert not credentials_path(context_of(unconfigured).settings.data_dir).exists()


def test_environment_wins_over_stored_credentials(tmp_path, monkeypatch):
    from bot.settings import store_credentials

    store_credentials(tmp_path, CONVERSION)
    monkeypatch.setenv("EVOLVE_WEBHOOK_SECRET", "from-env")
    settings = load_settings(data_dir=tmp_path)
    assert settings.webhook_secret_value() == "from-env"
    assert settings.app_id == "424242"


def test_setup_needs_the_one_time_token(unconfigured):
    for params in ({}, {"token": ""}, {"token": "guessed"}, {"token": SETUP_TOKEN + "x"}):
        response = unconfigured.get("/setup", params=params)
        assert response.status_code == 404
        assert "<form" not in response.text


def test_setup_is_closed_after_registration_and_never_overwrites(unconfigured, fake_github):
    first = _form(_setup_page(unconfigured).text)[0].split("state=")[1]
    second = _form(_setup_page(unconfigured).text)[0].split("state=")[1]
    assert unconfigured.get("/setup/callback", params={"code": "good-code", "state": first}).status_code == 200
    ctx = context_of(unconfigured)
    stored = credentials_path(ctx.settings.data_dir)
    before = stored.read_bytes()
    # A stranger's callback, even with a state issued before, and the page itself: 404 from now on.
    assert unconfigured.get("/setup/callback", params={"code": "good-code", "state": second}).status_code == 404
    assert _setup_page(unconfigured).status_code == 404
    assert stored.read_bytes() == before
    assert FakeConversions.seen == ["/app-manifests/good-code/conversions"]


def test_setup_is_404_when_credentials_exist(app_factory, make_settings):
    client = app_factory(settings=make_settings(public_url=PUBLIC_URL), setup_token=SETUP_TOKEN)
    assert _setup_page(client).status_code == 404
    assert client.get("/setup/callback", params={"code": "good-code", "state": "x"}).status_code == 404


def test_setup_without_public_url_says_what_to_set(app_factory, make_settings):
    settings = make_settings(app_id=None, webhook_secret=None)
    client = app_factory(settings=settings, setup_token=SETUP_TOKEN)
    response = _setup_page(client)
    assert response.status_code == 503
    assert "EVOLVE_PUBLIC_URL" in response.text and "<form" not in response.text
    ready = client.get("/readyz")
    assert ready.status_code == 503 and "setup mode" in ready.json()["reason"]


def test_stored_credentials_are_never_replaced(tmp_path):
    from bot.settings import CredentialsExist, store_credentials

    store_credentials(tmp_path, CONVERSION)
    before = credentials_path(tmp_path).read_bytes()
    with pytest.raises(CredentialsExist):
        store_credentials(tmp_path, {**CONVERSION, "id": 666, "webhook_secret": "stranger"})
    assert credentials_path(tmp_path).read_bytes() == before
