"""The repository mirror against the fake GitHub's smart-HTTP git server: real clone, fetch and push."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.git_mirror import Credentials, GitError, GitMirror, git_env, run_git
from bot.github_client import build_gateway
from tests.fakegithub import FakeGitHub
from tests.fakegithub.fixtures import app_settings

INSTALLATION = 5


@pytest.fixture
def setup(fake_github: FakeGitHub, tmp_path: Path):  # type: ignore[no-untyped-def]
    src = tmp_path / "src"
    src.mkdir()
    (src / "mod.py").write_text("x = 1\n")
    fake_github.add_installation(INSTALLATION, "octo")
    repo = fake_github.add_repo("octo/lib", INSTALLATION, source=src)
    gateway = build_gateway(app_settings(fake_github, tmp_path / "data"))
    token = asyncio.run(gateway.installation_token(INSTALLATION))
    clone_url = f"{fake_github.base_url}/git/octo/lib.git"
    return repo, Credentials(token), clone_url, GitMirror(tmp_path / "work", "octo/lib")


def _commit(checkout: Path, name: str, text: str) -> str:
    (checkout / name).write_text(text)
    run_git(["add", name], cwd=checkout)
    run_git(["commit", "-q", "-m", f"edit {name}"], cwd=checkout)
    return run_git(["rev-parse", "HEAD"], cwd=checkout)


def test_mirror_checkout_and_push(fake_github: FakeGitHub, setup) -> None:  # type: ignore[no-untyped-def]
    repo, creds, url, mirror = setup
    mirror.sync(url, creds)
    checkout = mirror.checkout("main", "run-1")
    assert (checkout / "mod.py").read_text() == "x = 1\n"
    first = _commit(checkout, "mod.py", "x = 2\n")
    mirror.push(checkout, first, "evolve/style-1", url, creds, expected=None)
    assert fake_github.file_at(repo, "evolve/style-1", "mod.py") == "x = 2"

    # an update is a force-with-lease against the last known remote sha
    mirror.sync(url, creds)
    assert mirror.branch_sha("evolve/style-1") == first
    run_git(["reset", "-q", "--hard", "origin/main"], cwd=checkout)
    second = _commit(checkout, "mod.py", "x = 3\n")
    mirror.push(checkout, second, "evolve/style-1", url, creds, expected=first)
    assert fake_github.file_at(repo, "evolve/style-1", "mod.py") == "x = 3"
    with pytest.raises(GitError):  # stale lease: someone else moved the branch
        mirror.push(checkout, first, "evolve/style-1", url, creds, expected=first)

    git_requests = [r for r in fake_github.requests if r.path.startswith("/git/")]
    assert git_requests and all(r.auth == "basic" for r in git_requests)
    assert any(r.path.endswith("git-receive-pack") for r in git_requests)
    for path in (mirror.path / "config", checkout / ".git" / "config"):
        assert creds.token not in path.read_text()


def test_token_only_in_environment_and_scrubbed(fake_github: FakeGitHub, setup) -> None:  # type: ignore[no-untyped-def]
    _repo, creds, url, mirror = setup
    env = git_env(creds)
    assert env["GIT_CONFIG_KEY_0"] == "http.extraHeader"
    assert creds.token not in repr(creds)
    bad = Credentials("ghs_not_a_real_token_000")
    with pytest.raises(GitError) as caught:
        mirror.sync(url, bad)
    assert bad.token not in str(caught.value)
    assert all(bad.token not in r.url for r in fake_github.requests)


def test_token_never_in_argv(fake_github: FakeGitHub, setup, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import subprocess

    _repo, creds, url, mirror = setup
    seen: list[list[str]] = []
    real_run = subprocess.run

    def spy(args, **kwargs):  # type: ignore[no-untyped-def]
        seen.append(list(args))
        return real_run(args, **kwargs)

    monkeypatch.setattr(subprocess, "run", spy)
    mirror.sync(url, creds)
    mirror.sync(url, creds)  # second time: fetch
    checkout = mirror.checkout("main", "argv")
    sha = _commit(checkout, "mod.py", "x = 9\n")
    mirror.push(checkout, sha, "evolve/argv-1", url, creds, expected=None)
    assert any("push" in a for a in seen) and any("fetch" in a for a in seen)
    encoded = creds.header().split()[-1]
    assert all(creds.token not in " ".join(a) and encoded not in " ".join(a) for a in seen)
