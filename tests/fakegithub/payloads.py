"""Webhook deliveries for end-to-end tests: real `@octokit/webhooks-examples` payloads (tests/fixtures/webhooks),
adjusted to the fake GitHub's installation, repository, users, comments and pull requests, then signed."""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import uuid
from functools import cache
from pathlib import Path
from typing import Any

from tests.fakegithub.server import FakeGitHub
from tests.fakegithub.state import FakeRepo

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "webhooks" / "api.github.com"


@cache
def _examples(event: str) -> tuple[dict[str, Any], ...]:
    return tuple(json.loads((FIXTURES / f"{event}.json").read_text(encoding="utf-8")))


def real_payload(event: str, action: str) -> dict[str, Any]:
    """A deep copy of the first real payload of `event` with `action`."""
    for payload in _examples(event):
        if payload.get("action") == action:
            return copy.deepcopy(payload)
    raise LookupError(f"no real {event}.{action} payload")


def _installation(installation_id: int) -> dict[str, Any]:
    return {"id": installation_id, "node_id": f"MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9u{installation_id}"}


def installation_created(fake: FakeGitHub, installation_id: int, repos: list[FakeRepo], sender: str) -> dict[str, Any]:
    """`installation.created` for the fake's installation and repositories."""
    payload = real_payload("installation", "created")
    account = fake.state.installations[installation_id]["account"]
    payload["installation"].update(
        id=installation_id, app_id=fake.app_id, account=fake.state.user_json(account), repository_selection="selected"
    )
    payload["repositories"] = [
        {"id": r.id, "node_id": f"R_{r.id}", "name": r.name, "full_name": r.full_name, "private": False} for r in repos
    ]
    payload["sender"] = fake.state.user_json(sender)
    return payload


def comment_created(
    fake: FakeGitHub, repo: FakeRepo, number: int, user: str, body: str, on_pull: bool = False
) -> dict[str, Any]:
    """`issue_comment.created`: the comment is created in the fake first, so reactions to it work."""
    payload = real_payload("issue_comment", "created")
    comment = fake.add_comment(repo, number, user, body)
    payload["comment"] = comment
    payload["issue"].update(number=number, user=fake.state.user_json(user), state="open")
    payload["issue"].pop("pull_request", None)
    if on_pull:
        payload["issue"]["pull_request"] = {
            "url": f"{fake.base_url}/repos/{repo.full_name}/pulls/{number}",
            "html_url": f"{fake.base_url}/{repo.full_name}/pull/{number}",
        }
    payload["repository"] = fake.repo_json(repo)
    payload["installation"] = _installation(repo.installation_id or 0)
    payload["sender"] = fake.state.user_json(user)
    return payload


def pull_closed(fake: FakeGitHub, repo: FakeRepo, number: int, sender: str) -> dict[str, Any]:
    """`pull_request.closed` carrying the PR as the fake shows it now (merged or not)."""
    payload = real_payload("pull_request", "closed")
    payload.update(
        number=number,
        pull_request=fake.pull_json(repo, number),
        repository=fake.repo_json(repo),
        installation=_installation(repo.installation_id or 0),
        sender=fake.state.user_json(sender),
    )
    return payload


def review(
    fake: FakeGitHub,
    repo: FakeRepo,
    number: int,
    reviewer: str,
    state: str,
    action: str = "submitted",
    commit_id: str | None = None,
) -> dict[str, Any]:
    """`pull_request_review.submitted` (or `.dismissed`) by `reviewer` with `state` on the PR's current head."""
    payload = real_payload("pull_request_review", "submitted")
    pull = fake.pull_json(repo, number)
    payload["action"] = action
    payload["review"].update(
        id=fake.state.next_id(),
        user=fake.state.user_json(reviewer),
        state=state,
        commit_id=commit_id or pull["head"]["sha"],
    )
    payload.update(
        pull_request=pull,
        repository=fake.repo_json(repo),
        installation=_installation(repo.installation_id or 0),
        sender=fake.state.user_json(reviewer),
    )
    return payload


