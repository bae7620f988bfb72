"""Handlers: what the bot does for each webhook event: comment commands, installations and the routers they register."""
