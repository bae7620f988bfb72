"""The fake GitHub's issue endpoints: create, get, list, edit an issue, and edit a comment.

Issues and PRs share numbers; an issue is stored as {title, body, state, user, created_at, updated_at}.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timezone
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fakegithub.state import FakeRepo, FakeState, iso

RepoEndpoint = Callable[[Request, FakeState, FakeRepo], Awaitable[Response]]
BODY_LIMIT = 65536  # GitHub refuses longer issue and comment bodies with 422


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"message": message, "documentation_url": "https://docs.github.com/rest"}, status_code=status)


def issue_json(state: FakeState, repo: FakeRepo, number: int) -> dict[str, Any]:
    """An issue as the REST API returns it (the fields the bot reads, plus the usual URLs)."""
    issue = repo.issues[number]
    return {
        "id": 1_000_000 + number,
        "node_id": f"I_{repo.id}_{number}",
        "number": number,
        "title": issue.get("title", ""),
        "body": issue.get("body"),
        "state": issue.get("state", "open"),
        "locked": False,
        "labels": [],
        "comments": len(repo.issue_comments(number)),
        "user": state.user_json(issue.get("user", "octocat")),
        "author_association": "NONE",
        "created_at": issue.get("created_at", iso(datetime.now(timezone.utc))),
        "updated_at": issue.get("updated_at", iso(datetime.now(timezone.utc))),
        "closed_at": None,
        "url": f"{state.base_url}/repos/{repo.full_name}/issues/{number}",
        "repository_url": f"{state.base_url}/repos/{repo.full_name}",
        "labels_url": f"{state.base_url}/repos/{repo.full_name}/issues/{number}/labels{{/name}}",
        "comments_url": f"{state.base_url}/repos/{repo.full_name}/issues/{number}/comments",
        "events_url": f"{state.base_url}/repos/{repo.full_name}/issues/{number}/events",
        "html_url": f"{state.web}/{repo.full_name}/issues/{number}",
    }


async def _data(request: Request) -> dict[str, Any]:
    try:
        data = await request.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


async def create_issue(request: Request, state: FakeState, repo: FakeRepo) -> Response:
    """POST /repos/{o}/{r}/issues"""
    data = await _data(request)
    title, body = data.get("title"), data.get("body") or ""
    if not isinstance(title, str) or not title or len(body) > BODY_LIMIT:
        return _error(422, "Validation Failed")
    with state.lock:
        number = max([0, *repo.issues, *repo.pulls]) + 1
        now = iso(datetime.now(timezone.utc))
        repo.issues[number] = {
            "title": title,
            "body": body,
            "state": "open",
            "user": "evolve-bot[bot]",
            "created_at": now,
            "updated_at": now,
        }
    return JSONResponse(issue_json(state, repo, number), status_code=201)


async def get_issue(request: Request, state: FakeState, repo: FakeRepo) -> Response:
    """GET /repos/{o}/{r}/issues/{n}"""
    number = request.path_params["number"]
    return JSONResponse(issue_json(state, repo, number)) if number in repo.issues else _error(404, "Not Found")


async def list_issues(request: Request, state: FakeState, repo: FakeRepo) -> Response:
    """GET /repos/{o}/{r}/issues (state, creator; one page of up to 100, newest first)"""
    wanted = request.query_params.get("state", "open")
    creator = request.query_params.get("creator")
    numbers = [
        n
        for n, issue in sorted(repo.issues.items(), reverse=True)
        if (wanted == "all" or issue.get("state", "open") == wanted)
        and (creator is None or issue.get("user", "octocat") == creator)
    ]
    per_page = min(int(request.query_params.get("per_page", 30)), 100)
    return JSONResponse([issue_json(state, repo, n) for n in numbers[:per_page]])


async def update_issue(request: Request, state: FakeState, repo: FakeRepo) -> Response:
    """PATCH /repos/{o}/{r}/issues/{n} (title, body, state)"""
    number = request.path_params["number"]
    if number not in repo.issues:
        return _error(404, "Not Found")
    data = await _data(request)
    if len(data.get("body") or "") > BODY_LIMIT:
        return _error(422, "Validation Failed: body is too long (maximum is 65536 characters)")
    with state.lock:
        issue = repo.issues[number]
        for key in ("title", "body", "state"):
            if key in data:
                issue[key] = data[key]
        issue["updated_at"] = iso(datetime.now(timezone.utc))
    return JSONResponse(issue_json(state, repo, number))


async def update_comment(request: Request, state: FakeState, repo: FakeRepo) -> Response:
    """PATCH /repos/{o}/{r}/issues/comments/{id}"""
    comment_id = request.path_params["comment_id"]
    body = (await _data(request)).get("body")
    if comment_id not in repo.comments:
        return _error(404, "Not Found")
    if not isinstance(body, str) or not body or len(body) > BODY_LIMIT:
        return _error(422, "Validation Failed")
    with state.lock:
        repo.comments[comment_id]["body"] = body
    return JSONResponse(state.comment_json(repo, comment_id))


def issue_routes(needs_repo: Callable[[RepoEndpoint], Callable[[Request], Awaitable[Response]]]) -> list[Route]:
    """The routes above, each behind the fake's repository and token checks."""
    return [
        Route("/repos/{owner}/{repo}/issues", needs_repo(create_issue), methods=["POST"]),
        Route("/repos/{owner}/{repo}/issues", needs_repo(list_issues), methods=["GET"]),
        Route("/repos/{owner}/{repo}/issues/comments/{comment_id:int}", needs_repo(update_comment), methods=["PATCH"]),
        Route("/repos/{owner}/{repo}/issues/{number:int}", needs_repo(get_issue), methods=["GET"]),
        Route("/repos/{owner}/{repo}/issues/{number:int}", needs_repo(update_issue), methods=["PATCH"]),
    ]
