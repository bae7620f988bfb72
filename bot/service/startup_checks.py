"""What `evolve serve` checks before it listens: credentials that are complete and well-formed, or none at all.

With no credentials at all the web process starts in setup mode (`/setup?token=…`, `/readyz` not
ready). Anything in between — a malformed app id, a key that is not a PEM private key, a key file
that does not exist, a missing webhook secret — is a configuration mistake: the process refuses to
start and names what to fix, instead of running and answering every delivery 401.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from bot.settings import MIN_OPERATOR_TOKEN_LENGTH, Settings, credentials_path
from bot.tokens.service import MIN_SECRET_LENGTH

SETUP_MODE_REASON = "setup mode: no GitHub App credentials yet; register the app through /setup"


@dataclass(frozen=True)
class StartupCheck:
    """The verdict: start normally, start in setup mode, or refuse with these problems."""

    setup_mode: bool
    problems: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """Whether the process may start."""
        return not self.problems


def in_setup_mode(settings: Settings) -> bool:
    """No credential of any kind is given or stored: the app has yet to be registered."""
    given = (
        settings.app_id,
        settings.private_key,
        settings.private_key_path,
        settings.webhook_secret,
    )
    return not any(given) and not credentials_path(settings.data_dir).exists()


def _pem_problem(pem: str) -> str | None:
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    try:
        load_pem_private_key(pem.encode("utf-8"), password=None)
    except (ValueError, TypeError) as error:
        return f"is not a PEM private key without a password ({type(error).__name__})"
    return None


def _internal_secret_problems(settings: Settings) -> list[str]:
    secret = settings.internal_secret_value()
    if secret is not None and len(secret) < MIN_SECRET_LENGTH:
        return [
            f"EVOLVE_INTERNAL_SECRET must be at least {MIN_SECRET_LENGTH} characters "
            "(e.g. python3 -c 'import secrets; print(secrets.token_urlsafe(32))')"
        ]
    return []


def operator_token_problem(settings: Settings) -> str | None:
    """One line when `EVOLVE_OPERATOR_TOKEN` is set but shorter than the minimum (a guessable sign-in secret)."""
    token = settings.operator_token.get_secret_value() if settings.operator_token is not None else ""
    if token and len(token.strip()) < MIN_OPERATOR_TOKEN_LENGTH:
        return (
            f"EVOLVE_OPERATOR_TOKEN must be at least {MIN_OPERATOR_TOKEN_LENGTH} characters "
            f"(it has {len(token.strip())}); make one with: openssl rand -hex 32"
        )
    return None


def check_worker(settings: Settings) -> StartupCheck:
    """A worker holds no App key: it needs the web process's token service and the shared internal secret."""
    problems = _internal_secret_problems(settings)
    url = settings.token_service_url or ""
    if not url:
        problems.append(
            "a worker gets its GitHub tokens from the web process: set EVOLVE_TOKEN_SERVICE_URL to the web "
            "process's internal URL (e.g. http://evolve-web:8000)"
        )
    elif urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).hostname:
        problems.append(f"EVOLVE_TOKEN_SERVICE_URL must be an http(s) URL, not {url[:80]!r}")
    if settings.internal_secret_value() is None:
        problems.append("EVOLVE_INTERNAL_SECRET is not set (the same value as the web process's)")
    return StartupCheck(False, tuple(problems))


def check_startup(settings: Settings, role: str) -> StartupCheck:
    """Check the credentials for `role`; setup mode is possible for the web-facing roles only."""
    if role == "worker":
        return check_worker(settings)
    if in_setup_mode(settings):
        return StartupCheck(True, tuple(_internal_secret_problems(settings)))
    problems = _internal_secret_problems(settings)
    if not settings.app_id:
        problems.append("EVOLVE_APP_ID is not set")
    elif not settings.app_id.isdigit() or int(settings.app_id) <= 0:
        problems.append(f"EVOLVE_APP_ID must be the app's numeric id, not {settings.app_id[:40]!r}")
    key_source = "EVOLVE_PRIVATE_KEY"
    if settings.private_key is None or not settings.private_key.get_secret_value().strip():
        key_source = "EVOLVE_PRIVATE_KEY_PATH"
        path = settings.private_key_path
        if path is None:
            problems.append("no private key: set EVOLVE_PRIVATE_KEY or EVOLVE_PRIVATE_KEY_PATH")
        elif not path.is_file():
            problems.append(f"the private key file {path} does not exist")
        elif not os.access(path, os.R_OK):
            problems.append(f"the private key file {path} is not readable by this user")
    pem = settings.private_key_pem() if not any("private key" in p for p in problems) else None
    if pem is not None:
        problem = _pem_problem(pem)
        if problem:
            problems.append(f"{key_source} {problem}")
    if not settings.webhook_secret_value():
        problems.append("EVOLVE_WEBHOOK_SECRET is not set")
    return StartupCheck(False, tuple(problems))


def database_problem(database_url: str, timeout: int = 10) -> str | None:
    """Why the database cannot be opened (one line: which database, the server's words, what to do), or None."""
    from sqlalchemy import text
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, SQLAlchemyError
    from sqlalchemy.pool import NullPool

    from bot.db.engine import make_engine

    try:
        shown = make_url(database_url).render_as_string(hide_password=True)
        postgres = make_url(database_url).get_backend_name() == "postgresql"
        extra: dict[str, Any] = {"connect_args": {"connect_timeout": timeout}} if postgres else {}
        engine = make_engine(database_url, poolclass=NullPool, **extra)
    except (ArgumentError, ValueError) as error:
        return f"EVOLVE_DATABASE_URL is not a database URL ({error}): e.g. postgresql://user@host:5432/evolve"
    except ModuleNotFoundError as error:
        return f"the database driver is not installed ({error}): pip install 'evolve-bot[postgres]'"
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except (SQLAlchemyError, OSError) as error:
        cause = _database_cause(error)
        fix = (
            "create it (e.g. `createdb` with that name) or point EVOLVE_DATABASE_URL at one that exists"
            if "does not exist" in cause
            else "check that the server runs and EVOLVE_DATABASE_URL is right"
        )
        return f"cannot open the database {shown}: {cause}; {fix}"
    finally:
        engine.dispose()
    return None


def _database_cause(error: BaseException) -> str:
    """The server's or driver's own words, on one line: `database "evolve" does not exist`."""
    original = getattr(error, "orig", None) or error
    lines = [line.strip() for line in str(original).splitlines() if line.strip()]
    words = lines[0] if lines else type(original).__name__
    if "FATAL:" in words:  # psycopg: `connection to server at … failed: FATAL:  database "x" does not exist`
        words = words.rsplit("FATAL:", 1)[1]
    words = words.removeprefix("connection failed: ")
    return " ".join(words.split())[:300]


def port_problem(host: str, port: int) -> str | None:
    """Why `host:port` cannot be listened on (in use, not an address of this machine), or None."""
    import errno
    import socket

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as error:
        return f"--host {host}: not an address of this machine ({error.strerror}): use 127.0.0.1 or 0.0.0.0"
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind(address)
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                return (
                    f"port {port} on {host} is already in use by another process: stop it, or choose another "
                    "port with --port"
                )
            return f"cannot listen on {host}:{port}: {error.strerror}: choose another --host or --port"
    return None
