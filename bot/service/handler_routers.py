"""All webhook handlers of the bot: one router per concern, combined in one line."""

from __future__ import annotations

from bot.dashboard import handlers as dashboard
from bot.handlers import command_handlers, installations
from bot.outcomes import learning
from bot.routing import Router

handlers = Router(installations.router, command_handlers.router, learning.router, dashboard.router)
