"""`evolve serve`: run the web server, the worker, or both in one process (the default)."""

from __future__ import annotations

import logging
import os
import resource
import secrets
import socket
import time
from typing import Any

from fastapi import FastAPI

from bot.db import store
from bot.intake.http_limits import ConnectionLimits, protocol_class
from bot.log_context import configure_logging
from bot.service import processes as processes_module
from bot.service.app import create_app
from bot.service.startup_checks import check_startup, database_problem, operator_token_problem, port_problem
from bot.settings import Settings, load_settings

__all__ = ["StartupRefused", "create_app", "serve"]

ROLES = ("web", "worker", "all")
log = logging.getLogger(__name__)
# File descriptors kept free of connections: the database, mirrors, subprocess pipes, log files.
RESERVED_FDS = 256


class StartupRefused(Exception):
    """The configuration cannot work; the message lists every problem (`evolve serve` exits 2)."""


def raise_file_limit() -> int:
    """Raise the soft limit on open files to the hard limit (many idle strangers must not exhaust it)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        target = hard if hard != resource.RLIM_INFINITY else max(soft, 65536)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            pass
    return soft


def connection_limits(settings: Settings, file_limit: int) -> ConnectionLimits:
    """The per-connection limits from `settings`, with the connection cap kept under the file limit."""
    max_connections = min(settings.max_connections, max(16, file_limit - RESERVED_FDS))
    if max_connections < settings.max_connections:
        log.warning(
            "EVOLVE_MAX_CONNECTIONS=%d is above what the open-file limit (%d) allows; using %d",
            settings.max_connections,
            file_limit,
            max_connections,
        )
    return ConnectionLimits(
        header_timeout=settings.header_timeout_seconds,
        max_header_bytes=settings.max_header_bytes,
        max_headers=settings.max_headers,
        max_connections=max_connections,
    )


def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    role: str = "all",
    settings: Settings | None = None,
    processes: int = 1,
) -> None:
    """Check the configuration, then start uvicorn with the bot; raises StartupRefused when it cannot work.

    `worker` still serves `/healthz` and `/readyz` for orchestrators. `web` records deliveries through a
    writer process of its own (`bot.db.writer_process`), and with `processes` above 1 runs that many web
    processes on the same port (`bot.service.processes`).
    """
    import uvicorn

    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    if processes < 1 or (processes > 1 and role != "web"):
        raise StartupRefused("--processes takes a number from 1, and more than one only with --role web")
    settings = settings or load_settings()
    _seal_secrets()
    token_problem = operator_token_problem(settings)
    if token_problem is not None:
        raise StartupRefused(token_problem)
    check = check_startup(settings, role)
    if not check.ok:
        raise StartupRefused("the GitHub App configuration is not usable:\n  " + "\n  ".join(check.problems))
    for problem in (port_problem(host, port), database_problem(settings.database_url)):
        if problem:
            raise StartupRefused(problem)
    limits = connection_limits(settings, raise_file_limit())
    setup_token = secrets.token_urlsafe(32) if check.setup_mode else None
    listeners: list[socket.socket] = []
    if processes > 1:
        try:
            listeners = [processes_module.reuse_port_socket(host, port) for _ in range(processes)]
        except OSError as error:
            raise StartupRefused(f"cannot listen on {host}:{port} with SO_REUSEPORT: {error}") from None
    if role == "web":  # before the processes that use the schema start (SQLite has no lock to migrate under)
        store.migrate(settings.database_url)
    # Forks come first: no thread may be running yet (logging starts one).
    writer_pid: int | None = None
    record_ends: list[socket.socket | None] = [None] * processes
    if role == "web" and settings.intake_writer == "process":
        writer_pid, sockets = processes_module.start_writer(settings, processes)
        record_ends = list(sockets)
    if processes > 1:

        def run_web(listener: socket.socket, record_end: socket.socket | None) -> int:
            processes_module.exit_on_signal()
            configure_logging(settings.log_format)
            app = create_app(settings, role=role, freeze_gc=True, setup_token=setup_token, record_socket=record_end)
            server = uvicorn.Server(_uvicorn_config(app, settings, limits, host, port))
            server.run(sockets=[listener])
            return 0 if server.started else 3

        children = processes_module.start_web_processes(listeners, record_ends, run_web)
        if writer_pid is not None:
            children[writer_pid] = "delivery writer"
    configure_logging(settings.log_format)
    _warn_about_misplaced_secrets(settings, role)
    if setup_token is not None:
        _announce_setup(settings, setup_token)
    _prepare_sandbox(settings)
    if processes > 1:
        log.info("%d web processes on %s:%d (SO_REUSEPORT) and one delivery writer", processes, host, port)
        status = processes_module.supervise(children)
        if status:
            raise SystemExit(status)
        return
    app: FastAPI = create_app(
        settings,
        role=role,
        freeze_gc=True,
        setup_token=setup_token,
        record_socket=record_ends[0],
    )
    try:
        uvicorn.run(app, **_uvicorn_options(settings, limits, host, port))
    finally:
        for end in record_ends:  # the writer stops once every web end is closed
            if end is not None:
                end.close()
        if writer_pid is not None:
            _reap(writer_pid)


def _announce_setup(settings: Settings, setup_token: str) -> None:
    if settings.public_url:
        log.warning(
            "setup mode: no GitHub App credentials. Register the app once at %s/setup?token=%s",
            settings.public_url.rstrip("/"),
            setup_token,
        )
    else:
        log.error(
            "setup mode: no GitHub App credentials, and EVOLVE_PUBLIC_URL is not set, so /setup cannot "
            "register the app. Set EVOLVE_PUBLIC_URL to this server's public https URL and restart, or set "
            "EVOLVE_APP_ID, EVOLVE_PRIVATE_KEY (or EVOLVE_PRIVATE_KEY_PATH) and EVOLVE_WEBHOOK_SECRET."
        )


def _uvicorn_options(settings: Settings, limits: ConnectionLimits, host: str, port: int) -> dict[str, Any]:
    """uvicorn's settings for the public port.

    httptools (uvicorn[standard]) with the head limits of bot.intake.http_limits; uvloop when installed.
    The connection cap is enforced by evicting slow strangers (bot.intake.http_limits); uvicorn's own
    `limit_concurrency` (503 to everyone) is only a backstop above it, since closed connections leave its
    count a moment later than the eviction.
    """
    return {
        "host": host,
        "port": port,
        # uvicorn's own lines go through the root logger `configure_logging` set up (the same format,
        # text or JSON); its logging config would close that handler and install its own.
        "log_config": None,
        "log_level": "info",
        "access_log": settings.access_log,
        "proxy_headers": True,
        "forwarded_allow_ips": "127.0.0.1",
        "loop": "auto",
        "http": protocol_class(limits),
        "limit_concurrency": 2 * limits.max_connections,
        "timeout_keep_alive": int(max(1, settings.keep_alive_seconds)),
        "h11_max_incomplete_event_size": settings.max_header_bytes,
    }


def _uvicorn_config(app: FastAPI, settings: Settings, limits: ConnectionLimits, host: str, port: int) -> Any:
    import uvicorn

    return uvicorn.Config(app, **_uvicorn_options(settings, limits, host, port))


def _reap(pid: int, timeout: float = 15.0) -> None:
    """Wait for the writer process to write what it was sent and exit (it does once this process closed its end)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            done, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            return
        if done:
            return
        time.sleep(0.05)
    log.warning("the delivery writer process %d did not exit within %.0f s", pid, timeout)


