"""The fake GitHub's HTTP app: the REST endpoints the bot uses, plus git's smart HTTP protocol."""

from __future__ import annotations

import asyncio
import base64
import json
import re
import subprocess
from collections.abc import Awaitable, Callable
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlencode

import jwt
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fakegithub.ci_api import ci_routes, log_routes
from tests.fakegithub.git_http import serve_git
from tests.fakegithub.issues_api import issue_routes
from tests.fakegithub.oauth_api import oauth_routes
from tests.fakegithub.state import FakeRepo, FakeState, RecordedRequest, Token, git, iso

Endpoint = Callable[[Request, FakeState], Awaitable[Response]]
PERMISSION_OF_ROLE = {"admin": "admin", "maintain": "write", "write": "write", "triage": "read", "read": "read"}


def error(status: int, message: str) -> JSONResponse:
    """GitHub's error body."""
    return JSONResponse({"message": message, "documentation_url": "https://docs.github.com/rest"}, status_code=status)


def _credential(request: Request) -> tuple[str | None, str]:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    scheme = scheme.lower()
    if scheme == "bearer":
        return "jwt", value.strip()
    if scheme == "token":
        return "token", value.strip()
    if scheme == "basic":
        return "basic", value.strip()
    return None, ""


def _check_jwt(state: FakeState, value: str, public_key: str) -> bool:
    try:
        claims = jwt.decode(
            value, public_key, algorithms=["RS256"], options={"require": ["iss", "exp", "iat"]}, leeway=70
        )
    except jwt.PyJWTError:
        return False
    return str(claims.get("iss")) == str(state.app_id)


def _token_of(state: FakeState, request: Request) -> Token | None:
    kind, value = _credential(request)
    if kind == "token":
        return state.valid_token(value)
    if kind == "basic":
        try:
            user, _, password = base64.b64decode(value).decode().partition(":")
        except ValueError:
            return None
        return state.valid_token(password) if user == "x-access-token" else None
    return None


# The permission a REST path needs, by its first segment after /repos/{owner}/{repo}/ (GitHub's mapping).
PERMISSION_OF_PATH = {
    "pulls": "pull_requests",
    "issues": "issues",
    "labels": "issues",
    "check-runs": "checks",
    "contents": "contents",
    "statuses": "statuses",
    "actions": "actions",
}


def _category(segments: list[str], method: str) -> str | None:
    """The permission a request needs (GitHub's mapping, as far as the fake serves it)."""
    if len(segments) <= 4:
        return None
    if segments[4] == "commits":  # /commits/{ref}/check-runs, /commits/{ref}/status
        return {"check-runs": "checks", "status": "statuses"}.get(segments[-1])
    if segments[4] == "pulls" and segments[-1] == "merge" and method == "PUT":
        return "contents"  # merging writes the base branch
    return PERMISSION_OF_PATH.get(segments[4])


def _denied(token: Token, repo: FakeRepo, category: str | None, write: bool) -> Response | None:
    """GitHub's answers to a restricted token: 404 for a repository it was not granted, 403 for a permission."""
    if not token.reaches(repo.id):
        return error(404, "Not Found")
    if not token.allows(category, write):
        return error(403, "Resource not accessible by integration")
    return None


