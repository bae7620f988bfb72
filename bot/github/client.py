"""The bot's GitHub gateway: githubkit as the app (JWT) and as an installation (cached tokens).

Every REST call the bot makes goes through :class:`GitHubGateway`, so tests can swap it for a fake and
the real one can be pointed at a fake server with `settings.github_url`. Tokens are kept in memory,
sent only in `Authorization` headers, and never logged: errors raised here carry the method, the
path and GitHub's message, nothing else.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import logging
import ssl
import threading
from collections.abc import AsyncGenerator, Callable, Hashable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeVar

import httpx
from githubkit import AppAuthStrategy, GitHub, TokenAuthStrategy
from githubkit.cache import MemCacheStrategy
from githubkit.exception import GitHubException, RateLimitExceeded, RequestFailed
from githubkit.rest.paginator import Paginator
from githubkit.retry import RetryOption

from bot import metrics
from bot.github import ci_reads
from bot.github.ci_reads import Annotation, CiResult, JobLog, MergeResult
from evolve.untrusted_text import forget_secret, register_secret

if TYPE_CHECKING:
    from githubkit_schemas.latest.types import (
        AppInstallationsInstallationIdAccessTokensPostBodyType,
        AppPermissionsType,
    )

log = logging.getLogger(__name__)

TOKEN_REFRESH_MARGIN = timedelta(minutes=5)
WRITE_ROLES = frozenset({"admin", "maintain", "write"})


class RetryPolicy:
    """githubkit `auto_retry`: back off on 5xx, wait out primary/secondary rate limits (403/429), then give up."""

    def __init__(self, max_retries: int = 4, max_wait: timedelta = timedelta(minutes=2)) -> None:
        self.max_retries = max_retries
        self.max_wait = max_wait

    def __call__(self, exc: GitHubException, retry_count: int) -> RetryOption:
        """Whether to retry the failed request, and after how long."""
        if retry_count >= self.max_retries or not isinstance(exc, RequestFailed):
            return RetryOption(False)
        if isinstance(exc, RateLimitExceeded):
            wait = min(exc.retry_after, self.max_wait)
        elif exc.response.status_code >= 500:
            wait = min(timedelta(seconds=2**retry_count), self.max_wait)
        else:
            return RetryOption(False)
        log.warning(
            "GitHub answered %s to %s %s; retrying in %.0fs",
            exc.response.status_code,
            exc.request.method,
            exc.request.url.path,
            wait.total_seconds(),
        )
        return RetryOption(True, wait)


RETRY_POLICY = RetryPolicy()


class GitHubError(Exception):
    """A GitHub call failed; `status` is the HTTP status (0 when no answer came)."""

    def __init__(self, message: str, status: int = 0) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class RepoInfo:
    """What the bot needs to know about a repository."""

    full_name: str
    default_branch: str
    clone_url: str
    html_url: str


@dataclass(frozen=True)
class PullInfo:
    """A pull request, reduced to what the bot reads."""

    number: int
    title: str
    body: str
    state: str
    merged: bool
    head_ref: str
    head_sha: str
    base_ref: str
    html_url: str
    labels: tuple[str, ...] = ()
    mergeable: bool | None = None  # None: not known (a list's PRs, or GitHub still computing it)
    base_sha: str = ""


@dataclass(frozen=True)
class CommentInfo:
    """An issue or PR comment, reduced to what the bot reads."""

    id: int
    author: str
    body: str


@dataclass(frozen=True)
class IssueInfo:
    """An issue, reduced to what the bot reads."""

    number: int
    body: str
    html_url: str

    def comment_url(self, comment_id: int) -> str:
        """The web address of one of its comments."""
        return f"{self.html_url}#issuecomment-{comment_id}"


@dataclass(frozen=True)
class TokenScope:
    """What a run's installation tokens may touch: these repositories (names without the owner), these permissions.

    `run_id` names the run the tokens are for: a worker without the App's key asks the token service
    (`bot.tokens.client`) for a token of that run, and the service derives repository and permissions itself.
    """

    repositories: tuple[str, ...]
    permissions: AppPermissionsType
    run_id: int | None = None

    def request_body(self) -> AppInstallationsInstallationIdAccessTokensPostBodyType:
        """The body of `POST /app/installations/{id}/access_tokens` that restricts the token."""
        return {"repositories": list(self.repositories), "permissions": {**self.permissions}}


# The reactions GitHub accepts on a comment.
ReactionContent = Literal["+1", "-1", "laugh", "confused", "heart", "hooray", "rocket", "eyes"]

# What a run needs: read the code, push its branch, open/update the PR, label and comment, report a check run.
# It reads the repository's CI (statuses, Actions logs) when it retries a change CI failed, and merges a green PR.
RUN_PERMISSIONS: AppPermissionsType = {
    "contents": "write",
    "pull_requests": "write",
    "issues": "write",
    "checks": "write",
    "metadata": "read",
    "statuses": "read",
    "actions": "read",
}
# A plan-only run reads the code and answers in a comment.
PLAN_PERMISSIONS: AppPermissionsType = {"contents": "read", "issues": "write", "metadata": "read"}


@dataclass(frozen=True)
class MintedToken:
    """An installation access token and when it expires."""

    value: str
    expires_at: datetime


class TokenMinter(Protocol):
    """Where a gateway's installation tokens come from: the App's key (`AppTokenMinter`), or the web process's
    token service for a worker that holds no key (`bot.tokens.client.TokenServiceMinter`)."""

    def grant(self, scope: TokenScope | None) -> Hashable:
        """What a token minted now would be for (with the installation id, the gateway's cache key)."""
        ...

    async def mint(self, installation_id: int, scope: TokenScope | None) -> MintedToken:
        """A fresh installation token, restricted to `scope` when given."""
        ...


@dataclass(frozen=True)
class AppTokenMinter:
    """Mints installation tokens with the App's own key (JWT): `POST /app/installations/{id}/access_tokens`."""

    app: GitHub[Any]

    def grant(self, scope: TokenScope | None) -> Hashable:
        """One token per installation and gateway: the scope is the gateway's own."""
        return None

    async def mint(self, installation_id: int, scope: TokenScope | None) -> MintedToken:
        """A token for the installation, restricted to `scope`'s repositories and permissions when given."""
        create_token = self.app.rest.apps.async_create_installation_access_token
        response = await GitHubGateway._call(
            "POST /app/installations/{id}/access_tokens",
            create_token(installation_id, data=scope.request_body())
            if scope is not None
            else create_token(installation_id),
        )
        data = response.parsed_data
        return MintedToken(data.token, parse_expiry(data.expires_at))


def _forget_token(value: str) -> None:
    """Stop redacting a token that no longer works (and the Basic credentials git was given with it)."""
    forget_secret(value)
    forget_secret(base64.b64encode(f"x-access-token:{value}".encode()).decode())


def parse_expiry(text: str) -> datetime:
    """GitHub's `expires_at` (`2026-01-01T00:00:00Z`) as an aware datetime."""
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)