def signed(
    payload: dict[str, Any], event: str, secret: str, delivery_id: str | None = None
) -> tuple[bytes, dict[str, str]]:
    """The body and headers GitHub would send."""
    body = json.dumps(payload).encode()
    signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return body, {
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery_id or str(uuid.uuid4()),
        "X-Hub-Signature-256": signature,
        "Content-Type": "application/json",
        "User-Agent": "GitHub-Hookshot/fake",
    }


def _ci_common(fake: FakeGitHub, repo: FakeRepo, payload: dict[str, Any], sender: str) -> dict[str, Any]:
    payload.update(
        repository=fake.repo_json(repo),
        installation=_installation(repo.installation_id or 0),
        sender=fake.state.user_json(sender),
    )
    return payload


def check_suite_completed(
    fake: FakeGitHub, repo: FakeRepo, sha: str, branch: str, conclusion: str, app: str = "github-actions"
) -> dict[str, Any]:
    """`check_suite.completed` of another app's suite on `sha` (a real payload, adjusted)."""
    payload = real_payload("check_suite", "completed")
    payload["check_suite"].update(
        head_sha=sha, after=sha, head_branch=branch, conclusion=conclusion, status="completed"
    )
    payload["check_suite"]["app"]["slug"] = app
    return _ci_common(fake, repo, payload, "github-actions[bot]")


def check_run_completed(
    fake: FakeGitHub, repo: FakeRepo, sha: str, branch: str, name: str, conclusion: str, app: str = "github-actions"
) -> dict[str, Any]:
    """`check_run.completed` of a check run named `name` on `sha`."""
    payload = real_payload("check_run", "completed")
    payload["check_run"].update(head_sha=sha, name=name, conclusion=conclusion, status="completed", pull_requests=[])
    payload["check_run"]["app"]["slug"] = app
    payload["check_run"]["check_suite"].update(head_branch=branch, head_sha=sha)
    return _ci_common(fake, repo, payload, "github-actions[bot]")


def status_event(fake: FakeGitHub, repo: FakeRepo, sha: str, branch: str, context: str, state: str) -> dict[str, Any]:
    """`status` for `context` on `sha`, which `branch` contains."""
    payload = copy.deepcopy(_examples("status")[0])
    payload.update(sha=sha, context=context, state=state)
    payload["branches"] = [{"name": branch, "commit": {"sha": sha, "url": ""}, "protected": False}]
    payload["commit"]["sha"] = sha
    return _ci_common(fake, repo, payload, "ci-bot[bot]")


def workflow_run_completed(
    fake: FakeGitHub, repo: FakeRepo, run_id: int, sha: str, branch: str, conclusion: str
) -> dict[str, Any]:
    """`workflow_run.completed` of Actions run `run_id` on `sha`."""
    payload = real_payload("workflow_run", "completed")
    payload["workflow_run"].update(
        id=run_id, head_sha=sha, head_branch=branch, conclusion=conclusion, status="completed", pull_requests=[]
    )
    return _ci_common(fake, repo, payload, "octocat")


def push_event(fake: FakeGitHub, repo: FakeRepo, before: str, after: str, files: list[str]) -> dict[str, Any]:
    """`push` to the default branch from `before` to `after`, whose commit modified `files`."""
    payload = copy.deepcopy(next(p for p in _examples("push") if p["ref"].startswith("refs/heads/")))
    payload.update(ref=f"refs/heads/{repo.default_branch}", before=before, after=after)
    commit = dict(payload["head_commit"] or {}, id=after, added=[], removed=[], modified=list(files))
    payload.update(commits=[commit], head_commit=commit)
    return _ci_common(fake, repo, payload, "octocat")


def pull_synchronize(fake: FakeGitHub, repo: FakeRepo, number: int, sender: str) -> dict[str, Any]:
    """`pull_request.synchronize`: someone pushed to the PR's branch."""
    payload = real_payload("pull_request", "synchronize")
    payload.update(number=number, pull_request=fake.pull_json(repo, number))
    return _ci_common(fake, repo, payload, sender)
