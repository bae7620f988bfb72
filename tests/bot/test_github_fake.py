"""The fake GitHub itself: it checks credentials like GitHub does and its bodies parse with githubkit's models."""

from __future__ import annotations

import base64
import os
import subprocess
from datetime import timedelta
from pathlib import Path

import httpx
import jwt
import pytest
from githubkit.compat import type_validate_python
from githubkit_schemas.latest import models

from tests.fakegithub import FakeGitHub
from tests.fakegithub.state import example


def _jwt(fake: FakeGitHub, key: str | None = None, issuer: int | None = None) -> str:
    import time

    now = int(time.time())
    return jwt.encode(
        {"iss": str(issuer or fake.app_id), "iat": now - 60, "exp": now + 540},
        key or fake.private_key,
        algorithm="RS256",
    )


@pytest.mark.parametrize(
    ("name", "model"),
    [
        ("installation-token", models.InstallationToken),
        ("collaborator-permission", models.RepositoryCollaboratorPermission),
        ("reaction", models.Reaction),
        ("issue-comment", models.IssueComment),
        ("content-file", models.ContentFile),
        ("full-repository", models.FullRepository),
        ("pull-request", models.PullRequest),
        ("pull-request-simple", models.PullRequestSimple),
        ("label", models.Label),
        ("check-run", models.CheckRun),
    ],
)
def test_vendored_examples_parse(name: str, model: type) -> None:
    type_validate_python(model, example(name))


def test_credentials_are_checked(fake_github: FakeGitHub, tmp_path: Path) -> None:
    fake_github.add_installation(1, "octo")
    fake_github.add_repo("octo/r", 1)
    fake_github.add_installation(2, "other")
    url = fake_github.base_url
    with httpx.Client(base_url=url) as http:
        assert http.post("/app/installations/1/access_tokens").status_code == 401
        other_key = FakeGitHub(tmp_path / "x").private_key
        bad = {"Authorization": f"Bearer {_jwt(fake_github, key=other_key)}"}
        assert http.post("/app/installations/1/access_tokens", headers=bad).status_code == 401
        wrong_app = {"Authorization": f"Bearer {_jwt(fake_github, issuer=999)}"}
        assert http.post("/app/installations/1/access_tokens", headers=wrong_app).status_code == 401
        good = {"Authorization": f"Bearer {_jwt(fake_github)}"}
        token = http.post("/app/installations/1/access_tokens", headers=good).json()["token"]
        other = http.post("/app/installations/2/access_tokens", headers=good).json()["token"]
        assert http.get("/repos/octo/r", headers={"Authorization": f"token {token}"}).status_code == 200
        assert http.get("/repos/octo/r", headers={"Authorization": f"token {other}"}).status_code == 404
        assert http.get("/repos/octo/r", headers=good).status_code == 401  # the app JWT is not an installation token
    recorded = fake_github.requests
    assert all("authorization" not in {k.lower() for k in r.headers} for r in recorded)
    assert [r.auth for r in recorded][:3] == [None, "jwt", "jwt"]


def test_expired_tokens_are_refused(fake_github: FakeGitHub) -> None:
    fake_github.state.token_ttl = timedelta(seconds=-1)
    fake_github.add_installation(1, "octo")
    fake_github.add_repo("octo/r", 1)
    with httpx.Client(base_url=fake_github.base_url) as http:
        good = {"Authorization": f"Bearer {_jwt(fake_github)}"}
        token = http.post("/app/installations/1/access_tokens", headers=good).json()["token"]
        assert http.get("/repos/octo/r", headers={"Authorization": f"token {token}"}).status_code == 401


def test_git_needs_an_installation_token(fake_github: FakeGitHub, tmp_path: Path) -> None:
    fake_github.add_installation(1, "octo")
    repo = fake_github.add_repo("octo/r", 1)
    fake_github.commit_files(repo, {"a.txt": "a\n"}, "one")
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_CONFIG_NOSYSTEM": "1"}
    url = f"{fake_github.base_url}/git/octo/r.git"
    anonymous = subprocess.run(
        ["git", "clone", "-q", url, str(tmp_path / "anon")], env=env, capture_output=True, check=False
    )
    assert anonymous.returncode != 0
    with httpx.Client(base_url=fake_github.base_url) as http:
        token = http.post(
            "/app/installations/1/access_tokens", headers={"Authorization": f"Bearer {_jwt(fake_github)}"}
        ).json()["token"]
    header = "AUTHORIZATION: basic " + base64.b64encode(f"x-access-token:{token}".encode()).decode()
    env.update(GIT_CONFIG_COUNT="1", GIT_CONFIG_KEY_0="http.extraHeader", GIT_CONFIG_VALUE_0=header)
    subprocess.run(["git", "clone", "-q", url, str(tmp_path / "ok")], env=env, check=True)
    assert (tmp_path / "ok" / "a.txt").read_text() == "a\n"
