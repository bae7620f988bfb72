"""`evolve serve`: run the web server, the worker, or both in one process (the default)."""

from __future__ import annotations

import logging

from fastapi import FastAPI

from bot.app import create_app
from bot.settings import Settings, load_settings

__all__ = ["create_app", "serve"]

ROLES = ("web", "worker", "all")


def serve(host: str = "127.0.0.1", port: int = 8000, role: str = "all", settings: Settings | None = None) -> None:
    """Start uvicorn with the bot. `worker` still serves `/healthz` and `/readyz` for orchestrators."""
    import uvicorn

    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    settings = settings or load_settings()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not settings.has_app_credentials:
        logging.getLogger(__name__).warning(
            "GitHub App credentials are incomplete: open /setup to register the app, "
            "or set EVOLVE_APP_ID, EVOLVE_PRIVATE_KEY and EVOLVE_WEBHOOK_SECRET"
        )
    app: FastAPI = create_app(settings, role=role, freeze_gc=True)
    # loop/http "auto" pick uvloop and httptools (uvicorn[standard]) when installed; no access log:
    # a line per delivery costs more than verifying it.
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level="info",
        access_log=False,
        proxy_headers=True,
        forwarded_allow_ips="127.0.0.1",
        loop="auto",
        http="auto",
    )
