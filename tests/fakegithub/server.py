"""`FakeGitHub`: the stateful fake served by uvicorn on a free localhost port, and its test-facing API."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import uvicorn
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.fakegithub.app import build_app
from tests.fakegithub.state import (
    GIT_ENV,
    FakeRepo,
    FakeState,
    RecordedRequest,
    git,
    iso,
)

APP_PERMISSIONS = {
    "contents": "write",
    "pull_requests": "write",
    "issues": "write",
    "checks": "write",
    "metadata": "read",
    "statuses": "read",
    "actions": "read",
}


def _generate_key() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return private.decode(), public.decode()


class FakeGitHub:
    """A fake GitHub API + git server; `with FakeGitHub(tmp) as fake:` starts and stops it."""

    def __init__(self, root: Path, app_id: int = 4242, token_ttl: timedelta = timedelta(hours=1)) -> None:
        self.root = Path(root)
        self.private_key, self.public_key = _generate_key()
        self.state = FakeState(self.root, app_id, token_ttl)
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    # ---- lifecycle --------------------------------------------------------------------------

    @property
    def app_id(self) -> int:
        """The app's id (the JWT issuer)."""
        return self.state.app_id

    @property
    def base_url(self) -> str:
        """The API root, e.g. http://127.0.0.1:PORT"""
        return self.state.base_url

    def start(self) -> FakeGitHub:
        """Serve on a free loopback port in a daemon thread."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self.state.base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        config = uvicorn.Config(
            build_app(self.state, self.public_key), log_level="warning", access_log=False, lifespan="off"
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]}, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("fake GitHub did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        """Stop the server thread."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)

    def __enter__(self) -> FakeGitHub:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- setup --------------------------------------------------------------------------------

    def add_installation(self, installation_id: int, account: str) -> dict[str, Any]:
        """Register an installation of the app on `account`."""
        record = {"id": installation_id, "account": account, "permissions": dict(APP_PERMISSIONS), "suspended": False}
        self.state.installations[installation_id] = record
        return record

    def add_repo(
        self,
        full_name: str,
        installation_id: int | None,
        source: Path | None = None,
        default_branch: str = "main",
        repo_id: int | None = None,
    ) -> FakeRepo:
        """Create a bare repository, seeded with one commit of `source`'s files when given."""
        owner, name = full_name.split("/")
        bare = self.root / "git" / owner / f"{name}.git"
        bare.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["git", "init", "--bare", "-q", "-b", default_branch, str(bare)], check=True, env={**os.environ, **GIT_ENV}
        )
        repo = FakeRepo(
            id=repo_id or self.state.next_id(),
            owner=owner,
            name=name,
            bare=bare,
            installation_id=installation_id,
            default_branch=default_branch,
        )
        self.state.repos[full_name.lower()] = repo
        if source is not None:
            self.commit_files(
                repo,
                {
                    str(p.relative_to(source)): p.read_text()
                    for p in sorted(source.rglob("*"))
                    if p.is_file() and "__pycache__" not in p.parts
                },
                "Initial commit",
            )
        return repo

    def commit_files(self, repo: FakeRepo, files: dict[str, str], message: str, branch: str | None = None) -> str:
        """Commit `files` (path -> text) on top of `branch` (default branch) directly in the bare repository."""
        branch = branch or repo.default_branch
        with tempfile.TemporaryDirectory() as tmp:
            env = {
                **os.environ,
                **GIT_ENV,
                "GIT_INDEX_FILE": str(Path(tmp) / "index"),
                "GIT_AUTHOR_NAME": "Octo",
                "GIT_AUTHOR_EMAIL": "octo@example.com",
                "GIT_COMMITTER_NAME": "Octo",
                "GIT_COMMITTER_EMAIL": "octo@example.com",
            }
            parent = self.state.head_sha(repo, branch)

            def run(*a, **k):
                return (
                    subprocess.run(
                        ["git", "--git-dir", str(repo.bare), *a], env=env, check=True, capture_output=True, **k
                    )
                    .stdout.decode()
                    .strip()
                )

            if parent:
                run("read-tree", parent)
            for path, text in files.items():
                blob = run("hash-object", "-w", "--stdin", input=text.encode())
                run("update-index", "--add", "--cacheinfo", f"100644,{blob},{path}")
            tree = run("write-tree")
            commit = run("commit-tree", tree, "-m", message, *(["-p", parent] if parent else []))
            run("update-ref", f"refs/heads/{branch}", commit)
        return commit

    def set_permission(self, repo: FakeRepo, login: str, role: str) -> None:
        """Give `login` a role (admin, maintain, write, triage, read) on `repo`."""
        repo.permissions[login] = role

    def add_issue(self, repo: FakeRepo, title: str = "Evolve please") -> int:
        """Open an issue; return its number."""
        number = max([0, *repo.issues, *repo.pulls]) + 1
        repo.issues[number] = {"title": title}
        return number

    def add_comment(self, repo: FakeRepo, number: int, user: str, body: str) -> dict[str, Any]:
        """A comment by `user`, as GitHub would put it in an `issue_comment` payload."""
        comment_id = self.state.add_comment_locked(repo, number, user, body)
        return self.state.comment_json(repo, comment_id)

    def add_pull(self, repo: FakeRepo, head: str, title: str = "A change", user: str = "octocat") -> int:
        """Open a PR from `head` (the branch need not exist: its sha then shows as zeros); return its number."""
        return self.state.add_pull_locked(repo, head=head, base=repo.default_branch, title=title, body="", user=user)

    def sign_in(self, login: str | None) -> None:
        """Be signed in to the fake GitHub as `login` in "the browser": the App's web flow authorizes as them."""
        self.state.signed_in = login

    def fail_next(
        self,
        method: str,
        path_regex: str,
        status: int = 502,
        times: int = 1,
        headers: dict[str, str] | None = None,
        message: str = "Server Error",
    ) -> None:
        """Answer the next `times` matching requests with `status` (5xx, 429, 403 secondary rate limit...)."""
        self.state.failures.append(
            {
                "method": method,
                "path": path_regex,
                "status": status,
                "times": times,
                "headers": headers or {},
                "message": message,
            }
        )

    # ---- the repository's CI (tests/fakegithub/ci_api.py) ----------------------------------------------

    def add_check_run(
        self,
        repo: FakeRepo,
        sha: str,
        name: str,
        conclusion: str | None,
        app: str = "github-actions",
        summary: str = "",
        annotations: list[dict[str, Any]] | None = None,
    ) -> int:
        """Another app's check run on `sha` (`conclusion` None: still in progress); its id."""
        check_id = self.state.next_id()
        with self.state.lock:
            repo.check_runs[check_id] = {
                "name": name,
                "head_sha": sha,
                "status": "completed" if conclusion else "in_progress",
                "conclusion": conclusion,
                "app": app,
                "output": {"title": name, "summary": summary},
                "annotations": annotations or [],
            }
        return check_id

    def add_status(self, repo: FakeRepo, sha: str, context: str, state: str, description: str = "") -> None:
        """A commit status (`state`: error, failure, pending or success) on `sha`."""
        with self.state.lock:
            repo.statuses.append(
                {"id": self.state.next_id(), "sha": sha, "context": context, "state": state, "description": description}
            )

    def add_workflow_run(
        self, repo: FakeRepo, sha: str, branch: str, name: str, jobs: list[tuple[str, str, str]]
    ) -> int:
        """A completed Actions run on `sha` with jobs (name, conclusion, log) and their check runs; its id.

        The run's conclusion is failure when a job failed; each job also shows as a `github-actions` check run.
        """
        run_id = self.state.next_id()
        records = []
        for job_name, conclusion, log in jobs:
            job_id = self.state.next_id()
            records.append({"id": job_id, "name": job_name, "conclusion": conclusion, "log": log})
            self.add_check_run(repo, sha, job_name, conclusion, summary=f"{name} / {job_name}")
        failed = any(conclusion == "failure" for _, conclusion, _ in jobs)
        with self.state.lock:
            repo.workflow_runs[run_id] = {
                "name": name,
                "head_sha": sha,
                "head_branch": branch,
                "status": "completed",
                "conclusion": "failure" if failed else "success",
                "jobs": records,
            }
        return run_id

    def require_checks(self, repo: FakeRepo, branch: str, contexts: list[str]) -> None:
        """Branch protection on `branch` requiring these checks (names of check runs or status contexts)."""
        repo.required_checks[branch] = list(contexts)

    def when_requested(self, method: str, path_regex: str, action: Any, body: Any = lambda body: True) -> None:
        """Do `action()` (something happening on GitHub meanwhile) when the next matching request arrives."""
        self.state.on_request.append((method, path_regex, body, action))

    # ---- inspection ---------------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received so far."""
        with self.state.lock:
            return list(self.state.requests)

    def requests_to(self, method: str, path_suffix: str) -> list[RecordedRequest]:
        """Recorded requests with this method whose path ends with `path_suffix`."""
        return [r for r in self.requests if r.method == method and r.path.endswith(path_suffix)]

    @property
    def issued_tokens(self) -> list[str]:
        """Every installation token minted (to assert none leaks)."""
        return list(self.state.tokens)

    @property
    def revoked_tokens(self) -> list[str]:
        """Installation tokens revoked with `DELETE /installation/token`."""
        with self.state.lock:
            return [value for value, token in self.state.tokens.items() if token.revoked]

    def token_works(self, token: str, repo: FakeRepo) -> bool:
        """Whether `GET /repos/{owner}/{name}` with this installation token answers 200."""
        import httpx

        with httpx.Client(base_url=self.base_url) as http:
            answer = http.get(f"/repos/{repo.full_name}", headers={"Authorization": f"token {token}"})
        return answer.status_code == 200

    def repo(self, full_name: str) -> FakeRepo:
        """A repository by full name."""
        return self.state.repos[full_name.lower()]

    def repo_json(self, repo: FakeRepo) -> dict[str, Any]:
        """The repository as the API and webhooks show it."""
        return self.state.repo_json(repo)

    def pull_json(self, repo: FakeRepo, number: int) -> dict[str, Any]:
        """A pull request as the API and webhooks show it."""
        return self.state.pull_json(repo, number)

    def comments(self, repo: FakeRepo, number: int) -> list[str]:
        """Bodies of the comments on an issue or PR."""
        return [c["body"] for c in repo.issue_comments(number)]

    def file_at(self, repo: FakeRepo, ref: str, path: str) -> str:
        """A file's text at a ref of the bare repository."""
        return git(repo.bare, "show", f"{ref}:{path}")

    # ---- reviewer actions -----------------------------------------------------------------------

    def merge_pull(self, repo: FakeRepo, number: int) -> dict[str, Any]:
        """Merge a PR with a real merge commit on its base branch; return the PR JSON."""
        pr = repo.pulls[number]
        base_sha, head_sha = self.state.head_sha(repo, pr["base"]), self.state.head_sha(repo, pr["head"])
        tree = git(repo.bare, "merge-tree", "--write-tree", base_sha, head_sha).splitlines()[0]
        env_commit = ["-c", "user.name=Octo", "-c", "user.email=octo@example.com"]
        merge = git(
            repo.bare, *env_commit, "commit-tree", tree, "-p", base_sha, "-p", head_sha, "-m", f"Merge #{number}"
        )
        git(repo.bare, "update-ref", f"refs/heads/{pr['base']}", merge)
        now = iso(datetime.now(timezone.utc))
        with self.state.lock:
            pr.update(state="closed", merged_at=now, closed_at=now, merge_commit_sha=merge, head_sha=head_sha)
        return self.pull_json(repo, number)

    def close_pull(self, repo: FakeRepo, number: int) -> dict[str, Any]:
        """Close a PR without merging; return the PR JSON."""
        with self.state.lock:
            repo.pulls[number].update(state="closed", closed_at=iso(datetime.now(timezone.utc)))
        return self.pull_json(repo, number)

    def cleanup(self) -> None:
        """Remove the bare repositories."""
        shutil.rmtree(self.root / "git", ignore_errors=True)
