"""The fake GitHub's state: installations, tokens, repositories, issues, PRs, labels, check runs, requests."""

from __future__ import annotations

import copy
import json
import secrets
import subprocess
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

EXAMPLES: dict[str, Any] = json.loads((Path(__file__).parent / "api_examples.json").read_text(encoding="utf-8"))
GIT_ENV = {"GIT_CONFIG_NOSYSTEM": "1", "GIT_TERMINAL_PROMPT": "0", "HOME": "/nonexistent"}


def example(name: str) -> dict[str, Any]:
    """A deep copy of a response example from GitHub's OpenAPI description (`@octokit/openapi`, MIT)."""
    return copy.deepcopy(EXAMPLES[name])


def iso(moment: datetime) -> str:
    """GitHub's timestamp format."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def git(bare: Path, *args: str, input: bytes | None = None) -> str:
    """Run git against a bare repository of the fake and return stdout."""
    import os

    env = {**os.environ, **GIT_ENV}
    done = subprocess.run(["git", "--git-dir", str(bare), *args], input=input, capture_output=True, env=env, check=True)
    return done.stdout.decode().strip()


@dataclass
class RecordedRequest:
    """One request the fake received. `auth` is the kind of credential ("jwt", "token", "basic", None), never its value."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: Any
    auth: str | None
    status: int = 0

    @property
    def url(self) -> str:
        """Path and query as requested."""
        return self.path + (f"?{self.query}" if self.query else "")


@dataclass
class Token:
    """An installation access token."""

    value: str
    installation_id: int
    expires_at: datetime
    revoked: bool = False
    repository_ids: frozenset[int] | None = None  # None: every repository of the installation
    permissions: dict[str, str] | None = None  # None: every permission of the installation

    def reaches(self, repo_id: int) -> bool:
        """Whether the token was granted this repository."""
        return self.repository_ids is None or repo_id in self.repository_ids

    def allows(self, category: str | None, write: bool) -> bool:
        """Whether the token's permissions cover reading (or writing) `category` (None: metadata, always)."""
        if category is None or self.permissions is None:
            return True
        level = self.permissions.get(category)
        return level == "write" or (not write and level == "read")


@dataclass
class FakeRepo:
    """A repository: a bare git repository plus its issues, PRs, labels, comments and check runs."""

    id: int
    owner: str
    name: str
    bare: Path
    installation_id: int | None
    default_branch: str = "main"
    permissions: dict[str, str] = field(default_factory=dict)  # login -> admin|maintain|write|triage|read
    issues: dict[int, dict[str, Any]] = field(default_factory=dict)  # number -> {"title", "pull": bool}
    comments: dict[int, dict[str, Any]] = field(default_factory=dict)  # comment id -> issue-comment JSON
    reactions: dict[int, list[str]] = field(default_factory=dict)  # comment id -> contents
    pulls: dict[int, dict[str, Any]] = field(default_factory=dict)  # number -> state
    labels: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> label JSON
    issue_labels: dict[int, list[str]] = field(default_factory=dict)
    check_runs: dict[int, dict[str, Any]] = field(default_factory=dict)
    statuses: list[dict[str, Any]] = field(default_factory=list)  # commit statuses, newest last (ci_api.py)
    workflow_runs: dict[int, dict[str, Any]] = field(default_factory=dict)  # Actions runs with jobs and logs
    required_checks: dict[str, list[str]] = field(default_factory=dict)  # branch -> contexts protection requires

    @property
    def full_name(self) -> str:
        """owner/name"""
        return f"{self.owner}/{self.name}"

    def issue_comments(self, number: int) -> list[dict[str, Any]]:
        """Comments on an issue or PR, oldest first."""
        return [c for c in self.comments.values() if c["issue_number"] == number]

    def open_pulls(self) -> list[dict[str, Any]]:
        """Open pull requests, by number."""
        return [p for _, p in sorted(self.pulls.items()) if p["state"] == "open"]


