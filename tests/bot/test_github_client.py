"""The GitHub gateway against the fake GitHub: auth, token caching, retries, the endpoints the bot uses."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from pathlib import Path

import pytest

from bot.github.client import GitHubError, build_gateway
from tests.fakegithub import FakeGitHub
from tests.fakegithub.fixtures import app_settings

INSTALLATION = 77


@pytest.fixture
def repo(fake_github: FakeGitHub, tmp_path: Path):  # type: ignore[no-untyped-def]
    src = tmp_path / "src"
    (src / ".github").mkdir(parents=True)
    (src / "README.md").write_text("hello\n")
    (src / ".github" / "evolve.yml").write_text("limits:\n  max_open_prs: 1\n")
    fake_github.add_installation(INSTALLATION, "octo-org")
    return fake_github.add_repo("octo-org/sample", INSTALLATION, source=src)


@pytest.fixture
def gateway(fake_github: FakeGitHub, tmp_path: Path):  # type: ignore[no-untyped-def]
    return build_gateway(app_settings(fake_github, tmp_path / "data"))


def test_token_is_minted_with_a_verified_jwt_and_cached(fake_github, repo, gateway) -> None:  # type: ignore[no-untyped-def]
    async def scenario() -> None:
        first = await gateway.installation_token(INSTALLATION)
        assert first == await gateway.installation_token(INSTALLATION)
        info = await gateway.get_repo(INSTALLATION, "octo-org", "sample")
        assert info.default_branch == "main"
        assert info.clone_url == f"{fake_github.base_url}/git/octo-org/sample.git"

    asyncio.run(scenario())
    minted = fake_github.requests_to("POST", f"/app/installations/{INSTALLATION}/access_tokens")
    assert len(minted) == 1 and minted[0].auth == "jwt" and minted[0].status == 201
    repo_calls = fake_github.requests_to("GET", "/repos/octo-org/sample")
    assert repo_calls[0].auth == "token" and repo_calls[0].status == 200


def test_token_renewed_when_close_to_expiry(fake_github, repo, tmp_path) -> None:  # type: ignore[no-untyped-def]
    fake_github.state.token_ttl = timedelta(minutes=4)  # inside the five-minute margin
    gateway = build_gateway(app_settings(fake_github, tmp_path / "data"))

    async def scenario() -> None:
        await gateway.installation_token(INSTALLATION)
        await gateway.installation_token(INSTALLATION)

    asyncio.run(scenario())
    assert len(fake_github.requests_to("POST", "/access_tokens")) == 2


def test_tokens_that_no_longer_work_are_no_longer_redaction_secrets(fake_github, repo, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """One token per delivery must not grow the redaction list forever: expired ones are forgotten."""
    from evolve.untrusted_text import secret_values

    fake_github.state.token_ttl = timedelta(seconds=-1)  # every token is already expired when it is minted
    gateway = build_gateway(app_settings(fake_github, tmp_path / "data"))

    async def scenario() -> list[str]:
        return [await gateway.installation_token(INSTALLATION) for _ in range(3)]

    first, second, third = asyncio.run(scenario())
    registered = secret_values({})
    assert first not in registered and second not in registered  # expired and replaced: forgotten
    assert third in registered  # the last one is still held
    fake_github.state.token_ttl = timedelta(minutes=4)  # renewed within the margin, before it expires
    renewing = build_gateway(app_settings(fake_github, tmp_path / "data"))
    earlier, later = asyncio.run(scenario_for(renewing))
    assert earlier != later and {earlier, later} <= set(secret_values({}))  # the earlier one still works


async def scenario_for(gateway) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    return await gateway.installation_token(INSTALLATION), await gateway.installation_token(INSTALLATION)


def test_wrong_private_key_is_refused(fake_github, repo, tmp_path) -> None:  # type: ignore[no-untyped-def]
    other = FakeGitHub(tmp_path / "other")
    gateway = build_gateway(app_settings(fake_github, tmp_path / "data", private_key=other.private_key))
    with pytest.raises(GitHubError) as caught:
        asyncio.run(gateway.installation_token(INSTALLATION))
    assert caught.value.status == 401


def test_endpoints_used_by_the_bot(fake_github, repo, gateway) -> None:  # type: ignore[no-untyped-def]
    fake_github.set_permission(repo, "alice", "maintain")
    issue = fake_github.add_issue(repo)
    comment = fake_github.add_comment(repo, issue, "alice", "/evolve run")

    async def scenario() -> None:
        assert await gateway.get_permission(INSTALLATION, "octo-org", "sample", "alice") == "maintain"
        assert await gateway.can_write(INSTALLATION, "octo-org", "sample", "alice")
        assert not await gateway.can_write(INSTALLATION, "octo-org", "sample", "mallory")
        await gateway.add_reaction(INSTALLATION, "octo-org", "sample", comment["id"], "eyes")
        await gateway.create_comment(INSTALLATION, "octo-org", "sample", issue, "On it.")
        text = await gateway.get_file(INSTALLATION, "octo-org", "sample", ".github/evolve.yml")
        assert text == "limits:\n  max_open_prs: 1\n"
        assert await gateway.get_file(INSTALLATION, "octo-org", "sample", "missing.txt") is None
        fake_github.commit_files(repo, {"a.py": "x = 1\n"}, "branch", branch="evolve/style-1")
        pull = await gateway.create_pull(
            INSTALLATION, "octo-org", "sample", head="evolve/style-1", base="main", title="Style", body="body"
        )
        with pytest.raises(GitHubError) as duplicate:
            await gateway.create_pull(
                INSTALLATION, "octo-org", "sample", head="evolve/style-1", base="main", title="Style", body="body"
            )
        assert duplicate.value.status == 422
        await gateway.add_labels(
            INSTALLATION, "octo-org", "sample", pull.number, {"evolve": "0e8a16", "evolve:risk-low": "c2e0c6"}
        )
        updated = await gateway.update_pull(INSTALLATION, "octo-org", "sample", pull.number, body="new body")
        assert updated.body == "new body"
        listed = await gateway.list_open_pulls(INSTALLATION, "octo-org", "sample", head_prefix="evolve/")
        assert [p.number for p in listed] == [pull.number]
        assert set((await gateway.get_pull(INSTALLATION, "octo-org", "sample", pull.number)).labels) == {
            "evolve",
            "evolve:risk-low",
        }
        check = await gateway.create_check_run(
            INSTALLATION, "octo-org", "sample", name="evolve/gates", head_sha=pull.head_sha, status="in_progress"
        )
        await gateway.update_check_run(
            INSTALLATION,
            "octo-org",
            "sample",
            check,
            status="completed",
            conclusion="success",
            output={"title": "ok", "summary": "all good"},
        )

    asyncio.run(scenario())
    assert repo.reactions[comment["id"]] == ["eyes"]
    assert fake_github.comments(repo, issue)[-1] == "On it."
    assert repo.labels["evolve"]["color"] == "0e8a16"
    (check,) = repo.check_runs.values()
    assert check["conclusion"] == "success" and check["name"] == "evolve/gates"
    label_creates = fake_github.requests_to("POST", "/repos/octo-org/sample/labels")
    assert [r.body["name"] for r in label_creates] == ["evolve", "evolve:risk-low"]


def test_server_errors_are_retried(fake_github, repo, gateway, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import anyio

    async def no_sleep(_seconds: float) -> None:
        return None

    monkeypatch.setattr(anyio, "sleep", no_sleep)
    fake_github.fail_next("GET", r"/repos/octo-org/sample$", status=502, times=2)
    fake_github.fail_next("GET", r"/repos/octo-org/sample$", status=429, times=1, headers={"retry-after": "0"})
    fake_github.fail_next(
        "GET",
        r"/repos/octo-org/sample$",
        status=403,
        times=1,
        headers={"retry-after": "0"},
        message="You have exceeded a secondary rate limit",
    )
    info = asyncio.run(gateway.get_repo(INSTALLATION, "octo-org", "sample"))
    assert info.full_name == "octo-org/sample"
    statuses = [r.status for r in fake_github.requests_to("GET", "/repos/octo-org/sample")]
    assert statuses == [502, 502, 429, 403, 200]


def test_retries_give_up_with_a_clear_error(fake_github, repo, gateway, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import anyio

    async def no_sleep(_seconds: float) -> None:
        return None

    monkeypatch.setattr(anyio, "sleep", no_sleep)
    fake_github.fail_next("GET", r"/repos/octo-org/sample$", status=503, times=10)
    with pytest.raises(GitHubError) as caught:
        asyncio.run(gateway.get_repo(INSTALLATION, "octo-org", "sample"))
    assert caught.value.status == 503 and "GET /repos/{o}/{r}" in str(caught.value)
    assert len(fake_github.requests_to("GET", "/repos/octo-org/sample")) == 5  # one try and four retries


def test_tokens_never_leak_into_errors_or_logs(fake_github, repo, gateway, caplog) -> None:  # type: ignore[no-untyped-def]
    caplog.set_level(logging.DEBUG)
    with pytest.raises(GitHubError) as caught:
        asyncio.run(gateway.get_pull(INSTALLATION, "octo-org", "sample", 999))
    assert caught.value.status == 404
    for token in fake_github.issued_tokens:
        assert token not in str(caught.value)
        assert token not in caplog.text
        assert all(token not in r.url for r in fake_github.requests)


def test_calls_share_kept_alive_connections_and_the_gateway_shows_no_token(fake_github, repo, gateway) -> None:  # type: ignore[no-untyped-def]
    from bot.github import client as github_client

    async def scenario() -> tuple[int, int]:
        for _ in range(3):
            await gateway.get_repo(INSTALLATION, "octo-org", "sample")
            await gateway.list_open_pulls(INSTALLATION, "octo-org", "sample")
        pool = github_client.shared_transport().pool._pool  # httpcore's pool of this event loop
        return len(pool.connections), len(fake_github.requests)

    connections, requests = asyncio.run(scenario())
    assert requests >= 7 and connections == 1  # six calls and the token's mint, over one connection
    for token in fake_github.issued_tokens:
        assert token not in repr(gateway)


def test_fake_pages_lists_with_link_headers(fake_github, repo) -> None:  # type: ignore[no-untyped-def]
    import httpx

    for i in range(150):
        fake_github.add_pull(repo, f"evolve/theme-{i}")
    gateway = build_gateway(app_settings(fake_github, Path(repo.bare).parent / "data"))
    token = asyncio.run(gateway.installation_token(INSTALLATION))
    with httpx.Client(base_url=fake_github.base_url, headers={"Authorization": f"token {token}"}) as http:
        first = http.get("/repos/octo-org/sample/pulls", params={"state": "open", "per_page": 100})
        assert len(first.json()) == 100 and first.links["next"]["url"].endswith("page=2")
        assert first.links["last"]["url"] == first.links["next"]["url"]
        second = http.get(first.links["next"]["url"])
        assert len(second.json()) == 50 and "next" not in second.links and second.links["first"]["url"]
        assert http.get("/repos/octo-org/sample/pulls", params={"per_page": 200}).headers.get("link") is None


def test_list_open_pulls_follows_every_page(fake_github, repo, gateway) -> None:  # type: ignore[no-untyped-def]
    def listed() -> list[int]:
        pulls = asyncio.run(gateway.list_open_pulls(INSTALLATION, "octo-org", "sample", head_prefix="evolve/"))
        return [p.number for p in pulls]

    for i in range(100):
        fake_github.add_pull(repo, f"evolve/theme-{i}" if i % 3 else f"feature-{i}")
    assert len(listed()) == 66
    assert len(fake_github.requests_to("GET", "/pulls")) == 1  # no Link rel="next": no probe for an empty page
    for i in range(100, 150):
        fake_github.add_pull(repo, f"evolve/theme-{i}" if i % 3 else f"feature-{i}")
    fake_github.close_pull(repo, 2)
    assert listed() == [n for n in range(1, 151) if (n - 1) % 3 and n != 2]
    pages = fake_github.requests_to("GET", "/repos/octo-org/sample/pulls")[1:]
    assert len(pages) == 2 and "page=2" in pages[1].query and all(r.auth == "token" for r in pages)


def test_revoked_tokens_stop_working_and_scoped_gateways_keep_theirs(fake_github, repo, gateway) -> None:  # type: ignore[no-untyped-def]
    async def scenario() -> tuple[str, str]:
        shared = await gateway.installation_token(INSTALLATION)
        run_gateway = gateway.scoped()
        own = await run_gateway.installation_token(INSTALLATION)
        await run_gateway.get_repo(INSTALLATION, "octo-org", "sample")
        await run_gateway.revoke_tokens()
        await run_gateway.revoke_tokens()  # nothing left to revoke: no request
        return shared, own

    shared, own = asyncio.run(scenario())
    assert shared != own
    assert fake_github.revoked_tokens == [own]
    assert not fake_github.token_works(own, repo) and fake_github.token_works(shared, repo)
    (revoke,) = fake_github.requests_to("DELETE", "/installation/token")
    assert (revoke.auth, revoke.status) == ("token", 204)


def test_revocation_failures_are_swallowed(fake_github, repo, gateway) -> None:  # type: ignore[no-untyped-def]
    fake_github.fail_next("DELETE", r"/installation/token$", status=401, message="Bad credentials")

    async def scenario() -> None:
        run_gateway = gateway.scoped()
        await run_gateway.installation_token(INSTALLATION)
        await run_gateway.revoke_tokens()

    asyncio.run(scenario())
    assert [r.status for r in fake_github.requests_to("DELETE", "/installation/token")] == [401]


def test_a_run_token_reaches_only_its_repository_with_only_its_permissions(
    fake_github, repo, gateway, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    from bot.github.client import PLAN_PERMISSIONS, RUN_PERMISSIONS, TokenScope
    from evolve.git.command import Credentials, GitError, run_git

    src = tmp_path / "other-src"
    src.mkdir()
    (src / "x.py").write_text("x = 1\n")
    other = fake_github.add_repo("octo-org/other", INSTALLATION, source=src)

    async def scenario() -> tuple[str, str]:
        run_gateway = gateway.scoped(TokenScope(("sample",), RUN_PERMISSIONS))
        token = await run_gateway.installation_token(INSTALLATION)
        with pytest.raises(GitHubError) as caught:  # another repository of the same installation
            await run_gateway.create_comment(INSTALLATION, "octo-org", "other", 1, "hello")
        assert caught.value.status == 404
        plan_gateway = gateway.scoped(TokenScope(("sample",), PLAN_PERMISSIONS))
        with pytest.raises(GitHubError) as caught:  # a plan may comment, but not open pull requests
            await plan_gateway.create_pull(
                INSTALLATION, "octo-org", "sample", head="x", base="main", title="t", body=""
            )
        assert caught.value.status == 403
        plan_token = await plan_gateway.installation_token(INSTALLATION)
        await run_gateway.revoke_tokens()
        await plan_gateway.revoke_tokens()
        return token, plan_token

    token, plan_token = asyncio.run(scenario())
    minted = fake_github.requests_to("POST", f"/app/installations/{INSTALLATION}/access_tokens")
    assert {"repositories": ["sample"], "permissions": RUN_PERMISSIONS} in [r.body for r in minted]
    assert fake_github.token_works(token, repo) is False  # revoked at the end
    # git over HTTP with the scoped token: the other repository is not found
    fresh = asyncio.run(gateway.scoped(TokenScope(("sample",), PLAN_PERMISSIONS)).installation_token(INSTALLATION))
    for target, allowed in ((repo, True), (other, False)):
        url = f"{fake_github.base_url}/git/{target.full_name}.git"
        if allowed:
            run_git(["ls-remote", url], credentials=Credentials(fresh), protocols=("http",))
        else:
            with pytest.raises(GitError, match="not found|404"):
                run_git(["ls-remote", url], credentials=Credentials(fresh), protocols=("http",))
    assert not fake_github.token_works(fresh, other) and fake_github.token_works(fresh, repo)
    assert plan_token != token