@dataclass
class GitHubGateway:
    """Async access to the REST endpoints the bot uses, authenticated as the app's installations.

    Tokens come from `minter`: by default minted with the App's key (`app`); a worker gives a minter that asks
    the web process's token service instead, and then needs no `app` at all.
    """

    app: GitHub[Any] | None
    base_url: str
    scope: TokenScope | None = None  # None: tokens for the whole installation (webhook handlers)
    minter: TokenMinter | None = None  # None: AppTokenMinter(app)
    _tokens: dict[tuple[int, Hashable], MintedToken] = field(default_factory=dict, repr=False)
    _locks: dict[tuple[int, Hashable], asyncio.Lock] = field(default_factory=dict, repr=False)
    _replaced: list[MintedToken] = field(
        default_factory=list, repr=False
    )  # renewed before they expired: forgotten once they do
    # One client per live token (its connections come from the process's shared pool): built once, not per call.
    _clients: dict[str, GitHub[Any]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if self.minter is None:
            if self.app is None:
                raise GitHubError("a GitHub gateway needs the App's credentials or a token service")
            self.minter = AppTokenMinter(self.app)

    # ---- authentication -----------------------------------------------------------------------------

    async def installation_token(self, installation_id: int) -> str:
        """An installation access token, reused until five minutes before it expires."""
        assert self.minter is not None  # set by __post_init__
        key = (installation_id, self.minter.grant(self.scope))
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            now = datetime.now(timezone.utc)
            cached = self._tokens.get(key)
            if cached and cached.expires_at - TOKEN_REFRESH_MARGIN > now:
                return cached.value
            minted = await self.minter.mint(installation_id, self.scope)
            register_secret(minted.value)
            for old_key in [k for k, token in self._tokens.items() if token.expires_at <= now]:
                _forget_token(self._tokens.pop(old_key).value)  # expired (each delivery of a worker has its own)
                self._locks.pop(old_key, None)
            # An expired token needs no redaction: the set of registered secrets, which every JSON log line is
            # checked against, stays as long as the tokens still valid, not one more per delivery forever.
            for token in [token for token in self._replaced if token.expires_at <= now]:
                self._replaced.remove(token)
                _forget_token(token.value)
            if cached is not None and key in self._tokens:
                self._replaced.append(cached)
            self._tokens[key] = minted
            return minted.value

    async def _as_installation(self, installation_id: int) -> GitHub[Any]:
        token = await self.installation_token(installation_id)
        client = self._clients.get(token)
        if client is None:
            live = {minted.value for minted in (*self._tokens.values(), *self._replaced)}
            for stale in [value for value in self._clients if value not in live]:
                del self._clients[stale]  # its token expired, was renewed or revoked
            client = self._clients[token] = _client(TokenAuthStrategy(token), self.base_url)
        return client

    @staticmethod
    async def _call(what: str, call: Any) -> Any:
        try:
            response = await call
        except GitHubException as error:
            failure = _github_error(what, error)
            metrics.GITHUB_CALLS.labels(what, str(failure.status or "error")).inc()
            raise failure from None
        metrics.GITHUB_CALLS.labels(what, str(response.status_code)).inc()
        remaining = response.headers.get("x-ratelimit-remaining")
        if remaining is not None and remaining.isdigit():
            metrics.GITHUB_RATE_REMAINING.set(int(remaining))
        return response

    @staticmethod
    async def _collect(what: str, pages: Any) -> list[Any]:
        """Every item of a githubkit paginator (it follows `Link: rel="next"`), errors as GitHubError."""
        try:
            return [item async for item in pages]
        except GitHubException as error:
            raise _github_error(what, error) from None

    def scoped(self, scope: TokenScope | None = None) -> GitHubGateway:
        """A gateway sharing this app's credentials but minting and caching its own installation tokens,
        restricted to `scope` when given.

        A run uses one so that its token reaches only its repository with only the permissions it needs,
        and can be revoked when the run ends without pulling a token out from under webhook handlers or
        other runs of the same installation.
        """
        return GitHubGateway(app=self.app, base_url=self.base_url, scope=scope, minter=self.minter)

    async def revoke_tokens(self) -> None:
        """Revoke every installation token this gateway minted (`DELETE /installation/token`); best effort."""
        tokens, self._tokens = self._tokens, {}
        self._clients = {}
        for token in self._replaced:  # renewed earlier: not revoked here, but no longer this gateway's to redact
            _forget_token(token.value)
        self._replaced = []
        for (installation_id, _), cached in tokens.items():
            _forget_token(cached.value)  # useless once revoked; the redaction list stays short
            gh = _client(TokenAuthStrategy(cached.value), self.base_url)
            try:
                await self._call("DELETE /installation/token", gh.rest.apps.async_revoke_installation_access_token())
            except GitHubError as error:  # it expires within the hour anyway
                log.info("could not revoke the token of installation %s: %s", installation_id, error)

    # ---- repositories and files -----------------------------------------------------------------------

    async def get_repo(self, installation_id: int, owner: str, repo: str) -> RepoInfo:
        """The repository's name, default branch and clone URL."""
        gh = await self._as_installation(installation_id)
        data = (await self._call("GET /repos/{o}/{r}", gh.rest.repos.async_get(owner, repo))).parsed_data
        return RepoInfo(data.full_name, data.default_branch, data.clone_url, data.html_url)

    async def get_file(
        self, installation_id: int, owner: str, repo: str, path: str, ref: str | None = None
    ) -> str | None:
        """A file's text on `ref` (default branch when None); None when the file does not exist."""
        gh = await self._as_installation(installation_id)
        get_content = gh.rest.repos.async_get_content
        try:
            response = await self._call(
                "GET /repos/{o}/{r}/contents/{path}",
                get_content(owner, repo, path, ref=ref) if ref else get_content(owner, repo, path),
            )
        except GitHubError as error:
            if error.status == 404:
                return None
            raise
        data = response.json()
        if not isinstance(data, dict) or data.get("type") != "file":
            return None
        return base64.b64decode(data.get("content") or "").decode("utf-8", "replace")

    async def get_permission(self, installation_id: int, owner: str, repo: str, user: str) -> str:
        """The user's role on the repository: admin, maintain, write, triage, read or none."""
        gh = await self._as_installation(installation_id)
        try:
            response = await self._call(
                "GET /repos/{o}/{r}/collaborators/{user}/permission",
                gh.rest.repos.async_get_collaborator_permission_level(owner, repo, user),
            )
        except GitHubError as error:
            if error.status == 404:
                return "none"
            raise
        data = response.parsed_data
        role = getattr(data, "role_name", None) or data.permission
        return role if isinstance(role, str) else "none"

    async def can_write(self, installation_id: int, owner: str, repo: str, user: str) -> bool:
        """Whether the user has write, maintain or admin permission."""
        return await self.get_permission(installation_id, owner, repo, user) in WRITE_ROLES

    # ---- comments and reactions -------------------------------------------------------------------

    async def add_reaction(
        self, installation_id: int, owner: str, repo: str, comment_id: int, content: ReactionContent = "+1"
    ) -> None:
        """React to an issue comment (+1, eyes, ...)."""
        gh = await self._as_installation(installation_id)
        await self._call(
            "POST /repos/{o}/{r}/issues/comments/{id}/reactions",
            gh.rest.reactions.async_create_for_issue_comment(owner, repo, comment_id, content=content),
        )

    async def create_comment(self, installation_id: int, owner: str, repo: str, number: int, body: str) -> int:
        """Comment on an issue or PR; return the comment id."""
        gh = await self._as_installation(installation_id)
        response = await self._call(
            "POST /repos/{o}/{r}/issues/{n}/comments",
            gh.rest.issues.async_create_comment(owner, repo, number, body=body),
        )
        return int(response.json()["id"])

    async def list_comments(self, installation_id: int, owner: str, repo: str, number: int) -> list[CommentInfo]:
        """Every comment on an issue or PR (all pages), oldest first."""
        gh = await self._as_installation(installation_id)
        # githubkit's Paginator cannot infer its item type from the two-parameter Response of its schemas.
        pages: Paginator[Any] = gh.rest.paginate(
            gh.rest.issues.async_list_comments, owner=owner, repo=repo, issue_number=number, per_page=100
        )
        items = await self._collect("GET /repos/{o}/{r}/issues/{n}/comments", pages)
        return [CommentInfo(item.id, item.user.login if item.user else "", item.body or "") for item in items]

    # ---- pull requests ----------------------------------------------------------------------------------

    async def list_open_pulls(
        self, installation_id: int, owner: str, repo: str, head_prefix: str = ""
    ) -> list[PullInfo]:
        """Open PRs whose head branch starts with `head_prefix` (all pages)."""
        gh = await self._as_installation(installation_id)
        what = "GET /repos/{o}/{r}/pulls"
        # Read as JSON, following `Link: rel="next"`: the few fields read need no model of every PR's 100 fields.
        response = await self._call(what, gh.rest.pulls.async_list(owner, repo, state="open", per_page=100))
        items = _json_list(response)
        while (next_url := _next_page(response)) is not None:
            response = await self._call(what, gh.arequest("GET", next_url))
            items.extend(_json_list(response))
        return [_pull_json(item) for item in items if str(item["head"]["ref"]).startswith(head_prefix)]

    async def get_pull(self, installation_id: int, owner: str, repo: str, number: int) -> PullInfo:
        """One pull request."""
        gh = await self._as_installation(installation_id)
        response = await self._call("GET /repos/{o}/{r}/pulls/{n}", gh.rest.pulls.async_get(owner, repo, number))
        return _pull(response.parsed_data)

    async def create_pull(
        self, installation_id: int, owner: str, repo: str, *, head: str, base: str, title: str, body: str
    ) -> PullInfo:
        """Open a pull request."""
        gh = await self._as_installation(installation_id)
        response = await self._call(
            "POST /repos/{o}/{r}/pulls",
            gh.rest.pulls.async_create(owner, repo, head=head, base=base, title=title, body=body),
        )
        return _pull(response.parsed_data)

    async def update_pull(self, installation_id: int, owner: str, repo: str, number: int, **fields: Any) -> PullInfo:
        """Change a PR's title, body, state or base."""
        gh = await self._as_installation(installation_id)
        response = await self._call(
            "PATCH /repos/{o}/{r}/pulls/{n}", gh.rest.pulls.async_update(owner, repo, number, **fields)
        )
        return _pull(response.parsed_data)

    async def add_labels(
        self, installation_id: int, owner: str, repo: str, number: int, labels: Mapping[str, str]
    ) -> None:
        """Ensure each label exists (name -> colour), creating missing ones, then put them on the issue/PR."""
        gh = await self._as_installation(installation_id)
        for name, color in labels.items():
            try:
                await self._call("GET /repos/{o}/{r}/labels/{name}", gh.rest.issues.async_get_label(owner, repo, name))
            except GitHubError as error:
                if error.status != 404:
                    raise
                try:
                    await self._call(
                        "POST /repos/{o}/{r}/labels",
                        gh.rest.issues.async_create_label(owner, repo, name=name, color=color),
                    )
                except GitHubError as create_error:
                    if create_error.status != 422:  # created concurrently: fine
                        raise
        await self._call(
            "POST /repos/{o}/{r}/issues/{n}/labels",
            gh.rest.issues.async_add_labels(owner, repo, number, labels=list(labels)),
        )

    # ---- check runs -----------------------------------------------------------------------------------

    async def create_check_run(
        self, installation_id: int, owner: str, repo: str, *, name: str, head_sha: str, **fields: Any
    ) -> int:
        """Create a check run (status/conclusion/output in `fields`); return its id."""
        gh = await self._as_installation(installation_id)
        response = await self._call(
            "POST /repos/{o}/{r}/check-runs",
            gh.rest.checks.async_create(owner, repo, name=name, head_sha=head_sha, **fields),
        )
        return response.parsed_data.id

    async def find_check_run(
        self, installation_id: int, owner: str, repo: str, *, head_sha: str, name: str, external_id: str
    ) -> int | None:
        """The id of the check run `name` on `head_sha` created with `external_id`, if there is one."""
        gh = await self._as_installation(installation_id)
        response = await self._call(
            "GET /repos/{o}/{r}/commits/{ref}/check-runs",
            gh.rest.checks.async_list_for_ref(owner, repo, head_sha, check_name=name, filter_="all", per_page=100),
        )
        for check in response.parsed_data.check_runs:
            if check.external_id == external_id:
                return int(check.id)
        return None

    async def update_check_run(
        self, installation_id: int, owner: str, repo: str, check_run_id: int, **fields: Any
    ) -> None:
        """Update a check run (status, conclusion, output)."""
        gh = await self._as_installation(installation_id)
        await self._call(
            "PATCH /repos/{o}/{r}/check-runs/{id}", gh.rest.checks.async_update(owner, repo, check_run_id, **fields)
        )

    # ---- the repository's CI (bot/github/ci_reads.py) -------------------------------------------------

    async def ci_results(self, installation_id: int, owner: str, repo: str, ref: str) -> list[CiResult]:
        """Every check run (latest per name) and commit status on `ref`."""
        gh = await self._as_installation(installation_id)
        return await ci_reads.ci_results(gh, self._call, self._collect, owner, repo, ref)

    async def check_run_states(self, installation_id: int, owner: str, repo: str, ref: str, name: str) -> list[str]:
        """The states of every run of the check `name` on `ref` (re-runs included), oldest first."""
        gh = await self._as_installation(installation_id)
        return list(await ci_reads.check_run_states(gh, self._call, owner, repo, ref, name))

    async def check_annotations(
        self, installation_id: int, owner: str, repo: str, check_run_id: int
    ) -> list[Annotation]:
        """A check run's annotations (first 100)."""
        gh = await self._as_installation(installation_id)
        return await ci_reads.check_annotations(gh, self._call, owner, repo, check_run_id)

    async def failed_job_logs(self, installation_id: int, owner: str, repo: str, head_sha: str) -> list[JobLog]:
        """The tails of the failed Actions jobs' logs on `head_sha`."""
        gh = await self._as_installation(installation_id)
        return await ci_reads.failed_job_logs(gh, self._call, owner, repo, head_sha)

    async def required_checks(self, installation_id: int, owner: str, repo: str, branch: str) -> tuple[str, ...]:
        """The checks `branch`'s protection requires."""
        gh = await self._as_installation(installation_id)
        return await ci_reads.required_checks(gh, self._call, owner, repo, branch)

    async def merge_pull(
        self, installation_id: int, owner: str, repo: str, number: int, *, sha: str, method: str
    ) -> MergeResult:
        """Merge PR #`number` at `sha` with `method`; a refusal (405 not mergeable, 409 head moved) is no error."""
        gh = await self._as_installation(installation_id)
        try:
            response = await self._call(
                "PUT /repos/{o}/{r}/pulls/{n}/merge",
                gh.rest.pulls.async_merge(owner, repo, number, sha=sha, merge_method=_merge_method(method)),
            )
        except GitHubError as error:
            if error.status in (405, 409, 422):
                return MergeResult(False, str(error))
            raise
        data = response.parsed_data
        return MergeResult(bool(data.merged), data.message or "", data.sha or "")

    # ---- issues -----------------------------------------------------------------------------------------

    async def create_issue(self, installation_id: int, owner: str, repo: str, title: str, body: str) -> IssueInfo:
        """Open an issue as the App."""
        gh = await self._as_installation(installation_id)
        response = await self._call(
            "POST /repos/{o}/{r}/issues", gh.rest.issues.async_create(owner, repo, title=title, body=body)
        )
        return _issue(response.json())

    async def get_open_issue(self, installation_id: int, owner: str, repo: str, number: int) -> IssueInfo | None:
        """An open issue, or None when it is gone or closed."""
        gh = await self._as_installation(installation_id)
        try:
            response = await self._call("GET /repos/{o}/{r}/issues/{n}", gh.rest.issues.async_get(owner, repo, number))
        except GitHubError as error:
            if error.status in (404, 410):
                return None
            raise
        data = response.json()
        return _issue(data) if data.get("state") == "open" else None

    async def list_open_issues(self, installation_id: int, owner: str, repo: str, creator: str) -> list[IssueInfo]:
        """Open issues (not PRs) opened by `creator`, the first 100."""
        gh = await self._as_installation(installation_id)
        response = await self._call(
            "GET /repos/{o}/{r}/issues",
            gh.rest.issues.async_list_for_repo(owner, repo, state="open", creator=creator, per_page=100),
        )
        return [_issue(item) for item in response.json() if "pull_request" not in item]

    async def update_issue(self, installation_id: int, owner: str, repo: str, number: int, body: str) -> None:
        """Replace an issue's body."""
        gh = await self._as_installation(installation_id)
        await self._call("PATCH /repos/{o}/{r}/issues/{n}", gh.rest.issues.async_update(owner, repo, number, body=body))

    async def update_comment(self, installation_id: int, owner: str, repo: str, comment_id: int, body: str) -> bool:
        """Replace an issue comment's body; False when the comment is gone."""
        gh = await self._as_installation(installation_id)
        try:
            await self._call(
                "PATCH /repos/{o}/{r}/issues/comments/{id}",
                gh.rest.issues.async_update_comment(owner, repo, comment_id, body=body),
            )
        except GitHubError as error:
            if error.status == 404:
                return False
            raise
        return True


def _merge_method(method: str) -> Literal["merge", "squash", "rebase"]:
    if method == "merge":
        return "merge"
    return "rebase" if method == "rebase" else "squash"


@functools.lru_cache(maxsize=1)
def _ssl_context() -> ssl.SSLContext:
    """One TLS context for every GitHub client: httpx would otherwise load the CA bundle again for each
    request's client (100 ms and more of a loaded machine's time, on the event loop)."""
    return httpx.create_ssl_context(trust_env=True)


class _SharedTransport(httpx.AsyncBaseTransport):
    """The process's connection pool to GitHub, handed to every client: closing a client leaves it open."""

    def __init__(self) -> None:
        self.pool = httpx.AsyncHTTPTransport(verify=_ssl_context(), trust_env=True)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self.pool.handle_async_request(request)

    async def aclose(self) -> None:
        """Kept open for the other clients; it goes with its event loop."""


T = TypeVar("T")
_PER_LOOP_LOCK = threading.Lock()


def per_loop(registry: dict[asyncio.AbstractEventLoop, T], make: Callable[[], T]) -> T:
    """The running event loop's object in `registry`, made once; objects of closed loops are dropped (an httpx
    client's connections belong to the loop that opened them, and hold it: a weak key would never go)."""
    loop = asyncio.get_running_loop()
    found = registry.get(loop)
    if found is None:
        made = make()  # outside the lock: making one may need another registry's (a client, its pool)
        with _PER_LOOP_LOCK:  # loops of other threads (a test client's) register too
            for closed in [other for other in registry if other.is_closed()]:
                del registry[closed]
            found = registry.setdefault(loop, made)
    return found


# One pool per event loop: httpcore's connections belong to the loop that opened them.
_TRANSPORTS: dict[asyncio.AbstractEventLoop, _SharedTransport] = {}


def shared_transport() -> _SharedTransport:
    """The running event loop's connection pool to GitHub (kept-alive connections, one TLS context)."""
    return per_loop(_TRANSPORTS, _SharedTransport)


class _PooledGitHub(GitHub[Any]):
    """githubkit's client, with one httpx client per event loop over the shared pool instead of a new client
    (and connection, and TLS handshake) per request. Authentication stays per request (the client's auth flow)."""

    async def _create_async_client(self) -> httpx.AsyncClient:
        return self._pooled_client()

    def _pooled_client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            **self._get_client_defaults(),
            transport=shared_transport(),
            event_hooks=self.config.async_event_hooks,
        )

    @asynccontextmanager
    async def get_async_client(self) -> AsyncGenerator[httpx.AsyncClient, None]:
        """This event loop's client, built once."""
        pooled: dict[asyncio.AbstractEventLoop, httpx.AsyncClient] = self.__dict__.setdefault("_pooled", {})
        yield per_loop(pooled, self._pooled_client)


