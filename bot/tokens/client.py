"""A worker's installation tokens, asked of the web process's token service (`bot.tokens.service`).

A worker holds no App key: its `GitHubGateway` mints through `TokenServiceMinter`, which asks for a token of the
run its scope names (`TokenScope.run_id`), or else of the run or the delivery the calling code works for (the
`run_id` or `delivery_id` that `bot.runs.execution` and `bot.jobs.delivery_processing` bind to the log context).
Anything else gets no token.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import ssl
import time
from collections.abc import Hashable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx

from bot import log_context
from bot.github.client import GitHubError, GitHubGateway, MintedToken, TokenScope, parse_expiry, per_loop
from bot.tokens.service import TOKEN_PATH

if TYPE_CHECKING:  # pragma: no cover
    from bot.settings import Settings

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 30.0
# The web process restarts (a deploy, a crash): a worker waits this long for its token service before the work
# fails, so a run or a delivery that starts meanwhile is delayed rather than lost or spent.
WAIT_FOR_SERVICE_SECONDS = 90.0
_RETRY_STATUSES = frozenset({503, 504})


def _current_work() -> tuple[str, int | str] | None:
    """The run (preferred) or delivery the calling code works for, as bound to the log context."""
    bound = log_context.current()
    run_id, delivery_id = bound.get("run_id"), bound.get("delivery_id")
    if isinstance(run_id, int):
        return ("run_id", run_id)
    if isinstance(delivery_id, str):
        return ("delivery_id", delivery_id)
    return None


@dataclass(frozen=True)
class TokenServiceMinter:
    """Mints by asking `POST <url>/internal/tokens` with the internal secret."""

    url: str
    secret: str
    wait_seconds: float = WAIT_FOR_SERVICE_SECONDS

    def __repr__(self) -> str:  # never show the secret
        return f"TokenServiceMinter(url={self.url!r})"

    def grant(self, scope: TokenScope | None) -> Hashable:
        """A token per run, or per delivery: the cache key beside the installation id."""
        if scope is not None and scope.run_id is not None:
            return ("scoped-run", scope.run_id)
        return _current_work()

    def request_body(self, installation_id: int, scope: TokenScope | None) -> dict[str, Any]:
        """What to ask for; GitHubError when the caller works for neither a run nor a delivery."""
        if scope is not None and scope.run_id is not None:
            return {"installation_id": installation_id, "run_id": scope.run_id}
        work = _current_work()
        if work is None:
            raise GitHubError("a worker gets installation tokens only for a run or a delivery in progress")
        return {"installation_id": installation_id, work[0]: work[1]}

    async def mint(self, installation_id: int, scope: TokenScope | None) -> MintedToken:
        """A token from the token service; GitHubError (with its status) when it refuses.

        An unreachable service, or a 502/503/504 from a proxy in front of it, is waited out (backing off up to
        `wait_seconds` in all): the web process is restarting. A refusal (401, 404, 409, ...) is final at once.
        """
        body = self.request_body(installation_id, scope)
        deadline = time.monotonic() + self.wait_seconds
        delay = 0.25
        while True:
            response, problem = await self._ask(body)
            if problem is None and response is not None and not _restarting(response):
                return self._token_from(response)
            problem = problem or f"answered {response.status_code if response is not None else '?'}"
            if time.monotonic() + delay > deadline:
                raise GitHubError(f"the token service at {self.url} {problem}; gave up after {self.wait_seconds:.0f}s")
            log.warning("the token service at %s %s; asking again in %.1fs", self.url, problem, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 10.0)

    async def _ask(self, body: dict[str, Any]) -> tuple[httpx.Response | None, str | None]:
        """One request: the response, or why there was none."""
        try:
            response = await _service_client().post(
                self.url.rstrip("/") + TOKEN_PATH,
                json=body,
                headers={"Authorization": f"Bearer {self.secret}"},
            )
        except httpx.HTTPError as error:
            return None, f"did not answer ({type(error).__name__})"
        return response, None

    def _token_from(self, response: httpx.Response) -> MintedToken:
        """The token in an answer; GitHubError (with its status) for a refusal or a malformed answer."""
        try:
            data = response.json()
        except ValueError:
            data = {}
        if response.status_code != 200 or not isinstance(data, dict):
            message = data.get("message", "") if isinstance(data, dict) else ""
            raise GitHubError(f"the token service answered {response.status_code}: {message}", response.status_code)
        try:
            return MintedToken(str(data["token"]), parse_expiry(str(data["expires_at"])))
        except (KeyError, ValueError):
            raise GitHubError("the token service's answer has no token") from None


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """One TLS context for every request to the token service: building one (loading the CA bundle) costs
    milliseconds of CPU, which per delivery was most of a worker's time."""
    return httpx.create_ssl_context()


# One client per event loop (its connections belong to the loop): kept-alive connections to the token service
# instead of a connection per token. It holds no secret: the internal secret goes in each request's header.
_CLIENTS: dict[asyncio.AbstractEventLoop, httpx.AsyncClient] = {}


def _service_client() -> httpx.AsyncClient:
    return per_loop(
        _CLIENTS, lambda: httpx.AsyncClient(timeout=TIMEOUT_SECONDS, trust_env=False, verify=_tls_context())
    )


def _restarting(response: httpx.Response) -> bool:
    """Whether an answer says the service is not there yet: 503/504, or a proxy's 502 (not the service's own JSON).

    The service itself answers 502 with a JSON message when GitHub refused to mint; that is final.
    """
    if response.status_code == 502:
        return not response.headers.get("content-type", "").startswith("application/json")
    return response.status_code in _RETRY_STATUSES


def build_worker_gateway(settings: Settings) -> GitHubGateway:
    """A gateway for a worker: no App key; tokens from the token service at `settings.token_service_url`."""
    secret = settings.internal_secret_value()
    if not settings.token_service_url or secret is None:
        raise GitHubError("a worker needs EVOLVE_TOKEN_SERVICE_URL and EVOLVE_INTERNAL_SECRET")
    base_url = settings.github_url.rstrip("/") + "/"
    return GitHubGateway(app=None, base_url=base_url, minter=TokenServiceMinter(settings.token_service_url, secret))
