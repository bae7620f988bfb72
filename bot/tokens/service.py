"""The secrets zone's token service: the web process mints installation tokens for workers that hold no App key.

`POST /internal/tokens` with `Authorization: Bearer <EVOLVE_INTERNAL_SECRET>` and a JSON body naming what the token
is for: `{"run_id": 12}` or `{"delivery_id": "…"}` (plus the `installation_id` the worker expects). The service
looks the run or delivery up in the database and mints a token only while it is in progress, restricted to its
one repository and to the permissions it needs (`RUN_PERMISSIONS`/`PLAN_PERMISSIONS` for a run,
`DELIVERY_PERMISSIONS` for a delivery's replies; `AFTER_RUN_PERMISSIONS` for ten minutes after a run ended, for
the dashboard redraw). Without the setting the endpoint does not exist (404); a missing
or wrong secret gets 401, compared in constant time (five wrong ones a minute per client address, then 429 with
`Retry-After`); an unknown run or delivery 404, a finished one 409.

The secret only proves the caller is one of the operator's workers: bind the web process's port (or this path)
to a private network, as docs/github-app.md describes.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import threading
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from bot.db import store
from bot.db.delivery_seal import sealer_for
from bot.failure_limits import client_address, limiter_on
from bot.github.client import (
    PLAN_PERMISSIONS,
    RUN_PERMISSIONS,
    AppTokenMinter,
    GitHubError,
    GitHubGateway,
    MintedToken,
    TokenScope,
)
from bot.intake.payloads import parse_payload
from evolve.run_status import RunStatus

if TYPE_CHECKING:  # pragma: no cover
    from githubkit_schemas.latest.types import AppPermissionsType

    from bot.context import BotContext
    from bot.db.models import Delivery, Repository, Run

log = logging.getLogger(__name__)

TOKEN_PATH = "/internal/tokens"
MAX_REQUEST_BYTES = 4096
MIN_SECRET_LENGTH = 32
TOKEN_LIMITER = "token_service_limiter"  # wrong internal secrets per client address (bot.failure_limits)
# A delivery's handlers react, reply, read PRs and the configuration, ask a commenter's permission and keep the
# dashboard issue, on the repositories the delivery names; they read a bot PR's CI results; they never push.
DELIVERY_PERMISSIONS: AppPermissionsType = {
    "issues": "write",
    "pull_requests": "write",
    "contents": "read",
    "metadata": "read",
    "checks": "read",
    "statuses": "read",
    "actions": "read",
}
MAX_REPOSITORIES = 500  # what the access-token endpoint takes at most
LIVE_RUN_STATUSES = (RunStatus.QUEUED, RunStatus.RUNNING)
# Just after a run ends its worker redraws the repository's dashboard issue, and a run stopped by its time limit
# or abandoned by the sweep has its check run closed and its requester told: for that, a run finished at most this
# long ago still gets a token, with issues and checks write only (it reads code and pull requests, never writes them).
AFTER_RUN = timedelta(minutes=10)
AFTER_RUN_PERMISSIONS: AppPermissionsType = {
    "issues": "write",
    "checks": "write",
    "pull_requests": "read",
    "contents": "read",
    "metadata": "read",
}
LIVE_DELIVERY_STATUSES = ("queued", "processing")

# A delivery's token is reused for the next delivery with the same grant (installation, repositories, permissions)
# while it has at least this long to live: one GitHub call per grant and half hour, not one per delivery. Run tokens
# are never shared (a run's token is revoked when it ends).
DELIVERY_TOKEN_REUSE = timedelta(minutes=30)
DELIVERY_TOKENS_KEPT = 1024

router = APIRouter()


class DeliveryTokens:
    """The delivery tokens this web process minted, by grant, reused while they have `DELIVERY_TOKEN_REUSE` left.

    A token held here gives what the grant gives and no more: the same repositories and permissions as a fresh one.
    The process that keeps them holds the App's key already."""

    def __init__(self, kept: int = DELIVERY_TOKENS_KEPT) -> None:
        self.kept = kept
        self._tokens: OrderedDict[Hashable, MintedToken] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def key(minter: AppTokenMinter, grant: Grant) -> Hashable:
        """The minter (a new App key mints anew) and everything the grant restricts."""
        scope = grant.scope
        return (minter, grant.installation_id, scope.repositories, tuple(sorted(scope.permissions.items())))

    def get(self, key: Hashable, now: datetime) -> MintedToken | None:
        """A kept token for `key` that still has `DELIVERY_TOKEN_REUSE` to live."""
        with self._lock:
            token = self._tokens.get(key)
            if token is None:
                return None
            if token.expires_at - DELIVERY_TOKEN_REUSE <= now:
                del self._tokens[key]
                return None
            self._tokens.move_to_end(key)
            return token

    def keep(self, key: Hashable, token: MintedToken) -> None:
        """Keep a freshly minted token for `key` (the least recently used beyond `kept` are dropped)."""
        with self._lock:
            self._tokens[key] = token
            self._tokens.move_to_end(key)
            while len(self._tokens) > self.kept:
                self._tokens.popitem(last=False)


