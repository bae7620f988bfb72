"""The gateway a process talks to GitHub through: the App's own, a worker's via the token service, or none yet."""

from __future__ import annotations

import logging

from bot.github.api import GitHubAPI
from bot.settings import Settings

log = logging.getLogger("bot.service.app")


def build_github(settings: Settings, role: str = "all") -> GitHubAPI | None:
    """The GitHub gateway when the app's credentials are known, else None (before `/setup`).

    A worker never uses the App's key: its gateway asks the web process's token service (`bot.tokens.client`);
    `evolve serve --role worker` refuses to start without one (`bot.service.startup_checks`).
    """
    if role == "worker" and settings.token_service_url:
        from bot.tokens.client import build_worker_gateway

        return build_worker_gateway(settings)
    if not (settings.app_id and settings.private_key_pem()):
        return None
    try:
        from bot.github.client import build_gateway

        return build_gateway(settings)
    except Exception as error:  # a broken key must not keep the service (and /setup) down
        log.warning("GitHub client unavailable: %s", type(error).__name__)
        return None
