"""The fake GitHub's web flow for a GitHub App's users, and the user endpoints a user token reaches.

- `GET /login/oauth/authorize`: whoever is signed in to the fake (`FakeState.signed_in`, or the `login`
  hint) authorizes at once; the browser is sent back to `redirect_uri` with `code` and `state`, as GitHub
  does once the user has authorized the App before. Unknown client ids and callback URLs outside the
  registered one are refused like GitHub refuses them.
- `POST /login/oauth/access_token`: a code (single use, ten minutes) and the client credentials give a
  user token (`ghu_…`); errors are GitHub's 200-with-`error` answers.
- `GET /user`, `GET /user/installations`, `GET /user/installations/{id}/repositories`: the user behind
  the token, the App's installations where they can access a repository (or own the account), and those
  repositories, paginated with `Link` headers.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from tests.fakegithub.state import FakeRepo, FakeState, example

CODE_SECONDS = 600
PageLinks = Callable[[Request, FakeState, int, int, int], dict[str, str]]
ERROR_URI = "https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors"


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"message": message, "documentation_url": "https://docs.github.com/rest"}, status_code=status)


def _oauth_error(code: str, description: str) -> JSONResponse:
    return JSONResponse({"error": code, "error_description": description, "error_uri": f"{ERROR_URI}#{code}"})


def _registered(state: FakeState, redirect_uri: str) -> bool:
    """GitHub's rule: the redirect URI's host and port equal the callback URL's, its path lies under it."""
    if not state.oauth_callback_url:
        return True
    wanted, given = urlsplit(state.oauth_callback_url), urlsplit(redirect_uri)
    return (
        (given.scheme, given.netloc) == (wanted.scheme, wanted.netloc)
        and given.path.startswith(wanted.path.rstrip("/"))
        and ".." not in given.path
    )


async def authorize(request: Request, state: FakeState) -> Response:
    """GET /login/oauth/authorize"""
    params = request.query_params
    if params.get("client_id") != state.client_id:
        return HTMLResponse("<h1>404</h1><p>The client id is not known.</p>", status_code=404)
    login = state.signed_in or params.get("login")
    if not login:
        return HTMLResponse("<h1>Sign in to GitHub</h1><p>Nobody is signed in to the fake GitHub.</p>", 200)
    redirect_uri = params.get("redirect_uri") or state.oauth_callback_url
    if not redirect_uri or not _registered(state, redirect_uri):
        return HTMLResponse(
            "<h1>Be careful!</h1><p>The redirect_uri is not associated with this application.</p>", status_code=400
        )
    code = secrets.token_hex(10)
    with state.lock:
        state.oauth_codes[code] = {"login": login, "redirect_uri": redirect_uri, "expires": time.time() + CODE_SECONDS}
    query = {"code": code}
    if params.get("state") is not None:
        query["state"] = params["state"]
    separator = "&" if "?" in redirect_uri else "?"
    return RedirectResponse(f"{redirect_uri}{separator}{urlencode(query)}", status_code=302)


async def access_token(request: Request, state: FakeState) -> Response:
    """POST /login/oauth/access_token (form or JSON body; JSON answer when asked with Accept)."""
    raw = await request.body()
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            fields = {k: str(v) for k, v in json.loads(raw or b"{}").items()}
        except (ValueError, AttributeError):
            fields = {}
    else:
        fields = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
    fields |= {k: v for k, v in request.query_params.items() if k not in fields}
    if fields.get("client_id") != state.client_id or fields.get("client_secret") != state.client_secret:
        return _oauth_error("incorrect_client_credentials", "The client_id and/or client_secret passed are incorrect.")
    with state.lock:
        grant = state.oauth_codes.pop(fields.get("code", ""), None)
    if grant is None or grant["expires"] < time.time():
        return _oauth_error("bad_verification_code", "The code passed is incorrect or expired.")
    if fields.get("redirect_uri") and fields["redirect_uri"] != grant["redirect_uri"]:
        return _oauth_error("redirect_uri_mismatch", "The redirect_uri MUST match the registered callback URL.")
    token = "ghu_" + secrets.token_hex(18)
    with state.lock:
        state.user_tokens[token] = grant["login"]
    body = {
        "access_token": token,
        "expires_in": 28800,
        "refresh_token": "ghr_" + secrets.token_hex(30),
        "refresh_token_expires_in": 15897600,
        "scope": "",
        "token_type": "bearer",
    }
    if "application/json" in request.headers.get("accept", ""):
        return JSONResponse(body)
    return Response(urlencode(body), media_type="application/x-www-form-urlencoded")


def _user_of(state: FakeState, request: Request) -> str | None:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() not in ("bearer", "token"):
        return None
    return state.user_tokens.get(value.strip())