def _client(auth: Any, base_url: str) -> GitHub[Any]:
    # A cache per client: githubkit's default cache is process-wide and keyed by app id only, so two
    # apps with one id (a re-registered app, or tests) would share a JWT signed with the wrong key.
    return _PooledGitHub(
        auth,
        base_url=base_url,
        ssl_verify=_ssl_context(),
        auto_retry=RETRY_POLICY,
        http_cache=False,
        timeout=30.0,
        cache_strategy=MemCacheStrategy(),
    )


def _github_error(what: str, error: GitHubException) -> GitHubError:
    if isinstance(error, RequestFailed):
        status = error.response.status_code
        return GitHubError(f"GitHub answered {status} to {what}: {_error_message(error)}", status)
    return GitHubError(f"GitHub request {what} failed: {type(error).__name__}")


def _error_message(error: RequestFailed) -> str:
    try:
        data = error.response.json()
    except Exception:
        return error.response.raw_response.reason_phrase
    return str(data.get("message", "")) if isinstance(data, dict) else ""


def _pull(item: Any) -> PullInfo:
    labels = tuple(label.name for label in (item.labels or ()) if getattr(label, "name", None))
    merged = bool(getattr(item, "merged", False) or getattr(item, "merged_at", None))
    return PullInfo(
        number=item.number,
        title=item.title,
        body=item.body or "",
        state=item.state,
        merged=merged,
        head_ref=item.head.ref,
        head_sha=item.head.sha,
        base_ref=item.base.ref,
        html_url=item.html_url,
        labels=labels,
        mergeable=mergeable if isinstance(mergeable := getattr(item, "mergeable", None), bool) else None,
        base_sha=str(getattr(item.base, "sha", "") or ""),
    )


