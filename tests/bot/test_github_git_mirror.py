"""The repository mirror against the fake GitHub's smart-HTTP git server: real fetch and push, token as a header."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

import pytest

from bot.github.client import build_gateway
from evolve.git.command import Credentials, GitError, git_environment
from evolve.git.commits import commit_edits
from evolve.git.mirror import GitMirror, transport_for
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


def test_mirror_fetch_commit_and_push(fake_github: FakeGitHub, setup) -> None:  # type: ignore[no-untyped-def]
    repo, creds, url, mirror = setup
    mirror.sync(url, creds)
    main = mirror.branch_sha("main")
    assert main
    first = commit_edits(mirror.path, main, {"mod.py": "x = 2\n"}, "edit\n")
    mirror.push(first, "evolve/style-1", url, creds, expected=None)
    assert fake_github.file_at(repo, "evolve/style-1", "mod.py") == "x = 2"

    # an update is a force-with-lease against the last known remote sha
    mirror.sync(url, creds)
    assert mirror.branch_sha("evolve/style-1") == first
    second = commit_edits(mirror.path, main, {"mod.py": "x = 3\n"}, "edit\n")
    mirror.push(second, "evolve/style-1", url, creds, expected=first)
    assert fake_github.file_at(repo, "evolve/style-1", "mod.py") == "x = 3"
    with pytest.raises(GitError):  # stale lease: someone else moved the branch
        mirror.push(first, "evolve/style-1", url, creds, expected=first)

    git_requests = [r for r in fake_github.requests if r.path.startswith("/git/")]
    assert git_requests and all(r.auth == "basic" for r in git_requests)
    assert any(r.path.endswith("git-receive-pack") for r in git_requests)
    stored = "".join(
        p.read_text(errors="replace") for p in mirror.path.rglob("*") if p.is_file() and "objects" not in p.parts
    )
    assert creds.token not in stored and url not in (mirror.path / "config").read_text()


def test_token_only_in_environment_and_scrubbed(fake_github: FakeGitHub, setup) -> None:  # type: ignore[no-untyped-def]
    _repo, creds, url, mirror = setup
    env = git_environment(creds, protocols=("http",))
    assert env["GIT_CONFIG_KEY_1"] == "http.extraHeader" and env["GIT_CONFIG_KEY_0"] == "protocol.http.allow"
    assert creds.token not in repr(creds)
    bad = Credentials("ghs_not_a_real_token_000")
    with pytest.raises(GitError) as caught:
        mirror.sync(url, bad)
    assert bad.token not in str(caught.value)
    assert all(bad.token not in r.url for r in fake_github.requests)


def test_only_https_or_a_loopback_stand_in(tmp_path: Path) -> None:
    assert transport_for("https://github.com/o/r.git") == "https"
    assert transport_for("http://127.0.0.1:9/git/o/r.git") == "http"
    for url in ("http://github.com/o/r.git", "ext::sh -c id", "file:///etc", "ssh://git@github.com/o/r", "/tmp/x"):
        with pytest.raises(GitError, match="only https"):
            transport_for(url)


def test_token_never_in_argv(fake_github: FakeGitHub, setup, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    _repo, creds, url, mirror = setup
    seen: list[list[str]] = []
    real_run = subprocess.run

    def spy(args, **kwargs):  # type: ignore[no-untyped-def]
        seen.append(list(args))
        return real_run(args, **kwargs)

    monkeypatch.setattr(subprocess, "run", spy)
    mirror.sync(url, creds)
    mirror.sync(url, creds)  # second time: fetch into the existing mirror
    sha = commit_edits(mirror.path, mirror.branch_sha("main") or "", {"mod.py": "x = 9\n"}, "edit\n")
    mirror.push(sha, "evolve/argv-1", url, creds, expected=None)
    assert any("push" in a for a in seen) and any("fetch" in a for a in seen)
    encoded = creds.header().split()[-1]
    assert all(creds.token not in " ".join(a) and encoded not in " ".join(a) for a in seen)
