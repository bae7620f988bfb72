"""GitHub's web flow for the App's users: the authorize URL, the code exchange, and what the user may see
(`GET /user`, `/user/installations`, `/user/installations/{id}/repositories`, every page of each)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx

API_HEADERS = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}
MAX_PAGES = 50  # 5,000 installations or repositories per installation: beyond that the login is refused
TIMEOUT = httpx.Timeout(15.0)


class OAuthError(Exception):
    """GitHub refused the login (a bad or expired code, wrong client credentials) or could not be asked."""


@dataclass(frozen=True)
class UserAccess:
    """Who signed in, and the installations of this App and their repositories GitHub lets them see."""

    login: str
    installation_ids: frozenset[int]
    repository_ids: frozenset[int]


def authorize_url(web_url: str, client_id: str, redirect_uri: str, state: str) -> str:
    """Where to send the browser to sign in with GitHub."""
    query = urlencode({"client_id": client_id, "redirect_uri": redirect_uri, "state": state, "allow_signup": "false"})
    return f"{web_url.rstrip('/')}/login/oauth/authorize?{query}"


async def exchange_code(web_url: str, client_id: str, client_secret: str, code: str, redirect_uri: str) -> str:
    """The user's access token for the code GitHub sent back to the callback."""
    try:
        async with httpx.AsyncClient(timeout=TIMEOUT) as http:
            answer = await http.post(
                f"{web_url.rstrip('/')}/login/oauth/access_token",
                data={
                    "client_id": client_id,
                    "client_secret": client_secret,
                    "code": code,
                    "redirect_uri": redirect_uri,
                },
                headers={"Accept": "application/json"},
            )
    except httpx.HTTPError as error:
        raise OAuthError(f"GitHub could not be reached ({type(error).__name__})") from None
    body = _json(answer)
    token = body.get("access_token")
    if answer.status_code != 200 or not isinstance(token, str) or not token:
        reason = body.get("error_description") or body.get("error") or f"HTTP {answer.status_code}"
        raise OAuthError(f"GitHub refused the sign-in: {reason}")
    return token


async def user_access(api_url: str, token: str) -> UserAccess:
    """The user behind `token`, and every installation of this App and repository in it they can access."""
    headers = {**API_HEADERS, "Authorization": f"Bearer {token}"}
    try:
        async with httpx.AsyncClient(base_url=api_url.rstrip("/"), headers=headers, timeout=TIMEOUT) as http:
            user = await http.get("/user")
            if user.status_code != 200:
                raise OAuthError(f"GitHub did not say who signed in (HTTP {user.status_code})")
            login = _json(user).get("login")
            if not isinstance(login, str) or not login:
                raise OAuthError("GitHub did not say who signed in")
            installation_ids: set[int] = set()
            repository_ids: set[int] = set()
            async for installation in _pages(http, "/user/installations", "installations"):
                installation_ids.add(int(installation["id"]))
            for installation_id in sorted(installation_ids):
                path = f"/user/installations/{installation_id}/repositories"
                async for repo in _pages(http, path, "repositories"):
                    repository_ids.add(int(repo["id"]))
    except httpx.HTTPError as error:
        raise OAuthError(f"GitHub could not be reached ({type(error).__name__})") from None
    return UserAccess(login, frozenset(installation_ids), frozenset(repository_ids))


async def _pages(http: httpx.AsyncClient, path: str, key: str) -> Any:
    url: str | None = f"{path}?per_page=100"
    for _ in range(MAX_PAGES):
        if url is None:
            return
        answer = await http.get(url)
        if answer.status_code != 200:
            raise OAuthError(f"GitHub refused {path} (HTTP {answer.status_code})")
        items = _json(answer).get(key)
        if not isinstance(items, list):
            raise OAuthError(f"GitHub's answer to {path} has no {key}")
        for item in items:
            if isinstance(item, dict) and isinstance(item.get("id"), int):
                yield item
        url = answer.links.get("next", {}).get("url")
    if url is not None:
        raise OAuthError(f"more than {MAX_PAGES} pages of {key}: too many to list at sign-in")


def _json(answer: httpx.Response) -> dict[str, Any]:
    try:
        body = answer.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
