"""The name `bot.handlers` imports for the comment-command concern; the handlers live in `bot.command_handlers`."""

from bot.command_handlers import router

__all__ = ["router"]
