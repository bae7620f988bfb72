"""GitHub's web flow as the status pages use it, against the fake GitHub: the code exchange and its refusals,
and the user's installations and repositories read through every page of GitHub's paginated lists."""

from __future__ import annotations

import asyncio
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from bot.status import github_oauth
from bot.status.github_oauth import OAuthError

CALLBACK = "http://127.0.0.1:8000/status/callback"


def _code(fake, login: str, redirect_uri: str = CALLBACK) -> str:
    fake.sign_in(login)
    url = github_oauth.authorize_url(fake.base_url, fake.state.client_id, redirect_uri, "the-state")
    answer = httpx.get(url, follow_redirects=False)
    assert answer.status_code == 302
    query = parse_qs(urlsplit(answer.headers["location"]).query)
    assert query["state"] == ["the-state"]
    return query["code"][0]


def _exchange(fake, code: str, secret: str | None = None) -> str:
    return asyncio.run(
        github_oauth.exchange_code(
            fake.base_url, fake.state.client_id, secret or fake.state.client_secret, code, CALLBACK
        )
    )


def test_a_user_sees_every_page_of_their_installations_repositories(fake_github):
    fake = fake_github
    fake.add_installation(7, "big-org")
    fake.add_installation(8, "elsewhere")
    seen = set()
    for n in range(105):  # more than one page of 100
        repo = fake.add_repo(f"big-org/r{n}", 7)
        if n != 50:
            fake.set_permission(repo, "carol", "read")
            seen.add(repo.id)
    fake.add_repo("elsewhere/x", 8)
    fake.state.oauth_callback_url = CALLBACK
    token = _exchange(fake, _code(fake, "carol"))
    access = asyncio.run(github_oauth.user_access(fake.base_url, token))
    assert access.login == "carol"
    assert access.installation_ids == frozenset({7})
    assert access.repository_ids == frozenset(seen)
    pages = [r.url for r in fake.requests if r.path == "/user/installations/7/repositories"]
    assert len(pages) == 2 and "page=2" in pages[1]


def test_github_refuses_a_code_twice_and_a_wrong_client_secret(fake_github):
    fake = fake_github
    code = _code(fake, "carol")
    with pytest.raises(OAuthError, match="incorrect"):
        _exchange(fake, code, secret="not-the-secret")
    assert _exchange(fake, code).startswith("ghu_")
    with pytest.raises(OAuthError, match="incorrect or expired"):
        _exchange(fake, code)


def test_a_callback_url_other_than_the_registered_one_is_refused(fake_github):
    fake = fake_github
    fake.state.oauth_callback_url = CALLBACK
    fake.sign_in("carol")
    url = github_oauth.authorize_url(fake.base_url, fake.state.client_id, "https://evil.example/cb", "s")
    assert httpx.get(url, follow_redirects=False).status_code == 400


def test_an_unreachable_github_is_a_clear_error():
    with pytest.raises(OAuthError, match="could not be reached"):
        asyncio.run(github_oauth.user_access("http://127.0.0.1:9", "ghu_x"))
