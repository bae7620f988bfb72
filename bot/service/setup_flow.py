"""`/setup`: register the GitHub App from `app.yml` through GitHub's manifest flow.

GET /setup?token=… shows a button that posts the filled-in manifest to GitHub; GitHub redirects back
to /setup/callback?code=…, which exchanges the code (`POST /app-manifests/{code}/conversions`),
stores the credentials with mode 0600 and reloads them into the running service.

The flow is open only while the service has no credentials at all (setup mode), only to whoever
holds the one-time token `evolve serve` prints to its log at start, and only when
`EVOLVE_PUBLIC_URL` says where GitHub can reach the server. Otherwise every `/setup` path is a 404:
a stranger can neither read the page nor replace stored credentials with an app of their own.
"""

from __future__ import annotations

import hmac
import html
import json
import logging
import secrets
from pathlib import Path
from string import Template
from typing import Any
from urllib.parse import quote

import yaml
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from githubkit import GitHub
from githubkit.exception import GitHubException

from bot.service.startup_checks import in_setup_mode
from bot.settings import CredentialsExist, Settings, apply_stored_credentials, store_credentials

log = logging.getLogger(__name__)
router = APIRouter()
TEMPLATES = Path(__file__).resolve().parents[1] / "templates"  # bot/templates
MAX_PENDING_STATES = 100


def manifest_path() -> Path:
    """`app.yml` of a source checkout, else the copy packaged with the bot."""
    checkout = Path(__file__).resolve().parents[2] / "app.yml"
    return checkout if checkout.exists() else TEMPLATES / "app.yml"


def build_manifest(base_url: str, name: str | None = None) -> dict[str, Any]:
    """The manifest with this server's webhook, callback and setup URLs filled in."""
    manifest = yaml.safe_load(manifest_path().read_text(encoding="utf-8"))
    base = base_url.rstrip("/")
    manifest["url"] = manifest.get("url") or base
    manifest["hook_attributes"] = {**manifest.get("hook_attributes", {}), "url": f"{base}/webhook"}
    manifest["redirect_url"] = f"{base}/setup/callback"
    manifest["callback_urls"] = [f"{base}/status/callback"]  # GitHub sign-in to the status pages
    manifest["setup_url"] = f"{base}/setup/installed"
    if name:
        manifest["name"] = name
    return manifest


def _settings(request: Request) -> Settings:
    ctx = getattr(request.app.state, "ctx", None)
    return ctx.settings if ctx is not None else request.app.state.settings


def setup_open(request: Request) -> bool:
    """Whether the flow is open: a setup token exists and no credential of any kind is given or stored."""
    if getattr(request.app.state, "setup_token", None) is None:
        return False
    return in_setup_mode(_settings(request))


def _token_ok(request: Request, token: str) -> bool:
    expected = getattr(request.app.state, "setup_token", None)
    return bool(expected and token) and hmac.compare_digest(token.encode(), str(expected).encode())


def _not_found() -> HTMLResponse:
    return HTMLResponse("<!doctype html><title>Not Found</title><h1>Not Found</h1>", status_code=404)


NO_PUBLIC_URL = (
    "EVOLVE_PUBLIC_URL is not set. GitHub must reach this server to deliver webhooks and to send you back "
    "here: set EVOLVE_PUBLIC_URL to the server's public https URL (for example https://evolve.example.org) "
    "and restart evolve serve."
)


def _render(template_name: str, **values: Any) -> HTMLResponse:
    template = Template((TEMPLATES / template_name).read_text(encoding="utf-8"))
    return HTMLResponse(template.substitute({k: html.escape(str(v)) for k, v in values.items()}))


def _error(status: int, message: str) -> HTMLResponse:
    return HTMLResponse(
        f"<!doctype html><title>Setup failed</title><h1>Setup failed</h1><p>{html.escape(message)}</p>",
        status_code=status,
    )


def _pending_states(request: Request) -> set[str]:
    states = getattr(request.app.state, "setup_states", None)
    if states is None:
        states = request.app.state.setup_states = set()
    return states