async def mint_for(minter: AppTokenMinter, grant: Grant, delivery: bool, kept: DeliveryTokens) -> MintedToken:
    """The token for `grant`: a kept one for a delivery when one is fresh enough, else a new one."""
    if not delivery:
        return await minter.mint(grant.installation_id, grant.scope)
    key = kept.key(minter, grant)
    token = kept.get(key, datetime.now(timezone.utc))
    if token is None:
        token = await minter.mint(grant.installation_id, grant.scope)
        kept.keep(key, token)
    return token


class TokenRefused(Exception):
    """The request gets no token: `status` and the reason to answer with."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True)
class TokenRequest:
    """What a worker asks a token for: exactly one of a run and a delivery, in the installation it expects."""

    run_id: int | None = None
    delivery_id: str | None = None
    installation_id: int | None = None


@dataclass(frozen=True)
class Grant:
    """What the service mints: a token of this installation, restricted to this scope."""

    installation_id: int
    scope: TokenScope


def secret_matches(authorization: str | None, secret: str) -> bool:
    """Whether `Authorization: Bearer <secret>` carries the secret (compared in constant time, any length)."""
    scheme, _, given = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not given:
        return False
    return hmac.compare_digest(
        hashlib.sha256(given.strip().encode("utf-8", "replace")).digest(),
        hashlib.sha256(secret.encode("utf-8")).digest(),
    )


def parse_request(body: bytes) -> TokenRequest:
    """The request body as a `TokenRequest`; TokenRefused(400) when it is not one."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        raise TokenRefused(400, "the body is not JSON") from None
    if not isinstance(data, dict):
        raise TokenRefused(400, "the body must be a JSON object")
    run_id, delivery_id, installation_id = data.get("run_id"), data.get("delivery_id"), data.get("installation_id")
    if (run_id is None) == (delivery_id is None):
        raise TokenRefused(400, "name exactly one of run_id and delivery_id")
    if run_id is not None and (type(run_id) is not int or run_id <= 0):
        raise TokenRefused(400, "run_id must be a positive integer")
    if delivery_id is not None and (not isinstance(delivery_id, str) or not 0 < len(delivery_id) <= 64):
        raise TokenRefused(400, "delivery_id must be a string of 1 to 64 characters")
    if installation_id is not None and (type(installation_id) is not int or installation_id <= 0):
        raise TokenRefused(400, "installation_id must be a positive integer")
    return TokenRequest(run_id, delivery_id, installation_id)


def _repository_name(full_name: str) -> str:
    return full_name.split("/", 1)[1] if "/" in full_name else full_name


