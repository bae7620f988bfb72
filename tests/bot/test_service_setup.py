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

from bot.settings import credentials_path, load_settings
from bot.setup_flow import build_manifest, manifest_path
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


@pytest.fixture
def unconfigured(app_factory, make_settings, fake_github):
    settings = make_settings(
        app_id=None, webhook_secret=None, github_url=fake_github, github_web_url="https://github.example"
    )
    return app_factory(settings=settings)


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
    }
    assert set(manifest["default_events"]) == {
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


def test_setup_page_posts_the_manifest_to_github(unconfigured):
    page = unconfigured.get("/setup")
    assert page.status_code == 200
    action, manifest = _form(page.text)
    assert action.startswith("https://github.example/settings/apps/new?state=")
    assert manifest["hook_attributes"]["url"] == "http://testserver/webhook"
    assert manifest["redirect_url"] == "http://testserver/setup/callback"
    assert manifest["default_permissions"]["contents"] == "write"


def test_setup_page_for_an_organization(unconfigured):
    action, _ = _form(unconfigured.get("/setup", params={"org": "my-org"}).text)
    assert action.startswith("https://github.example/organizations/my-org/settings/apps/new?state=")


def test_callback_exchanges_the_code_and_stores_credentials_owner_only(unconfigured, fake_github):
    action, _ = _form(unconfigured.get("/setup").text)
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
    response = unconfigured.get("/setup/callback", params={"code": "good-code", "state": "forged"})
    assert response.status_code == 400
    assert FakeConversions.seen == []
    assert not credentials_path(context_of(unconfigured).settings.data_dir).exists()


def test_callback_reports_a_code_github_refuses(unconfigured):
    state = _form(unconfigured.get("/setup").text)[0].split("state=")[1]
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
