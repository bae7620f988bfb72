"""Webhook events and bedevere-style routers: one router per concern, combined in one line.

router = Router()

@router.register("issue_comment", "created")
async def on_comment(event: Event, ctx: BotContext) -> None: ...

handlers = Router(installations.router, commands.router, learning.router)
await handlers.dispatch(event, ctx)
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from bot.context import BotContext

Handler = Callable[["Event", "BotContext"], Awaitable[Any]]


@dataclass(frozen=True)
class Event:
    """One webhook delivery: its name, action and raw payload dict (never a strict model)."""

    name: str
    action: str | None = None
    delivery_id: str = ""
    installation_id: int | None = None
    payload: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_payload(cls, name: str, payload: Any, delivery_id: str = "") -> Event:
        """Build an event from a parsed payload, tolerating any shape (a non-dict becomes {})."""
        body: dict[str, Any] = payload if isinstance(payload, dict) else {}
        action = body.get("action")
        installation = body.get("installation")
        installation_id = installation.get("id") if isinstance(installation, dict) else None
        return cls(
            name=name,
            payload=body,
            delivery_id=delivery_id,
            action=action if isinstance(action, str) else None,
            installation_id=installation_id if isinstance(installation_id, int) else None,
        )

    @property
    def repository(self) -> Mapping[str, Any]:
        """The payload's `repository` object, or {}."""
        repo = self.payload.get("repository")
        return repo if isinstance(repo, dict) else {}

    @property
    def sender_login(self) -> str | None:
        """The login of the user or bot that caused the event, when present."""
        sender = self.payload.get("sender")
        login = sender.get("login") if isinstance(sender, dict) else None
        return login if isinstance(login, str) else None


class Router:
    """Maps (event, action) to async handlers; `Router(*routers)` combines routers."""

    def __init__(self, *routers: Router) -> None:
        self._handlers: dict[tuple[str, str | None], list[Handler]] = defaultdict(list)
        for router in routers:
            for key, handlers in router._handlers.items():
                self._handlers[key].extend(handlers)

    def register(self, event: str, action: str | None = None) -> Callable[[Handler], Handler]:
        """Decorator: call the function for `event` (any action) or `event` with `action`."""

        def decorator(func: Handler) -> Handler:
            self.add(func, event, action)
            return func

        return decorator

    def add(self, func: Handler, event: str, action: str | None = None) -> None:
        """Register `func` without the decorator syntax."""
        self._handlers[(event, action)].append(func)

    def fetch(self, event: Event) -> list[Handler]:
        """Handlers for this event: event-wide ones first, then the action's."""
        found = list(self._handlers.get((event.name, None), ()))
        if event.action is not None:
            found.extend(self._handlers.get((event.name, event.action), ()))
        return found

    def handles(self, event: Event) -> bool:
        """Whether any handler is registered for the event."""
        return bool(self.fetch(event))

    async def dispatch(self, event: Event, ctx: BotContext) -> int:
        """Run every matching handler in registration order; return how many ran.

        Exceptions propagate: the job that dispatches decides whether to retry.
        """
        handlers = self.fetch(event)
        for handler in handlers:
            await handler(event, ctx)
        return len(handlers)


def is_bot(user: Any, bot_login: str) -> bool:
    """Whether a payload's user object is a bot (any app, or this one)."""
    if not isinstance(user, dict):
        return True  # no author: nothing to answer
    login = str(user.get("login") or "")
    own = bot_login.removesuffix("[bot]").lower()
    return user.get("type") == "Bot" or login.lower().endswith("[bot]") or login.lower() in (own, f"{own}[bot]")
