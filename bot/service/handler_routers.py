"""All webhook handlers of the bot: one router per concern, combined in one line."""

from __future__ import annotations

from bot.dashboard import handlers as dashboard
from bot.handlers import ci_events, command_handlers, installations, keep_current
from bot.outcomes import learning
from bot.routing import Router

handlers = Router(
    installations.router,
    command_handlers.router,
    learning.router,
    ci_events.router,
    keep_current.router,
    dashboard.router,
)