def build_app(state: FakeState, public_key: str) -> RecordingApp:
    """The ASGI app serving `state`."""

    def needs_app(func: Endpoint) -> Endpoint:
        async def wrapper(request: Request) -> Response:
            kind, value = _credential(request)
            if kind != "jwt" or not _check_jwt(state, value, public_key):
                return error(401, "A JSON web token could not be decoded")
            return await func(request, state)

        return wrapper

    def needs_repo(
        func: Callable[[Request, FakeState, FakeRepo], Awaitable[Response]],
    ) -> Callable[[Request], Awaitable[Response]]:
        async def wrapper(request: Request) -> Response:
            repo = state.repo(request.path_params["owner"], request.path_params["repo"])
            token = _token_of(state, request)
            if token is None:
                return error(401, "Bad credentials")
            if repo is None or repo.installation_id != token.installation_id:
                return error(404, "Not Found")
            segments = request.url.path.split("/")
            category = _category(segments, request.method)
            denied = _denied(token, repo, category, request.method != "GET")
            return denied or await func(request, state, repo)

        return wrapper

    async def revoke_token(request: Request) -> Response:
        """DELETE /installation/token: the token that authenticates the request stops working."""
        kind, value = _credential(request)
        token = state.valid_token(value) if kind == "token" else None
        if token is None:
            return error(401, "Bad credentials")
        with state.lock:
            token.revoked = True
        return Response(status_code=204)

    async def git_endpoint(request: Request) -> Response:
        repo = state.repo(request.path_params["owner"], request.path_params["repo"].removesuffix(".git"))
        token = _token_of(state, request)
        if token is None:
            return Response(
                "Authentication required\n", status_code=401, headers={"WWW-Authenticate": 'Basic realm="fake"'}
            )
        if repo is None or repo.installation_id != token.installation_id or not token.reaches(repo.id):
            return Response("Repository not found\n", status_code=404)
        rest = request.path_params["rest"]
        push = "git-receive-pack" in rest or request.query_params.get("service") == "git-receive-pack"
        if not token.allows("contents", push):
            return Response("Write access to repository not granted.\n", status_code=403)
        return await serve_git(request, repo.bare, rest)

    routes = [
        Route("/app/installations/{installation_id:int}/access_tokens", needs_app(create_token), methods=["POST"]),
        Route("/app", needs_app(get_app), methods=["GET"]),
        Route("/installation/token", revoke_token, methods=["DELETE"]),
        Route("/repos/{owner}/{repo}", needs_repo(get_repo), methods=["GET"]),
        Route("/repos/{owner}/{repo}/collaborators/{user}/permission", needs_repo(get_permission), methods=["GET"]),
        Route(
            "/repos/{owner}/{repo}/issues/comments/{comment_id:int}/reactions",
            needs_repo(add_reaction),
            methods=["POST"],
        ),
        Route("/repos/{owner}/{repo}/issues/{number:int}/comments", needs_repo(create_comment), methods=["POST"]),
        Route("/repos/{owner}/{repo}/issues/{number:int}/comments", needs_repo(list_comments), methods=["GET"]),
        Route("/repos/{owner}/{repo}/issues/{number:int}/labels", needs_repo(add_labels), methods=["POST"]),
        Route("/repos/{owner}/{repo}/labels", needs_repo(create_label), methods=["POST"]),
        Route("/repos/{owner}/{repo}/labels/{name}", needs_repo(get_label), methods=["GET"]),
        Route("/repos/{owner}/{repo}/contents/{path:path}", needs_repo(get_content), methods=["GET"]),
        Route("/repos/{owner}/{repo}/pulls", needs_repo(list_pulls), methods=["GET"]),
        Route("/repos/{owner}/{repo}/pulls", needs_repo(create_pull), methods=["POST"]),
        Route("/repos/{owner}/{repo}/pulls/{number:int}", needs_repo(get_pull), methods=["GET"]),
        Route("/repos/{owner}/{repo}/pulls/{number:int}", needs_repo(update_pull), methods=["PATCH"]),
        Route("/repos/{owner}/{repo}/check-runs", needs_repo(create_check_run), methods=["POST"]),
        Route("/repos/{owner}/{repo}/check-runs/{check_id:int}", needs_repo(update_check_run), methods=["PATCH"]),
        Route("/repos/{owner}/{repo}/commits/{ref}/check-runs", needs_repo(list_check_runs), methods=["GET"]),
        Route("/git/{owner}/{repo}/{rest:path}", git_endpoint, methods=["GET", "POST"]),
        *issue_routes(needs_repo),
        *ci_routes(needs_repo),
        *log_routes(state),
        *oauth_routes(_page_links, state),
    ]
    return RecordingApp(Starlette(routes=routes), state)