def _finished_recently(run: Run, now: datetime) -> bool:
    finished = run.finished_at
    if finished is None:
        return False
    if finished.tzinfo is None:  # SQLite gives naive UTC back
        finished = finished.replace(tzinfo=timezone.utc)
    return timedelta(0) <= now - finished <= AFTER_RUN


def run_grant(run: Run | None, repository: Repository | None, now: datetime | None = None) -> Grant:
    """The grant for a run's token: its one repository, with what a run (or a plan) needs while it is queued or
    running; for a few minutes after it finished, issues write only (the dashboard redraw)."""
    if run is None:
        raise TokenRefused(404, "no such run")
    live = run.status in LIVE_RUN_STATUSES
    if not live and not _finished_recently(run, now or datetime.now(timezone.utc)):
        raise TokenRefused(409, f"the run is {run.status}")
    if repository is None or repository.installation_id is None:
        raise TokenRefused(404, "the run's repository is not installed")
    permissions = PLAN_PERMISSIONS if run.trigger == "plan" else RUN_PERMISSIONS
    if not live:
        permissions = AFTER_RUN_PERMISSIONS
    scope = TokenScope((_repository_name(repository.full_name),), permissions, run_id=run.id)
    return Grant(repository.installation_id, scope)


def delivery_repositories(payload: Any) -> tuple[str, ...]:
    """The repositories a delivery's payload names: its `repository`, or those an installation event lists
    (`repositories`, `repositories_added`); names without the owner, sorted."""
    if not isinstance(payload, dict):
        return ()
    listed = [payload.get("repository")]
    for key in ("repositories", "repositories_added"):
        entries = payload.get(key)
        if isinstance(entries, list):
            listed += entries
    names = {
        _repository_name(entry["full_name"])
        for entry in listed
        if isinstance(entry, dict) and isinstance(entry.get("full_name"), str) and "/" in entry["full_name"]
    }
    return tuple(sorted(names))


def delivery_grant(delivery: Delivery | None, payload: Any) -> Grant:
    """The grant for a delivery's replies: the repositories its (signed) payload names; only while in progress."""
    if delivery is None:
        raise TokenRefused(404, "no such delivery")
    if delivery.status not in LIVE_DELIVERY_STATUSES:
        raise TokenRefused(409, f"the delivery is {delivery.status}")
    repositories = delivery_repositories(payload)
    installation = payload.get("installation") if isinstance(payload, dict) else None
    installation_id = installation.get("id") if isinstance(installation, dict) else None
    if not repositories:
        raise TokenRefused(404, "the delivery concerns no repository")
    if len(repositories) > MAX_REPOSITORIES:
        raise TokenRefused(422, f"the delivery names more than {MAX_REPOSITORIES} repositories")
    if type(installation_id) is not int or installation_id != delivery.installation_id:
        raise TokenRefused(404, "the delivery names no installation")
    return Grant(installation_id, TokenScope(repositories, DELIVERY_PERMISSIONS))


def _delivery_and_payload(ctx: BotContext, delivery_id: str) -> tuple[Delivery | None, Any]:
    """The delivery row (its payload is loaded with it) and the payload read as the workers read it."""
    delivery = store.get_delivery(ctx.db, delivery_id)
    if delivery is None:
        return None, None
    try:
        return delivery, parse_payload(delivery.payload) if delivery.payload else None
    except ValueError:
        return delivery, None


def _check_seal(ctx: BotContext, delivery: Delivery | None) -> None:
    """No token for a delivery row the web process did not seal (or that changed since): TokenRefused(409)."""
    if delivery is None:
        return
    secret = ctx.settings.delivery_seal_secret()
    problem = (
        sealer_for(secret).problem(delivery.delivery_id, delivery.event, delivery.payload or "", delivery.seal)
        if secret is not None
        else "no secret to check delivery seals"
    )
    if problem is not None:
        log.warning("token service: refused a token for delivery %r: %s", delivery.delivery_id[:64], problem)
        raise TokenRefused(409, "the delivery was not sealed by the web process")