def _reachable(state: FakeState, login: str, installation_id: int) -> list[FakeRepo]:
    """The installation's repositories the user can access: by a role on it, or owning the account."""
    account = str(state.installations.get(installation_id, {}).get("account", ""))
    repos = [r for r in state.repos.values() if r.installation_id == installation_id]
    chosen = [r for r in repos if login in r.permissions or account.lower() == login.lower()]
    return sorted(chosen, key=lambda r: r.id)


def installation_json(state: FakeState, installation_id: int) -> dict[str, Any]:
    """An installation object as `/user/installations` lists it."""
    record = state.installations[installation_id]
    body = example("installation")
    account = str(record.get("account", ""))
    body.update(
        id=installation_id,
        account=state.user_json(account),
        app_id=state.app_id,
        app_slug="evolve-bot",
        client_id=state.client_id,
        target_id=abs(hash(account)) % 10_000_000,
        target_type="Organization",
        permissions=dict(record.get("permissions", {})),
        repository_selection="selected",
        access_tokens_url=f"{state.base_url}/app/installations/{installation_id}/access_tokens",
        repositories_url=f"{state.base_url}/installation/repositories",
        html_url=f"{state.web}/organizations/{account}/settings/installations/{installation_id}",
        suspended_at="2026-01-01T00:00:00Z" if record.get("suspended") else None,
    )
    return body


def repository_json(state: FakeState, repo: FakeRepo, login: str) -> dict[str, Any]:
    """A repository object as the user's installation repositories list it, with the user's permissions."""
    body = example("repository")
    role = repo.permissions.get(login, "admin")
    body.update(
        id=repo.id,
        node_id=f"R_{repo.id}",
        name=repo.name,
        full_name=repo.full_name,
        owner=state.user_json(repo.owner),
        private=False,
        html_url=f"{state.web}/{repo.full_name}",
        url=f"{state.base_url}/repos/{repo.full_name}",
        default_branch=repo.default_branch,
        permissions={
            "admin": role == "admin",
            "maintain": role in ("admin", "maintain"),
            "push": role in ("admin", "maintain", "write"),
            "triage": role in ("admin", "maintain", "write", "triage"),
            "pull": True,
        },
    )
    return body


def _page(request: Request) -> tuple[int, int]:
    try:
        per_page = min(100, max(1, int(request.query_params.get("per_page", 30))))
        page = max(1, int(request.query_params.get("page", 1)))
    except ValueError:
        return 30, 1
    return per_page, page


def oauth_routes(page_links: PageLinks, state: FakeState) -> list[Route]:
    """The routes of the web flow and the user endpoints."""

    async def get_user(request: Request) -> Response:
        """GET /user"""
        login = _user_of(state, request)
        if login is None:
            return _error(401, "Bad credentials")
        body = example("private-user")
        body.update(
            login=login,
            id=abs(hash(login)) % 10_000_000,
            html_url=f"{state.web}/{login}",
            url=f"{state.base_url}/users/{login}",
            name=login,
        )
        return JSONResponse(body)

    async def list_installations(request: Request) -> Response:
        """GET /user/installations"""
        login = _user_of(state, request)
        if login is None:
            return _error(401, "Bad credentials")
        ids = sorted(i for i in state.installations if _reachable(state, login, i))
        per_page, page = _page(request)
        chosen = ids[(page - 1) * per_page : page * per_page]
        return JSONResponse(
            {"total_count": len(ids), "installations": [installation_json(state, i) for i in chosen]},
            headers=page_links(request, state, page, per_page, len(ids)),
        )

    async def list_repositories(request: Request) -> Response:
        """GET /user/installations/{installation_id}/repositories"""
        login = _user_of(state, request)
        if login is None:
            return _error(401, "Bad credentials")
        installation_id = request.path_params["installation_id"]
        repos = _reachable(state, login, installation_id) if installation_id in state.installations else []
        if not repos:
            return _error(404, "Not Found")
        per_page, page = _page(request)
        chosen = repos[(page - 1) * per_page : page * per_page]
        return JSONResponse(
            {
                "total_count": len(repos),
                "repository_selection": "selected",
                "repositories": [repository_json(state, r, login) for r in chosen],
            },
            headers=page_links(request, state, page, per_page, len(repos)),
        )

    async def authorize_endpoint(request: Request) -> Response:
        return await authorize(request, state)

    async def token_endpoint(request: Request) -> Response:
        return await access_token(request, state)

    return [
        Route("/login/oauth/authorize", authorize_endpoint, methods=["GET"]),
        Route("/login/oauth/access_token", token_endpoint, methods=["POST"]),
        Route("/user", get_user, methods=["GET"]),
        Route("/user/installations", list_installations, methods=["GET"]),
        Route("/user/installations/{installation_id:int}/repositories", list_repositories, methods=["GET"]),
    ]