class RecordingApp:
    """ASGI wrapper: records every request (minus credentials) and serves injected failures."""

    def __init__(self, app: Starlette, state: FakeState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        raw = b"".join(chunks)
        request = Request(scope)
        is_git = request.url.path.startswith("/git/")
        body: Any = f"<{len(raw)} bytes>" if is_git else _decode(raw)
        headers = {k: v for k, v in request.headers.items() if k.lower() not in ("authorization", "cookie")}
        entry = RecordedRequest(
            request.method, request.url.path, request.url.query, headers, body, _credential(request)[0]
        )
        with self.state.lock:
            self.state.requests.append(entry)
            injected = _take_failure(self.state, request)
            happening = _take_happening(self.state, request, body)
        if happening is not None:
            happening()
        if self.state.latency and not is_git:
            await asyncio.sleep(self.state.latency)

        async def replay() -> dict[str, Any]:
            return {"type": "http.request", "body": raw, "more_body": False}

        async def send_and_note(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                entry.status = message["status"]
            await send(message)

        if injected is not None:
            await injected(scope, replay, send_and_note)
            return
        await self.app(scope, replay, send_and_note)


def _decode(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode("utf-8", "replace")


def _take_happening(state: FakeState, request: Request, body: Any) -> Any:
    for index, (method, path, wanted, action) in enumerate(state.on_request):
        if method == request.method and re.search(path, request.url.path) and wanted(body):
            del state.on_request[index]
            return action
    return None


def _take_failure(state: FakeState, request: Request) -> Response | None:
    for failure in state.failures:
        if (
            failure["method"] == request.method
            and re.search(failure["path"], request.url.path)
            and failure["times"] > 0
        ):
            failure["times"] -= 1
            return JSONResponse(
                {"message": failure["message"]}, status_code=failure["status"], headers=failure["headers"]
            )
    return None


async def _json(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.body() or b"{}")
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


async def get_app(request: Request, state: FakeState) -> Response:
    """GET /app"""
    return JSONResponse({"id": state.app_id, "slug": "evolve-bot", "name": "Evolve"})


async def create_token(request: Request, state: FakeState) -> Response:
    """POST /app/installations/{id}/access_tokens"""
    installation_id = request.path_params["installation_id"]
    installation = state.installations.get(installation_id)
    if installation is None:
        return error(404, "Not Found")
    if installation.get("suspended"):
        return error(403, "This installation has been suspended")
    body = await _json(request)
    repository_ids: set[int] | None = None
    if body.get("repositories") is not None or body.get("repository_ids") is not None:
        repository_ids = set()
        for name in body.get("repositories") or []:
            repo = state.repo(str(installation.get("account", "")), str(name))
            if repo is None or repo.installation_id != installation_id:
                return error(422, "There is at least one repository that does not exist or is not accessible")
            repository_ids.add(repo.id)
        for repo_id in body.get("repository_ids") or []:
            owned = [r for r in state.repos.values() if r.id == repo_id and r.installation_id == installation_id]
            if not owned:
                return error(422, "There is at least one repository that does not exist or is not accessible")
            repository_ids.add(int(repo_id))
    permissions = body.get("permissions")
    if permissions is not None:
        granted = installation["permissions"]
        for name, level in permissions.items():
            if granted.get(name) not in (level, "write") or level not in ("read", "write"):
                return error(422, f"The permissions requested are not granted to this installation: {name}")
    token = state.issue_token(
        installation_id, frozenset(repository_ids) if repository_ids is not None else None, permissions
    )
    return JSONResponse(
        {
            "token": token.value,
            "expires_at": iso(token.expires_at),
            "permissions": permissions or installation["permissions"],
            "repository_selection": "selected",
        },
        status_code=201,
    )


async def get_repo(request: Request, state: FakeState, repo: FakeRepo) -> Response:
    """GET /repos/{o}/{r}"""
    return JSONResponse(state.repo_json(repo))


async def get_permission(request: Request, state: FakeState, repo: FakeRepo) -> Response:
    """GET /repos/{o}/{r}/collaborators/{user}/permission"""
    user = request.path_params["user"]
    role = repo.permissions.get(user, "read")
    user_json = {**state.user_json(user), "role_name": role}
    return JSONResponse({"permission": PERMISSION_OF_ROLE.get(role, "none"), "role_name": role, "user": user_json})


async def add_reaction(request: Request, state: FakeState, repo: FakeRepo) -> Response:
    """POST /repos/{o}/{r}/issues/comments/{id}/reactions"""
    comment_id = request.path_params["comment_id"]
    content = (await _json(request)).get("content")
    if comment_id not in repo.comments:
        return error(404, "Not Found")
    if content not in ("+1", "-1", "laugh", "confused", "heart", "hooray", "rocket", "eyes"):
        return error(422, "Validation Failed")
    with state.lock:  # GitHub keeps one reaction per user and content, answering 200 for the existing one
        contents = repo.reactions.setdefault(comment_id, [])
        existed = content in contents
        if not existed:
            contents.append(content)
    from tests.fakegithub.state import example

    body = example("reaction")
    body.update(id=state.next_id(), content=content, user=state.user_json("evolve-bot[bot]"))
    return JSONResponse(body, status_code=200 if existed else 201)


def _issue_exists(repo: FakeRepo, number: int) -> bool:
    return number in repo.issues or number in repo.pulls


async def create_comment(request: Request, state: FakeState, repo: FakeRepo) -> Response:
    """POST /repos/{o}/{r}/issues/{n}/comments"""
    number = request.path_params["number"]
    body = (await _json(request)).get("body")
    if not _issue_exists(repo, number):
        return error(404, "Not Found")
    if not isinstance(body, str) or not body:
        return error(422, "Validation Failed")
    comment_id = state.add_comment_locked(repo, number, "evolve-bot[bot]", body)
    return JSONResponse(state.comment_json(repo, comment_id), status_code=201)


async def list_comments(request: Request, state: FakeState, repo: FakeRepo) -> Response:
    """GET /repos/{o}/{r}/issues/{n}/comments (per_page, page)"""
    number = request.path_params["number"]
    if not _issue_exists(repo, number):
        return error(404, "Not Found")
    per_page = min(100, int(request.query_params.get("per_page", 30)))
    page = int(request.query_params.get("page", 1))
    with state.lock:
        ids = [i for i, c in repo.comments.items() if c["issue_number"] == number]
    chosen = ids[(page - 1) * per_page : page * per_page]
    return JSONResponse(
        [state.comment_json(repo, i) for i in chosen], headers=_page_links(request, state, page, per_page, len(ids))
    )


async def add_labels(request: Request, state: FakeState, repo: FakeRepo) -> Response:
    """POST /repos/{o}/{r}/issues/{n}/labels (missing labels are created, as GitHub does)"""
    number = request.path_params["number"]
    names = (await _json(request)).get("labels") or []
    if not _issue_exists(repo, number):
        return error(404, "Not Found")
    with state.lock:
        for name in names:
            repo.labels.setdefault(name, state.label_json(repo, name))
            current = repo.issue_labels.setdefault(number, [])
            if name not in current:
                current.append(name)
        result = [repo.labels[n] for n in repo.issue_labels.get(number, [])]
    return JSONResponse(result)


async def create_label(request: Request, state: FakeState, repo: FakeRepo) -> Response:
    """POST /repos/{o}/{r}/labels"""
    data = await _json(request)
    name = data.get("name")
    if not name or name in repo.labels:
        return error(422, "Validation Failed")
    with state.lock:
        repo.labels[name] = state.label_json(repo, name, data.get("color", "ededed"), data.get("description"))
    return JSONResponse(repo.labels[name], status_code=201)


async def get_label(request: Request, state: FakeState, repo: FakeRepo) -> Response:
    """GET /repos/{o}/{r}/labels/{name}"""
    label = repo.labels.get(request.path_params["name"])
    return JSONResponse(label) if label else error(404, "Not Found")


async def get_content(request: Request, state: FakeState, repo: FakeRepo) -> Response:
    """GET /repos/{o}/{r}/contents/{path} from the default branch (or `ref`)."""
    path = request.path_params["path"]
    ref = request.query_params.get("ref") or repo.default_branch

    def read() -> tuple[bytes, str]:
        shown = subprocess.run(
            ["git", "--git-dir", str(repo.bare), "show", f"{ref}:{path}"], capture_output=True, check=True
        )
        return shown.stdout, git(repo.bare, "rev-parse", f"{ref}:{path}")

    try:
        raw, sha = await asyncio.to_thread(read)
    except subprocess.CalledProcessError:
        return error(404, "Not Found")
    from tests.fakegithub.state import example

    body = example("content-file")
    body.update(
        type="file",
        encoding="base64",
        size=len(raw),
        name=path.rsplit("/", 1)[-1],
        path=path,
        sha=sha,
        content=base64.encodebytes(raw).decode(),
        url=f"{state.base_url}/repos/{repo.full_name}/contents/{path}",
    )
    return JSONResponse(body)


async def list_pulls(request: Request, state: FakeState, repo: FakeRepo) -> Response:
    """GET /repos/{o}/{r}/pulls (state, head, per_page, page)"""
    wanted = request.query_params.get("state", "open")
    head = request.query_params.get("head")
    per_page = int(request.query_params.get("per_page", 30))
    page = int(request.query_params.get("page", 1))
    numbers = [n for n, p in sorted(repo.pulls.items()) if wanted == "all" or p["state"] == wanted]
    if head:
        numbers = [n for n in numbers if f"{repo.owner}:{repo.pulls[n]['head']}" == head]
    chosen = numbers[(page - 1) * per_page : page * per_page]
    return JSONResponse(
        [state.pull_json(repo, n, simple=True) for n in chosen],
        headers=_page_links(request, state, page, per_page, len(numbers)),
    )


def _page_links(request: Request, state: FakeState, page: int, per_page: int, total: int) -> dict[str, str]:
    """GitHub's `Link` header (next/last/prev/first, absolute URLs) when a list spans several pages."""
    last = max(1, -(-total // per_page))
    if last == 1:
        return {}

    def url(number: int) -> str:
        query = dict(request.query_params) | {"page": str(number), "per_page": str(per_page)}
        return f"<{state.base_url}{request.url.path}?{urlencode(query)}>"

    rels = [(page + 1, "next"), (last, "last")] if page < last else []
    rels += [(1, "first"), (page - 1, "prev")] if page > 1 else []
    return {"Link": ", ".join(f'{url(number)}; rel="{rel}"' for number, rel in rels)}


async def create_pull(request: Request, state: FakeState, repo: FakeRepo) -> Response:
    """POST /repos/{o}/{r}/pulls: 422 when the head branch is missing or already has an open PR."""
    data = await _json(request)
    head, base = str(data.get("head", "")).split(":")[-1], data.get("base") or repo.default_branch
    if not data.get("title") or state.head_sha(repo, head) is None or state.head_sha(repo, base) is None:
        return error(422, "Validation Failed")
    if any(p["head"] == head for p in repo.open_pulls()):
        return error(422, f"A pull request already exists for {repo.owner}:{head}.")
    number = state.add_pull_locked(
        repo,
        head=head,
        base=base,
        title=data["title"],
        body=data.get("body") or "",
        user="evolve-bot[bot]",
        draft=bool(data.get("draft")),
    )
    return JSONResponse(state.pull_json(repo, number), status_code=201)


async def get_pull(request: Request, state: FakeState, repo: FakeRepo) -> Response:
    """GET /repos/{o}/{r}/pulls/{n}"""
    number = request.path_params["number"]
    return JSONResponse(state.pull_json(repo, number)) if number in repo.pulls else error(404, "Not Found")


async def update_pull(request: Request, state: FakeState, repo: FakeRepo) -> Response:
    """PATCH /repos/{o}/{r}/pulls/{n} (title, body, state, base)"""
    number = request.path_params["number"]
    if number not in repo.pulls:
        return error(404, "Not Found")
    data = await _json(request)
    with state.lock:
        pr = repo.pulls[number]
        for key in ("title", "body", "base"):
            if key in data:
                pr[key] = data[key]
        if data.get("state") in ("open", "closed") and not pr.get("merged_at"):
            pr["state"] = data["state"]
            pr["closed_at"] = iso(datetime.now(timezone.utc)) if data["state"] == "closed" else None
        pr["updated_at"] = iso(datetime.now(timezone.utc))
    return JSONResponse(state.pull_json(repo, number))


async def create_check_run(request: Request, state: FakeState, repo: FakeRepo) -> Response:
    """POST /repos/{o}/{r}/check-runs"""
    data = await _json(request)
    if not data.get("name") or not data.get("head_sha"):
        return error(422, "Validation Failed")
    check_id = state.next_id()
    with state.lock:
        repo.check_runs[check_id] = dict(data)
    return JSONResponse(state.check_run_json(repo, check_id), status_code=201)


async def list_check_runs(request: Request, state: FakeState, repo: FakeRepo) -> Response:
    """GET /repos/{o}/{r}/commits/{ref}/check-runs (check_name; a sha or a branch as ref; one page)"""
    ref = request.path_params["ref"]
    sha = state.head_sha(repo, ref) or ref
    name = request.query_params.get("check_name")
    latest = request.query_params.get("filter", "latest") == "latest"
    per_page = min(100, int(request.query_params.get("per_page", 30)))
    page = int(request.query_params.get("page", 1))
    with state.lock:
        ids = [i for i, c in repo.check_runs.items() if c["head_sha"] == sha and (name is None or c["name"] == name)]
        if latest:  # GitHub's default: the most recent check run of each name (a re-run replaces the earlier one)
            newest = {repo.check_runs[i]["name"]: i for i in sorted(ids)}
            ids = sorted(newest.values())
    chosen = ids[(page - 1) * per_page : page * per_page]
    runs = [state.check_run_json(repo, i) for i in chosen]
    return JSONResponse(
        {"total_count": len(ids), "check_runs": runs}, headers=_page_links(request, state, page, per_page, len(ids))
    )


async def update_check_run(request: Request, state: FakeState, repo: FakeRepo) -> Response:
    """PATCH /repos/{o}/{r}/check-runs/{id}"""
    check_id = request.path_params["check_id"]
    if check_id not in repo.check_runs:
        return error(404, "Not Found")
    data = await _json(request)
    with state.lock:
        repo.check_runs[check_id].update(data)
    return JSONResponse(state.check_run_json(repo, check_id))