class FakeState:
    """All mutable state, guarded by one lock (the server runs in another thread)."""

    def __init__(self, root: Path, app_id: int, token_ttl: timedelta) -> None:
        self.root = root
        self.app_id = app_id
        self.token_ttl = token_ttl
        self.lock = threading.RLock()
        self.base_url = ""
        self.installations: dict[int, dict[str, Any]] = {}
        self.tokens: dict[str, Token] = {}
        self.repos: dict[str, FakeRepo] = {}
        self.requests: list[RecordedRequest] = []
        self.latency = 0.0  # seconds each REST answer waits, like GitHub's own (scripts/chaos.py's throughput)
        self.failures: list[dict[str, Any]] = []  # injected error responses
        # Things that happen on GitHub's side when a request arrives (a re-run finishing meanwhile): (method,
        # path regex, body predicate, action), each run once, before the request is answered.
        self.on_request: list[tuple[str, str, Any, Any]] = []
        self.users: dict[str, str] = {}  # login -> "User" | "Bot"
        # The App's web flow (tests/fakegithub/oauth_api.py): its client credentials and callback URL, who is
        # signed in to the fake in the browser, the codes handed out and the user tokens they became.
        self.client_id = "Iv1.fakeclient0001"
        self.client_secret = "fake-client-secret-" + secrets.token_hex(8)
        self.oauth_callback_url = ""
        self.signed_in: str | None = None
        self.oauth_codes: dict[str, dict[str, Any]] = {}
        self.user_tokens: dict[str, str] = {}  # token -> login
        self._ids = 1000

    def next_id(self) -> int:
        """A fresh id, unique across objects."""
        with self.lock:
            self._ids += 1
            return self._ids

    def issue_token(
        self,
        installation_id: int,
        repository_ids: frozenset[int] | None = None,
        permissions: dict[str, str] | None = None,
    ) -> Token:
        """Mint an installation token, restricted to some repositories and permissions when given."""
        token = Token(
            value="ghs_" + secrets.token_hex(18),
            installation_id=installation_id,
            expires_at=datetime.now(timezone.utc) + self.token_ttl,
            repository_ids=repository_ids,
            permissions=permissions,
        )
        with self.lock:
            self.tokens[token.value] = token
        return token

    def valid_token(self, value: str) -> Token | None:
        """The token record when `value` is a live installation token."""
        token = self.tokens.get(value)
        if token is None or token.revoked or token.expires_at <= datetime.now(timezone.utc):
            return None
        return token

    def repo(self, owner: str, name: str) -> FakeRepo | None:
        """A repository by owner and name (case-insensitive like GitHub)."""
        return self.repos.get(f"{owner}/{name}".lower())

    # ---- JSON representations --------------------------------------------------------------

    def user_json(self, login: str) -> dict[str, Any]:
        """A simple-user object."""
        body = example("simple-user")
        kind = self.users.get(login, "Bot" if login.endswith("[bot]") else "User")
        body.update(login=login, id=abs(hash(login)) % 10_000_000, type=kind, html_url=f"{self.web}/{login}")
        return body

    @property
    def web(self) -> str:
        """The fake's web origin (same server as the API)."""
        return self.base_url

    def repo_json(self, repo: FakeRepo) -> dict[str, Any]:
        """A full-repository object."""
        body = example("full-repository")
        api = f"{self.base_url}/repos/{repo.full_name}"
        body.update(
            id=repo.id,
            node_id=f"R_{repo.id}",
            name=repo.name,
            full_name=repo.full_name,
            owner=self.user_json(repo.owner),
            default_branch=repo.default_branch,
            clone_url=f"{self.base_url}/git/{repo.full_name}.git",
            html_url=f"{self.web}/{repo.full_name}",
            url=api,
            private=False,
            fork=False,
            language="Python",
        )
        return body

    def label_json(
        self, repo: FakeRepo, name: str, color: str = "ededed", description: str | None = None
    ) -> dict[str, Any]:
        """A label object."""
        body = example("label")
        body.update(
            id=self.next_id(),
            name=name,
            color=color,
            description=description,
            default=False,
            url=f"{self.base_url}/repos/{repo.full_name}/labels/{name}",
        )
        return body

    def head_sha(self, repo: FakeRepo, branch: str) -> str | None:
        """The commit a branch of the bare repository points at."""
        try:
            return git(repo.bare, "rev-parse", "--verify", "--quiet", f"refs/heads/{branch}^{{commit}}")
        except subprocess.CalledProcessError:
            return None

    def pull_json(self, repo: FakeRepo, number: int, simple: bool = False) -> dict[str, Any]:
        """A pull-request (or pull-request-simple) object built from the stored state."""
        pr = repo.pulls[number]
        body = example("pull-request-simple" if simple else "pull-request")
        repo_json = self.repo_json(repo)
        for side in ("head", "base"):
            ref = pr[side]
            sha = self.head_sha(repo, ref) or pr.get(f"{side}_sha") or "0" * 40
            body[side].update(
                ref=ref, sha=sha, label=f"{repo.owner}:{ref}", repo=repo_json, user=self.user_json(repo.owner)
            )
        labels = [repo.labels[name] for name in repo.issue_labels.get(number, []) if name in repo.labels]
        body.update(
            id=pr["id"],
            node_id=f"PR_{pr['id']}",
            number=number,
            state=pr["state"],
            title=pr["title"],
            body=pr["body"],
            user=self.user_json(pr["user"]),
            labels=labels,
            draft=pr.get("draft", False),
            html_url=f"{self.web}/{repo.full_name}/pull/{number}",
            url=f"{self.base_url}/repos/{repo.full_name}/pulls/{number}",
            created_at=pr["created_at"],
            updated_at=pr["updated_at"],
            closed_at=pr.get("closed_at"),
            merged_at=pr.get("merged_at"),
            merge_commit_sha=pr.get("merge_commit_sha"),
        )
        if not simple:
            from tests.fakegithub.ci_api import mergeable

            merge_state = mergeable(self, repo, number)
            body.update(
                merged=bool(pr.get("merged_at")),
                mergeable=merge_state,
                mergeable_state={True: "clean", False: "dirty", None: "unknown"}[merge_state],
                merged_by=None,
                comments=0,
                commits=1,
                additions=1,
                deletions=1,
                changed_files=1,
            )
        return body

    def comment_json(self, repo: FakeRepo, comment_id: int) -> dict[str, Any]:
        """An issue-comment object."""
        stored = repo.comments[comment_id]
        body = example("issue-comment")
        body.update(
            id=comment_id,
            node_id=f"IC_{comment_id}",
            body=stored["body"],
            user=self.user_json(stored["user"]),
            html_url=f"{self.web}/{repo.full_name}/issues/{stored['issue_number']}#issuecomment-{comment_id}",
            url=f"{self.base_url}/repos/{repo.full_name}/issues/comments/{comment_id}",
            issue_url=f"{self.base_url}/repos/{repo.full_name}/issues/{stored['issue_number']}",
            created_at=stored["created_at"],
            updated_at=stored["created_at"],
            author_association="NONE",
        )
        return body

    def check_run_json(self, repo: FakeRepo, check_id: int) -> dict[str, Any]:
        """A check-run object."""
        stored = repo.check_runs[check_id]
        body = example("check-run")
        output = stored.get("output") or {}
        app = copy.deepcopy(body["app"])
        slug = stored.get("app", "evolve-bot")
        app.update(slug=slug, name=slug, id=self.app_id if slug == "evolve-bot" else abs(hash(slug)) % 100_000)
        body.update(
            app=app,
            id=check_id,
            node_id=f"CR_{check_id}",
            name=stored["name"],
            head_sha=stored["head_sha"],
            status=stored.get("status", "queued"),
            conclusion=stored.get("conclusion"),
            external_id=stored.get("external_id", ""),
            details_url=stored.get("details_url"),
            started_at=stored.get("started_at"),
            completed_at=stored.get("completed_at"),
            url=f"{self.base_url}/repos/{repo.full_name}/check-runs/{check_id}",
            output={
                "title": output.get("title"),
                "summary": output.get("summary"),
                "text": output.get("text"),
                "annotations_count": len(stored.get("annotations", [])),
                "annotations_url": f"{self.base_url}/repos/{repo.full_name}/check-runs/{check_id}/annotations",
            },
            pull_requests=[],
        )
        return body

    # ---- mutations used by both the HTTP app and the test-facing facade ------------------

    def add_comment_locked(self, repo: FakeRepo, number: int, user: str, body: str) -> int:
        """Store a comment on issue/PR `number`; return its id."""
        comment_id = self.next_id()
        with self.lock:
            repo.comments[comment_id] = {
                "issue_number": number,
                "user": user,
                "body": body,
                "created_at": iso(datetime.now(timezone.utc)),
            }
        return comment_id

    def add_pull_locked(
        self, repo: FakeRepo, *, head: str, base: str, title: str, body: str, user: str, draft: bool = False
    ) -> int:
        """Store a new open PR; return its number (issues and PRs share numbers, as on GitHub)."""
        with self.lock:
            number = max([0, *repo.issues, *repo.pulls]) + 1
            now = iso(datetime.now(timezone.utc))
            repo.pulls[number] = {
                "id": self.next_id(),
                "head": head,
                "base": base,
                "title": title,
                "body": body,
                "user": user,
                "state": "open",
                "draft": draft,
                "created_at": now,
                "updated_at": now,
                "base_sha": self.head_sha(repo, base),
            }
        return number