@router.get("/setup", response_class=HTMLResponse)
async def setup_page(
    request: Request, token: str = "", org: str | None = None, name: str | None = None
) -> HTMLResponse:
    """The page whose button posts the manifest to GitHub (`?org=` registers it for an organization)."""
    if not setup_open(request) or not _token_ok(request, token):
        return _not_found()
    settings = _settings(request)
    if not settings.public_url:
        log.error("/setup was opened but %s", NO_PUBLIC_URL)
        return _error(503, NO_PUBLIC_URL)
    manifest = build_manifest(settings.public_url, name)
    state = secrets.token_urlsafe(24)
    states = _pending_states(request)
    if len(states) >= MAX_PENDING_STATES:
        states.pop()
    states.add(state)
    owner_path = f"/organizations/{quote(org, safe='')}/settings/apps/new" if org else "/settings/apps/new"
    return _render(
        "setup.html",
        name=manifest["name"],
        owner=org or "your account",
        hook_url=manifest["hook_attributes"]["url"],
        action=f"{settings.web_url}{owner_path}?state={state}",
        manifest=json.dumps(manifest),
    )


async def convert_manifest(settings: Settings, code: str) -> dict[str, Any]:
    """Exchange the manifest code for the app's credentials (`POST /app-manifests/{code}/conversions`)."""
    async with GitHub(base_url=settings.github_url.rstrip("/") + "/", timeout=30.0) as github:
        response = await github.rest.apps.async_create_from_manifest(code)
        data = response.json()
    if not isinstance(data, dict) or not data.get("id") or not data.get("pem"):
        raise ValueError("GitHub's answer did not contain the app's id and private key")
    return data


@router.get("/setup/callback", response_class=HTMLResponse)
async def setup_callback(request: Request, code: str = "", state: str = "") -> HTMLResponse:
    """Exchange the code, store the credentials (0600), reload them and show the next steps."""
    if not setup_open(request):
        return _not_found()
    states = _pending_states(request)
    if not state or state not in states:
        return _error(400, "This setup link is unknown or was already used. Start again from /setup.")
    if not code or len(code) > 200 or not code.replace("-", "").replace("_", "").isalnum():
        return _error(400, "GitHub did not send a valid code. Start again from /setup.")
    states.discard(state)
    settings = _settings(request)
    try:
        data = await convert_manifest(settings, code)
    except (GitHubException, ValueError) as error:
        log.warning("manifest conversion failed: %s", type(error).__name__)
        return _error(
            502, "GitHub did not accept the code (it is valid for one hour and one use). Start again from /setup."
        )
    try:
        store_credentials(settings.data_dir, data)
    except CredentialsExist:
        log.warning("/setup: credentials were stored meanwhile; the new registration was not stored")
        return _not_found()
    request.app.state.setup_token = None  # one registration per token; the flow is closed from now on
    states.clear()
    log.info("/setup registered GitHub App %s; setup is closed", data.get("id"))
    _reload_credentials(request, settings)
    slug = data.get("slug") or settings.app_slug
    return _render(
        "setup_done.html",
        slug=slug,
        app_id=data["id"],
        install_url=f"{settings.web_url}/apps/{quote(str(slug), safe='')}/installations/new",
    )


@router.get("/setup/installed", response_class=HTMLResponse)
async def setup_installed(request: Request) -> HTMLResponse:
    """Where GitHub sends the user after installing the app."""
    settings = _settings(request)
    if not settings.has_app_credentials:
        return _not_found()
    return HTMLResponse(
        "<!doctype html><title>Evolve installed</title><h1>Evolve is installed</h1>"
        "<p>Comment <code>/evolve help</code> on an issue of an installed repository to begin.</p>"
    )


def _reload_credentials(request: Request, settings: Settings) -> None:
    """Make the running service use the credentials /setup just stored."""
    from bot.service.github_gateway import build_github

    fresh = apply_stored_credentials(settings, replace=True)
    ctx = getattr(request.app.state, "ctx", None)
    request.app.state.settings = fresh
    if ctx is not None:
        ctx.settings = fresh
        gateway = build_github(fresh)
        if gateway is not None:
            ctx.github = gateway
