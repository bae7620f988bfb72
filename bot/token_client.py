"""A worker's installation tokens, asked of the web process's token service (`bot.token_service`).

A worker holds no App key: its `GitHubGateway` mints through `TokenServiceMinter`, which asks for a token of the
run its scope names (`TokenScope.run_id`), or else of the run or the delivery the calling code works for (the
`run_id` or `delivery_id` that `bot.run_execution` and `bot.delivery_processing` bind to the log context).
Anything else gets no token.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx

from bot import log_context
from bot.github_client import GitHubError, GitHubGateway, MintedToken, TokenScope, parse_expiry
from bot.token_service import TOKEN_PATH

if TYPE_CHECKING:  # pragma: no cover
    from bot.settings import Settings

TIMEOUT_SECONDS = 30.0


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
        """A token from the token service; GitHubError (with its status) when it refuses."""
        body = self.request_body(installation_id, scope)
        try:
            async with httpx.AsyncClient(timeout=TIMEOUT_SECONDS, trust_env=False) as client:
                response = await client.post(
                    self.url.rstrip("/") + TOKEN_PATH,
                    json=body,
                    headers={"Authorization": f"Bearer {self.secret}"},
                )
        except httpx.HTTPError as error:
            raise GitHubError(f"the token service at {self.url} did not answer: {type(error).__name__}") from None
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


def build_worker_gateway(settings: Settings) -> GitHubGateway:
    """A gateway for a worker: no App key; tokens from the token service at `settings.token_service_url`."""
    secret = settings.internal_secret_value()
    if not settings.token_service_url or secret is None:
        raise GitHubError("a worker needs EVOLVE_TOKEN_SERVICE_URL and EVOLVE_INTERNAL_SECRET")
    base_url = settings.github_url.rstrip("/") + "/"
    return GitHubGateway(app=None, base_url=base_url, minter=TokenServiceMinter(settings.token_service_url, secret))