def find_grant(ctx: BotContext, request: TokenRequest) -> Grant:
    """Look the run or delivery up and decide the grant (blocking: database reads)."""
    if request.run_id is not None:
        run = store.get_run(ctx.db, request.run_id)
        repository = store.get_repository(ctx.db, run.repository_id) if run is not None else None
        grant = run_grant(run, repository)
    else:
        assert request.delivery_id is not None  # parse_request names exactly one
        delivery, payload = _delivery_and_payload(ctx, request.delivery_id)
        _check_seal(ctx, delivery)
        grant = delivery_grant(delivery, payload)
    if request.installation_id is not None and request.installation_id != grant.installation_id:
        raise TokenRefused(409, "the run or delivery belongs to another installation")
    return grant


def _minter(ctx: BotContext | None) -> AppTokenMinter | None:
    github = ctx.github if ctx is not None else None
    minter = github.minter if isinstance(github, GitHubGateway) else None
    return minter if isinstance(minter, AppTokenMinter) else None


async def _body(request: Request) -> bytes:
    length = request.headers.get("content-length")
    if length is not None and (not length.isdigit() or int(length) > MAX_REQUEST_BYTES):
        raise TokenRefused(413, "the request is too large")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_REQUEST_BYTES:
            raise TokenRefused(413, "the request is too large")
    return body


@router.post(TOKEN_PATH, include_in_schema=False)
async def mint_token(request: Request) -> JSONResponse:
    """Mint an installation token for a run or delivery in progress (see the module docstring)."""
    settings = request.app.state.settings
    secret = settings.internal_secret_value()
    if secret is None:  # the token service is off: nothing is reachable here
        return JSONResponse({"message": "Not Found"}, status_code=404)
    limiter = limiter_on(request.app.state, TOKEN_LIMITER)
    address = client_address(request.client)
    wait = limiter.retry_after(address)
    if wait is not None:  # before the comparison: a limited address learns nothing from its guesses
        log.warning("token service: wrong internal secrets from %s are limited (429)", address)
        return JSONResponse(
            {"message": f"too many wrong internal secrets from this address; try again in {wait} seconds"},
            status_code=429,
            headers={"Retry-After": str(wait)},
        )
    if not secret_matches(request.headers.get("authorization"), secret):
        limiter.failed(address)
        log.warning("token service: refused a request without the internal secret (401)")
        return JSONResponse({"message": "the internal secret is missing or wrong"}, status_code=401)
    ctx: BotContext | None = getattr(request.app.state, "ctx", None)
    minter = _minter(ctx)
    try:
        if ctx is None or minter is None:
            raise TokenRefused(503, "this process holds no GitHub App key")
        token_request = parse_request(await _body(request))
        grant = await asyncio.to_thread(find_grant, ctx, token_request)
        kept = getattr(request.app.state, "delivery_tokens", None)
        if kept is None:
            kept = request.app.state.delivery_tokens = DeliveryTokens()
        minted = await mint_for(minter, grant, token_request.delivery_id is not None, kept)
    except TokenRefused as refused:
        log.info("token service: %s (%d)", refused.reason, refused.status)
        return JSONResponse({"message": refused.reason}, status_code=refused.status)
    except GitHubError as error:
        log.warning("token service: GitHub refused a token: %s", error)
        return JSONResponse({"message": str(error)}, status_code=502)
    what = f"run {token_request.run_id}" if token_request.run_id is not None else "a delivery"
    log.info("token service: minted a token for %s on %s", what, ", ".join(grant.scope.repositories))
    return JSONResponse(
        {
            "token": minted.value,
            "expires_at": minted.expires_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "installation_id": grant.installation_id,
            "repositories": list(grant.scope.repositories),
            "permissions": dict(grant.scope.permissions),
        },
        headers={"Cache-Control": "no-store"},
    )