def _json_list(response: Any) -> list[dict[str, Any]]:
    data = response.json()
    if not isinstance(data, list):
        raise GitHubError(f"GitHub answered {response.url.path} with no list")
    return [item for item in data if isinstance(item, dict)]


def _next_page(response: Any) -> str | None:
    """The URL of the next page (`Link: rel="next"`), None on the last."""
    url = response.raw_response.links.get("next", {}).get("url")
    return str(url) if url else None


def _pull_json(item: dict[str, Any]) -> PullInfo:
    """`_pull` for a PR as GitHub's JSON (a list's PRs: no `merged`, no `mergeable`)."""
    head, base = item["head"], item["base"]
    mergeable = item.get("mergeable")
    return PullInfo(
        number=int(item["number"]),
        title=str(item.get("title") or ""),
        body=str(item.get("body") or ""),
        state=str(item.get("state") or ""),
        merged=bool(item.get("merged") or item.get("merged_at")),
        head_ref=str(head["ref"]),
        head_sha=str(head["sha"]),
        base_ref=str(base["ref"]),
        html_url=str(item.get("html_url") or ""),
        labels=tuple(
            str(label["name"]) for label in item.get("labels") or () if isinstance(label, dict) and label.get("name")
        ),
        mergeable=mergeable if isinstance(mergeable, bool) else None,
        base_sha=str(base.get("sha") or ""),
    )


def _issue(data: Any) -> IssueInfo:
    return IssueInfo(int(data["number"]), str(data.get("body") or ""), str(data.get("html_url") or ""))


def build_gateway(settings: Any) -> GitHubGateway:
    """The gateway for the configured app (`settings.app_id`, private key, `settings.github_url`)."""
    pem = settings.private_key_pem()
    if not settings.app_id or not pem:
        raise GitHubError("the GitHub App id and private key are not configured")
    base_url = settings.github_url.rstrip("/") + "/"
    _ssl_context()  # loaded here, at start-up, not on the first request
    return GitHubGateway(app=_client(AppAuthStrategy(settings.app_id, pem), base_url), base_url=base_url)