def _warn_about_misplaced_secrets(settings: Settings, role: str) -> None:
    """A worker never uses the App's key or webhook secret; the web process needs the internal secret for workers."""
    if role == "worker":
        given = [
            name
            for name, value in (
                ("EVOLVE_PRIVATE_KEY", settings.private_key),
                ("EVOLVE_PRIVATE_KEY_PATH", settings.private_key_path),
                ("EVOLVE_WEBHOOK_SECRET", settings.webhook_secret),
            )
            if value
        ]
        if given:
            log.warning(
                "%s given to a worker: a worker never uses them (its tokens come from EVOLVE_TOKEN_SERVICE_URL); "
                "remove them from the worker's environment so repository code run there can never reach them",
                ", ".join(given),
            )
    elif role == "web" and settings.internal_secret_value() is None:
        log.warning(
            "EVOLVE_INTERNAL_SECRET is not set: no worker process can get tokens from this web process, and "
            "deliveries are sealed with a key derived from the webhook secret, which workers do not hold, so they "
            "will refuse them (set it here and in each worker, or run --role all)"
        )


def _seal_secrets() -> None:
    """Take the App key, webhook secret and API key out of the environment (no child or `/proc` reader sees
    them; each is registered for redaction, as `create_app` registers the settings' own)."""
    from evolve.configuration.process_secrets import seal_environment

    seal_environment()


def _sweep_run_trees(settings: Settings) -> None:
    """Remove the trees of runs a crash or a kill left behind (each run also sweeps when it starts)."""
    from pathlib import Path

    from evolve.sandbox.scratch import sweep

    for removed in sweep(Path(settings.workdir or settings.data_dir / "mirrors") / "evolve-work"):
        log.info("removed the trees of an interrupted run: %s", removed.name)


def _prepare_sandbox(settings: Settings) -> None:
    """Sweep what crashed runs left, and refuse unsandboxed runs unless the operator allowed them."""
    from evolve.sandbox import require_sandbox, sandbox_support, sweep_stale_sandboxes, unsandboxed_warning

    sweep_stale_sandboxes()
    _sweep_run_trees(settings)
    require_sandbox(not settings.allow_unsandboxed)
    support = sandbox_support()
    if support.available:
        return
    if settings.allow_unsandboxed:
        logging.getLogger(__name__).warning("EVOLVE_ALLOW_UNSANDBOXED is set: %s", unsandboxed_warning())
    else:
        logging.getLogger(__name__).error(
            "no sandbox (%s): every run that would execute repository code is refused; install bubblewrap "
            "(see docs/sandbox.md) or set EVOLVE_ALLOW_UNSANDBOXED=1 to accept the risk",
            support.reason,
        )
