"""The FastAPI application: webhook intake, the `/setup` flow and health probes.

Startup migrates the database, builds the `BotContext` and starts the job queue; the web
handler itself only verifies, records, enqueues and acknowledges.
"""

from __future__ import annotations

import gc
import logging
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from bot import metrics
from bot.context import BotContext
from bot.db import store
from bot.github.api import GitHubAPI, GitHubNotConfigured
from bot.intake import webhooks
from bot.jobs.apscheduler_setup import build_scheduler
from bot.jobs.queue import JobQueue
from bot.routing import Router
from bot.service import setup_flow
from bot.service.github_gateway import build_github
from bot.service.startup_checks import SETUP_MODE_REASON, in_setup_mode
from bot.settings import Settings, load_settings
from bot.status import pages as status_pages
from bot.tokens import service as token_service
from evolve.untrusted_text import register_secret

log = logging.getLogger(__name__)


class EvolveApp(FastAPI):
    """The FastAPI application, with `POST /webhook` handed straight to `bot.intake.webhooks.intake`: the
    intake path skips the middleware and routing layers (it needs neither), everything else goes
    through FastAPI as usual."""

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] == "/webhook" and scope["method"] == "POST" and not self.root_path:
            scope["app"] = self
            try:
                await webhooks.intake(scope, receive, send)
            except Exception:  # what ServerErrorMiddleware would do: log it and answer 500
                log.exception("webhook intake crashed")
                await _server_error(send)
            return
        await super().__call__(scope, receive, send)


async def _server_error(send: Any) -> None:
    try:
        await send(
            {
                "type": "http.response.start",
                "status": 500,
                "headers": [(b"content-type", b"text/plain"), (b"content-length", b"21")],
            }
        )
        await send({"type": "http.response.body", "body": b"Internal Server Error"})
    except Exception:  # the response had started: the server closes the connection
        pass


def create_app(
    settings: Settings | None = None,
    *,
    role: str = "all",
    github: GitHubAPI | None = None,
    router: Router | None = None,
    freeze_gc: bool = False,
    setup_token: str | None = None,
    record_socket: socket.socket | None = None,
) -> EvolveApp:
    """The web application. `github` and `router` override the real gateway and handlers (tests);
    `freeze_gc` (the server process) moves everything built at startup out of the cyclic GC;
    `setup_token` opens `/setup?token=…` while the app has no credentials (setup mode);
    `record_socket` (a web process of `evolve serve`): deliveries are recorded by the writer process
    at its other end (`bot.db.writer_process`) instead of a writer thread in this process."""
    settings = settings or load_settings()
    # Every secret the App holds is redacted from anything it publishes or logs.
    register_secret(settings.private_key_pem())
    register_secret(settings.webhook_secret_value())
    register_secret(settings.internal_secret_value())
    for secret in (settings.client_secret, settings.operator_token, settings.session_secret):
        register_secret(secret.get_secret_value() if secret is not None else None)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = store.make_engine(settings.database_url, sqlite_synchronous=settings.sqlite_synchronous)
        await run_in_threadpool(store.migrate, engine)
        ctx = BotContext(
            settings=settings,
            engine=engine,
            db=store.make_sessionmaker(engine),
            github=github or build_github(settings, role) or GitHubNotConfigured(),
        )
        if router is None:
            from bot.service.handler_routers import handlers
        scheduler = build_scheduler(settings, role)
        ctx.jobs = JobQueue(ctx, router if router is not None else handlers, scheduler, role, record_socket)
        await ctx.jobs.start()
        app.state.ctx = ctx
        if freeze_gc:
            # What startup built lives as long as the process: keep it out of the cyclic GC's full
            # collections, whose pauses (tens of ms) would otherwise land in the webhook latency tail.
            gc.collect()
            gc.freeze()
        try:
            yield
        finally:
            await ctx.jobs.stop()
            engine.dispose()

    app = EvolveApp(title="Evolve", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.settings = settings
    app.state.setup_token = setup_token
    app.state.body_budget = webhooks.BodyBudget(settings.max_body_bytes_in_flight)
    app.state.body_deadlines = webhooks.Deadlines()
    app.include_router(webhooks.router)
    app.include_router(setup_flow.router)
    app.include_router(status_pages.router)
    if role != "worker":  # the secrets zone: only a process holding the App's key mints for workers
        app.include_router(token_service.router)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        """The process is up."""
        return {"status": "ok"}

    @app.get("/metrics")
    async def metrics_endpoint() -> Response:
        """This process's Prometheus metrics (text format)."""
        return Response(metrics.render_metrics(), media_type=metrics.CONTENT_TYPE_LATEST)

    @app.get("/readyz")
    async def readyz(request: Request) -> JSONResponse:
        """Ready when the app has credentials, the database answers at the newest migration and the job queue runs."""
        ctx: BotContext | None = getattr(request.app.state, "ctx", None)
        if role != "worker" and in_setup_mode(ctx.settings if ctx is not None else request.app.state.settings):
            return JSONResponse({"status": "not ready", "reason": SETUP_MODE_REASON}, status_code=503)
        checks = {"database": False, "migrated": False, "scheduler": False}
        if ctx is not None:
            try:
                checks["migrated"] = await run_in_threadpool(store.is_migrated, ctx.engine)
                checks["database"] = True
            except Exception as error:  # any driver error means "not ready"
                log.warning("readiness: database unavailable (%s)", type(error).__name__)
            checks["scheduler"] = ctx.jobs.running
        ready = all(checks.values())
        return JSONResponse({"status": "ready" if ready else "not ready", **checks}, status_code=200 if ready else 503)

    return app
